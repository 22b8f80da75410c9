/**
 * What every stage driver works in: the project root, the cache's layout, the artifact store, the
 * log and the stop signal. Defined once, here (the lowest stage that knows the store), so that
 * each stage's context says only what it adds: KernelBuildContext, KselftestContext, ImageContext,
 * CellEnv, RunEnv, BisectEnv and the CLI's CommandContext all extend it or pick from it.
 */
import type { CacheLayout } from '../core/paths.js';
import type { Logger } from '../core/log.js';
import type { ArtifactStore } from './store.js';

/** A stage driver's workspace; a caller that cannot be stopped gives no signal. */
export interface StageContext {
  root: string;
  layout: CacheLayout;
  store: ArtifactStore;
  logger: Logger;
  signal?: AbortSignal;
}

/** The workspace of a command, a run or a worker: always with the root abort signal. */
export interface Workspace extends StageContext {
  signal: AbortSignal;
}

/**
 * The workspace part of a larger context, as a fresh object, to spread into a stage's own
 * ({ ...workspaceOf(env), onProgress }): the stage never sees the caller's other fields (a run's
 * onProgress is not a build's). A signal that is not there stays out.
 */
export function workspaceOf(from: Workspace): Workspace;
export function workspaceOf(from: StageContext): StageContext;
export function workspaceOf(from: StageContext): StageContext {
  return { root: from.root, layout: from.layout, store: from.store, logger: from.logger, ...(from.signal ? { signal: from.signal } : {}) };
}
