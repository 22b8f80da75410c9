/**
 * The one place that runs programs. Every child gets its own process group, so that aborting it
 * (Ctrl-C, a timeout, a thrown error elsewhere) kills make's or QEMU's whole tree; output is
 * streamed to a log file line by line and the last lines are kept for the error message. A child
 * that must not outlive kexp even when kexp is killed outright (QEMU) asks for `dieWithKexp`.
 */
import { accessSync, constants, createWriteStream, mkdirSync, statSync, type WriteStream } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { execa, type ResultPromise } from 'execa';
import { CancelledError, KexpError, EXIT } from './errors.js';
import type { Logger } from './log.js';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Append the command line and all its output here. */
  logFile?: string;
  logger?: Logger;
  signal?: AbortSignal;
  /** Called with every line of stdout and stderr (without the newline). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** How many trailing lines an error carries. */
  tailLines?: number;
  /** Kill the process after this many milliseconds. */
  timeoutMs?: number;
  /** Data for stdin. */
  input?: string | Buffer;
  /** Keep stdout in memory and return it (for small outputs). */
  capture?: boolean;
  /** Send stdout to this file instead of reading it (binary output, e.g. an archive). */
  stdoutFile?: string;
  /** Exit codes that are not failures. */
  okExitCodes?: number[];
  /**
   * Kill the program when kexp dies, however it dies. Its own process group keeps it from
   * signals meant for kexp, and after a SIGKILL no exit handler runs: without this, a QEMU
   * outlives a killed kexp until its own timeout. See dieWithParent below.
   */
  dieWithKexp?: boolean;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  tail: string[];
  durationMs: number;
}

export class ProcessError extends KexpError {
  readonly command: string;
  readonly processExitCode: number | undefined;
  readonly tail: string[];
  readonly logFile: string | undefined;
  constructor(command: string, processExitCode: number | undefined, reason: string, tail: string[], logFile?: string) {
    const shown = tail.length > 0 ? `\n${tail.map((l) => `  | ${l}`).join('\n')}` : '';
    super(`${command.split(' ')[0]} ${reason}${shown}`, EXIT.internal, logFile ? `full output: ${logFile}` : undefined);
    this.command = command;
    this.processExitCode = processExitCode;
    this.tail = tail;
    this.logFile = logFile;
  }
}

