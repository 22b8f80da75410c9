/**
 * From hist output to buckets: each sample's calls of a function split by caller, flags, pages
 * NULL, one page or a range, and return value; each bucket fitted like the total (calls = fixed +
 * per_page × pages); the buckets checked against the total the other collectors counted; two
 * variants' buckets compared to name the one that changed.
 */
import { fitPerPage } from '../measure/fit.js';
import type { Bucket, CallGroup, ProbeMode, SampleExplain, SampleRecord } from '../records/index.js';
import { decodeFlags, type FlagTable } from './cdecl.js';
import { normaliseCaller, parseHist } from '../measure/hist.js';
import { triggerName, type ExplainProbe } from './probes.js';

export const STACK_KEPT = 8;

/** Turn the hist file of probe `probe` (attached in `mode`) into call groups. */
export function decodeHist(probe: ExplainProbe, index: number, mode: ProbeMode, text: string, flags: FlagTable | undefined): SampleExplain {
  const sections = parseHist(text);
  const triggers = probe.triggers.filter((t) => t.mode === mode);
  const problems: string[] = [];
  const groups: CallGroup[] = [];
  let dropped = 0;
  const flagField = probe.fields.find((f) => f.role === 'flags')?.name;
  triggers.forEach((t) => {
    const name = triggerName(index, t);
    const section = sections.find((s) => s.name === name);
    if (!section) {
      problems.push(`${probe.function}: no hist section for the trigger ${name}${t.filter ? ` (if ${t.filter})` : ''}`);
      return;
    }
    if (section.dropped === null) problems.push(`${probe.function}: the hist section "${section.trigger}" has no totals (truncated output?)`);
    dropped += section.dropped ?? 0;
    for (const e of section.entries) {
      const value = flagField !== undefined ? e.fields[flagField] : undefined;
      const ret = t.fixed.ret === '>0' ? '>0' : t.fixed.ret === 'exact' ? (e.fields.ret ?? null) : null;
      groups.push({
        stack: normaliseCaller(e.stack, probe.function, STACK_KEPT),
        flags: value ?? null,
        flagNames: value !== undefined && flags ? decodeFlags(value, flags) : null,
        pagesNull: t.fixed.pagesNull ?? null,
        nrPages: t.fixed.nrPages ?? null,
        ret,
        calls: e.hitcount,
      });
    }
  });
  if (dropped > 0) problems.push(`${probe.function}: the hist maps dropped ${dropped} events (more distinct keys than the map holds)`);
  return { mode, groups, dropped, problems };
}

export interface FunctionExplanation {
  workload: string;
  function: string;
  mode: ProbeMode | null;
  buckets: Bucket[];
  total: { per_page: number | null; fixed: number | null; collector: string | null };
  /** Whether every sample's buckets add up to its total from the other collectors. */
  adds_up: boolean;
  problems: string[];
  samples: number;
}

const TOTAL_SOURCES = ['kprobe', 'ftrace', 'perf'] as const;

function bucketKey(g: Pick<CallGroup, 'stack' | 'flags' | 'pagesNull' | 'nrPages' | 'ret'>, depth: number): string {
  return JSON.stringify([g.stack.slice(0, depth), g.flags, g.pagesNull, g.nrPages, g.ret]);
}

