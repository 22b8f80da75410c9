/**
 * From samples to figures: for each workload (with its options) and counted function, the
 * per-page fit of every collector, whether the collectors agree, and the status of the whole.
 */
import { fitPerPage, type Fit } from './fit.js';
import { parsePerfStat } from './perf.js';
import { sampleStatus, workloadLabel, type AgentSample, type CountSource, type Hello, type SampleStatus } from './samples.js';
import type { SampleExplain } from '../explain/buckets.js';

export interface SampleRecord {
  workload: string;
  args: string[];
  pages: number;
  rep: number;
  status: SampleStatus;
  reason?: string;
  counts: Partial<Record<CountSource, Record<string, number>>>;
  result: AgentSample['result'] | null;
  /** What a collector could not count (perf's "<not supported>", ...): said, not fatal. */
  notes?: string[];
  /** kexp explain: each probed function's calls split into groups (decoded from `hist`). */
  explain?: Record<string, SampleExplain>;
  /** The agent's raw hist files by probe index, until the cell decodes them into `explain`. */
  hist?: Record<string, string>;
}

export interface Figure {
  workload: string;
  function: string;
  status: SampleStatus;
  reason?: string;
  per_page: number | null;
  fixed: number | null;
  residual: number | null;
  /** Each collector's own fit; untraceable functions are absent with a note. */
  collectors: Partial<Record<CountSource, Fit | { error: string }>>;
  flags: string[];
  samples: number;
}

export function toSampleRecord(sample: AgentSample): SampleRecord {
  const { status, reason } = sampleStatus(sample);
  const counts = { ...sample.counts } as SampleRecord['counts'];
  let notes: string[] | undefined;
  if (sample.perfRaw) {
    const perf = parsePerfStat(sample.perfRaw.lines, sample.perfRaw.events);
    counts.perf = perf.counts;
    if (perf.problems.length > 0) notes = perf.problems.map((p) => `perf: ${p}`);
  }
  return {
    workload: sample.workload,
    args: sample.args,
    pages: sample.pages,
    rep: sample.rep,
    status,
    ...(reason ? { reason } : {}),
    counts,
    result: sample.result,
    ...(notes ? { notes } : {}),
    ...(sample.hist ? { hist: sample.hist } : {}),
  };
}

/** A sample that the VM never reported, because it crashed or hung first. */
export function missingSample(workload: string, args: string[], pages: number, rep: number, status: 'crashed' | 'hung' | 'failed', reason: string): SampleRecord {
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
  const base = { workload, function: fn, per_page: null, fixed: null, residual: null, collectors: {}, flags: [] as string[], samples: group.length };
  const bad = group.find((s) => s.status !== 'ok');
  if (bad) {
    const counts = group.filter((s) => s.status === bad.status).length;
    const reason = counts === group.length ? bad.reason : `${counts} of ${group.length} samples ${bad.status}: ${bad.reason ?? ''}`.trim();
    return { ...base, status: bad.status, ...(reason ? { reason } : {}) };
  }
  const collectorsRun = new Set<CountSource>();
  for (const s of group) for (const c of Object.keys(s.counts) as CountSource[]) if (s.counts[c] && fn in s.counts[c]!) collectorsRun.add(c);
  const untraceable = Object.entries(hello?.traceable ?? {}).filter(([, fns]) => fns[fn] === false).map(([c]) => c);
  if (collectorsRun.size === 0) {
    const why = untraceable.length > 0 ? `${fn} cannot be traced in this kernel (${untraceable.join(', ')}: not traceable; inlined or absent)` : `no collector counted ${fn}`;
    return { ...base, status: 'skipped', reason: why };
  }
  const collectors: Figure['collectors'] = {};
  const flags: string[] = [];
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
