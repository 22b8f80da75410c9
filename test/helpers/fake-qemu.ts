/**
 * The fake QEMU (test/fakes/bin/qemu-system-x86_64) as tests use it: its folder ahead of the real
 * one on PATH, a scenario file naming what it replays, and a file where each start of it appends
 * its command line (one JSON line: pid and argv).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './kexp.js';

export const fakeQemuBin = join(repoRoot, 'test', 'fakes', 'bin');
export const scenarioDir = join(repoRoot, 'test', 'fakes', 'scenarios');

export type ScenarioName = 'ok' | 'slow-ok' | 'panic' | 'oops' | 'hang' | 'partial' | 'duplicate' | 'qemu-error';

/** The environment that makes kexp start the fake QEMU with this scenario. */
export function fakeQemuEnv(scenario: ScenarioName, callsFile: string): Record<string, string> {
  return {
    PATH: `${fakeQemuBin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    KEXP_FAKE_QEMU_SCENARIO: join(scenarioDir, `${scenario}.json`),
    KEXP_FAKE_QEMU_CALLS: callsFile,
  };
}

export interface FakeQemuCall {
  pid: number;
  argv: string[];
}

/** Every boot the fake QEMU was started for (not its --version answers). */
export function fakeQemuCalls(callsFile: string): FakeQemuCall[] {
  if (!existsSync(callsFile)) return [];
  return readFileSync(callsFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as FakeQemuCall);
}

/** Whether a process is still there (kexp must kill the QEMU of a crashed or hung boot). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A scenario's file, resolved against the scenario (as the fake QEMU resolves it). */
export function scenarioFixture(scenario: ScenarioName, field: 'console' | 'channel' | 'stderr'): string {
  const file = join(scenarioDir, `${scenario}.json`);
  const value = (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)[field];
  if (typeof value !== 'string') throw new Error(`${file}: no ${field}`);
  return join(scenarioDir, value);
}

/**
 * Kills, by pid, every fake QEMU these calls files recorded that is still running: a failed test
 * (or a kexp bug) must not leave one behind. A fake that hangs never ends by itself.
 */
export function killLeftoverFakes(callsFiles: readonly string[]): void {
  for (const file of callsFiles) {
    for (const call of fakeQemuCalls(file)) {
      if (!processAlive(call.pid)) continue;
      try {
        process.kill(call.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }
}
