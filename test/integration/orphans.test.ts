/**
 * No orphaned QEMU: a kexp killed outright (SIGKILL: no handler runs, no exit hook) takes its QEMU
 * with it. QEMU runs in a process group of its own (so that kexp can kill its whole tree on a
 * timeout or a crash), which also keeps it from signals meant for kexp; without a parent-death
 * signal it would keep a core busy under TCG until its own timeout. The real built CLI against
 * the fake kernel tree and the fake QEMU (test/fakes/README.md) with the `hang` scenario, whose
 * fake never ends by itself: only the kernel's parent-death signal (src/core/proc.ts,
 * dieWithKexp) can end it here. A fleet worker's QEMU: orchestration-fleet.test.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFakeKernelTree } from '../helpers/fake-kernel-tree.js';
import { fakeQemuCalls, fakeQemuEnv, killLeftoverFakes } from '../helpers/fake-qemu.js';
import { kexpChild } from '../helpers/kexp.js';

let work = '';
let cache = '';
let tree = '';
const callsFiles: string[] = [];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'kexp-orphans-'));
  cache = join(work, 'cache');
  tree = writeFakeKernelTree(join(work, 'linux'));
});
afterAll(() => {
  // Without the fix the fake QEMU would still be running: never leave it behind.
  killLeftoverFakes(callsFiles);
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A process's state and parent from /proc, or undefined once it is gone. */
function procStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: state ?? '', ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

/** Running: there and not a zombie (a killed orphan is a zombie until init reaps it). */
function running(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

async function until(what: string, ms: number, test: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`${what} after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Starts kexp with these arguments against the hanging fake QEMU, SIGKILLs the kexp process
 * (node itself, not its group) once the fake has started, and returns the fake's pid.
 */
async function killKexpWhileBooting(name: string, args: (dir: string) => string[]): Promise<number> {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const calls = join(dir, 'qemu-calls.jsonl');
  callsFiles.push(calls);
  const env = { ...fakeQemuEnv('hang', calls), KEXP_CACHE: cache, KEXP_RESULTS: join(dir, 'results') };
  const child = kexpChild(args(dir), env);
  // The first boot builds the fake tree and the guest image (seconds); a cached one starts at once.
  await until('the fake QEMU did not start', 120_000, () => fakeQemuCalls(calls).length > 0 || child.exitCode !== null);
  if (child.exitCode !== null) throw new Error(`kexp ended before booting: ${(await child).stderr}`);
  const [call] = fakeQemuCalls(calls);
  const pid = call!.pid;
  // Started by kexp itself (setpriv execs QEMU: no process in between), still running.
  expect(procStat(pid)?.ppid).toBe(child.pid);
  expect(running(pid)).toBe(true);
  child.kill('SIGKILL');
  const ended = await child;
  expect(ended.signal).toBe('SIGKILL');
  return pid;
}

describe('a kexp killed with SIGKILL leaves no QEMU running', () => {
  it('kexp boot', async () => {
    const pid = await killKexpWhileBooting('boot', () => [
      'boot',
      '--tree',
      tree,
      '--accel',
      'tcg',
      '--pages',
      '64,128',
      '--collect',
      'ftrace,kprobe',
      '--functions',
      '__get_user_pages,handle_userfault',
    ]);
    await until(`the fake QEMU (pid ${pid}) of the killed kexp boot was still running`, 2000, () => !running(pid));
  });

  it('kexp run', async () => {
    const pid = await killKexpWhileBooting('run', (dir) => {
      const experiment = join(dir, 'experiment.json');
      writeFileSync(
        experiment,
        `${JSON.stringify({
          name: 'orphans',
          kernels: [{ tree, name: 'fake' }],
          variants: ['baseline'],
          workloads: [{ name: 'uffd-populate' }],
          sizes: [64, 128],
          repetitions: 1,
          collectors: ['ftrace', 'kprobe'],
          functions: ['__get_user_pages', 'handle_userfault'],
          accel: 'tcg',
          timeouts: { watchdogSeconds: 600, bootSeconds: 600 },
        })}\n`,
      );
      return ['run', experiment, '--jobs', '1'];
    });
    await until(`the fake QEMU (pid ${pid}) of the killed kexp run was still running`, 2000, () => !running(pid));
  });
});
