import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';
import { redactSecrets, redactValue } from './redact.js';

export type { Logger };

/** A log may hold what a user typed (URLs are redacted, other secrets may not be): its owner only. */
export const LOG_FILE_MODE = 0o600;

/**
 * Every line passes through redaction: a URL password in any field or message (an ioredis error,
 * a command line) is *** in the file.
 */
const redacting: pino.LoggerOptions = {
  formatters: { log: (object) => redactValue(object) as Record<string, unknown> },
  hooks: {
    logMethod(args, method) {
      method.apply(this, args.map((arg) => (typeof arg === 'string' ? redactSecrets(arg) : arg)) as Parameters<typeof method>);
    },
  },
};

/** Structured log for one command: JSON lines to a file. The terminal gets progress, not JSON. */
export function fileLogger(file: string, level: pino.Level = 'debug'): Logger {
  mkdirSync(dirname(file), { recursive: true });
  const destination = pino.destination({ dest: file, sync: true, mkdir: true, mode: LOG_FILE_MODE });
  // The mode applies when the file is created; one that was there already is narrowed too.
  chmodSync(file, LOG_FILE_MODE);
  return pino({ ...redacting, level, base: { pid: process.pid } }, destination);
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
