/** GitHub-flavoured Markdown: the text report's content as pipe tables, for issues and pull requests. */
import type { Comparison } from '../compare.js';
import type { WhatChanged } from '../buckets.js';
import { describeCells, type Note, type ReportTables, type Table } from '../model.js';
import type { Renderer, Renderable } from './types.js';
import {
  changeBucketTexts,
  changeText,
  comparisonProvenance,
  comparisonSummary,
  FIT_NOTE,
  FLAG_NOTE,
  runLine,
  testFindingsText,
  TESTS_NOTE,
  whatChangedText,
} from './common.js';
import { shorten } from './layout.js';

const NOTE_MAX = 300;

export const markdownRenderer: Renderer = {
  name: 'markdown',
  extension: 'md',
  mediaType: 'text/markdown; charset=utf-8',
  render: (view: Renderable) => `${(view.kind === 'report' ? reportLines(view) : comparisonLines(view)).join('\n')}\n`,
};

/** Backslash-escape what Markdown would read as markup; a table cell also must not hold '|' or a line break. */
export function escapeMarkdown(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/([\\`*_[\]<>|~])/g, '\\$1');
}

function reportLines(report: ReportTables): string[] {
  const lines = [`# kexp report: ${escapeMarkdown(report.run.experiment)}`, ''];
  if (report.run.state === 'incomplete') lines.push('> **The run was interrupted**: cells it did not reach are shown as missing.', '');
  for (const table of report.tables) {
    lines.push(...tableLines(table, report.function, (c) => escapeMarkdown(c.text)), ...whatChangedLines(table.whatChanged), '');
  }
  if (report.tests) {
    for (const table of report.tests.tables)
      lines.push(...tableLines(table, '', (c) => (c.status === 'fail' ? `**${escapeMarkdown(c.label)}**` : escapeMarkdown(c.label))), '');
    const findings = testFindingsText(report.tests);
    lines.push(
      `**${escapeMarkdown(findings.heading)}**`,
      ...(findings.items.length > 0 ? ['', ...findings.items.map((f) => `- ${escapeMarkdown(f)}`)] : []),
      '',
      escapeMarkdown(TESTS_NOTE),
      '',
    );
  }
  lines.push(escapeMarkdown(FIT_NOTE));
  if (report.tables.some((t) => t.notes.some((n) => n.kind === 'flag'))) lines.push(escapeMarkdown(FLAG_NOTE));
  lines.push('', `- ${escapeMarkdown(runLine(report.run))}`, ...report.provenance.map((p) => `- ${escapeMarkdown(p)}`));
  return lines;
}

function comparisonLines(comparison: Comparison): string[] {
  const lines = [`# kexp comparison: ${escapeMarkdown(comparison.before.runId)} → ${escapeMarkdown(comparison.after.runId)}`, ''];
  lines.push(`${escapeMarkdown(comparisonSummary(comparison))}${comparison.changes.length > 0 ? ' Changed cells are in bold.' : ''}`, '');
  for (const table of comparison.tables) {
    lines.push(...tableLines(table, comparison.function, (c) => (c.changed ? `**${escapeMarkdown(c.text)}**` : escapeMarkdown(c.text))), '');
  }
  if (comparison.changes.length > 0) {
    lines.push(
      '## Changes',
      '',
      ...comparison.changes.flatMap((c) => [
        `- ${c.newFailure ? '**new failure** ' : ''}${escapeMarkdown(changeText({ ...c, newFailure: false }))}`,
        ...changeBucketTexts(c).map((text) => `  - ${escapeMarkdown(text)}`),
      ]),
      '',
    );
  }
  if (comparison.testChanges) {
    lines.push(
      '## Tests',
      '',
      comparison.testChanges.length === 0 ? 'No test changed its verdict.' : `Tests whose verdict changed (${comparison.testChanges.length}):`,
      '',
      ...comparison.testChanges.map((c) => `- ${c.newFailure ? '**new failure** ' : ''}${escapeMarkdown(c.text)}`),
      '',
    );
  }
  lines.push(`- before: ${escapeMarkdown(runLine(comparison.before))}`, `- after: ${escapeMarkdown(runLine(comparison.after))}`);
  for (const block of comparisonProvenance(comparison.before, comparison.after)) {
    lines.push(`- ${block.heading}:`, ...block.lines.map((p) => `  - ${escapeMarkdown(p)}`));
  }
  return lines;
}

function tableLines<C>(table: Table<C>, fn: string, show: (cell: C) => string): string[] {
  // The function in code style, the rest escaped.
  const title = `## ${fn ? table.title.split(fn).map(escapeMarkdown).join(`\`${fn}\``) : escapeMarkdown(table.title)}`;
  const header = `| workload | ${table.variants.map(escapeMarkdown).join(' | ')} |`;
  const rule = `| :-- | ${table.variants.map(() => '--:').join(' | ')} |`;
  const rows = table.rows.map((row) => `| ${escapeMarkdown(row.workload)} | ${row.cells.map(show).join(' | ')} |`);
  return [title, '', header, rule, ...rows, ...noteLines(table.notes, table)];
}

function whatChangedLines(what: WhatChanged | null): string[] {
  const paragraph = whatChangedText(what);
  if (!paragraph) return [];
  return [
    '',
    `**${escapeMarkdown(paragraph.heading)}**`,
    ...(paragraph.items.length > 0 ? ['', ...paragraph.items.map((item) => `- ${escapeMarkdown(item)}`)] : []),
  ];
}

function noteLines(notes: Note[], table: { variants: string[]; rows: { workload: string }[] }): string[] {
  if (notes.length === 0) return [];
  return [
    '',
    ...notes.map(
      (note) =>
        `- ${note.marker ? `${escapeMarkdown(note.marker)} ` : ''}${escapeMarkdown(describeCells(note.cells, table))}: ${escapeMarkdown(shorten(note.text, NOTE_MAX))}`,
    ),
  ];
}
