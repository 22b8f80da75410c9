/**
 * The one workspace type (store/workspace.ts): every stage's context extends it or picks from it,
 * and workspaceOf hands a stage the workspace part of a larger context and nothing else.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { CommandContext } from '../../../src/cli/context.js';
import { silentLogger } from '../../../src/core/log.js';
import { cacheLayout } from '../../../src/core/paths.js';
import type { BisectEnv } from '../../../src/bisect/run.js';
import type { CellEnv } from '../../../src/experiment/cell.js';
import type { RunEnv } from '../../../src/experiment/run.js';
import type { ImageContext } from '../../../src/image/image.js';
import type { KernelBuildContext } from '../../../src/kernel/build.js';
import type { KselftestContext } from '../../../src/kselftest/build.js';
import { ArtifactStore } from '../../../src/store/store.js';
import { type StageContext, type Workspace, workspaceOf } from '../../../src/store/workspace.js';
import { scratchFolders } from '../../helpers/scratch.js';

const scratch = scratchFolders('kexp-workspace');

function base(): StageContext {
  const layout = cacheLayout(scratch('cache'));
  return { root: scratch('root'), layout, store: new ArtifactStore(layout.store, layout.locks), logger: silentLogger() };
}

describe('workspaceOf', () => {
  it("takes the five workspace fields of a larger context into a fresh object, none of the caller's own", () => {
    const signal = new AbortController().signal;
    const env = { ...base(), signal, resultsDir: '/tmp/results', onProgress: () => undefined, jobs: 3 };
    const ws = workspaceOf(env);
    expect(ws).not.toBe(env);
    expect(Object.keys(ws).sort()).toEqual(['layout', 'logger', 'root', 'signal', 'store']);
    expect(ws.root).toBe(env.root);
    expect(ws.layout).toBe(env.layout);
    expect(ws.store).toBe(env.store);
    expect(ws.logger).toBe(env.logger);
    expect(ws.signal).toBe(signal);
  });

  it('leaves the signal out when the caller has none, rather than setting it undefined', () => {
    const ws = workspaceOf(base());
    expect('signal' in ws).toBe(false);
  });

  it('every stage context is the workspace plus its own fields (checked by tsc)', () => {
    expectTypeOf<KernelBuildContext>().toExtend<StageContext>();
    expectTypeOf<KselftestContext>().toExtend<StageContext>();
    expectTypeOf<CellEnv>().toExtend<StageContext>();
    expectTypeOf<ImageContext>().toExtend<Pick<StageContext, 'root' | 'layout' | 'store' | 'signal'>>();
    expectTypeOf<RunEnv>().toExtend<Workspace>();
    expectTypeOf<BisectEnv>().toExtend<Workspace>();
    expectTypeOf<CommandContext>().toExtend<Workspace>();
    expectTypeOf(workspaceOf({ ...base(), signal: new AbortController().signal })).toEqualTypeOf<Workspace>();
  });
});
