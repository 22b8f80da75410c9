/**
 * Bisection records (results/bisect-* /bisect.json) read back for --resume: truncated prefixes of a
 * real record, seeded random bytes, random JSON and mutations each end in an InputError naming the
 * file (exit 2), never another exception; crafted revision ids and kernel names are refused; and a
 * bisection that fails to start leaves no folder behind.
 *
 * The record is written by runBisect itself, on a patch series of three copies of a real patch
 * (patches/early-break/6.1) over a recipe whose git tree does not exist: every build fails at once,
 * so the steps are real "does not build" skips and the whole bisection takes milliseconds.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBisectRequest, runBisect, type BisectEnv, type BisectRecord, type BisectRequest } from '../../../src/bisect/run.js';
import { readBisectRecord } from '../../../src/bisect/record.js';
import { InputError } from '../../../src/core/errors.js';
import { silentLogger } from '../../../src/core/log.js';
import { cacheLayout, packageRoot } from '../../../src/core/paths.js';
import { ArtifactStore } from '../../../src/store/store.js';
import { expectInputError, keysOf, mutate, prefixes, prng, randomBytes, randomJson, writeCase } from '../results/fuzz.js';

const repo = packageRoot();
const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function workspace(): { env: BisectEnv; root: string; series: string } {
  const root = mkdtempSync(join(tmpdir(), 'kexp-bisect-record-'));
  temps.push(root);
  mkdirSync(join(root, 'kernels/fragments'), { recursive: true });
  writeFileSync(join(root, 'kernels/fragments/base.config'), 'CONFIG_A=y\n');
  writeFileSync(
    join(root, 'kernels/k.json'),
    JSON.stringify({ name: 'k', series: '6.1', source: { type: 'git', path: join(root, 'no-such-tree'), ref: 'HEAD' }, fragments: ['base'] }),
  );
  const series = join(root, 'series/6.1');
  mkdirSync(series, { recursive: true });
  const patch = join(repo, 'patches/early-break/6.1/0001-mm-gup-break-early-on-VM_FAULT_RETRY-for-prefaults.patch');
  for (const name of ['0001-a.patch', '0002-b.patch', '0003-c.patch']) copyFileSync(patch, join(series, name));
  const layout = cacheLayout(join(root, 'cache'));
  const env: BisectEnv = {
    root,
    layout,
    store: new ArtifactStore(layout.store, layout.locks),
    logger: silentLogger(),
    signal: new AbortController().signal,
    resultsDir: join(root, 'results'),
  };
  return { env, root, series };
}

function request(series: string, extra: Partial<BisectRequest> = {}): BisectRequest {
  return {
    source: { mode: 'series', dir: series },
    kernel: 'k',
    plan: { runs: [{ workload: 'async-pf', args: [], sizes: [64, 128] }], repetitions: 1, collectors: ['ftrace', 'kprobe'], functions: ['__get_user_pages'] },
    predicate: '__get_user_pages.per_page <= 2',
    accel: 'tcg',
    ...extra,
  };
}

async function realRecord(): Promise<{ env: BisectEnv; series: string; record: BisectRecord; file: string; text: string }> {
  const { env, series } = workspace();
  const record = await runBisect(env, request(series));
  const file = join(env.resultsDir, record.id, 'bisect.json');
  return { env, series, record, file, text: readFileSync(file, 'utf8').trimEnd() };
}

describe('bisect records: the checked reader', () => {
  it('reads back the record runBisect wrote, and resumes it', async () => {
    const { env, series, record, file } = await realRecord();
    expect(record.revisions.map((r) => r.id)).toEqual(['0', '1', '2', '3']);
    expect(Object.values(record.steps).map((s) => s.verdict)).toContain('skip');
    expect(readBisectRecord(file)).toEqual(record);
    expect(loadBisectRequest(env.resultsDir, record.id)).toEqual(request(series));
    const resumed = await runBisect(env, loadBisectRequest(env.resultsDir, record.id), record.id);
    expect(resumed.result).toEqual(record.result);
  });

  it('refuses every truncated prefix, random bytes and random JSON, naming bisect.json', async () => {
    const { env, record, file, text } = await realRecord();
    const keys = keysOf(JSON.parse(text));
    const rand = prng(0x62697365);
    const cases = [
      ...prefixes(text),
      'null',
      ...Array.from({ length: 300 }, (_, i) => randomBytes(rand, 1 + (i % 50)).toString('latin1')),
      ...Array.from({ length: 300 }, () => JSON.stringify(randomJson(rand, keys))),
    ];
    for (const damaged of cases) {
      writeCase(file, damaged, 'latin1');
      expectInputError(
        () => loadBisectRequest(env.resultsDir, record.id),
        `${record.id}/bisect.json`,
        `bisect record ${JSON.stringify(damaged.slice(0, 120))}`,
      );
    }
    writeCase(file, text.slice(0, 300));
    expect(() => loadBisectRequest(env.resultsDir, record.id)).toThrow(
      /bisect\.json: truncated or not JSON \(.+\); the bisection record is damaged and cannot be resumed/,
    );
  });

  it('a mutated record is refused naming the file, or read and resumed without an exception other than an InputError', { timeout: 60_000 }, async () => {
    const { env, record, file, text } = await realRecord();
    const valid: unknown = JSON.parse(text);
    const keys = keysOf(valid);
    const rand = prng(0x6d757463);
    let refused = 0;
    for (let i = 0; i < 400; i++) {
      const damaged = JSON.stringify(mutate(rand, valid, keys));
      const what = `mutation ${i}: ${damaged.slice(0, 300)}`;
      writeCase(file, damaged);
      if (expectInputError(() => readBisectRecord(file), `${record.id}/bisect.json`, what, true) === 'refused') {
        refused++;
        continue;
      }
      try {
        await runBisect(env, loadBisectRequest(env.resultsDir, record.id), record.id);
      } catch (error) {
        if (!(error instanceof InputError)) throw new Error(`${what}: resuming threw ${String(error)}`, { cause: error });
      }
    }
    expect(refused).toBeGreaterThan(150);
  });

  it('--resume of a damaged record fails before anything runs, and leaves the record as it was', async () => {
    const { env, series, record, file, text } = await realRecord();
    writeCase(file, text.slice(0, 500));
    await expect(runBisect(env, request(series), record.id)).rejects.toThrow(/bisect\.json: truncated or not JSON/);
    expect(readFileSync(file, 'utf8')).toBe(text.slice(0, 500));
  });

  it('refuses crafted revision ids, steps and kernel names', async () => {
    const { file, text } = await realRecord();
    const valid = JSON.parse(text) as BisectRecord;
    const crafted: [string, BisectRecord][] = [
      ['revisions.1.id', { ...valid, revisions: valid.revisions.map((r, i) => (i === 1 ? { ...r, id: '../../x' } : r)) }],
      ['revisions.2.index', { ...valid, revisions: valid.revisions.map((r, i) => (i === 2 ? { ...r, index: 7 } : r)) }],
      ['steps.9', { ...valid, steps: { ...valid.steps, 9: { verdict: 'good', reason: 'x', seconds: 1 } } }],
      ['request.kernel', { ...valid, request: { ...valid.request, kernel: '../x' } }],
      ['request.predicate', { ...valid, request: { ...valid.request, predicate: 'rm -rf /' } }],
      [
        'revisions.0.id',
        {
          ...valid,
          request: { ...valid.request, source: { mode: 'git', repo: '/tmp/linux', good: 'v6.1', bad: 'HEAD' } },
          revisions: valid.revisions.map((r) => ({ ...r, id: `HEAD~${r.index}` })),
        },
      ],
    ];
    for (const [field, record] of crafted) {
      writeCase(file, JSON.stringify(record));
      expect(() => readBisectRecord(file), field).toThrow(new RegExp(`bisect\\.json: not a valid bisection record: .*${field.replace(/\./g, '\\.')}`));
    }
  });

  it('refuses to resume a series whose patches changed since the record was written', async () => {
    const { env, series, record } = await realRecord();
    rmSync(join(series, '0003-c.patch'));
    await expect(runBisect(env, request(series), record.id)).rejects.toThrow(/the record lists 3 patches, .* now holds 2/);
  });
});

describe('bisect: a start that fails leaves nothing behind', () => {
  it('an empty series, a missing series, an unknown kernel, a folder that is not a git tree: no bisect-* folder', async () => {
    const { env, root, series } = workspace();
    const empty = join(root, 'series/empty');
    mkdirSync(empty, { recursive: true });
    await expect(runBisect(env, request(empty))).rejects.toThrow(/holds no NNNN-\*\.patch files/);
    await expect(runBisect(env, request(join(root, 'series/none')))).rejects.toThrow(/--series: no such folder/);
    await expect(runBisect(env, request(series, { kernel: 'nope' }))).rejects.toThrow(/unknown kernel "nope"/);
    await expect(runBisect(env, request(series, { source: { mode: 'git', repo: root, good: 'v1', bad: 'v2' } }))).rejects.toThrow(InputError);
    expect(existsSync(env.resultsDir) ? readdirSync(env.resultsDir) : []).toEqual([]);
  });
});
