/**
 * Two families of errors, as in tuxmake: the user's input is wrong (exit 2), or the machine
 * lacks something kexp needs (exit 3). An experiment that finds a failure is not an error at all:
 * it is data in the result, and the command exits 1 on its own.
 */
export type ExitCode = 0 | 1 | 2 | 3 | 4;

export const EXIT = {
  ok: 0,
  finding: 1,
  usage: 2,
  environment: 3,
  /** kexp itself failed (a bug, or an infrastructure error it could not classify). */
  internal: 4,
} as const satisfies Record<string, ExitCode>;

export class KexpError extends Error {
  readonly exitCode: ExitCode;
  /** What the user can do next; printed under the message. */
  readonly hint: string | undefined;
  constructor(message: string, exitCode: ExitCode, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = hint;
  }
}

/** Bad input: a recipe, a patch, an experiment file, a flag. */
export class InputError extends KexpError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, EXIT.usage, hint, options);
  }
}

/** The host lacks a tool, a package, a permission. */
export class EnvironmentError extends KexpError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, EXIT.environment, hint, options);
  }
}

/** A build step failed (a compiler error, a kconfig that cannot be satisfied). */
export class BuildError extends KexpError {
  readonly logFile: string | undefined;
  constructor(message: string, logFile?: string, hint?: string, options?: { cause?: unknown }) {
    super(message, EXIT.usage, hint, options);
    this.logFile = logFile;
  }
}

/** The operation was cancelled by a signal (Ctrl-C, SIGTERM). */
export class CancelledError extends KexpError {
  constructor(message = 'cancelled') {
    super(message, EXIT.internal);
  }
}

export function isKexpError(error: unknown): error is KexpError {
  return error instanceof KexpError;
}
