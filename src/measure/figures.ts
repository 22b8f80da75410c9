/**
 * From samples to figures: for each workload (with its options) and counted function, the
 * per-page fit of every collector, whether the collectors agree, and the status of the whole.
 */
import { fitPerPage } from './fit.js';
import { parsePerfStat } from './perf.js';
import { sampleStatus, workloadLabel, type AgentSample, type Hello } from './samples.js';
import { judgeProgram } from './tap.js';
import type { CountSource, Figure, PerRun, SampleRecord, SampleStatus } from '../records/index.js';
import { figureUnit, substituteSize, type PlannedSample } from '../image/plan.js';

/** A program's sample: its verdict from exit status and TAP, labelled as planned. */
function programSample(
  sample: AgentSample,
  planned: PlannedSample & { command: NonNullable<PlannedSample['command']> },
): Pick<SampleRecord, 'workload' | 'args' | 'pages' | 'status' | 'reason' | 'program' | 'tests' | 'unit' | 'size'> {
  const stdout = sample.output?.stdout ?? '';
  const stderr = sample.output?.stderr ?? '';
  const lines = (text: string, n: number): string[] =>
    text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-n);
  const tail = [...lines(stdout, 10), ...lines(stderr, 10)];
  const kind = planned.command.kind;
  const verdict = judgeProgram(sample.exit, stdout, {
    selftest: kind === 'kselftest',
    label: planned.workload,
    tail: [...lines(stdout, 3), ...lines(stderr, 3)],
  });
  let status: SampleStatus = verdict.status;
  let reason = verdict.reason;
  if (sample.countErrors && sample.countErrors.length > 0 && status === 'ok') {
    status = 'failed';
    reason = `counts not trustworthy: ${sample.countErrors.join('; ')}`;
  }
  return {
    workload: planned.workload,
    args: planned.args,
    pages: planned.pages,
    status,
    ...(reason ? { reason } : {}),
    program: {
      kind,
      program: planned.command.program,
      argv: substituteSize(planned.args, planned.size ?? 0),
      exit: sample.exit,
      tail,
      stdoutBytes: sample.output?.stdoutBytes ?? 0,
      stderrBytes: sample.output?.stderrBytes ?? 0,
    },
    tests: { results: verdict.results, totals: verdict.totals, problems: verdict.problems },
    unit: figureUnit(planned.command.unit),
    size: planned.size ?? 0,
  };
}

export function toSampleRecord(sample: AgentSample): SampleRecord {
  return toPlannedSampleRecord(sample, undefined);
}

/** A sample as recorded; `planned` (the plan's sample at the same index) labels a program's run and judges it. */
export function toPlannedSampleRecord(sample: AgentSample, planned: PlannedSample | undefined): SampleRecord {
  const prog =
    sample.kind === 'exec' && planned?.command
      ? programSample(sample, planned as PlannedSample & { command: NonNullable<PlannedSample['command']> })
      : undefined;
  const { status, reason } = prog ? { status: prog.status, reason: prog.reason } : sampleStatus(sample);
  const counts = { ...sample.counts } as SampleRecord['counts'];
  let notes: string[] | undefined;
  if (sample.perfRaw) {
    const perf = parsePerfStat(sample.perfRaw.lines, sample.perfRaw.events);
    counts.perf = perf.counts;
    if (perf.problems.length > 0) notes = perf.problems.map((p) => `perf: ${p}`);
  }
  return {
    workload: prog?.workload ?? sample.workload,
    args: prog?.args ?? sample.args,
    pages: prog?.pages ?? sample.pages,
    rep: sample.rep,
    status,
    ...(reason ? { reason } : {}),
    counts,
    result: sample.result,
    ...(notes ? { notes } : {}),
    ...(sample.hist ? { hist: sample.hist } : {}),
    ...(prog ? { program: prog.program!, tests: prog.tests!, unit: prog.unit!, size: prog.size! } : {}),
  };
}

/** A sample that the VM never reported, because it crashed or hung first. */
export function missingSample(
  workload: string,
  args: string[],
  pages: number,
  rep: number,
  status: 'crashed' | 'hung' | 'failed',
  reason: string,
): SampleRecord {
  return { workload, args, pages, rep, status, reason, counts: {}, result: null };
}

