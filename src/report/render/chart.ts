/**
 * A grouped bar chart as inline SVG, with no script and no external resource. Pure.
 * A bar without a value (a cell that is not ok) is drawn as a hatched placeholder the full height
 * of the plot with its status written in it, so it can never be read as a figure.
 */
import { formatNumber } from '../model.js';
import { wrap } from './layout.js';

export interface Bar {
  /** Colour index (the variant's position). */
  series: number;
  /** Drawn over the bar ("2", "1.5*"), or in the placeholder ("CRASHED"). */
  label: string;
  /** null: not a figure; a placeholder is drawn instead. */
  value: number | null;
  /** Shown on hover. */
  tooltip: string;
  /** Status of a placeholder (a CSS class: failures and the rest can be told apart). */
  status?: string;
  /** Pale fill: the "before" bar of a comparison. */
  faded?: boolean;
  /** A dark outline: a changed cell of a comparison. */
  emphasis?: boolean;
  /** Space before this bar: between the before/after pairs of a comparison. */
  gapBefore?: boolean;
}

export interface BarGroup {
  label: string;
  bars: Bar[];
}

export interface LegendEntry {
  label: string;
  swatch: 'series' | 'faded' | 'hatch';
  series?: number;
}

export interface ChartSpec {
  /** Unique in the document: it prefixes the SVG's ids. */
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  groups: BarGroup[];
  legend: LegendEntry[];
}

/** Okabe–Ito: distinguishable with the common colour-vision deficiencies. */
export const palette = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

