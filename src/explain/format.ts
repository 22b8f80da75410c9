/** Plain-text views of explanations: the buckets of a function, and what changed between two. Pure. */
import { table } from '../measure/format.js';
import { describeChange, diffBuckets, type FunctionExplanation } from './buckets.js';

const num = (n: number | null): string => (n === null ? '-' : String(n));

export function formatExplanation(e: FunctionExplanation): string {
  const head =
    `${e.workload} · ${e.function}: ${num(e.total.per_page)} per page, ${num(e.total.fixed)} fixed` +
    `${e.total.collector ? ` (${e.total.collector})` : ''}; ${e.mode === 'return' ? 'return probe, return values paired' : e.mode === 'entry' ? 'entry probe, return values not paired' : 'not probed'}` +
    `; ${e.adds_up ? 'the buckets add up' : 'THE BUCKETS DO NOT ADD UP'}`;
  if (e.buckets.length === 0) return `${head}\n  (no buckets)${e.problems.map((p) => `\n  ! ${p}`).join('')}`;
  const rows = e.buckets.map((b) => [
    num(b.per_page),
    num(b.fixed),
    b.flags ? (b.flags.length > 0 ? b.flags.join('|') : '0') : '-',
    b.pages_null === null ? '-' : b.pages_null ? 'NULL' : 'set',
    b.nr_pages ?? '-',
    b.ret === null ? '-' : String(b.ret),
    b.caller.join(' < ') || '?',
  ]);
  const body = table([['per page', 'fixed', 'gup_flags', 'pages', 'nr_pages', 'ret', 'caller'], ...rows])
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
  return `${head}\n${body}${e.problems.map((p) => `\n  ! ${p}`).join('')}`;
}

/** "what changed" lines for one function between two variants, or a line that says nothing did. */
export function formatChanges(before: FunctionExplanation, after: FunctionExplanation, labels: [string, string]): string[] {
  const changes = diffBuckets(before, after);
  const total = before.total.per_page !== null && after.total.per_page !== null ? after.total.per_page - before.total.per_page : null;
  const head = `${after.workload} · ${after.function}, ${labels[0]} → ${labels[1]}: ${num(before.total.per_page)} → ${num(after.total.per_page)} per page${total !== null && total !== 0 ? ` (${total > 0 ? '+' : ''}${total})` : ''}`;
  if (changes.length === 0) return [`${head}; no bucket changed`];
  return [head, ...changes.map((c) => `  ${describeChange(c)}`)];
}
