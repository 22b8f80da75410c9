// Fixtures in fixtures/programs/: result channels (results.jsonl) the guest agent wrote for
// `kexp boot --kernel 6.1 ...` with kselftests and a program (TCG, kexp's 6.1 kernels):
//   demand_paging_test-6.1-early-break: --variant early-break --pages 1,2 --kselftest "kvm:demand_paging_test -u MISSING -b {n}M"
//   madv_populate-6.1-baseline:         --kselftest mm:madv_populate
//   three-6.1-baseline:                 --kselftest mm:gup_test --kselftest "mm:userfaultfd anon 4 2" --kselftest mm:soft-dirty
//   sh-fails-6.1-baseline:              --reps 2 -- sh -c 'echo "out: $0 {n}"; echo err >&2; exit 3'
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commandRun, expandSamples, kselftestRun, type GuestPlan, type WorkloadRun } from '../../../src/image/plan.js';
import { computeFigures, toPlannedSampleRecord } from '../../../src/measure/figures.js';
import { parseAgentOutput, type AgentSample, type Hello } from '../../../src/measure/samples.js';
import type { SampleRecord } from '../../../src/records/index.js';

const read = (name: string): string => readFileSync(new URL(`./fixtures/programs/${name}.results.jsonl`, import.meta.url), 'utf8');

/** A kselftest run as the cell resolved it in the guest. */
function resolved(run: WorkloadRun, program: string): WorkloadRun {
  return { ...run, command: { ...run.command!, program, dir: program.replace(/\/[^/]+$/, '') } };
}

function samplesOf(name: string, plan: GuestPlan): { samples: SampleRecord[]; hello: Hello } {
  const messages = parseAgentOutput(read(name));
  const planned = expandSamples(plan);
  const samples = messages.filter((m): m is AgentSample => m.type === 'sample').map((m) => toPlannedSampleRecord(m, planned[m.index]));
  return { samples, hello: messages.find((m): m is Hello => m.type === 'hello')! };
}

const base = { collectors: ['ftrace' as const, 'kprobe' as const], functions: ['__get_user_pages', '__get_user_pages_remote', 'handle_userfault'] };

describe('a kselftest as the workload (captured in the guest)', () => {
  it('fits demand_paging_test -u MISSING -b {n}M per page: the counts were taken around the test', () => {
    const run = resolved(
      kselftestRun({ target: 'kvm', test: 'demand_paging_test', args: ['-u', 'MISSING', '-b', '{n}M'] }, [1, 2]),
      '/kselftest/kvm/demand_paging_test',
    );
    const { samples, hello } = samplesOf('demand_paging_test-6.1-early-break', { ...base, repetitions: 1, runs: [run] });
    expect(samples.map((s) => [s.workload, s.size, s.pages, s.status, s.unit])).toEqual([
      ['kvm:demand_paging_test', 1, 256, 'ok', 'page'],
      ['kvm:demand_paging_test', 2, 512, 'ok', 'page'],
    ]);
    expect(samples[0]!.program).toMatchObject({
      kind: 'kselftest',
      program: '/kselftest/kvm/demand_paging_test',
      argv: ['-u', 'MISSING', '-b', '1M'],
      exit: 0,
    });
    expect(samples[0]!.tests?.results).toEqual([{ number: 1, name: 'kvm:demand_paging_test', status: 'pass' }]);
    const figures = computeFigures(samples, ['__get_user_pages', 'handle_userfault'], hello);
    // 2 pages of userfaultfd faults per guest page at 256 and 512 pages: what uffd MISSING costs.
    expect(figures.find((f) => f.function === 'handle_userfault')).toMatchObject({ status: 'ok', per_page: 2, fixed: 0, residual: 0 });
    expect(figures.find((f) => f.function === '__get_user_pages')).toMatchObject({ status: 'ok', per_page: 3, fixed: 4 });
  });

  it('gives an unsized program one figure per run, and its 16 TAP results', () => {
    const run = resolved(kselftestRun({ target: 'mm', test: 'madv_populate', args: [] }, [64, 128]), '/kselftest/vm/madv_populate');
    const { samples, hello } = samplesOf('madv_populate-6.1-baseline', { ...base, repetitions: 1, runs: [run] });
    expect(samples).toHaveLength(1);
    expect(samples[0]).toMatchObject({ workload: 'mm:madv_populate', pages: 0, unit: 'run', status: 'ok', tests: { totals: { pass: 16, fail: 0, skip: 0 } } });
    const [gup] = computeFigures(samples, ['__get_user_pages'], hello);
    expect(gup).toMatchObject({ status: 'ok', per_page: null, unit: 'run', per_run: { mean: 15, min: 15, max: 15, runs: 1 } });
  });

  it("says skipped with the test's reason, and failed with the tail of its output", () => {
    const runs = [
      resolved(kselftestRun({ target: 'mm', test: 'gup_test', args: [] }, [1]), '/kselftest/vm/gup_test'),
      resolved(kselftestRun({ target: 'mm', test: 'userfaultfd', args: ['anon', '4', '2'] }, [1]), '/kselftest/vm/userfaultfd'),
      resolved(kselftestRun({ target: 'mm', test: 'soft-dirty', args: [] }, [1]), '/kselftest/vm/soft-dirty'),
    ];
    const { samples, hello } = samplesOf('three-6.1-baseline', { ...base, repetitions: 1, runs });
    expect(samples.map((s) => [s.workload, s.status, s.reason])).toEqual([
      ['mm:gup_test', 'skipped', 'mount debugfs at /sys/kernel/debug'],
      ['mm:userfaultfd', 'failed', expect.stringMatching(/^mm:userfaultfd exited 1: .*ERROR: madvise\(MADV_NOHUGEPAGE\) failed \(errno=22/)],
      ['mm:soft-dirty', 'skipped', 'soft-dirty is not support'],
    ]);
    // A cell that is not ok never shows a number.
    const figures = computeFigures(samples, ['__get_user_pages'], hello);
    expect(figures.map((f) => [f.status, f.per_page, f.per_run])).toEqual([
      ['skipped', null, undefined],
      ['failed', null, undefined],
      ['skipped', null, undefined],
    ]);
  });

  it('fails a program on its exit status, with its last words', () => {
    const run = commandRun(['/bin/sh', '-c', 'echo "out: $0 {n}"; echo err >&2; exit 3'], [64, 128]);
    const { samples } = samplesOf('sh-fails-6.1-baseline', { ...base, repetitions: 2, runs: [run] });
    expect(samples).toHaveLength(4);
    expect(samples[0]).toMatchObject({
      status: 'failed',
      reason: '/bin/sh exited 3: out: /bin/sh 64 / err',
      pages: 64,
      unit: 'n',
      program: { argv: ['-c', 'echo "out: $0 64"; echo err >&2; exit 3'], exit: 3 },
    });
  });
});
