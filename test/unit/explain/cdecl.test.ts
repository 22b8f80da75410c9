import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFlags, evaluate, findDefinition, parseFlagDefinitions } from '../../../src/explain/cdecl.js';
import { explainProbe, planLines, probeFields } from '../../../src/explain/probes.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const read = (version: string, path: string): { path: string; text: string } => ({ path, text: readFileSync(join(fixtures, version, path), 'utf8') });

describe('FOLL_* definitions from the kernel headers', () => {
  const v61 = parseFlagDefinitions([read('6.1', 'include/linux/mm.h')]);
  const v612 = parseFlagDefinitions([read('6.12', 'include/linux/mm_types.h'), read('6.12', 'mm/internal.h')]);

  it("reads 6.1's #defines, values and places", () => {
    expect(v61.defined.find((d) => d.name === 'FOLL_TRIED')).toEqual({ name: 'FOLL_TRIED', value: 0x800, where: 'include/linux/mm.h:18' });
    expect(v61.bits.get(0x02)).toBe('FOLL_TOUCH');
    // a #define whose comment runs over two lines is still read
    expect(v61.bits.get(0x20)).toBe('FOLL_NOWAIT');
    expect(v61.defined).toHaveLength(16);
  });

  it("reads 6.12's enums in mm_types.h and mm/internal.h, with other bit values", () => {
    expect(v612.bits.get(1 << 17)).toBe('FOLL_TRIED');
    expect(v612.bits.get(1 << 1)).toBe('FOLL_GET');
    expect(v612.bits.get(1 << 10)).toBe('FOLL_PCI_P2PDMA');
    expect(v612.defined.find((d) => d.name === 'FOLL_UNLOCKABLE')?.where).toMatch(/^mm\/internal\.h:\d+$/);
    expect(v612.defined).toHaveLength(20);
  });

  it('decodes the same value differently per version, unknown bits in hex', () => {
    // 6.12 MADV_POPULATE_READ's range call (0x610040), as a hist printed it
    expect(decodeFlags(6357056, v612)).toEqual(['FOLL_HWPOISON', 'FOLL_TOUCH', 'FOLL_UNLOCKABLE', 'FOLL_MADV_POPULATE']);
    expect(decodeFlags(0x803, v61)).toEqual(['FOLL_WRITE', 'FOLL_TOUCH', 'FOLL_TRIED']);
    expect(decodeFlags(0x803, v612)).toEqual(['FOLL_WRITE', 'FOLL_GET', 'FOLL_INTERRUPTIBLE']);
    expect(decodeFlags(0x28000, v612)).toEqual(['FOLL_TRIED', '0x8000']);
    expect(decodeFlags(0x41000, v61)).toEqual(['FOLL_PIN', '0x1000']);
    expect(decodeFlags(0, v61)).toEqual([]);
  });

  it('evaluates the expressions headers use, and refuses others', () => {
    const names = new Map([
      ['A', 1],
      ['B', 4],
    ]);
    expect(evaluate('(1 << 3)', names)).toBe(8);
    expect(evaluate('A | B', names)).toBe(5);
    expect(evaluate('0x10UL', names)).toBe(16);
    expect(evaluate('BIT(5)', names)).toBe(32);
    expect(evaluate('foo(3)', names)).toBeUndefined();
    expect(evaluate('C | A', names)).toBeUndefined();
  });
});

describe('the prototype in mm/gup.c', () => {
  it('finds __get_user_pages in both versions, with its parameters by position', () => {
    const f61 = findDefinition(read('6.1', 'mm/gup.c').text, '__get_user_pages', 'mm/gup.c');
    const f612 = findDefinition(read('6.12', 'mm/gup.c').text, '__get_user_pages', 'mm/gup.c');
    expect(f61?.params.map((p) => p.name)).toEqual(['mm', 'start', 'nr_pages', 'gup_flags', 'pages', 'vmas', 'locked']);
    expect(f612?.params.map((p) => p.name)).toEqual(['mm', 'start', 'nr_pages', 'gup_flags', 'pages', 'locked']);
    expect(f612?.returns).toBe('long');
    expect(f612?.where).toMatch(/^mm\/gup\.c:\d+$/);
    expect(f612 && probeFields(f612).map((f) => f.fetch)).toEqual(['nr_pages=$arg3:u64', 'gup_flags=$arg4:x32', 'pages=$arg5:x64']);
  });

  it('skips declarations and calls', () => {
    const text = 'long f(int a);\nstatic int g(void)\n{\n\treturn f(1);\n}\nlong f(int a,\n       struct page **pages)\n{\n}\n';
    const f = findDefinition(text, 'f', 'x.c');
    expect(f?.where).toBe('x.c:6');
    expect(f?.params.map((p) => [p.name, p.pointer])).toEqual([
      ['a', false],
      ['pages', true],
    ]);
    expect(findDefinition(text, 'h', 'x.c')).toBeUndefined();
  });
});

describe('probes and triggers', () => {
  const gup = findDefinition(read('6.12', 'mm/gup.c').text, '__get_user_pages', 'mm/gup.c')!;

  it('splits pages NULL and one page or a range by filters, at most three hist keys', () => {
    const probe = explainProbe(gup);
    const entry = probe.triggers.filter((t) => t.mode === 'entry');
    const ret = probe.triggers.filter((t) => t.mode === 'return');
    expect(entry.map((t) => t.filter)).toEqual([
      'pages == 0 && nr_pages == 1',
      'pages == 0 && nr_pages != 1',
      'pages != 0 && nr_pages == 1',
      'pages != 0 && nr_pages != 1',
    ]);
    expect(ret).toHaveLength(6);
    for (const t of probe.triggers) expect(t.keys.length).toBeLessThanOrEqual(3);
    expect(ret.find((t) => t.filter === 'pages == 0 && nr_pages != 1 && ret > 0')?.fixed).toEqual({ pagesNull: true, nrPages: 'range', ret: '>0' });
  });

  it('writes the plan lines the agent reads', () => {
    const lines = planLines(0, explainProbe(gup));
    expect(lines[0]).toBe('xprobe 0 __get_user_pages nr_pages=$arg3:u64 gup_flags=$arg4:x32 pages=$arg5:x64');
    expect(lines[1]).toBe('xhist 0 p hist:name=kexpx0p0:keys=stacktrace,gup_flags:vals=hitcount:sort=hitcount:size=2048 if pages == 0 && nr_pages == 1');
    expect(lines).toContain(
      'xhist 0 r hist:name=kexpx0r4:keys=stacktrace,gup_flags,ret:vals=hitcount:sort=hitcount:size=2048 if pages != 0 && nr_pages != 1 && ret <= 0',
    );
  });

  it('keys a function without such parameters by caller and return value only', () => {
    const f = findDefinition('vm_fault_t handle_userfault(struct vm_fault *vmf, unsigned long reason)\n{\n}\n', 'handle_userfault', 'fs/userfaultfd.c')!;
    const probe = explainProbe(f);
    expect(probe.triggers.map((t) => [t.mode, t.keys.join(','), t.filter])).toEqual([
      ['entry', 'stacktrace', ''],
      ['return', 'stacktrace,ret', ''],
    ]);
    expect(probe.notes[0]).toMatch(/no gup_flags, pages or nr_pages parameter \(fs\/userfaultfd\.c:1\)/);
  });
});
