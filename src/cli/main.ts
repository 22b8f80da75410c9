#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { isKexpError, EXIT } from '../core/errors.js';
import { killAllChildren } from '../core/proc.js';
import { kexpVersion } from '../core/version.js';
import { rootController } from './action.js';
import { registerBuild } from './build.js';
import { registerDoctor } from './doctor.js';
import { registerImage } from './image.js';
import { registerBoot } from './boot.js';
import { registerSchemas } from './schemas.js';
import { registerRun } from './run.js';
import { registerReport } from './report.js';
import { registerBisect } from './bisect.js';
import { registerWorker } from './worker.js';
import { registerExplain } from './explain.js';
import { registerHistory } from './history.js';
// The fleet's executor ("bullmq") registers itself when loaded; BullMQ itself loads only when a run uses it.
import '../fleet/executor.js';

export function createProgram(): Command {
  const program = new Command('kexp')
    .description('kernel experiments: build patched kernels, boot them under QEMU, count kernel function calls')
    // --version only: -V is --variant of build, boot and explain, and a global -V would take it
    // (commander reads the program's options after the subcommand too).
    .version(kexpVersion(), '--version', "print kexp's version")
    .option('--cache <dir>', 'artifact cache (default: $KEXP_CACHE or ~/.cache/kexp)')
    .option('--root <dir>', "project folder with kernels/, patches/, images/, experiments/ (default: $KEXP_ROOT or kexp's own)")
    .showHelpAfterError('(kexp <command> --help shows the options)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 an experiment found a failure or regression, 2 usage or input error,
3 environment problem (missing tool, package, permission), 4 kexp itself failed, 130 interrupted.`,
    );
  for (const register of [
    registerDoctor,
    registerBuild,
    registerImage,
    registerBoot,
    registerRun,
    registerReport,
    registerHistory,
    registerBisect,
    registerExplain,
    registerWorker,
    registerSchemas,
  ])
    register(program);
  return program;
}

function installSignalHandlers(): void {
  let interrupted = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted++;
    if (interrupted === 1) {
      process.stderr.write(`\n${signal}: stopping (children are being killed; again to force)\n`);
      rootController.abort(new Error(signal));
      killAllChildren('SIGTERM');
    } else {
      killAllChildren('SIGKILL');
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

export async function main(argv: string[]): Promise<void> {
  installSignalHandlers();
  // `kexp ... | head` closes stdout early: that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  const program = createProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : EXIT.usage;
      return;
    }
    if (rootController.signal.aborted) {
      process.stderr.write(`kexp: interrupted\n`);
      process.exitCode = 130;
      return;
    }
    if (isKexpError(error)) {
      process.stderr.write(`kexp: ${error.message}\n`);
      if (error.hint) process.stderr.write(`  → ${error.hint}\n`);
      const logFile = (error as { logFile?: string }).logFile;
      if (logFile && error.exitCode !== EXIT.usage && !error.hint?.includes(logFile)) process.stderr.write(`  log: ${logFile}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`kexp: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = EXIT.internal;
  }
}
