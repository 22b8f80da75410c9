/**
 * A figure's buckets as a small stacked bar in its table cell (inline SVG, no script): one
 * segment per bucket with calls per page, as wide as its figure on a scale shared by the whole
 * table, and coloured like the same bucket in every other cell, so that a missing one shows. Pure.
 */
import { describeBucket } from '../../explain/buckets.js';
import { formatNumber, type Cell, type Table } from '../model.js';
import { escapeXml } from './chart.js';
import type { Bucket } from '../../records/index.js';

/** Paul Tol's muted scheme: apart from the variants' colours, and from each other. */
export const bucketPalette = ['#332288', '#88CCEE', '#44AA99', '#117733', '#999933', '#DDCC77', '#CC6677', '#882255', '#AA4499'];

/** Pixels of the longest bar of a table. */
export const STACK_WIDTH = 120;
const STACK_HEIGHT = 10;

export interface BucketLegend {
  /** Pixels per call per page, one for the whole table so that bars compare. */
  scale: number;
  /** Every bucket drawn in the table, in the order first met, with its colour. */
  entries: { key: string; label: string; color: string }[];
}

/** What makes two cells' buckets the same bucket (as diffBuckets matches them). */
export function bucketKey(b: Bucket): string {
  return JSON.stringify([b.caller, b.flagsValue, b.pages_null, b.nr_pages, b.ret]);
}

/** The buckets that get a segment: those with calls per page. */
function drawn(cell: Cell): (Bucket & { per_page: number })[] {
  return (cell.explain?.buckets ?? []).filter((b): b is Bucket & { per_page: number } => b.per_page !== null && b.per_page > 0);
}

export function bucketLegend(table: Table<Cell>): BucketLegend {
  const entries = new Map<string, BucketLegend['entries'][number]>();
  let widest = 0;
  for (const row of table.rows) {
    for (const cell of row.cells) {
      const shown = drawn(cell);
      widest = Math.max(
        widest,
        shown.reduce((sum, b) => sum + b.per_page, 0),
      );
      for (const b of shown) {
        const key = bucketKey(b);
        if (!entries.has(key)) entries.set(key, { key, label: describeBucket(b), color: bucketPalette[entries.size % bucketPalette.length]! });
      }
    }
  }
  return { scale: widest > 0 ? STACK_WIDTH / widest : 0, entries: [...entries.values()] };
}

/** The cell's stacked bar; empty when it has no bucket with calls per page. */
export function stackedBar(cell: Cell, legend: BucketLegend): string {
  const shown = drawn(cell);
  if (shown.length === 0) return '';
  const colors = new Map(legend.entries.map((e) => [e.key, e.color]));
  let x = 0;
  const segments = shown.map((b) => {
    const width = round(b.per_page * legend.scale);
    const tooltip = `${formatNumber(b.per_page)} per page, fixed ${b.fixed === null ? '?' : formatNumber(b.fixed)}: ${describeBucket(b)}`;
    const rect = `<rect x="${round(x)}" y="0" width="${width}" height="${STACK_HEIGHT}" fill="${colors.get(bucketKey(b)) ?? '#777'}"><title>${escapeXml(tooltip)}</title></rect>`;
    x += width;
    return rect;
  });
  const total = Math.max(1, round(x));
  const label = `${cell.variant}, ${cell.workload}: ${shown.length === 1 ? 'one bucket' : `${shown.length} buckets`}, ${shown.map((b) => formatNumber(b.per_page)).join(' + ')} per page`;
  return `<svg class="stack" role="img" aria-label="${escapeXml(label)}" width="${total}" height="${STACK_HEIGHT}" viewBox="0 0 ${total} ${STACK_HEIGHT}">${segments.join('')}</svg>`;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
