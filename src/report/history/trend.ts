/**
 * A small trend chart of one cell over the runs, as inline SVG (no script, nothing fetched). Pure.
 * A measured figure is a dot on a line; a point that is not ok is a hatched band the height of the
 * plot with its status written in it, off the line, so it can never be read as a figure; a step is
 * a dashed line between the two runs, with the change written over it and the runs and commits on
 * either side in its tooltip.
 */
import { formatNumber } from '../model.js';
import { escapeXml, niceScale, seriesColor } from '../render/chart.js';

export interface TrendPoint {
  /** The run's position in the history (0 = oldest). */
  x: number;
  /** null: not a figure (the cell was not ok); `label` is its status then. */
  value: number | null;
  label: string;
  /** A CSS class for a point that is not ok: crashed, hung, failed, skipped, missing. */
  status: string;
  tooltip: string;
}

export interface TrendStep {
  fromX: number;
  toX: number;
  /** "3 → 2". */
  label: string;
  tooltip: string;
  /** The bisection named a commit for it. */
  found: boolean;
}

export interface TrendSpec {
  /** Unique in the document: prefixes the SVG's ids. */
  id: string;
  title: string;
  /** How many runs the x axis spans. */
  runs: number;
  /** Under the first and the last run. */
  xLabels: { x: number; text: string }[];
  points: TrendPoint[];
  steps: TrendStep[];
  series?: number;
}

const WIDTH = 320;
const HEIGHT = 150;
const MARGIN = { left: 34, right: 12, top: 22, bottom: 22 };
const PAD = 14;

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

export function trendChart(spec: TrendSpec): string {
  const values = spec.points.flatMap((p) => (p.value === null ? [] : [p.value]));
  const scale = niceScale(Math.min(0, ...values), Math.max(0, ...values) * 1.15);
  const plotLeft = MARGIN.left;
  const plotRight = WIDTH - MARGIN.right;
  const plotTop = MARGIN.top;
  const plotBottom = HEIGHT - MARGIN.bottom;
  const span = Math.max(1, spec.runs - 1);
  const x = (i: number): number => round(spec.runs <= 1 ? (plotLeft + plotRight) / 2 : plotLeft + PAD + (i / span) * (plotRight - plotLeft - 2 * PAD));
  const y = (v: number): number => round(plotBottom - ((v - scale.min) / (scale.max - scale.min)) * (plotBottom - plotTop));
  const color = seriesColor(spec.series ?? 0);
  const hatchId = `${spec.id}-hatch`;
  const titleId = `${spec.id}-title`;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="trend" role="img" aria-labelledby="${titleId}" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}">`,
  );
  out.push(`<title id="${titleId}">${escapeXml(spec.title)}</title>`);
  out.push(
    `<defs><pattern id="${hatchId}" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f3f3f3"/><line x1="0" y1="0" x2="0" y2="6" stroke="#c4c4c4" stroke-width="2"/></pattern></defs>`,
  );
  // Three ticks at most: the chart is small, the figures are in the table and the tooltips.
  const tickStep = scale.step * Math.ceil((scale.max - scale.min) / scale.step / 3);
  for (let v = scale.min; v <= scale.max + 1e-9; v += tickStep) {
    out.push(`<line class="grid" x1="${plotLeft}" x2="${plotRight}" y1="${y(v)}" y2="${y(v)}"/>`);
    out.push(`<text class="tick" x="${plotLeft - 5}" y="${y(v) + 4}" text-anchor="end">${escapeXml(formatNumber(v))}</text>`);
  }
  out.push(`<line class="axis" x1="${plotLeft}" x2="${plotLeft}" y1="${plotTop}" y2="${plotBottom}"/>`);
  out.push(`<line class="axis" x1="${plotLeft}" x2="${plotRight}" y1="${plotBottom}" y2="${plotBottom}"/>`);
  for (const label of spec.xLabels) {
    const anchor = spec.runs <= 1 ? 'middle' : label.x === 0 ? 'start' : 'end';
    const lx = spec.runs <= 1 ? x(label.x) : label.x === 0 ? plotLeft : plotRight;
    out.push(`<text class="tick" x="${lx}" y="${HEIGHT - 6}" text-anchor="${anchor}">${escapeXml(label.text)}</text>`);
  }

  for (const step of spec.steps) {
    const sx = round((x(step.fromX) + x(step.toX)) / 2);
    out.push(`<g class="step${step.found ? ' found' : ''}"><title>${escapeXml(step.tooltip)}</title>`);
    out.push(`<line x1="${sx}" x2="${sx}" y1="${plotTop - 4}" y2="${plotBottom}"/>`);
    out.push(`<text x="${sx}" y="${plotTop - 8}" text-anchor="middle">${escapeXml(step.label)}</text>`);
    out.push('</g>');
  }

  // The line joins consecutive measured figures; a point that is not ok breaks it.
  let segment: string[] = [];
  const flush = (): void => {
    if (segment.length > 1) out.push(`<polyline class="line" fill="none" stroke="${color}" points="${segment.join(' ')}"/>`);
    segment = [];
  };
  for (const point of spec.points) {
    if (point.value === null) {
      flush();
      continue;
    }
    segment.push(`${x(point.x)},${y(point.value)}`);
  }
  flush();

  const labelled = new Set<number>([spec.points[0]?.x ?? -1, spec.points[spec.points.length - 1]?.x ?? -1, ...spec.steps.map((s) => s.toX)]);
  for (const point of spec.points) {
    const px = x(point.x);
    if (point.value === null) {
      const w = 12;
      const mid = round((plotTop + plotBottom) / 2);
      out.push(`<g class="placeholder ${escapeXml(point.status)}"><title>${escapeXml(point.tooltip)}</title>`);
      out.push(
        `<rect x="${round(px - w / 2)}" y="${plotTop}" width="${w}" height="${plotBottom - plotTop}" fill="url(#${hatchId})" stroke="${color}" stroke-dasharray="3 2"/>`,
      );
      out.push(
        `<text class="status" x="${px}" y="${mid}" text-anchor="middle" dominant-baseline="central" transform="rotate(-90 ${px} ${mid})">${escapeXml(point.label)}</text>`,
      );
      out.push('</g>');
      continue;
    }
    const py = y(point.value);
    out.push(`<g class="point"><title>${escapeXml(point.tooltip)}</title><circle cx="${px}" cy="${py}" r="3.5" fill="${color}"/>`);
    if (labelled.has(point.x)) out.push(`<text class="value" x="${px}" y="${round(py - 7)}" text-anchor="middle">${escapeXml(point.label)}</text>`);
    out.push('</g>');
  }
  out.push('</svg>');
  return out.join('\n');
}
