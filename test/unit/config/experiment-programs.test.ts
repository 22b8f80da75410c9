import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../../../src/config/experiment.js';
import { planRun } from '../../../src/experiment/plan.js';

const known = { kernels: ['6.12'], variants: ['baseline', 'early-break'], workloads: ['uffd-populate'] };
const text = (workloads: unknown[], extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ name: 'p', kernels: ['6.12'], variants: ['baseline', 'early-break'], workloads, ...extra });

describe('programs in an experiment', () => {
  it('takes command and kselftest entries beside workloads, labelled as the tables name them', () => {
    const experiment = parseExperiment(
      'exp.json',
      text(
        [
          { name: 'uffd-populate' },
          { command: ['/usr/bin/stress-ng', '--vm', '1', '--vm-bytes', '{n}M'], sizes: [1, 2] },
          { kselftest: 'kvm:demand_paging_test', args: ['-u', 'MISSING', '-b', '{n}M'], sizes: [1, 2] },
          { kselftest: 'mm:madv_populate' },
        ],
        { overlay: 'rootfs' },
      ),
      known,
    );
    expect(experiment.workloads.map((w) => [w.name, w.args, w.program])).toEqual([
      ['uffd-populate', [], undefined],
      ['/usr/bin/stress-ng', ['--vm', '1', '--vm-bytes', '{n}M'], 'command'],
      ['kvm:demand_paging_test', ['-u', 'MISSING', '-b', '{n}M'], 'kselftest'],
      ['mm:madv_populate', [], 'kselftest'],
    ]);
    const plan = planRun(experiment);
    expect(plan.cells).toHaveLength(2);
    const cell = plan.cells[0]!.spec;
    expect(cell.overlay).toBe('rootfs');
    expect(cell.plan.runs.map((r) => [r.workload, r.sizes, r.command?.kind, r.command?.unit])).toEqual([
      ['uffd-populate', [64, 128], undefined, undefined],
      ['/usr/bin/stress-ng', [1, 2], 'command', { kind: 'bytes', bytes: 1024 ** 2 }],
      ['kvm:demand_paging_test', [1, 2], 'kselftest', { kind: 'bytes', bytes: 1024 ** 2 }],
      ['mm:madv_populate', [0], 'kselftest', { kind: 'run' }],
    ]);
    expect(cell.plan.runs[2]!.command!.kselftest).toEqual({ target: 'kvm', test: 'demand_paging_test' });
  });

  it('names the file and the entry of a bad one', () => {
    expect(() => parseExperiment('exp.json', text([{ kselftest: 'madv_populate' }]), known)).toThrow(
      /exp\.json: workloads\.0\.kselftest: "madv_populate" is not TARGET:TEST/,
    );
    expect(() => parseExperiment('exp.json', text([{ command: [] }]), known)).toThrow(/exp\.json: invalid\n {2}workloads\.0\.command/);
    expect(() => parseExperiment('exp.json', text([{ command: ['prog', '{n}K'], sizes: [6] }]), known)).toThrow(
      /exp\.json: workloads\.0: prog: \{n\} = 6 is not a whole number of 4 KiB pages/,
    );
    expect(() => parseExperiment('exp.json', text([{ kselftest: 'mm:x', bogus: 1 }]), known)).toThrow(/workloads\.0: Unrecognized key: "bogus"/);
  });
});
