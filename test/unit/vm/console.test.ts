import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConsoleWatcher, stripTimestamp, watchLog } from '../../../src/vm/console.js';

const fixture = (name: string): string => readFileSync(`test/fixtures/console/${name}`, 'utf8');

describe('console watcher on captured logs', () => {
  it('finds nothing wrong in a normal boot', () => {
    const w = watchLog(fixture('ok-6.12.log'));
    expect(w.fatal()).toBeUndefined();
    expect(w.warnings()).toEqual([]);
  });

  it('recognises a panic and keeps its text', () => {
    const fatal = watchLog(fixture('panic-6.12.log')).fatal();
    expect(fatal?.kind).toBe('panic');
    expect(fatal?.title).toBe('Kernel panic - not syncing: kexp-test: deliberate panic in faultin_page_range');
    expect(fatal?.excerpt.join('\n')).toContain('faultin_page_range');
  });

  it('recognises a BUG_ON in mm/gup.c as the first fatal event, before the Oops and panic that follow', () => {
    const w = watchLog(fixture('oops-bug-gup-6.12.log'));
    const fatal = w.fatal();
    expect(fatal?.kind).toBe('bug');
    expect(fatal?.title).toBe('kernel BUG at mm/gup.c:1828!');
    expect(fatal?.excerpt.join('\n')).toContain('Oops: invalid opcode');
    expect(fatal?.excerpt.join('\n')).toContain('RIP: 0010:faultin_page_range');
    expect(w.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['bug', 'oops', 'panic']));
  });

  it("sees no event in a hang with no output: that is the watchdog's to call", () => {
    expect(watchLog(fixture('hang-kvm-pvm-6.12.log')).events).toEqual([]);
  });

  it('attaches a WARNING as a warning, not a crash', () => {
    const w = new ConsoleWatcher();
    for (const line of [
      '[    3.1] ------------[ cut here ]------------',
      '[    3.1] WARNING: CPU: 0 PID: 34 at mm/gup.c:1852 __get_user_pages_locked+0x2d/0x3a0',
      '[    3.1] Modules linked in:',
    ])
      w.push(line);
    expect(w.fatal()).toBeUndefined();
    expect(w.warnings().map((e) => e.title)).toEqual(['WARNING: CPU: 0 PID: 34 at mm/gup.c:1852 __get_user_pages_locked+0x2d/0x3a0']);
    expect(w.warnings()[0]!.excerpt).toContain('------------[ cut here ]------------');
  });

  it('strips printk timestamps', () => {
    expect(stripTimestamp('[    3.472165] kernel BUG at mm/gup.c:1828!')).toBe('kernel BUG at mm/gup.c:1828!');
  });
});
