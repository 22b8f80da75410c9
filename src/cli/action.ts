import type { Command } from 'commander';
import { createContext, type CommandContext, type GlobalOptions } from './context.js';

export type Registrar = (program: Command) => void;

/** The root abort signal: Ctrl-C or SIGTERM aborts it, which kills every child's process group. */
export const rootController = new AbortController();

export type ActionResult = number;

/**
 * Wraps a command body: builds its context from the global options, and hands the exit code back
 * to main (which sets process.exitCode, so cleanup still runs).
 */
export function action<O extends object>(name: string, body: (ctx: CommandContext, options: O, args: string[]) => Promise<ActionResult>) {
  return async function (this: Command, ...raw: unknown[]): Promise<void> {
    const command = raw[raw.length - 1] as Command;
    const options = command.optsWithGlobals() as O & GlobalOptions;
    const args = command.args;
    const ctx = createContext(name, options, rootController.signal);
    try {
      const code = await body(ctx, options, args);
      ctx.logger.info({ exitCode: code }, 'end');
      process.exitCode = code;
    } catch (error) {
      ctx.logger.error({ err: error }, 'failed');
      (error as { logFile?: string }).logFile ??= ctx.logFile;
      throw error;
    }
  };
}