/** Fit every bucket of `fn` over the samples of one workload (samples with explain data only). */
export function explainFunction(workload: string, fn: string, samples: SampleRecord[], depth: number): FunctionExplanation {
  const usable = samples.filter((s) => s.status === 'ok' && s.explain?.[fn]);
  const problems: string[] = [];
  for (const s of samples) if (s.status !== 'ok') problems.push(`sample ${s.pages} pages rep ${s.rep}: ${s.status}${s.reason ? ` (${s.reason})` : ''}`);
  const mode = usable[0]?.explain?.[fn]?.mode ?? null;
  const byKey = new Map<string, { group: CallGroup; calls: number[] }>();
  usable.forEach((s, i) => {
    for (const g of s.explain?.[fn]?.groups ?? []) {
      const key = bucketKey(g, depth);
      const entry = byKey.get(key) ?? { group: { ...g, stack: g.stack.slice(0, depth) }, calls: usable.map(() => 0) };
      entry.calls[i] = (entry.calls[i] ?? 0) + g.calls;
      byKey.set(key, entry);
    }
  });
  const buckets: Bucket[] = [...byKey.values()].map(({ group, calls }) => {
    const fit = fitPerPage(usable.map((s, i) => ({ pages: s.pages, calls: calls[i] ?? 0 })));
    const ok = 'perPage' in fit;
    return {
      caller: group.stack,
      flags: group.flagNames,
      flagsValue: group.flags,
      pages_null: group.pagesNull,
      nr_pages: group.nrPages,
      ret: group.ret,
      per_page: ok ? fit.perPage : null,
      fixed: ok ? fit.fixed : null,
      residual: ok ? fit.residual : null,
      calls,
    };
  });
  buckets.sort((a, b) => (b.per_page ?? 0) - (a.per_page ?? 0) || (b.fixed ?? 0) - (a.fixed ?? 0) || a.caller.join().localeCompare(b.caller.join()));

  // The buckets must add up to what the counting collectors saw in the very same window.
  const collector = TOTAL_SOURCES.find((c) => usable.length > 0 && usable.every((s) => s.counts[c]?.[fn] !== undefined)) ?? null;
  let addsUp = usable.length > 0;
  usable.forEach((s, i) => {
    const sum = buckets.reduce((n, b) => n + (b.calls[i] ?? 0), 0);
    for (const p of s.explain?.[fn]?.problems ?? []) problems.push(`sample ${s.pages} pages rep ${s.rep}: ${p}`);
    if (collector === null) return;
    const total = s.counts[collector]?.[fn] ?? 0;
    if (sum !== total) {
      addsUp = false;
      problems.push(`sample ${s.pages} pages rep ${s.rep}: the buckets add up to ${sum} calls, ${collector} counted ${total}`);
    }
  });
  if (collector === null && usable.length > 0) {
    addsUp = false;
    problems.push(`no collector counted ${fn} in every sample, so the buckets cannot be checked against a total`);
  }
  // The total is the collector's (the buckets' sum when there is none to check against).
  const t = fitPerPage(
    usable.map((s, i) => ({ pages: s.pages, calls: collector ? (s.counts[collector]?.[fn] ?? 0) : buckets.reduce((n, b) => n + (b.calls[i] ?? 0), 0) })),
  );
  return {
    workload,
    function: fn,
    mode,
    buckets,
    total: { per_page: 'perPage' in t ? t.perPage : null, fixed: 'perPage' in t ? t.fixed : null, collector },
    adds_up: addsUp,
    problems,
    samples: usable.length,
  };
}

/** How a bucket reads in one line: flags, pages, range, return value, then the caller chain. */
export function describeBucket(b: Pick<Bucket, 'caller' | 'flags' | 'flagsValue' | 'pages_null' | 'nr_pages' | 'ret'>): string {
  const parts: string[] = [];
  if (b.flags) parts.push(b.flags.length > 0 ? b.flags.join('|') : '0');
  if (b.pages_null !== null) parts.push(b.pages_null ? 'pages=NULL' : 'pages');
  if (b.nr_pages !== null) parts.push(b.nr_pages === '1' ? 'nr_pages=1' : 'nr_pages=range');
  if (b.ret !== null) parts.push(`ret ${b.ret === '>0' ? '>0' : b.ret}`);
  const from = b.caller.length > 0 ? ` from ${b.caller.join(' < ')}` : '';
  return `${parts.join(', ')}${from}`;
}

export interface BucketChange {
  bucket: string;
  before: number;
  after: number;
  delta: number;
}

/** The buckets whose per-page figure differs between two explanations of one function. */
export function diffBuckets(before: FunctionExplanation, after: FunctionExplanation): BucketChange[] {
  return diffBucketLists(before.buckets, after.buckets);
}

/** diffBuckets over two lists of buckets (a report's cells carry buckets, not explanations). */
export function diffBucketLists(beforeBuckets: readonly Bucket[], afterBuckets: readonly Bucket[]): BucketChange[] {
  const table = new Map<string, { label: string; before: number; after: number }>();
  const key = (b: Bucket): string => JSON.stringify([b.caller, b.flagsValue, b.pages_null, b.nr_pages, b.ret]);
  for (const b of beforeBuckets) table.set(key(b), { label: describeBucket(b), before: b.per_page ?? 0, after: 0 });
  for (const b of afterBuckets) {
    const row = table.get(key(b)) ?? { label: describeBucket(b), before: 0, after: 0 };
    row.after = b.per_page ?? 0;
    table.set(key(b), row);
  }
  return [...table.values()]
    .map((r) => ({ bucket: r.label, before: r.before, after: r.after, delta: Math.round((r.after - r.before) * 1000) / 1000 }))
    .filter((c) => c.delta !== 0)
    .sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta) || a.bucket.localeCompare(b.bucket));
}

/** "-1/page: FOLL_TRIED|..., nr_pages=1, ret 1 from faultin_page_range < ..." */
export function describeChange(c: BucketChange): string {
  const d = `${c.delta > 0 ? '+' : ''}${c.delta}/page`;
  const what = c.before === 0 ? ' (new)' : c.after === 0 ? ' (gone)' : '';
  return `${d}: ${c.bucket}${what}`;
}
