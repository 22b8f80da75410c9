/** What every command gets: the project root, the cache, a log, the root abort signal. */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { InputError } from '../core/errors.js';
import { ensureHost } from '../doctor/probe.js';
import { join } from 'node:path';
import { cacheLayout, chooseCacheRoot, ensureCacheRoot, projectRoot } from '../core/paths.js';
import { fileLogger } from '../core/log.js';
import { redactArgv } from '../core/redact.js';
import { ArtifactStore } from '../store/store.js';
import { type Workspace, workspaceOf } from '../store/workspace.js';

export interface GlobalOptions {
  cache?: string;
  root?: string;
  json?: boolean;
}

/** The workspace every stage driver takes, and what the terminal needs besides. */
export interface CommandContext extends Workspace {
  logFile: string;
  json: boolean;
  /** Progress and human text go to stderr when --json owns stdout. */
  out: (text: string) => void;
  err: (text: string) => void;
}

export function createContext(command: string, options: GlobalOptions, signal: AbortSignal): CommandContext {
  const root = projectRoot(options.root);
  const given = options.root ?? process.env.KEXP_ROOT;
  if (given !== undefined && !(existsSync(root) && statSync(root).isDirectory())) {
    throw new InputError(
      `the project folder ${root} (from ${options.root !== undefined ? '--root' : '$KEXP_ROOT'}) is not a folder`,
      "give a folder with kernels/, patches/, images/ or experiments/ of your own (kexp's own are always found below it), or leave --root out",
    );
  }
  // Checked before anything is created there (a path under /proc, a file, a read-only folder).
  const layout = cacheLayout(ensureCacheRoot(chooseCacheRoot(options.cache)));
  mkdirSync(layout.logs, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const logFile = join(layout.logs, `kexp-${command}-${stamp}.jsonl`);
  const logger = fileLogger(logFile);
  logger.info({ argv: redactArgv(process.argv.slice(2)), root, cache: layout.root }, 'start');
  const store = new ArtifactStore(layout.store, layout.locks);
  store.sweep();
  return {
    root,
    layout,
    store,
    logger,
    logFile,
    signal,
    json: Boolean(options.json),
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  };
}

/**
 * The stage drivers' part of the context, passed whole ({ ...workspace(ctx), resultsDir }) rather
 * than copied field by field; a fresh object, so a driver never sees the terminal's fields. ctx.root
 * is read when this is called: after a layer replaced it (own kernel, a run's tree kernels).
 */
export function workspace(ctx: CommandContext): Workspace {
  return workspaceOf(ctx);
}

/** The host checked before anything is built: a missing Debian package is installed, and said on stderr. */
export async function ensureHostReady(ctx: CommandContext): Promise<void> {
  await ensureHost(ctx.root, { onInstall: (pkgs) => ctx.err(`installing missing Debian packages: ${pkgs.join(' ')}`) });
}
