/**
 * The run through the executor seam: an engine of this test's own, registered by name like any
 * other, stands where the local or the fleet's would. What is tested is run.ts itself: what it
 * records from the events, the incomplete run it keeps when the executor fails, and that resume
 * and cancel go through the executor the run's manifest names. No kernel is built or booted.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EnvironmentError, InputError } from '../../../src/core/errors.js';
import { silentLogger } from '../../../src/core/log.js';
import { cacheLayout } from '../../../src/core/paths.js';
import type { CancelRequest, Executor, ExecutorEvents, ExecutorRecord, ExecutorRun } from '../../../src/experiment/executor.js';
import { registerExecutor } from '../../../src/experiment/executors/index.js';
import { cancelRun, IncompleteRunError, resumeRun, startRun, type RunEnv } from '../../../src/experiment/run.js';
import { failedCellRecord } from '../../../src/experiment/work.js';
import type { RunManifest } from '../../../src/results/store.js';
import { ArtifactStore } from '../../../src/store/store.js';
import { repoRoot } from '../../helpers/kexp.js';

/** Records what it is asked; `run` finishes one cell and then loses its engine, `resume` finishes the rest. */
class ScriptedExecutor implements Executor {
  readonly runsHere = true;
  readonly calls: string[] = [];
  constructor(readonly name: string) {}
  describe(): ExecutorRecord {
    return { name: this.name };
  }
  async preflight(): Promise<void> {
    this.calls.push('preflight');
  }
  async run(run: ExecutorRun, events: ExecutorEvents): Promise<void> {
    this.calls.push(`run ${run.units.flatMap((u) => u.cells.map((c) => c.id)).join(' ')}`);
    const first = run.units[0]!.cells[0]!;
    events.onCellResult(first, failedCellRecord(first, 'scripted', this.name));
    throw new EnvironmentError('the engine went away', 'start it again');
  }
  async resume(run: ExecutorRun, events: ExecutorEvents): Promise<void> {
    this.calls.push(`resume ${run.units.flatMap((u) => u.cells.map((c) => c.id)).join(' ')}`);
    for (const cell of run.units.flatMap((u) => u.cells)) events.onCellResult(cell, failedCellRecord(cell, 'scripted', this.name));
  }
  async cancel(request: CancelRequest): Promise<{ removed: number; running: number }> {
    this.calls.push(`cancel ${request.id} ${request.units.flatMap((u) => u.cells.map((c) => c.id)).join(' ')} recorded=${request.recorded?.name}`);
    return { removed: request.units.length, running: 0 };
  }
}

const scripted = new ScriptedExecutor('scripted');
registerExecutor({ name: 'scripted', configure: () => scripted });
const elsewhere = new ScriptedExecutor('elsewhere');
registerExecutor({
  name: 'elsewhere',
  configure: () => elsewhere,
  resumedElsewhere: (recorded, runId) => `run ${runId} was started by ${recorded.name}: it may still be at work`,
});

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function setup(): { env: RunEnv; file: string; said: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'kexp-run-seam-'));
  dirs.push(dir);
  const file = join(dir, 'seam.json');
  writeFileSync(file, JSON.stringify({ name: 'seam', kernels: ['6.12'], variants: ['baseline', 'continue'], workloads: [{ name: 'uffd-populate' }] }));
  const layout = cacheLayout(join(dir, 'cache'));
  const said: string[] = [];
  const env: RunEnv = {
    root: repoRoot,
    layout,
    store: new ArtifactStore(layout.store, layout.locks),
    logger: silentLogger(),
    signal: new AbortController().signal,
    resultsDir: join(dir, 'results'),
    jobs: 1,
    executor: { executor: 'scripted' },
    say: (line) => said.push(line),
  };
  return { env, file, said };
}

const manifestOf = (dir: string): RunManifest => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as RunManifest;

async function incompleteRun(env: RunEnv, file: string): Promise<IncompleteRunError> {
  const error = await startRun(env, file, {}).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IncompleteRunError);
  return error as IncompleteRunError;
}

describe('a run whose executor fails', () => {
  it('keeps what finished as an incomplete run, with its reports, and says why in a typed error', async () => {
    const { env, file } = setup();
    scripted.calls.length = 0;
    const error = await incompleteRun(env, file);
    expect(scripted.calls).toEqual(['preflight', 'run 6.12_baseline_r0 6.12_continue_r0']);
    expect(error.run.dir).toBe(join(env.resultsDir, error.run.id));
    expect(error.cause).toBeInstanceOf(EnvironmentError);
    expect((error.cause as EnvironmentError).message).toBe('the engine went away');
    const m = manifestOf(error.run.dir);
    expect(m.state).toBe('incomplete');
    expect(m.executor).toEqual({ name: 'scripted' });
    expect(m.cells['6.12_baseline_r0']?.state).toBe('done');
    expect(m.cells['6.12_continue_r0']?.state).toBe('pending');
    expect(existsSync(join(error.run.dir, 'report.txt'))).toBe(true);
  });
});

describe('resuming and cancelling go through the executor', () => {
  it('resumes through the same executor with the cells not done', async () => {
    const { env, file, said } = setup();
    const { run } = await incompleteRun(env, file);
    scripted.calls.length = 0;
    const outcome = await resumeRun(env, run.id);
    expect(scripted.calls).toEqual(['preflight', 'resume 6.12_continue_r0']);
    expect(outcome.manifest.state).toBe('complete');
    expect(outcome.findings).toBe(true);
    expect(said).toEqual([]);
  });

  it('asks the executor that started a run what it may still do when another resumes it', async () => {
    const { env, file, said } = setup();
    const { run } = await incompleteRun({ ...env, executor: { executor: 'elsewhere' } }, file);
    scripted.calls.length = 0;
    await resumeRun(env, run.id);
    expect(said).toEqual([`run ${run.id} was started by elsewhere: it may still be at work`]);
    expect(manifestOf(run.dir).executor).toEqual({ name: 'scripted' });
  });

  it('cancels through the executor the manifest names, whatever the flags say, and marks the run cancelled', async () => {
    const { env, file } = setup();
    const { run } = await incompleteRun({ ...env, executor: { executor: 'elsewhere' } }, file);
    elsewhere.calls.length = 0;
    const outcome = await cancelRun({ ...env, executor: { executor: 'scripted' } }, run.id);
    expect(elsewhere.calls).toEqual([`cancel ${run.id} 6.12_continue_r0 recorded=elsewhere`]);
    expect(outcome).toMatchObject({ removed: 1, running: 0, manifest: { state: 'incomplete' } });
    expect(manifestOf(run.dir).cancelledAt).toBeTruthy();
    await expect(resumeRun(env, run.id)).rejects.toThrow(new RegExp(`run ${run.id} was cancelled`));
  });

  it('refuses to cancel a run whose executor this kexp does not have, or a complete run', async () => {
    const { env, file } = setup();
    const { run } = await incompleteRun(env, file);
    const m = manifestOf(run.dir);
    writeFileSync(join(run.dir, 'manifest.json'), JSON.stringify({ ...m, executor: { name: 'slurm' } }));
    const error = await cancelRun(env, run.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe(`run ${run.id} ran with the slurm executor, which this kexp does not have`);
    expect((error as InputError).hint).toBe('executors here: local, scripted, elsewhere');
    writeFileSync(join(run.dir, 'manifest.json'), JSON.stringify(m));
    await resumeRun(env, run.id);
    await expect(cancelRun(env, run.id)).rejects.toThrow(`run ${run.id} is complete: there is nothing to cancel`);
  });
});
