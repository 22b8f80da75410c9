/**
 * The fake QEMU of the orchestration tests (test/fakes/bin/qemu-system-x86_64) against the command
 * line kexp really builds (qemuArgs): if the command line changes (another console or result
 * channel), this says the fake must follow. And what it replays is the fixtures' bytes, unparsed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { kernelCommandLine, qemuArgs } from '../../../src/vm/qemu.js';
import { fakeQemuBin, fakeQemuCalls, type ScenarioName, scenarioFixture } from '../../helpers/fake-qemu.js';
import { scratchFolders } from '../../helpers/scratch.js';

const scratch = scratchFolders('kexp-fake-qemu');
/** A field of a scenario file, as the fake reads it. */
const setting = <T>(scenario: ScenarioName, field: string): T =>
  (JSON.parse(readFileSync(join(fakeQemuBin, '..', 'scenarios', `${scenario}.json`), 'utf8')) as Record<string, T>)[field]!;
const fake = join(fakeQemuBin, 'qemu-system-x86_64');

function setup(): { dir: string; args: string[]; resultFile: string; calls: string } {
  const dir = scratch('boot');
  writeFileSync(join(dir, 'bzImage'), 'kernel');
  writeFileSync(join(dir, 'initramfs.cpio.gz'), 'initrd');
  const resultFile = join(dir, 'channel.txt');
  const args = qemuArgs({
    kernel: join(dir, 'bzImage'),
    initrd: join(dir, 'initramfs.cpio.gz'),
    accel: 'tcg',
    memoryMiB: 512,
    cpus: 1,
    append: kernelCommandLine({ params: { 'kexp.plan': 'cGxhbg==', 'kexp.out': '/dev/ttyS1' } }),
    resultFile,
  });
  return { dir, args, resultFile, calls: join(dir, 'calls.jsonl') };
}

async function replay(scenario: ScenarioName, args?: string[]) {
  const s = setup();
  const result = await execa(fake, args ?? s.args, {
    reject: false,
    encoding: 'latin1',
    stripFinalNewline: false,
    env: { KEXP_FAKE_QEMU_SCENARIO: join(fakeQemuBin, '..', 'scenarios', `${scenario}.json`), KEXP_FAKE_QEMU_CALLS: s.calls },
    timeout: 20_000,
  });
  return { ...s, result, channel: existsSync(s.resultFile) ? readFileSync(s.resultFile, 'latin1') : '' };
}

const fixture = (scenario: ScenarioName, field: 'console' | 'channel'): string => readFileSync(scenarioFixture(scenario, field), 'latin1');
const linesOf = (text: string): string[] => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];

describe('the fake QEMU', () => {
  it('takes the command line kexp builds and replays the console and the channel byte for byte', async () => {
    const { result, channel, calls, args } = await replay('ok');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(fixture('ok', 'console'));
    expect(channel).toBe(fixture('ok', 'channel'));
    expect(fakeQemuCalls(calls).map((c) => c.argv)).toEqual([args]);
  });

  it('answers --version', async () => {
    const result = await execa(fake, ['--version'], { reject: false });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^QEMU emulator version \d+\.\d+/);
  });

  it('duplicate: the channel lines of duplicateRange arrive twice', async () => {
    const { result, channel } = await replay('duplicate');
    expect(result.exitCode).toBe(0);
    const lines = linesOf(fixture('duplicate', 'channel'));
    const [first, last] = setting<[number, number]>('duplicate', 'duplicateRange');
    expect(channel).toBe([...lines.slice(0, last + 1), ...lines.slice(first, last + 1), ...lines.slice(last + 1)].join(''));
  });

  it('duplicate: a block of lines (a result spanning lines) is sent again after its last line', async () => {
    const s = setup();
    const scenario = join(s.dir, 'block.json');
    writeFileSync(scenario, JSON.stringify({ behaviour: 'duplicate', channel: scenarioFixture('ok', 'channel'), duplicateRange: [1, 2], lineDelayMs: 0 }));
    const result = await execa(fake, s.args, { reject: false, env: { KEXP_FAKE_QEMU_SCENARIO: scenario } });
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = linesOf(fixture('ok', 'channel'));
    expect(readFileSync(s.resultFile, 'latin1')).toBe([lines[0], lines[1], lines[2], lines[1], lines[2], ...lines.slice(3)].join(''));
  });

  it('partial: the channel stops after channelLines, QEMU exits 0', async () => {
    const { result, channel } = await replay('partial');
    expect(result.exitCode).toBe(0);
    expect(channel).toBe(linesOf(fixture('partial', 'channel')).slice(0, setting<number>('partial', 'channelLines')).join(''));
  });

  it('hang: after its part it stays until killed', async () => {
    const s = setup();
    const child = execa(fake, s.args, {
      reject: false,
      env: { KEXP_FAKE_QEMU_SCENARIO: join(fakeQemuBin, '..', 'scenarios', 'hang.json') },
    });
    const expected = linesOf(fixture('hang', 'channel')).slice(0, setting<number>('hang', 'channelLines')).join('');
    const until = Date.now() + 10_000;
    while ((existsSync(s.resultFile) ? readFileSync(s.resultFile, 'latin1') : '') !== expected) {
      if (Date.now() > until) throw new Error('the fake never wrote its part of the channel');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(child.exitCode).toBeNull();
    child.kill('SIGKILL');
    const result = await child;
    expect(result.signal).toBe('SIGKILL');
  });

  it('refuses a command line without the result channel, as QEMU refuses a bad one', async () => {
    const s = setup();
    const { result } = await replay('ok', s.args.slice(0, -2));
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("the second -serial is 'undefined', expected 'file:PATH'");
  });
});
