/**
 * The executors kexp has, by name, and which one a run uses. The local executor is always here;
 * another engine registers itself when its module is loaded (the CLI loads the fleet's). The
 * choice (pure): `--executor`, else $KEXP_EXECUTOR, else the experiment file's "executor", else an
 * engine the flags alone imply (a fleet's URL), else local.
 */
import { InputError } from '../../core/errors.js';
import type { Experiment } from '../../config/experiment.js';
import type { Executor, ExecutorEngine, ExecutorFlags } from '../executor.js';
import { localEngine } from './local.js';

const engines = new Map<string, ExecutorEngine>();

/** The executor of a run that names none. */
export const DEFAULT_EXECUTOR = localEngine.name;

/** Makes an engine known by its name; a second engine under a name already taken is a kexp bug. */
export function registerExecutor(engine: ExecutorEngine): void {
  const known = engines.get(engine.name);
  if (known && known !== engine) throw new Error(`two executors named "${engine.name}"`);
  engines.set(engine.name, engine);
}

/** The names of the executors kexp has, in the order they registered (local first). */
export function executorNames(): string[] {
  return [...engines.keys()];
}

export function findExecutor(name: string): ExecutorEngine | undefined {
  return engines.get(name);
}

/** The engine called `name`, or an InputError that lists the known ones. */
export function executorEngine(name: string, where?: string): ExecutorEngine {
  const engine = engines.get(name);
  if (!engine) throw new InputError(`${where ? `${where}: ` : ''}unknown executor "${name}"`, `executors: ${executorNames().join(', ')}`);
  return engine;
}

/** The executor a run uses, its settings checked; nothing is reached yet (its preflight does that). */
export function chooseExecutor(flags: ExecutorFlags, experiment: Pick<Experiment, 'executor'>, env: NodeJS.ProcessEnv = process.env): Executor {
  const implied = [...engines.values()].find((engine) => engine.impliedBy?.(flags))?.name;
  const name = flags.executor ?? env.KEXP_EXECUTOR ?? experiment.executor?.type ?? implied ?? DEFAULT_EXECUTOR;
  return executorEngine(name).configure(flags, experiment, env);
}

registerExecutor(localEngine);
