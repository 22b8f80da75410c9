/**
 * CSV (RFC 4180: CRLF line ends, fields quoted when they hold a comma, a quote or a line break,
 * quotes doubled): one row per kernel × workload × variant, for spreadsheets and scripts.
 * Empty fields are unknown or not applicable (a per-page figure of a cell that is not ok).
 */
import type { Comparison } from '../compare.js';
import type { Cell, ReportTables } from '../model.js';
import type { Renderer, Renderable } from './types.js';

export const reportCsvColumns = [
  'kernel',
  'workload',
  'variant',
  'function',
  'status',
  'per_page',
  'fixed',
  'residual',
  'samples_ok',
  'samples_total',
  'reason',
  'flags',
] as const;

export const comparisonCsvColumns = [
  'kernel',
  'workload',
  'variant',
  'function',
  'changed',
  'new_failure',
  'before_status',
  'before_per_page',
  'before_fixed',
  'before_samples_ok',
  'before_samples_total',
  'after_status',
  'after_per_page',
  'after_fixed',
  'after_samples_ok',
  'after_samples_total',
  'after_reason',
] as const;

export const csvRenderer: Renderer = {
  name: 'csv',
  extension: 'csv',
  mediaType: 'text/csv; charset=utf-8; header=present',
  render: (view: Renderable) => toCsv(view.kind === 'report' ? reportRecords(view) : comparisonRecords(view)),
};

export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function toCsv(records: string[][]): string {
  return records.map((r) => `${r.map(csvField).join(',')}\r\n`).join('');
}

// Data, not display: the number as stored, not rounded further.
const number = (x: number | null): string => (x === null ? '' : String(Object.is(x, -0) ? 0 : x));
const count = (cell: Cell, which: 'ok' | 'total'): string => (cell.samples === null ? '' : String(cell.samples[which]));

function reportRecords(report: ReportTables): string[][] {
  const records: string[][] = [[...reportCsvColumns]];
  for (const table of report.tables) {
    for (const row of table.rows) {
      for (const cell of row.cells) {
        records.push([
          cell.kernel,
          cell.workload,
          cell.variant,
          cell.function,
          cell.status,
          number(cell.perPage),
          number(cell.fixed),
          number(cell.residual),
          count(cell, 'ok'),
          count(cell, 'total'),
          cell.reason ?? '',
          cell.flags.join('; '),
        ]);
      }
    }
  }
  return records;
}

function comparisonRecords(comparison: Comparison): string[][] {
  const records: string[][] = [[...comparisonCsvColumns]];
  for (const table of comparison.tables) {
    for (const row of table.rows) {
      for (const c of row.cells) {
        records.push([
          c.kernel,
          c.workload,
          c.variant,
          comparison.function,
          String(c.changed),
          String(c.newFailure),
          c.before.status,
          number(c.before.perPage),
          number(c.before.fixed),
          count(c.before, 'ok'),
          count(c.before, 'total'),
          c.after.status,
          number(c.after.perPage),
          number(c.after.fixed),
          count(c.after, 'ok'),
          count(c.after, 'total'),
          c.after.reason ?? '',
        ]);
      }
    }
  }
  return records;
}
