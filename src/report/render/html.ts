/**
 * HTML: one self-contained file (inline CSS and SVG, no script, nothing fetched) that opens
 * offline: per kernel the table, its notes and a bar chart. All text is escaped.
 */
import type { Comparison, ComparedCell } from '../compare.js';
import { describeCells, formatNumber, type Cell, type Note, type ReportTable, type ReportTables, type Table } from '../model.js';
import type { Renderer, Renderable } from './types.js';
import { barChart, escapeXml as escapeHtml, seriesColor, type Bar, type LegendEntry } from './chart.js';
import {
  BUCKETS_NOTE,
  changeBucketTexts,
  basePageCss,
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
import { bucketLegend, stackedBar, type BucketLegend } from './stack.js';

export { escapeHtml };

const REASON_MAX = 600;

export const htmlRenderer: Renderer = {
  name: 'html',
  extension: 'html',
  mediaType: 'text/html; charset=utf-8',
  render: (view: Renderable) => (view.kind === 'report' ? reportHtml(view) : comparisonHtml(view)),
};

const css = `
${basePageCss(1040)}
.kernel { display: grid; grid-template-columns: minmax(300px, max-content) 1fr; gap: 8px 28px; align-items: start; }
.kernel h2 { grid-column: 1 / -1; }
.kernel figure { grid-column: 1 / -1; margin: 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d0d0d0; padding: 4px 10px; }
thead th { background: #f2f2f2; font-weight: 600; text-align: right; }
thead th:first-child, tbody th { text-align: left; font-weight: normal; white-space: nowrap; }
td { text-align: right; white-space: nowrap; }
td.flagged { background: #fff4ce; }
td.failed, td.crashed, td.hung { background: #fde2e1; color: #8a1111; font-weight: 600; }
td.skipped, td.missing { background: #f4f4f4; color: #666; font-style: italic; }
td.changed { background: #fff1a8; font-weight: 700; outline: 2px solid #c9a400; outline-offset: -2px; }
td.new-failure { background: #fbd0cd; color: #8a1111; outline-color: #b3261e; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 2px; vertical-align: baseline; }
ul.notes { margin: 0; padding-left: 18px; font-size: 13px; }
ul.notes li { margin-bottom: 4px; white-space: pre-line; }
.chart { max-width: 100%; height: auto; font: 11px system-ui, "DejaVu Sans", sans-serif; }
.chart .grid { stroke: #e6e6e6; }
.chart .axis { stroke: #555; }
.chart .tick, .chart .group { fill: #333; }
.chart .axis-label { fill: #222; font-size: 12px; font-weight: 600; }
.chart .value { fill: #222; font-weight: 600; }
.chart .status { fill: #8a1111; font-weight: 700; letter-spacing: 0.5px; }
.chart .skipped .status, .chart .missing .status { fill: #666; font-weight: 600; font-style: italic; }
.chart .changed { fill: none; stroke: #1b1b1b; stroke-width: 2; }
.chart .legend text { fill: #333; }
footer { margin-top: 28px; border-top: 1px solid #ddd; padding-top: 10px; color: #444; font-size: 13px; }
footer ul { padding-left: 18px; margin: 4px 0; }
`.trim();

/** Only in a report with buckets: a report without keeps the page it always had. */
const bucketCss = `
.stack { display: block; margin: 3px 0 1px auto; }
.stack rect { stroke: #fff; stroke-width: 1; }
.bucket-warning { display: block; color: #8a1111; font-size: 12px; font-weight: 600; }
.kernel .buckets { grid-column: 1 / -1; font-size: 13px; }
.buckets p { margin: 4px 0; }
ul.bucket-legend { list-style: none; margin: 0 0 6px; padding: 0; }
ul.bucket-legend li { margin-bottom: 2px; }
`.trim();

function page(title: string, body: string[], extraCss = ''): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>\n${css}${extraCss ? `\n${extraCss}` : ''}\n</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** The title with the function in code style. */
function heading(title: string, fn: string): string {
  return title
    .split(fn)
    .map(escapeHtml)
    .join(`<code>${escapeHtml(fn)}</code>`);
}

function yLabel(fn: string): string {
  return `${fn} ${fn.includes('/') ? 'events' : 'calls'} per page`;
}

function reportHtml(report: ReportTables): string {
  const body = [
    `<header><h1>kexp report: ${escapeHtml(report.run.experiment)}</h1>`,
    `<p class="run">${escapeHtml(runLine(report.run))}</p>`,
    ...(report.run.state === 'incomplete' ? ['<p class="banner">The run was interrupted: cells it did not reach are shown as <em>missing</em>.</p>'] : []),
    '</header>',
  ];
  report.tables.forEach((table, k) => {
    body.push(`<section class="kernel" id="kernel-${k}">`, `<h2>${heading(table.title, report.function)}</h2>`);
    const buckets = bucketLegend(table);
    body.push(tableHtml(table, (cell) => ({ classes: cellClasses(cell), text: cell.text, tooltip: cellTooltip(cell), extra: cellBuckets(cell, buckets) })));
    body.push(notesHtml(table.notes, table));
    if (table.whatChanged) body.push(bucketsHtml(table, buckets));
    const legend: LegendEntry[] = [
      ...table.variants.map((v, i) => ({ label: v, swatch: 'series' as const, series: i })),
      { label: 'not a figure (status written in it)', swatch: 'hatch' },
    ];
    const groups = table.rows.map((row) => ({ label: row.workload, bars: row.cells.map((cell, i) => cellBar(cell, i)) }));
    body.push(
      '<figure>',
      barChart({ id: `chart-${k}`, title: table.title, xLabel: 'workload', yLabel: yLabel(report.function), groups, legend }),
      '</figure>',
      '</section>',
    );
  });
  if (report.tests) {
    report.tests.tables.forEach((table, k) => {
      body.push(`<section class="kernel tests" id="tests-${k}">`, `<h2>${escapeHtml(table.title)}</h2>`);
      body.push(
        tableHtml(table, (cell) => ({
          classes: [
            cell.status === 'fail' || cell.status === 'missing' ? 'failed' : cell.status === 'skip' ? 'skipped' : cell.status === 'none' ? 'missing' : 'ok',
          ],
          text: cell.label,
          tooltip: `${cell.variant}, ${cell.workload}${cell.test ? ` › ${cell.test}` : ''}: ${cell.label}${cell.reasons.length > 0 ? `\n${cell.reasons.join('\n')}` : ''}`,
        })),
      );
      body.push(notesHtml(table.notes, table), '</section>');
    });
    const findings = testFindingsText(report.tests);
    body.push(
      `<p class="${findings.items.length > 0 ? 'banner' : 'run'}"><strong>${escapeHtml(findings.heading)}</strong></p>`,
      listHtml(findings.items),
      `<p>${escapeHtml(TESTS_NOTE)}</p>`,
    );
  }
  const flagged = report.tables.some((t) => t.notes.some((n) => n.kind === 'flag'));
  body.push(footer([FIT_NOTE, ...(flagged ? [FLAG_NOTE] : [])], [{ heading: 'provenance', lines: [runLine(report.run), ...report.provenance] }]));
  return page(`kexp report: ${report.run.experiment} (${report.run.runId})`, body, report.tables.some((t) => t.whatChanged) ? bucketCss : '');
}

function comparisonHtml(comparison: Comparison): string {
  const { before, after } = comparison;
  const body = [
    `<header><h1>kexp comparison: ${escapeHtml(before.runId)} → ${escapeHtml(after.runId)}</h1>`,
    `<p class="run">${escapeHtml(comparisonSummary(comparison))}${comparison.changes.length > 0 ? ' Changed cells are highlighted; new failures in red.' : ''}</p>`,
    '</header>',
  ];
  comparison.tables.forEach((table, k) => {
    body.push(`<section class="kernel" id="kernel-${k}">`, `<h2>${heading(table.title, comparison.function)}</h2>`);
    body.push(
      tableHtml(table, (c) => ({ classes: comparedClasses(c), text: c.text, tooltip: `before: ${cellTooltip(c.before)}\nafter: ${cellTooltip(c.after)}` })),
    );
    body.push(notesHtml(table.notes, table));
    const legend: LegendEntry[] = [
      ...table.variants.map((v, i) => ({ label: v, swatch: 'series' as const, series: i })),
      { label: 'pale: before', swatch: 'faded' },
      { label: 'not a figure (status written in it)', swatch: 'hatch' },
    ];
    const groups = table.rows.map((row) => ({
      label: row.workload,
      bars: row.cells.flatMap((c, i) => [
        { ...cellBar(c.before, i), faded: true, gapBefore: i > 0, tooltip: `before: ${cellTooltip(c.before)}` },
        { ...cellBar(c.after, i), emphasis: c.changed, tooltip: `after: ${cellTooltip(c.after)}`, label: c.changed ? `${c.after.label}!` : c.after.label },
      ]),
    }));
    body.push(
      '<figure>',
      barChart({ id: `chart-${k}`, title: table.title, xLabel: 'workload', yLabel: yLabel(comparison.function), groups, legend }),
      '</figure>',
      '</section>',
    );
  });
  if (comparison.changes.length > 0) {
    body.push(
      '<h2>Changes</h2>',
      '<ul class="notes">',
      ...comparison.changes.map(
        (c) =>
          `<li>${c.newFailure ? '<strong>new failure</strong> ' : ''}${escapeHtml(changeText({ ...c, newFailure: false }))}${listHtml(changeBucketTexts(c))}</li>`,
      ),
      '</ul>',
    );
  }
  if (comparison.testChanges) {
    body.push(
      '<h2>Tests</h2>',
      `<p>${comparison.testChanges.length === 0 ? 'No test changed its verdict.' : `Tests whose verdict changed (${comparison.testChanges.length}):`}</p>`,
      '<ul class="notes">',
      ...comparison.testChanges.map((c) => `<li>${c.newFailure ? '<strong>new failure</strong> ' : ''}${escapeHtml(c.text)}</li>`),
      '</ul>',
    );
  }
  body.push(
    footer(
      [FIT_NOTE],
      [
        { heading: 'before', lines: [runLine(before)] },
        { heading: 'after', lines: [runLine(after)] },
        ...comparisonProvenance(before, after).map((b) => ({ heading: `provenance (${b.heading})`, lines: b.lines })),
      ],
    ),
  );
  return page(`kexp comparison: ${before.runId} → ${after.runId}`, body);
}

interface ShownCell {
  classes: string[];
  text: string;
  tooltip: string;
  /** HTML drawn under the text (a report cell's buckets). */
  extra?: string;
}

function tableHtml<C>(table: Table<C>, show: (cell: C) => ShownCell): string {
  const head = `<thead><tr><th scope="col">workload</th>${table.variants.map((v, i) => `<th scope="col"><span class="swatch" style="background:${seriesColor(i)}"></span>${escapeHtml(v)}</th>`).join('')}</tr></thead>`;
  const rows = table.rows.map((row) => {
    const cells = row.cells.map((cell) => {
      const shown = show(cell);
      return `<td class="${shown.classes.join(' ')}" title="${escapeHtml(shown.tooltip)}">${escapeHtml(shown.text)}${shown.extra ?? ''}</td>`;
    });
    return `<tr><th scope="row">${escapeHtml(row.workload)}</th>${cells.join('')}</tr>`;
  });
  return `<table>\n${head}\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
}

function cellClasses(cell: Cell): string[] {
  return [cell.status, ...(cell.marker ? ['flagged'] : [])];
}

function comparedClasses(c: ComparedCell): string[] {
  return [c.after.status, ...(c.changed ? ['changed'] : []), ...(c.newFailure ? ['new-failure'] : [])];
}

function cellTooltip(cell: Cell): string {
  const samples = cell.samples ? `, ${cell.samples.ok}/${cell.samples.total} samples ok` : '';
  if (cell.status === 'ok' && cell.perRun) {
    return [
      `${cell.variant}, ${cell.workload}: ${formatNumber(cell.perRun.mean)} per run (${formatNumber(cell.perRun.min)} to ${formatNumber(cell.perRun.max)} over ${cell.perRun.runs} runs)${samples}`,
      ...cell.flags,
    ].join('\n');
  }
  if (cell.status === 'ok') {
    const fit = `${formatNumber(cell.perPage!)} per ${cell.unit === 'n' ? 'n' : 'page'}, fixed ${cell.fixed === null ? '?' : formatNumber(cell.fixed)}, residual ${cell.residual === null ? '?' : formatNumber(cell.residual)}${samples}`;
    return [`${cell.variant}, ${cell.workload}: ${fit}`, ...cell.flags].join('\n');
  }
  return `${cell.variant}, ${cell.workload}: ${cell.label}${samples}${cell.reason ? `\n${shorten(cell.reason, REASON_MAX)}` : ''}`;
}

function cellBar(cell: Cell, series: number): Bar {
  return { series, label: cell.text, value: cell.status === 'ok' ? cell.perPage : null, status: cell.status, tooltip: cellTooltip(cell) };
}

/** A cell's buckets as a stacked bar, and a warning when they do not add up to its figure. */
function cellBuckets(cell: Cell, legend: BucketLegend): string {
  if (!cell.explain) return '';
  const warning = cell.explain.adds_up
    ? ''
    : `<span class="bucket-warning" title="${escapeHtml(cell.explain.problems.join('\n'))}">⚠ buckets do not add up</span>`;
  return `${stackedBar(cell, legend)}${warning}`;
}

/** Under a table with buckets: which colour is which bucket, and what changed from the first variant. */
function bucketsHtml(table: ReportTable, legend: BucketLegend): string {
  const parts = ['<div class="buckets">', `<p>${escapeHtml(BUCKETS_NOTE)} Hover a segment for its figure.</p>`];
  if (legend.entries.length > 0) {
    parts.push(
      '<ul class="bucket-legend">',
      ...legend.entries.map((e) => `<li><span class="swatch" style="background:${e.color}"></span><code>${escapeHtml(e.label)}</code></li>`),
      '</ul>',
    );
  }
  const paragraph = whatChangedText(table.whatChanged);
  if (paragraph) parts.push(`<p><strong>${escapeHtml(paragraph.heading)}</strong></p>`, listHtml(paragraph.items));
  parts.push('</div>');
  return parts.join('\n');
}

function listHtml(items: string[]): string {
  return items.length === 0 ? '' : `<ul class="notes">${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`;
}

function notesHtml(notes: Note[], table: { variants: string[]; rows: { workload: string }[] }): string {
  if (notes.length === 0) return '<div></div>';
  const items = notes.map(
    (n) =>
      `<li>${n.marker ? `${escapeHtml(n.marker)} ` : ''}<strong>${escapeHtml(describeCells(n.cells, table))}</strong>: ${escapeHtml(shorten(n.text, REASON_MAX))}</li>`,
  );
  return `<ul class="notes">\n${items.join('\n')}\n</ul>`;
}

function footer(paragraphs: string[], blocks: { heading: string; lines: string[] }[]): string {
  const parts = ['<footer>', ...paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`)];
  for (const block of blocks) parts.push(`<div>${escapeHtml(block.heading)}:</div>`, '<ul>', ...block.lines.map((l) => `<li>${escapeHtml(l)}</li>`), '</ul>');
  parts.push('</footer>');
  return parts.join('\n');
}
