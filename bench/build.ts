/**
 * npm run bench:build — the kernel stage's three costs, measured in one run on this machine:
 * a clean build (fresh cache: extraction, pristine tree, kconfig, make from nothing, ccache off),
 * a store hit (the same request again) and a one-file variant rebuild (early-break: mm/gup.c).
 * Prints each figure and the ratios; target: variant rebuild / clean build <= 0.1.
 */
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../src/core/paths.js';

const kernel = process.argv[2] ?? '6.1';
const root = packageRoot();
const cache = mkdtempSync(join(tmpdir(), 'kexp-bench-'));
const env = { KEXP_CACHE: cache, CCACHE_DISABLE: '1', CI: '1' };

interface Step {
  name: string;
  wall: number;
  json: { key: string; cached: boolean; seconds: number; bzImage: string };
}

async function step(name: string, variant: string): Promise<Step> {
  const started = process.hrtime.bigint();
  const result = await execa('node', [join(root, 'bin/kexp.js'), 'build', '--kernel', kernel, '--variant', variant, '--json'], { env, stderr: 'inherit' });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const json = JSON.parse(result.stdout.trim().split('\n').pop()!) as Step['json'];
  process.stderr.write(`${name}: ${wall.toFixed(2)} s\n`);
  return { name, wall, json };
}

try {
  process.stderr.write(`bench:build — kernel ${kernel}, cache ${cache} (ccache disabled)\n`);
  const clean = await step('clean build', 'baseline');
  const hit = await step('store hit', 'baseline');
  const variant = await step('one-file variant rebuild (early-break)', 'early-break');
  const record = (s: Step): { timings: Record<string, number>; objectsCompiled: number } =>
    JSON.parse(readFileSync(join(s.json.bzImage, '..', 'build.json'), 'utf8'));
  const cleanRecord = record(clean);
  const variantRecord = record(variant);
  const lines = [
    `kernel ${kernel} on ${(await execa('nproc')).stdout} cores`,
    `clean build            ${clean.wall.toFixed(1).padStart(7)} s  (tree ${cleanRecord.timings.prepareTree?.toFixed(1)} s, waiting for its pristine commit ${(cleanRecord.timings.waitForTreeRecord ?? 0).toFixed(1)} s, kconfig ${cleanRecord.timings.configure?.toFixed(1)} s, make ${cleanRecord.timings.make?.toFixed(1)} s, ${cleanRecord.objectsCompiled} objects)`,
    `store hit              ${hit.wall.toFixed(2).padStart(7)} s  (inside kexp ${hit.json.seconds.toFixed(3)} s, cached=${hit.json.cached})`,
    `variant rebuild        ${variant.wall.toFixed(1).padStart(7)} s  (make ${variantRecord.timings.make?.toFixed(1)} s, ${variantRecord.objectsCompiled} objects)`,
    `ratio variant / clean  ${(variant.wall / clean.wall).toFixed(3)}  (target <= 0.1)`,
    `ratio variant / clean make only  ${((variantRecord.timings.make ?? 0) / (cleanRecord.timings.make ?? 1)).toFixed(3)}`,
    `ratio hit / clean      ${(hit.wall / clean.wall).toFixed(4)}`,
  ];
  console.log(lines.join('\n'));
} finally {
  if (!process.env.KEXP_BENCH_KEEP) rmSync(cache, { recursive: true, force: true });
}