export function seriesColor(series: number): string {
  return palette[series % palette.length]!;
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const WIDTH = 760;
const MARGIN = { left: 64, right: 16, top: 24 };
const PLOT_HEIGHT = 220;
const CHAR = 6.6; // average width of a 11px sans-serif character, for layout estimates

/** Round axis ends and a step of 1, 2 or 5 × 10^k giving at most about 6 ticks. */
export function niceScale(min: number, max: number): { min: number; max: number; step: number } {
  const lo = Math.min(0, min);
  const hi = Math.max(lo + 1, max);
  const raw = (hi - lo) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const niceStep = Math.max(step, hi - lo <= 6 ? 1 : 0);
  return { min: Math.floor(lo / niceStep) * niceStep, max: Math.ceil(hi / niceStep) * niceStep, step: niceStep };
}

export function barChart(spec: ChartSpec): string {
  const values = spec.groups.flatMap((g) => g.bars.flatMap((b) => (b.value === null ? [] : [b.value])));
  // Headroom over the tallest bar: a placeholder (full height) then stands above every figure.
  const scale = niceScale(Math.min(0, ...values), Math.max(0, ...values) * 1.15);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const groupWidth = plotWidth / Math.max(1, spec.groups.length);
  const labelLines = spec.groups.map((g) => wrap(g.label, Math.max(6, Math.floor((groupWidth - 8) / CHAR))));
  const labelHeight = 14 * Math.max(1, ...labelLines.map((l) => l.length));
  const plotTop = MARGIN.top;
  const plotBottom = plotTop + PLOT_HEIGHT;
  const y = (v: number): number => plotBottom - ((v - scale.min) / (scale.max - scale.min)) * PLOT_HEIGHT;
  const zero = y(0);

  const legendRows = layoutLegend(spec.legend, WIDTH - MARGIN.left - MARGIN.right);
  const xLabelY = plotBottom + 10 + labelHeight + 18;
  const legendTop = xLabelY + 16;
  const height = legendTop + legendRows.length * 20 + 6;
  const titleId = `${spec.id}-title`;
  const hatchId = `${spec.id}-hatch`;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-labelledby="${titleId}" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}">`,
  );
  out.push(`<title id="${titleId}">${escapeXml(spec.title)}</title>`);
  out.push(
    `<defs><pattern id="${hatchId}" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f3f3f3"/><line x1="0" y1="0" x2="0" y2="6" stroke="#c4c4c4" stroke-width="2"/></pattern></defs>`,
  );

  // Grid and y axis.
  for (let v = scale.min; v <= scale.max + 1e-9; v += scale.step) {
    const ty = round(y(v));
    out.push(`<line class="grid" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${ty}" y2="${ty}"/>`);
    out.push(`<text class="tick" x="${MARGIN.left - 6}" y="${ty + 4}" text-anchor="end">${escapeXml(formatNumber(v))}</text>`);
  }
  out.push(`<line class="axis" x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${plotTop}" y2="${plotBottom}"/>`);
  out.push(`<line class="axis" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${round(zero)}" y2="${round(zero)}"/>`);
  const yMid = (plotTop + plotBottom) / 2;
  out.push(`<text class="axis-label" x="16" y="${yMid}" text-anchor="middle" transform="rotate(-90 16 ${yMid})">${escapeXml(spec.yLabel)}</text>`);

  // Groups of bars.
  spec.groups.forEach((group, g) => {
    const inner = groupWidth * 0.8;
    const gaps = group.bars.filter((bar) => bar.gapBefore).length;
    const gap = 6;
    const barWidth = Math.min(44, (inner - gaps * gap) / Math.max(1, group.bars.length));
    let offset = MARGIN.left + g * groupWidth + (groupWidth - barWidth * group.bars.length - gaps * gap) / 2;
    group.bars.forEach((bar) => {
      if (bar.gapBefore) offset += gap;
      const x = round(offset + 1);
      offset += barWidth;
      const w = round(barWidth - 2);
      const cx = round(x + w / 2);
      if (bar.value === null) {
        out.push(`<g class="placeholder ${escapeXml(bar.status ?? '')}"><title>${escapeXml(bar.tooltip)}</title>`);
        out.push(
          `<rect x="${x}" y="${plotTop}" width="${w}" height="${PLOT_HEIGHT}" fill="url(#${hatchId})" stroke="${seriesColor(bar.series)}" stroke-dasharray="3 2"${bar.faded ? ' opacity="0.55"' : ''}/>`,
        );
        out.push(
          `<text class="status" x="${cx}" y="${yMid}" text-anchor="middle" dominant-baseline="central" transform="rotate(-90 ${cx} ${yMid})">${escapeXml(bar.label)}</text>`,
        );
        if (bar.emphasis) out.push(`<rect class="changed" x="${x - 1}" y="${plotTop - 1}" width="${w + 2}" height="${PLOT_HEIGHT + 2}"/>`);
        out.push('</g>');
        return;
      }
      const top = round(Math.min(y(bar.value), zero));
      const h = round(Math.max(1, Math.abs(y(bar.value) - zero)));
      out.push(`<g class="bar"><title>${escapeXml(bar.tooltip)}</title>`);
      const fill = seriesColor(bar.series);
      out.push(
        bar.faded
          ? `<rect x="${x}" y="${top}" width="${w}" height="${h}" fill="${fill}" fill-opacity="0.3" stroke="${fill}"/>`
          : `<rect x="${x}" y="${top}" width="${w}" height="${h}" fill="${fill}"/>`,
      );
      if (bar.emphasis) out.push(`<rect class="changed" x="${x - 1}" y="${top - 1}" width="${w + 2}" height="${h + 2}"/>`);
      out.push(`<text class="value" x="${cx}" y="${top - 4}" text-anchor="middle">${escapeXml(bar.label)}</text>`);
      out.push('</g>');
    });
    const gx = round(MARGIN.left + (g + 0.5) * groupWidth);
    const lines = labelLines[g]!;
    out.push(
      `<text class="group" x="${gx}" y="${plotBottom + 20}" text-anchor="middle">${lines.map((l, i) => `<tspan x="${gx}" dy="${i === 0 ? 0 : 14}">${escapeXml(l)}</tspan>`).join('')}</text>`,
    );
  });
  out.push(`<text class="axis-label" x="${round(MARGIN.left + plotWidth / 2)}" y="${round(xLabelY)}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`);

  // Legend.
  legendRows.forEach((row, r) => {
    const ly = legendTop + r * 20;
    for (const item of row) {
      const lx = MARGIN.left + item.x;
      const color = seriesColor(item.entry.series ?? 0);
      const swatch =
        item.entry.swatch === 'hatch'
          ? `<rect x="${lx}" y="${ly}" width="14" height="14" fill="url(#${hatchId})" stroke="#888" stroke-dasharray="3 2"/>`
          : item.entry.swatch === 'faded'
            ? `<rect x="${lx}" y="${ly}" width="14" height="14" fill="#777" fill-opacity="0.3" stroke="#777"/>`
            : `<rect x="${lx}" y="${ly}" width="14" height="14" fill="${color}"/>`;
      out.push(`<g class="legend">${swatch}<text x="${lx + 20}" y="${ly + 11}">${escapeXml(item.entry.label)}</text></g>`);
    }
  });
  out.push('</svg>');
  return out.join('\n');
}

function layoutLegend(entries: LegendEntry[], width: number): { entry: LegendEntry; x: number }[][] {
  const rows: { entry: LegendEntry; x: number }[][] = [[]];
  let x = 0;
  for (const entry of entries) {
    const w = 20 + entry.label.length * CHAR + 18;
    if (x > 0 && x + w > width) {
      rows.push([]);
      x = 0;
    }
    rows[rows.length - 1]!.push({ entry, x: round(x) });
    x += w;
  }
  return rows;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
