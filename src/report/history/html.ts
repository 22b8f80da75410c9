/**
 * history.html: one self-contained page (inline CSS and SVG, no script, nothing fetched) with the
 * changes first (each with the runs and commits on either side, and the commit a bisection found),
 * then per kernel and variant one small trend chart per cell, then the runs and their commits.
 * All text is escaped. Pure.
 */
import type { History, HistorySeries, HistoryStep } from './build.js';
import { escapeXml as escapeHtml } from '../render/chart.js';
import { basePageCss, displayTime, plural } from '../render/common.js';
import { HISTORY_NOTE, historyHeading, shortCommit, stepFindings, stepText } from './common.js';
import { trendChart, type TrendPoint, type TrendStep } from './trend.js';

const css = `
${basePageCss(1080)}
ul.changes { padding-left: 18px; }
ul.changes li { margin-bottom: 8px; }
.culprit { display: block; margin-top: 2px; }
.culprit.found { color: #0b5d1e; font-weight: 600; }
.culprit.pending { color: #7a5b00; }
.new-failure { color: #8a1111; font-weight: 600; }
.trends { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 12px 16px; }
figure.cell { margin: 0; border: 1px solid #e3e3e3; border-radius: 4px; padding: 6px 8px; }
figure.cell.changed { border-color: #c9a400; box-shadow: 0 0 0 1px #c9a400; }
figcaption { font-size: 13px; font-weight: 600; margin-bottom: 2px; }
figure.cell ul { margin: 2px 0 0; padding-left: 16px; font-size: 12px; }
.trend { max-width: 100%; height: auto; font: 10px system-ui, "DejaVu Sans", sans-serif; }
.trend .grid { stroke: #ececec; }
.trend .axis { stroke: #777; }
.trend .tick { fill: #555; }
.trend .value { fill: #222; font-weight: 600; }
.trend .line { stroke-width: 2; }
.trend .status { fill: #8a1111; font-weight: 700; font-size: 9px; }
.trend .skipped .status, .trend .missing .status { fill: #666; font-style: italic; font-weight: 600; }
.trend .step line { stroke: #c9a400; stroke-width: 1.5; stroke-dasharray: 4 3; }
.trend .step text { fill: #7a5b00; font-weight: 700; }
.trend .step.found line { stroke: #0b5d1e; }
.trend .step.found text { fill: #0b5d1e; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 13px; }
th, td { border: 1px solid #d0d0d0; padding: 3px 8px; text-align: left; white-space: nowrap; }
thead th { background: #f2f2f2; }
footer { margin-top: 28px; border-top: 1px solid #ddd; padding-top: 10px; color: #444; font-size: 13px; }
`.trim();

function seriesTitle(series: HistorySeries): string {
  return `${series.kernel} ${series.variant} · ${series.workload} · ${series.function}`;
}

function stepItem(series: HistorySeries, step: HistoryStep, withCell: boolean): string {
  const where = withCell ? `<strong>${escapeHtml(seriesTitle(series))}</strong>: ` : '';
  const text = escapeHtml(stepText(step));
  const findings = stepFindings(step).map((f) => {
    const state = step.bisection?.result?.kind === 'found' ? 'found' : step.bisection && step.bisection.state !== 'done' ? 'pending' : '';
    return `<span class="${state ? `culprit ${state}` : 'culprit'}">${escapeHtml(f)}</span>`;
  });
  return `<li>${where}<span${step.newFailure ? ' class="new-failure"' : ''}>${text}</span>${findings.join('')}</li>`;
}

function trendOf(history: History, series: HistorySeries, id: string, variantIndex: number): string {
  const points: TrendPoint[] = series.points.map((p) => {
    const run = history.runs[p.run]!;
    const at = `run ${run.id} (${displayTime(run.startedAt)}${p.commit ? `, commit ${shortCommit(p.commit)}` : ''})`;
    const value = p.cell.status === 'ok' ? (p.cell.perPage ?? p.cell.perRun?.mean ?? null) : null;
    const why = p.cell.status !== 'ok' && p.cell.reason ? `: ${p.cell.reason}` : '';
    return { x: p.run, value, label: p.cell.text, status: p.cell.status, tooltip: `${at}: ${p.cell.text}${why}` };
  });
  const steps: TrendStep[] = series.steps.map((step) => ({
    fromX: series.points[step.before.point]!.run,
    toX: series.points[step.after.point]!.run,
    label: step.text,
    tooltip: [stepText(step), ...stepFindings(step)].join('\n'),
    found: step.bisection?.result?.kind === 'found',
  }));
  const first = history.runs[0];
  const last = history.runs[history.runs.length - 1];
  const short = (iso: string): string =>
    displayTime(iso)
      .replace(/^\d{4}-/, '')
      .replace(/:\d\d UTC$/, '');
  const xLabels =
    first && last
      ? history.runs.length === 1
        ? [{ x: 0, text: short(first.startedAt) }]
        : [
            { x: 0, text: short(first.startedAt) },
            { x: history.runs.length - 1, text: short(last.startedAt) },
          ]
      : [];
  return trendChart({
    id,
    title: `${seriesTitle(series)}: ${points.map((p) => p.label).join(', ')}`,
    runs: history.runs.length,
    xLabels,
    points,
    steps,
    series: variantIndex,
  });
}

