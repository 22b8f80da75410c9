/**
 * The kernel stage's build steps (prepare the tree, patch, configure, make, store) on the fake
 * kernel tree: what the store gets, what build.json records (status, timings of every phase,
 * reproducer), and what a failed make leaves (its record, status failed, the compiler's error).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KernelRecipe } from '../../../src/config/recipe.js';
import { BuildError } from '../../../src/core/errors.js';
import { silentLogger } from '../../../src/core/log.js';
import { cacheLayout } from '../../../src/core/paths.js';
import { type BuildProgress, type BuildRecord, buildKernelFrom, type KernelBuildContext } from '../../../src/kernel/build.js';
import { ArtifactStore } from '../../../src/store/store.js';
import { FAKE_COMPILE_ERROR, type FakeTreeOptions, writeFakeKernelTree } from '../../helpers/fake-kernel-tree.js';
import { scratchFolders } from '../../helpers/scratch.js';

const scratch = scratchFolders('kexp-kernel-build');

function setUp(tree: FakeTreeOptions): { ctx: KernelBuildContext; recipe: KernelRecipe; stages: BuildProgress['stage'][] } {
  const dir = scratch('project');
  const src = writeFakeKernelTree(join(dir, 'linux'), { buildSeconds: 0, ...tree });
  const fragment = join(dir, 'test.config');
  writeFileSync(fragment, 'CONFIG_64BIT=y\n');
  const layout = cacheLayout(scratch('cache'));
  const stages: BuildProgress['stage'][] = [];
  const ctx: KernelBuildContext = {
    root: dir,
    layout,
    store: new ArtifactStore(layout.store, layout.locks),
    logger: silentLogger(),
    jobs: 1,
    onProgress: (p) => stages.push(p.stage),
    keepSources: async () => ['Makefile'],
  };
  const recipe: KernelRecipe = {
    name: 'fake',
    series: '6.1',
    source: { type: 'tree', path: src },
    fragments: [{ name: 'test', file: fragment }],
    baseConfig: { kind: 'target', target: 'tinyconfig' },
    makeVariables: {},
    file: join(dir, 'fake.json'),
  };
  return { ctx, recipe, stages };
}

const series = { variant: 'baseline', series: '6.1', patches: [] };

describe('buildKernelFrom on the fake kernel tree', () => {
  it('builds, stores the bzImage with its record and the kept sources, and finds it in the store the second time', async () => {
    const { ctx, recipe, stages } = setUp({ salt: 'ok' });
    const built = await buildKernelFrom(ctx, recipe, series);
    expect(built.cached).toBe(false);
    expect(existsSync(built.bzImage)).toBe(true);
    expect(existsSync(join(built.dir, 'System.map'))).toBe(true);
    expect(readFileSync(join(built.dir, 'config'), 'utf8')).toContain('CONFIG_64BIT=y');
    expect(JSON.parse(readFileSync(join(built.dir, 'source', 'kept.json'), 'utf8'))).toEqual(['Makefile']);
    const record = JSON.parse(readFileSync(join(built.dir, 'build.json'), 'utf8')) as BuildRecord;
    expect(record).toMatchObject({ schema: 'kexp/kernel-build@1', kernel: 'fake', variant: 'baseline', status: 'ok', key: built.key, arch: 'x86_64' });
    // build.json is written inside the store step: every phase but that one.
    expect(Object.keys(record.timings).sort()).toEqual(['applyPatches', 'configure', 'make', 'prepareTree', 'total', 'waitForTreeRecord']);
    expect(record.objectsCompiled).toBeGreaterThan(0);
    expect(record.configSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(record.reproducer.join('\n')).toContain('bzImage');
    expect(record.tree.created).toBe(true);
    const order = (['applying patches', 'configuring', 'compiling', 'storing', 'done'] as const).map((s) => stages.indexOf(s));
    expect(order.every((i, n) => i >= 0 && (n === 0 || i > order[n - 1]!))).toBe(true);
    expect(stages.slice(-2)).toEqual(['storing', 'done']);
    // The record beside the log says the same.
    const logs = join(ctx.layout.logs, 'builds');
    const beside = readdirSync(logs).filter((f) => f.endsWith('.json'));
    expect(beside).toHaveLength(1);
    const besideRecord = JSON.parse(readFileSync(join(logs, beside[0]!), 'utf8')) as BuildRecord;
    expect(besideRecord.status).toBe('ok');
    expect(Object.keys(besideRecord.timings).sort()).toEqual(['applyPatches', 'configure', 'make', 'prepareTree', 'store', 'total', 'waitForTreeRecord']);

    const again = await buildKernelFrom(ctx, recipe, series);
    expect(again.cached).toBe(true);
    expect(again.key).toBe(built.key);
  });

  it("a compile error: BuildError with the compiler's line and the log, and a failed record beside the log with the phases it got to", async () => {
    const { ctx, recipe } = setUp({ fail: 'build', salt: 'fails' });
    const error = await buildKernelFrom(ctx, recipe, series).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect((error as BuildError).message).toContain('make bzImage failed for kernel fake, variant baseline');
    expect((error as BuildError).message).toContain(FAKE_COMPILE_ERROR);
    const logs = join(ctx.layout.logs, 'builds');
    const file = readdirSync(logs).find((f) => f.endsWith('.json'))!;
    const record = JSON.parse(readFileSync(join(logs, file), 'utf8')) as BuildRecord;
    expect(record.status).toBe('failed');
    expect(record.error).toContain(FAKE_COMPILE_ERROR);
    expect(record.finishedAt).toBeDefined();
    expect(Object.keys(record.timings).sort()).toEqual(['applyPatches', 'configure', 'make', 'prepareTree', 'total']);
    expect(readdirSync(ctx.layout.store)).not.toContain('kernels');
  });
});
