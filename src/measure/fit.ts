/**
 * The per-page figure: a least-squares line calls = fixed + perPage × pages over every sample.
 * These workloads are deterministic, so a non-integral slope or any residual is a finding.
 */
import type { Fit } from '../records/index.js';

export interface FitPoint {
  pages: number;
  calls: number;
}

const EPSILON = 1e-6;

export function fitPerPage(points: FitPoint[]): Fit | { error: string } {
  if (points.length === 0) return { error: 'no samples' };
  const sizes = new Set(points.map((p) => p.pages));
  if (sizes.size < 2) return { error: `need samples at two or more sizes to separate per-page from fixed calls (have only ${[...sizes].join(', ')} pages)` };
  const n = points.length;
  const meanX = points.reduce((s, p) => s + p.pages, 0) / n;
  const meanY = points.reduce((s, p) => s + p.calls, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.pages - meanX) ** 2;
    sxy += (p.pages - meanX) * (p.calls - meanY);
  }
  const perPage = sxy / sxx;
  const fixed = meanY - perPage * meanX;
  const squares = points.reduce((s, p) => s + (p.calls - (fixed + perPage * p.pages)) ** 2, 0);
  const residual = Math.sqrt(squares / n);
  const flags: string[] = [];
  if (Math.abs(perPage - Math.round(perPage)) > 1e-3) flags.push(`non-integral per-page figure ${round(perPage)}`);
  if (residual > EPSILON) flags.push(`residual ${round(residual)}: samples do not lie on one line`);
  return { perPage: clean(perPage), fixed: clean(fixed), residual: clean(residual), points: n, sizes: sizes.size, flags };
}

function clean(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - r) < EPSILON ? r : round(x);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