/** `targets`: kernel functions and tracepoints (group/name) to give a figure each. */
export function computeFigures(samples: SampleRecord[], targets: string[], hello: Hello | undefined): Figure[] {
  const groups = new Map<string, SampleRecord[]>();
  for (const s of samples) {
    const label = workloadLabel(s.workload, s.args);
    groups.set(label, [...(groups.get(label) ?? []), s]);
  }
  const figures: Figure[] = [];
  for (const [workload, group] of groups) {
    for (const target of targets) figures.push(figureFor(workload, target, group, hello));
  }
  return figures;
}

function figureFor(workload: string, fn: string, group: SampleRecord[], hello: Hello | undefined): Figure {
  const unit = group.find((s) => s.unit)?.unit;
  const base = {
    workload,
    function: fn,
    per_page: null,
    fixed: null,
    residual: null,
    collectors: {},
    flags: [] as string[],
    samples: group.length,
    ...(unit && unit !== 'page' ? { unit } : {}),
  };
  const bad = group.find((s) => s.status !== 'ok');
  if (bad) {
    const counts = group.filter((s) => s.status === bad.status).length;
    const reason = counts === group.length ? bad.reason : `${counts} of ${group.length} samples ${bad.status}: ${bad.reason ?? ''}`.trim();
    return { ...base, status: bad.status, ...(reason ? { reason } : {}) };
  }
  const collectorsRun = new Set<CountSource>();
  for (const s of group) for (const c of Object.keys(s.counts) as CountSource[]) if (s.counts[c] && fn in s.counts[c]!) collectorsRun.add(c);
  const untraceable = Object.entries(hello?.traceable ?? {})
    .filter(([, fns]) => fns[fn] === false)
    .map(([c]) => c);
  if (collectorsRun.size === 0) {
    const why =
      untraceable.length > 0
        ? `${fn} cannot be traced in this kernel (${untraceable.join(', ')}: not traceable; inlined or absent)`
        : `no collector counted ${fn}`;
    return { ...base, status: 'skipped', reason: why };
  }
  const collectors: Figure['collectors'] = {};
  const flags: string[] = [];
  if (unit === 'run') return perRunFigure(base, fn, group, [...collectorsRun].sort(), untraceable);
  for (const c of collectorsRun) {
    collectors[c] = fitPerPage(group.map((s) => ({ pages: s.pages, calls: s.counts[c]?.[fn] ?? 0 })));
  }
  // Every sample, every pair of collectors: the same count, or a flagged disagreement.
  const names = [...collectorsRun].sort();
  for (const s of group) {
    const values = names.map((c) => s.counts[c]?.[fn]);
    if (new Set(values).size > 1) {
      flags.push(`collectors disagree at ${s.pages} pages (rep ${s.rep}): ${names.map((c, i) => `${c} ${values[i]}`).join(', ')}`);
    }
  }
  for (const c of untraceable) flags.push(`${c}: ${fn} not traceable in this kernel`);
  const primary = collectors[names[0]!]!;
  if ('error' in primary) return { ...base, collectors, flags, status: 'failed', reason: primary.error };
  flags.push(...primary.flags);
  return { ...base, collectors, flags, status: 'ok', per_page: primary.perPage, fixed: primary.fixed, residual: primary.residual };
}

/** A program without a size: the mean calls per run over the repetitions, with their spread. */
function perRunFigure(base: Omit<Figure, 'status'>, fn: string, group: SampleRecord[], names: CountSource[], untraceable: string[]): Figure {
  const flags: string[] = [];
  for (const s of group) {
    const values = names.map((c) => s.counts[c]?.[fn]);
    if (new Set(values).size > 1) flags.push(`collectors disagree in rep ${s.rep}: ${names.map((c, i) => `${c} ${values[i]}`).join(', ')}`);
  }
  for (const c of untraceable) flags.push(`${c}: ${fn} not traceable in this kernel`);
  const values = group.map((s) => s.counts[names[0]!]?.[fn] ?? 0);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const perRun: PerRun = { mean: Math.round(mean * 1000) / 1000, min: Math.min(...values), max: Math.max(...values), runs: values.length };
  return { ...base, flags, status: 'ok', per_run: perRun };
}
