/** Plain-text views of one boot's samples and figures, for the terminal. Pure. */
import type { Figure, SampleRecord } from '../records/index.js';
import { workloadLabel } from './samples.js';

export function formatSamples(samples: SampleRecord[], functions: string[]): string {
  const header = ['workload', 'pages', 'rep', 'status', ...functions.map(shortName)];
  const rows = samples.map((s) => {
    const cells = functions.map((fn) => {
      const values = Object.entries(s.counts)
        .filter(([, c]) => c && fn in c)
        .map(([, c]) => c![fn]!);
      if (values.length === 0) return '-';
      return new Set(values).size === 1 ? String(values[0]) : values.join('/');
    });
    return [workloadLabel(s.workload, s.args), String(s.pages), String(s.rep), s.status, ...cells];
  });
  return table([header, ...rows]);
}

export function formatFigures(figures: Figure[]): string {
  const header = ['workload', 'function', 'per page', 'fixed', 'residual', 'status'];
  const rows = figures.map((f) => [
    f.workload,
    f.function,
    f.per_run
      ? `${f.per_run.mean}/run${f.per_run.min !== f.per_run.max ? ` (${f.per_run.min}-${f.per_run.max})` : ''}`
      : f.per_page === null
        ? '-'
        : `${f.per_page}${f.unit === 'n' ? '/n' : ''}`,
    f.fixed === null ? '-' : String(f.fixed),
    f.residual === null ? '-' : String(f.residual),
    f.status === 'ok' ? (f.flags.length > 0 ? 'ok (flagged)' : 'ok') : f.status,
  ]);
  const notes = figures.flatMap((f) => [
    ...(f.reason && f.status !== 'ok' ? [`${f.workload} / ${f.function}: ${f.reason}`] : []),
    ...f.flags.map((flag) => `${f.workload} / ${f.function}: ${flag}`),
  ]);
  return [table([header, ...rows]), ...(notes.length > 0 ? ['', ...[...new Set(notes)].map((n) => `  ! ${n}`)] : [])].join('\n');
}

function shortName(fn: string): string {
  return fn.length > 24 ? `${fn.slice(0, 23)}…` : fn;
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * A program's tests, sample by sample: "mm:madv_populate  0  ok  pass 16, fail 0, skip 0"; then
 * every test that did not pass, with its reason. Empty when no sample ran a program.
 */
export function formatTests(samples: SampleRecord[]): string {
  const runs = samples.filter((s) => s.program || s.unit !== undefined);
  if (runs.length === 0) return '';
  const rows = runs.map((s) => {
    const t = s.tests?.totals;
    return [
      workloadLabel(s.workload, s.args),
      s.unit === 'run' ? '-' : String(s.size ?? s.pages),
      String(s.rep),
      s.status,
      s.program ? String(s.program.exit) : '-',
      t ? `${t.pass} pass, ${t.fail + t.error} fail, ${t.skip} skip${t.xfail > 0 ? `, ${t.xfail} xfail` : ''}` : 'no result',
    ];
  });
  const lines = [table([['program', 'size', 'rep', 'status', 'exit', 'tests'], ...rows])];
  const notes = new Set<string>();
  for (const s of runs) {
    for (const r of s.tests?.results ?? [])
      if (r.status !== 'pass') notes.add(`${workloadLabel(s.workload, s.args)} › ${r.name}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
    if (s.status !== 'ok' && s.reason) notes.add(`${workloadLabel(s.workload, s.args)}: ${s.status}: ${s.reason}`);
    for (const p of s.tests?.problems ?? []) notes.add(`${workloadLabel(s.workload, s.args)}: ${p}`);
  }
  if (notes.size > 0) lines.push('', ...[...notes].map((n) => `  ! ${n}`));
  return lines.join('\n');
}
