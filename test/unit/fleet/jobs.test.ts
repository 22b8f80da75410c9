import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../../../src/config/experiment.js';
import { planRun } from '../../../src/experiment/plan.js';
import { workUnits } from '../../../src/experiment/executor.js';
import {
  buildJobId,
  buildJobs,
  buildResult,
  cellJobId,
  cellJobs,
  jobIdPart,
  parseCellResult,
  resolveBuildJob,
  resolveCellJob,
  type KnownNames,
} from '../../../src/fleet/jobs.js';

const known: KnownNames = {
  kernels: ['6.1', '6.12'],
  variants: ['baseline', 'early-break', 'continue'],
  workloads: ['uffd-populate', 'async-pf'],
  kexp: '0.1.0',
};
const experimentText = JSON.stringify({
  name: 'fleet',
  kernels: ['6.1', '6.12'],
  variants: ['baseline', 'continue'],
  workloads: [{ name: 'uffd-populate' }, { name: 'async-pf' }],
  repetitions: 2,
});
const experiment = parseExperiment('fleet.json', experimentText, known);
const plan = planRun(experiment, {});
const imageKey = 'a'.repeat(64);
const kernelKey = 'b'.repeat(64);
const run = { id: 'fleet-20261126-101500', kexp: '0.1.0', experimentText, only: {}, imageKey };

describe('job ids', () => {
  it('derive from the run and the build or cell, and never contain ":"', () => {
    expect(buildJobId(run.id, '6.12', 'early-break')).toBe('fleet-20261126-101500~build~6.12~early-break');
    expect(cellJobId(run.id, '6.12_early-break_r1')).toBe('fleet-20261126-101500~cell~6.12_early-break_r1');
    expect(cellJobId('a:b', 'c:d/e')).toBe('a-b~cell~c-d-e');
    expect(jobIdPart('x:y z')).toBe('x-y-z');
    const ids = [...plan.builds.map((b) => buildJobId(run.id, b.kernel, b.variant)), ...plan.cells.map((c) => cellJobId(run.id, c.id))];
    for (const id of ids) expect(id).not.toContain(':');
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('plan to jobs', () => {
  it('makes one job per kernel build that has cells to run, listing exactly those cells', () => {
    const pending = new Set(
      plan.cells
        .filter((c) => !(c.kernel === '6.1' && c.variant === 'baseline'))
        .map((c) => c.id)
        .filter((id) => id !== '6.12_continue_r0'),
    );
    const units = workUnits(plan, pending);
    const jobs = buildJobs(run, units);
    expect(jobs.map((j) => j.opts.jobId)).toEqual([
      buildJobId(run.id, '6.1', 'continue'),
      buildJobId(run.id, '6.12', 'baseline'),
      buildJobId(run.id, '6.12', 'continue'),
    ]);
    expect(jobs.map((j) => j.data.cells)).toEqual([['6.1_continue_r0', '6.1_continue_r1'], ['6.12_baseline_r0', '6.12_baseline_r1'], ['6.12_continue_r1']]);
    for (const j of jobs) {
      expect(j.name).toBe('build');
      expect(j.data).toMatchObject({ kind: 'build', run: run.id, experiment: experimentText, imageKey, kexp: '0.1.0' });
      expect(j.opts.attempts).toBeGreaterThanOrEqual(1);
    }
  });

  it('fans a build out to one child job per cell, each with its own id (no child shared by two parents)', () => {
    const [job] = buildJobs(run, workUnits(plan, new Set(plan.cells.map((c) => c.id))));
    const children = cellJobs(job!.data, kernelKey);
    expect(children.map((c) => c.opts.jobId)).toEqual([cellJobId(run.id, '6.1_baseline_r0'), cellJobId(run.id, '6.1_baseline_r1')]);
    expect(children[0]!.data).toEqual({
      v: 1,
      kexp: '0.1.0',
      run: run.id,
      experiment: experimentText,
      only: {},
      imageKey,
      kind: 'cell',
      cell: '6.1_baseline_r0',
      kernelKey,
    });
    const all = plan.builds.flatMap((b) =>
      cellJobs(
        buildJobs(run, workUnits(plan, new Set(plan.cells.map((c) => c.id)))).find((j) => j.data.kernel === b.kernel && j.data.variant === b.variant)!.data,
        kernelKey,
      ),
    );
    expect(new Set(all.map((c) => c.opts.jobId)).size).toBe(plan.cells.length);
  });
});

describe('job data is validated and re-planned before a worker acts on it', () => {
  const [job] = buildJobs(run, workUnits(plan, new Set(plan.cells.map((c) => c.id))));

  it("resolves a build job to its unit of work from the worker's own plan", () => {
    const { unit } = resolveBuildJob(job!.data, known);
    expect(unit.build).toEqual({ kernel: '6.1', variant: 'baseline' });
    expect(unit.cells).toEqual(plan.cells.filter((c) => c.kernel === '6.1' && c.variant === 'baseline'));
  });

  it('resolves a cell job to the planned cell', () => {
    const [child] = cellJobs(job!.data, kernelKey);
    expect(resolveCellJob(child!.data, known).cell).toEqual(plan.cells.find((c) => c.id === '6.1_baseline_r0'));
  });

  it('rejects data that is not a kexp job, an unknown field, a cell of another build, a bad experiment, another kexp', () => {
    expect(() => resolveBuildJob({ command: 'rm -rf /' }, known)).toThrow(/job data rejected/);
    expect(() => resolveBuildJob({ ...job!.data, command: 'sh' }, known)).toThrow(/job data rejected/);
    expect(() => resolveBuildJob({ ...job!.data, cells: ['6.12_continue_r0'] }, known)).toThrow(/not a cell of that build/);
    expect(() => resolveBuildJob({ ...job!.data, experiment: '{"name": "x"}' }, known)).toThrow(/kernels/);
    expect(() => resolveBuildJob({ ...job!.data, variant: 'x;reboot' }, known)).toThrow(/job data rejected: variant/);
    expect(() => resolveBuildJob(job!.data, { ...known, kexp: '0.2.0' })).toThrow(/same kexp on every machine/);
    const [child] = cellJobs(job!.data, kernelKey);
    expect(() => resolveCellJob({ ...child!.data, cell: '6.1_baseline_r7' }, known)).toThrow(/not a cell of run/);
    expect(() => resolveCellJob({ ...child!.data, kernelKey: '../../etc' }, known)).toThrow(/job data rejected: kernelKey/);
  });

  it('reads a build result only when it is well formed', () => {
    expect(buildResult(job!.data)).toBeUndefined();
    expect(buildResult({ ...job!.data, result: { provenance: { key: kernelKey }, worker: 'w1' } })).toEqual({ provenance: { key: kernelKey }, worker: 'w1' });
    expect(buildResult({ result: { provenance: 'x' } })).toBeUndefined();
  });

  it('checks a cell result before the coordinator writes from it', () => {
    const record = { schema: 'kexp/cell@1', id: '6.1_baseline_r0', worker: 'w1', samples: [] };
    const accel = { accel: 'tcg', reason: 'asked', nested: 'yes' };
    expect(parseCellResult({ record, files: { 'console.log': 'eA==' }, accel }, '6.1_baseline_r0').record.worker).toBe('w1');
    expect(() => parseCellResult({ record, files: { '../manifest.json': 'eA==' }, accel }, '6.1_baseline_r0')).toThrow(/rejected/);
    expect(() => parseCellResult({ record, files: {}, accel }, '6.1_baseline_r1')).toThrow(/carries the record of cell 6.1_baseline_r0/);
  });
});