export function renderHistoryHtml(history: History): string {
  const out: string[] = [];
  out.push('<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">', '<meta name="viewport" content="width=device-width, initial-scale=1">');
  out.push(`<title>${escapeHtml(`kexp history: ${history.experiment}`)}</title>`, `<style>\n${css}\n</style>`, '</head>', '<body>');
  out.push(`<h1>${escapeHtml(historyHeading(history))}</h1>`);
  const newest = history.runs[history.runs.length - 1];
  if (newest)
    out.push(`<p class="run">Oldest on the left, newest (run <code>${escapeHtml(newest.id)}</code>) on the right. Hover a point for its run and commit.</p>`);
  if (history.skipped.length > 0) {
    out.push(`<div class="banner"><strong>${escapeHtml(plural(history.skipped.length, 'run'))} left out</strong> (damaged records):<ul>`);
    for (const s of history.skipped) out.push(`<li><code>${escapeHtml(s.run)}</code>: ${escapeHtml(s.problem)}</li>`);
    out.push('</ul></div>');
  }

  out.push('<h2>Changes</h2>');
  const changes = history.series.flatMap((series) => series.steps.map((step) => ({ series, step })));
  if (changes.length === 0) {
    out.push('<p>No figure or status changed from one run to the next.</p>');
  } else {
    // Newest first: the morning after, the last night's change is what one reads.
    changes.sort((a, b) => b.series.points[b.step.after.point]!.run - a.series.points[a.step.after.point]!.run);
    out.push('<ul class="changes">', ...changes.map(({ series, step }) => stepItem(series, step, true)), '</ul>');
  }

  const variants = [...new Set(history.series.map((s) => s.variant))];
  const groups = new Map<string, HistorySeries[]>();
  for (const series of history.series) {
    const key = JSON.stringify([series.kernel, series.variant]);
    groups.set(key, [...(groups.get(key) ?? []), series]);
  }
  let n = 0;
  for (const group of groups.values()) {
    const { kernel, variant } = group[0]!;
    out.push(`<section class="kernel"><h2>${escapeHtml(`${kernel} · ${variant}`)}</h2>`, '<div class="trends">');
    for (const series of group) {
      out.push(
        `<figure class="cell${series.steps.length > 0 ? ' changed' : ''}"><figcaption>${escapeHtml(`${series.workload} · ${series.function}`)}</figcaption>`,
      );
      out.push(trendOf(history, series, `trend-${n++}`, variants.indexOf(variant)));
      if (series.steps.length > 0) out.push('<ul>', ...series.steps.map((step) => stepItem(series, step, false)), '</ul>');
      out.push('</figure>');
    }
    out.push('</div>', '</section>');
  }

  out.push('<h2>Runs</h2>');
  const keys = [...new Set(history.runs.flatMap((r) => Object.keys(r.commits)))];
  out.push('<table><thead><tr><th>run</th><th>started</th><th>state</th>', ...keys.map((k) => `<th>${escapeHtml(k)} commit</th>`), '</tr></thead><tbody>');
  for (const run of history.runs) {
    out.push(
      `<tr><td><code>${escapeHtml(run.id)}</code></td><td>${escapeHtml(displayTime(run.startedAt))}</td><td>${escapeHtml(run.state)}</td>`,
      ...keys.map((k) => `<td><code title="${escapeHtml(run.commits[k] ?? '')}">${escapeHtml(shortCommit(run.commits[k]))}</code></td>`),
      '</tr>',
    );
  }
  out.push('</tbody></table>');
  out.push('<footer>', `<p>${escapeHtml(HISTORY_NOTE)}</p>`, '</footer>', '</body>', '</html>');
  return `${out.join('\n')}\n`;
}