/** Process groups of children still running; killed when kexp exits for any reason. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => killAllChildren('SIGKILL'));
}

export function killAllChildren(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, signal);
    } catch {
      // already gone
    }
  }
}

export function liveChildCount(): number {
  return liveGroups.size;
}

/** Where a program name (no slash) is found on this PATH: the first executable file, or undefined. */
export function findOnPath(name: string, path: string | undefined): string | undefined {
  for (const candidate of (path ?? '').split(delimiter).map((dir) => join(dir || '.', name))) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The command that starts `file` with the parent-death signal set to SIGKILL (PR_SET_PDEATHSIG),
 * through util-linux's setpriv: it sets the signal and execs the program, so the pid, the process
 * group and every kill in run() stay as they are. The kernel sends the signal when the *thread*
 * that forked the child ends: kexp starts programs from Node's main thread (libuv forks in the
 * thread that calls spawn, the event loop's), which ends only with the process; a worker thread
 * would kill its children when it ended, so none is wrapped there. `skipped`, with the reason,
 * when the program cannot be wrapped: then it runs as before (a program that is not found still
 * fails as "could not start", not as setpriv's exit 127).
 */
export function dieWithParent(
  file: string,
  args: readonly string[],
  path: string | undefined,
  mainThread = isMainThread,
): { file: string; args: string[] } | { skipped: string } {
  if (!mainThread) return { skipped: 'started from a worker thread, whose end would kill it' };
  const setpriv = findOnPath('setpriv', path);
  if (!setpriv) {
    return {
      skipped:
        'setpriv (Debian package util-linux) is not on PATH: a program started by a kexp that is killed outright (SIGKILL) keeps running until its own timeout',
    };
  }
  if (!file.includes('/') && !findOnPath(file, path)) return { skipped: `${file} is not on PATH` };
  return { file: setpriv, args: ['--pdeathsig', 'KILL', '--', file, ...args] };
}

/** Quote for display only: programs always get argument lists, never shell strings. */
export function displayCommand(file: string, args: readonly string[]): string {
  return [file, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export async function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  installExitHook();
  const command = displayCommand(file, args);
  const tailSize = options.tailLines ?? 40;
  const tail: string[] = [];
  const captured: string[] = [];
  let log: WriteStream | undefined;
  if (options.logFile) {
    mkdirSync(dirname(options.logFile), { recursive: true });
    log = createWriteStream(options.logFile, { flags: 'a' });
    log.write(`$ ${options.cwd ? `cd ${options.cwd} && ` : ''}${command}\n`);
  }
  options.logger?.debug({ command, cwd: options.cwd, ...(options.dieWithKexp ? { dieWithKexp: true } : {}) }, 'run');
  if (options.signal?.aborted) throw new CancelledError();

  let spawnFile = file;
  let spawnArgs: readonly string[] = args;
  if (options.dieWithKexp) {
    const wrapped = dieWithParent(file, args, options.env?.PATH ?? process.env.PATH);
    if ('file' in wrapped) {
      spawnFile = wrapped.file;
      spawnArgs = wrapped.args;
    } else {
      options.logger?.warn({ command }, `not killed with kexp: ${wrapped.skipped}`);
    }
  }

  const started = Date.now();
  const child: ResultPromise = execa(spawnFile, spawnArgs, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: true,
    detached: true,
    buffer: false,
    reject: false,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    stdout: options.stdoutFile ? { file: options.stdoutFile } : 'pipe',
    stderr: 'pipe',
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
  const pgid = child.pid;
  if (pgid !== undefined) liveGroups.add(pgid);

  const killGroup = (signal: NodeJS.Signals): void => {
    if (pgid === undefined) return;
    try {
      process.kill(-pgid, signal);
    } catch {
      // already gone
    }
  };
  let cancelReason: string | undefined;
  let forceTimer: NodeJS.Timeout | undefined;
  const stop = (reason: string): void => {
    if (cancelReason) return;
    cancelReason = reason;
    killGroup('SIGTERM');
    forceTimer = setTimeout(() => killGroup('SIGKILL'), 3000);
    forceTimer.unref();
  };
  const onAbort = (): void => stop('was cancelled');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = options.timeoutMs ? setTimeout(() => stop(`timed out after ${options.timeoutMs} ms`), options.timeoutMs) : undefined;

  const attach = (stream: NodeJS.ReadableStream | null | undefined, name: 'stdout' | 'stderr'): Promise<void> => {
    if (!stream) return Promise.resolve();
    let partial = '';
    return new Promise((resolveStream) => {
      stream.on('data', (chunk: Buffer) => {
        const text = partial + chunk.toString('utf8');
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) emit(line, name);
      });
      stream.on('end', () => {
        if (partial.length > 0) emit(partial, name);
        resolveStream();
      });
      stream.on('error', () => resolveStream());
    });
  };
  const emit = (line: string, name: 'stdout' | 'stderr'): void => {
    log?.write(`${line}\n`);
    tail.push(line);
    if (tail.length > tailSize) tail.shift();
    if (options.capture && name === 'stdout') captured.push(line);
    options.onLine?.(line, name);
  };

  // Output sent to a file is binary as often as not (an archive, a decompressed kernel): execa
  // writes it there; reading it as lines too would put it in the log and the tail.
  const stdoutLines = options.stdoutFile ? null : child.stdout;
  const [result] = await Promise.all([child, attach(stdoutLines, 'stdout'), attach(child.stderr, 'stderr')]);
  if (timer) clearTimeout(timer);
  if (forceTimer) clearTimeout(forceTimer);
  options.signal?.removeEventListener('abort', onAbort);
  // The leader exited; make sure nothing it started lingers in its group.
  killGroup('SIGKILL');
  if (pgid !== undefined) liveGroups.delete(pgid);
  await new Promise<void>((r) => (log ? log.end(r) : r()));

  const durationMs = Date.now() - started;
  const exitCode = result.exitCode ?? -1;
  if (cancelReason === 'was cancelled') throw new CancelledError(`${file} was cancelled`);
  if (cancelReason) throw new ProcessError(command, result.exitCode, cancelReason, tail, options.logFile);
  if (result.failed && result.exitCode === undefined) {
    const why = result.signal ? `was killed by ${result.signal}` : `could not start: ${result.shortMessage ?? result.message}`;
    throw new ProcessError(command, undefined, why, tail, options.logFile);
  }
  const ok = options.okExitCodes ?? [0];
  if (!ok.includes(exitCode)) {
    throw new ProcessError(command, exitCode, `failed with exit code ${exitCode}`, tail, options.logFile);
  }
  return { exitCode, stdout: captured.join('\n'), tail, durationMs };
}

/** Run a short command and return its trimmed stdout. */
export async function capture(file: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  const result = await run(file, args, { ...options, capture: true });
  return result.stdout.trim();
}
