/**
 * Plain text for a mailing-list reply: no line wider than 72 columns, fixed-width tables, the
 * notes under each table, the provenance at the end.
 */
import type { Comparison } from '../compare.js';
import type { WhatChanged } from '../buckets.js';
import { describeCells, type Note, type ReportTables, type Table, type TestReport } from '../model.js';
import type { Renderer, Renderable } from './types.js';
import {
  changeBucketTexts,
  changeText,
  comparisonProvenance,
  comparisonSummary,
  FIT_NOTE,
  FLAG_NOTE,
  runLines,
  testFindingsText,
  TESTS_NOTE,
  whatChangedText,
} from './common.js';
import { alignMarkers, layoutTable, MAIL_WIDTH, shorten, wrap } from './layout.js';

/** Notes are for the eye: the full reason is in the CSV, JSON and HTML. */
const NOTE_MAX = 150;

export const textRenderer: Renderer = {
  name: 'text',
  extension: 'txt',
  mediaType: 'text/plain; charset=utf-8',
  render: (view: Renderable) => `${(view.kind === 'report' ? reportLines(view) : comparisonLines(view)).join('\n')}\n`,
};

function reportLines(report: ReportTables): string[] {
  const lines: string[] = [];
  for (const table of report.tables) {
    if (lines.length > 0) lines.push('');
    lines.push(...tableLines(table, (c) => ({ text: c.text, marked: c.marker !== '' })), ...whatChangedLines(table.whatChanged));
  }
  if (report.tests) lines.push(...testLines(report.tests));
  const flagged = report.tables.some((t) => t.notes.some((n) => n.kind === 'flag'));
  lines.push('', ...wrap(FIT_NOTE, MAIL_WIDTH));
  if (flagged) lines.push(...wrap(FLAG_NOTE, MAIL_WIDTH));
  lines.push('');
  for (const line of runLines(report.run)) lines.push(...wrap(line, MAIL_WIDTH, '  '));
  for (const line of report.provenance) lines.push(...wrap(line, MAIL_WIDTH, '  '));
  return lines;
}

function comparisonLines(comparison: Comparison): string[] {
  const lines: string[] = [];
  for (const table of comparison.tables) {
    if (lines.length > 0) lines.push('');
    lines.push(...tableLines(table, (c) => ({ text: c.changed ? `${c.text}!` : c.text, marked: c.changed })));
  }
  lines.push('', ...wrap(`${comparisonSummary(comparison)}${comparison.changes.length > 0 ? " Changed cells end in '!':" : ''}`, MAIL_WIDTH));
  for (const change of comparison.changes)
    lines.push(
      ...indent(wrap(changeText(change), MAIL_WIDTH - 2, '    ')),
      ...changeBucketTexts(change).flatMap((text) => indent(indent(wrap(text, MAIL_WIDTH - 4, '    ')))),
    );
  if (comparison.testChanges) {
    lines.push(
      '',
      ...wrap(
        comparison.testChanges.length === 0 ? 'No test changed its verdict.' : `Tests whose verdict changed (${comparison.testChanges.length}):`,
        MAIL_WIDTH,
      ),
    );
    for (const change of comparison.testChanges) lines.push(...indent(wrap(`${change.newFailure ? '! ' : ''}${change.text}`, MAIL_WIDTH - 2, '    ')));
  }
  const provenance = comparisonProvenance(comparison.before, comparison.after);
  const shared = provenance.length === 1 ? provenance[0]!.lines : null;
  lines.push('');
  for (const [heading, run] of [
    ['before', comparison.before],
    ['after', comparison.after],
  ] as const) {
    const [which, when] = runLines(run);
    lines.push(...wrap(`${heading}: ${which}`, MAIL_WIDTH, '  '), ...indent(wrap(when, MAIL_WIDTH - 2, '  ')));
    if (!shared) for (const line of run.provenance) lines.push(...indent(wrap(line, MAIL_WIDTH - 2, '  ')));
  }
  if (shared) {
    lines.push('both runs:');
    for (const line of shared) lines.push(...indent(wrap(line, MAIL_WIDTH - 2, '  ')));
  }
  return lines;
}

function tableLines<C>(table: Table<C>, show: (cell: C) => { text: string; marked: boolean }): string[] {
  const byColumn = table.variants.map((_, j) => table.rows.map((row) => show(row.cells[j]!)));
  const aligned = alignMarkers(byColumn);
  const grid = layoutTable({
    firstHeader: 'workload',
    headers: table.variants,
    rows: table.rows.map((row, i) => ({ first: row.workload, cells: aligned.map((column) => column[i]!) })),
  });
  return [...wrap(table.title, MAIL_WIDTH, '  '), '', ...grid, ...noteLines(table.notes, table)];
}

function noteLines(notes: Note[], table: { variants: string[]; rows: { workload: string }[] }): string[] {
  if (notes.length === 0) return [];
  const lines = [''];
  for (const note of notes) {
    const text = `${note.marker ? `${note.marker} ` : ''}${describeCells(note.cells, table)}: ${shorten(note.text, NOTE_MAX)}`;
    lines.push(...wrap(text, MAIL_WIDTH, '    '));
  }
  return lines;
}

/** Under a table: which buckets changed from the first variant, cell by cell. */
function whatChangedLines(what: WhatChanged | null): string[] {
  const paragraph = whatChangedText(what);
  if (!paragraph) return [];
  return ['', ...wrap(paragraph.heading, MAIL_WIDTH, '  '), ...paragraph.items.flatMap((item) => indent(wrap(item, MAIL_WIDTH - 2, '    ')))];
}

function indent(lines: string[]): string[] {
  return lines.map((line) => `  ${line}`);
}

/** The test tables beside the figures, then the findings (a test that broke on a variant). */
function testLines(tests: TestReport): string[] {
  const lines: string[] = [];
  for (const table of tests.tables) lines.push('', ...tableLines(table, (c) => ({ text: c.label, marked: false })));
  const findings = testFindingsText(tests);
  lines.push('', ...wrap(findings.heading, MAIL_WIDTH));
  for (const item of findings.items) lines.push(...indent(wrap(`! ${item}`, MAIL_WIDTH - 2, '    ')));
  lines.push('', ...wrap(TESTS_NOTE, MAIL_WIDTH));
  return lines;
}
