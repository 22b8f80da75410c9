/**
 * kexp explain for real: 6.12 baseline and early-break, async-pf and uffd-populate at two sizes.
 * The buckets must add up to the kprobe totals; the bucket early-break removes is recorded (and,
 * for async-pf, must be the FOLL_TRIED retry from the async page fault worker, which is what the
 * patch is about). Then a run with "explain" in its experiment: the reports carry the buckets.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FunctionExplanation } from '../../src/explain/buckets.js';
import { kexp } from '../helpers/kexp.js';

interface ExplainJson {
  kernel: string;
  variants: { variant: string; status: string; definitions: Record<string, string>; explanations: FunctionExplanation[] }[];
  changes: {
    workload: string;
    function: string;
    from: string;
    to: string;
    total: { before: number; after: number };
    buckets: { bucket: string; delta: number }[];
  }[];
}

describe('kexp explain on 6.12, baseline vs early-break', () => {
  it('splits __get_user_pages into buckets that add up, and names the one early-break removes', async () => {
    const r = await kexp([
      'explain',
      '--kernel',
      '6.12',
      '--variant',
      'baseline,early-break',
      '--workload',
      'async-pf,uffd-populate',
      '--pages',
      '64,128',
      '--function',
      '__get_user_pages',
      '--json',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as ExplainJson;
    expect(out.variants.map((v) => v.variant)).toEqual(['baseline', 'early-break']);
    for (const v of out.variants) {
      expect(v.status).toBe('ok');
      expect(v.definitions.__get_user_pages).toMatch(/^mm\/gup\.c:\d+$/);
      expect(v.explanations.map((e) => e.workload)).toEqual(['async-pf', 'uffd-populate']);
      for (const e of v.explanations) {
        expect(e.problems, `${v.variant} ${e.workload}`).toEqual([]);
        expect(e.adds_up).toBe(true);
        expect(e.mode).toBe('return');
        const sum = e.buckets.reduce((n, b) => n + (b.per_page ?? 0), 0);
        expect(sum).toBe(e.total.per_page);
        for (const b of e.buckets) expect(b.caller.length).toBeGreaterThan(0);
      }
    }
    const asyncPf = out.changes.find((c) => c.workload === 'async-pf')!;
    console.log(JSON.stringify(out.changes, null, 2));
    expect(asyncPf.total).toEqual({ before: 3, after: 2 });
    expect(asyncPf.buckets).toHaveLength(1);
    expect(asyncPf.buckets[0]?.delta).toBe(-1);
    expect(asyncPf.buckets[0]?.bucket).toMatch(/FOLL_TRIED.*pages=NULL, nr_pages=1, ret 1 from .*async_pf_execute/);
    const populate = out.changes.find((c) => c.workload === 'uffd-populate')!;
    expect(populate.total).toEqual({ before: 2, after: 1 });
    expect(populate.buckets.some((b) => b.delta === -1 && /FOLL_TRIED/.test(b.bucket))).toBe(true);
  });

  it('refuses a function the kernel does not define, naming it', async () => {
    const r = await kexp(['explain', '--kernel', '6.12', '--function', 'no_such_function_here', '--pages', '64,128']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/no_such_function_here: no definition found in the source of 6\.12\/baseline/);
  });
});

describe('kexp run with explain in the experiment', () => {
  it('writes reports whose text says what changed and whose HTML stacks the buckets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kexp-explain-'));
    const experiment = join(dir, 'explain.json');
    writeFileSync(
      experiment,
      JSON.stringify({
        name: 'explain-async-pf',
        kernels: ['6.12'],
        variants: ['baseline', 'early-break'],
        workloads: [{ name: 'async-pf' }],
        sizes: [64, 128],
        collectors: ['kprobe'],
        functions: ['__get_user_pages'],
        explain: ['__get_user_pages'],
      }),
    );
    const results = join(dir, 'results');
    const r = await kexp(['run', experiment, '--results', results, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const run = JSON.parse(r.stdout.trim().split('\n').pop()!) as { dir: string };
    const text = readFileSync(join(run.dir, 'report.txt'), 'utf8');
    console.log(text);
    expect(text).toMatch(/What changed/);
    expect(text.replace(/\s+/g, ' ')).toMatch(/async-pf, early-break vs baseline: -1\/page: .*FOLL_TRIED/);
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(72);
    const html = readFileSync(join(run.dir, 'report.html'), 'utf8');
    expect(html).toMatch(/<svg[^>]*aria-label="baseline, async-pf: 3 buckets/);
  });
});
