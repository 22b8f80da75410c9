/** Plain-text views of one boot's samples and figures, for the terminal. Pure. */
import type { Figure, SampleRecord } from './figures.js';
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
    f.per_page === null ? '-' : String(f.per_page),
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
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}
