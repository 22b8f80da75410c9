import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/core/errors.js';
import { parseExperiment } from '../../../src/config/experiment.js';
import type { Executor, ExecutorEngine } from '../../../src/experiment/executor.js';
import { chooseExecutor, DEFAULT_EXECUTOR, executorEngine, executorNames, findExecutor, registerExecutor } from '../../../src/experiment/executors/index.js';
import { LocalExecutor } from '../../../src/experiment/executors/local.js';

/** An engine of this test's own: what a new engine needs to be chosen by name, and nothing else. */
function testEngine(name: string, implied?: (flags: { store?: string }) => boolean): ExecutorEngine & { made: Executor[] } {
  const made: Executor[] = [];
  return {
    name,
    made,
    ...(implied ? { impliedBy: implied } : {}),
    configure: () => {
      const executor = new LocalExecutor();
      made.push(executor);
      return executor;
    },
  };
}

describe('the executor registry', () => {
  it('has the local executor, the default, in experiment/ itself (the fleet adds its own when loaded)', () => {
    expect(DEFAULT_EXECUTOR).toBe('local');
    expect(executorNames()).toEqual(['local']);
    expect(chooseExecutor({}, { executor: undefined }, {})).toBeInstanceOf(LocalExecutor);
    expect(chooseExecutor({}, { executor: undefined }, {}).runsHere).toBe(true);
    expect(chooseExecutor({}, { executor: undefined }, {}).describe()).toEqual({ name: 'local' });
  });

  it('names the executors it has when asked for another', () => {
    const error = (() => {
      try {
        chooseExecutor({ executor: 'slurm' }, { executor: undefined }, {});
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe('unknown executor "slurm"');
    expect((error as InputError).hint).toBe('executors: local');
    expect(() => executorEngine('slurm', '--executor')).toThrow(/^--executor: unknown executor "slurm"$/);
  });

  it('takes a new engine by name: chosen by the flag, the environment or the experiment, in that order', () => {
    const slurm = testEngine('slurm');
    registerExecutor(slurm);
    expect(executorNames()).toEqual(['local', 'slurm']);
    expect(findExecutor('slurm')).toBe(slurm);
    chooseExecutor({ executor: 'slurm' }, { executor: { type: 'local' } }, { KEXP_EXECUTOR: 'local' });
    expect(slurm.made).toHaveLength(1);
    chooseExecutor({}, { executor: { type: 'local' } }, { KEXP_EXECUTOR: 'slurm' });
    expect(slurm.made).toHaveLength(2);
    chooseExecutor({}, { executor: { type: 'slurm' } }, {});
    expect(slurm.made).toHaveLength(3);
    chooseExecutor({ executor: 'local' }, { executor: { type: 'slurm' } }, {});
    expect(slurm.made).toHaveLength(3);
  });

  it('lets an engine be implied by its own flags when nothing names one', () => {
    const nfs = testEngine('nfs-pool', (flags) => flags.store !== undefined);
    registerExecutor(nfs);
    chooseExecutor({ store: '/srv' }, { executor: undefined }, {});
    expect(nfs.made).toHaveLength(1);
    chooseExecutor({}, { executor: undefined }, {});
    chooseExecutor({ store: '/srv' }, { executor: { type: 'local' } }, {});
    expect(nfs.made).toHaveLength(1);
  });

  it('refuses a second engine under a name already taken (the same one again is fine)', () => {
    const engine = findExecutor('local')!;
    expect(() => registerExecutor(engine)).not.toThrow();
    expect(() => registerExecutor(testEngine('local'))).toThrow(/two executors named "local"/);
  });
});

describe("an experiment's executor.type", () => {
  const known = { kernels: ['6.12'], variants: ['baseline'], workloads: ['uffd-populate'] };
  const text = (executor: unknown): string =>
    JSON.stringify({ name: 'x', kernels: ['6.12'], variants: ['baseline'], workloads: [{ name: 'uffd-populate' }], executor });

  it('is checked against the executors given, naming the file, the field and the known ones', () => {
    const error = (() => {
      try {
        parseExperiment('experiments/x.json', text({ type: 'slurm' }), { ...known, executors: ['local', 'bullmq'] });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).exitCode).toBe(2);
    expect((error as InputError).message).toBe('experiments/x.json: executor.type: unknown executor "slurm"');
    expect((error as InputError).hint).toBe('known executors: local, bullmq');
    expect(parseExperiment('experiments/x.json', text({ type: 'bullmq' }), { ...known, executors: ['local', 'bullmq'] }).executor?.type).toBe('bullmq');
  });

  it('is optional, and not a name at all is a schema error naming the field', () => {
    expect(parseExperiment('experiments/x.json', text({}), { ...known, executors: ['local'] }).executor?.type).toBeUndefined();
    expect(() => parseExperiment('experiments/x.json', text({ type: 'Bull MQ' }), known)).toThrow(
      /experiments\/x\.json: invalid\n {2}executor\.type: an executor name/,
    );
  });
});
