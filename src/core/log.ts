import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured log for one command: JSON lines to a file. The terminal gets progress, not JSON. */
export function fileLogger(file: string, level: pino.Level = 'debug'): Logger {
  mkdirSync(dirname(file), { recursive: true });
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest: file, sync: true, mkdir: true }));
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
