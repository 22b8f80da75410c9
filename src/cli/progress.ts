/**
 * Terminal progress: a spinner line with the stage and elapsed time on a TTY, plain lines at
 * stage changes otherwise (logs, CI). Always on stderr, so --json output stays clean.
 */
import ora, { type Ora } from 'ora';

export interface Progress {
  update(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
  stop(): void;
}

export function createProgress(enabled = true): Progress {
  const tty = Boolean(process.stderr.isTTY) && !process.env.CI;
  if (!enabled) return { update: () => undefined, succeed: () => undefined, fail: () => undefined, stop: () => undefined };
  if (!tty) {
    let last = '';
    return {
      update(text) {
        const stage = text.replace(/\s*\[.*$/, '');
        if (stage !== last) process.stderr.write(`  ${text}\n`);
        last = stage;
      },
      succeed: (text) => process.stderr.write(`✓ ${text}\n`),
      fail: (text) => process.stderr.write(`✗ ${text}\n`),
      stop: () => undefined,
    };
  }
  let spinner: Ora | undefined;
  return {
    update(text) {
      if (!spinner) spinner = ora({ text, stream: process.stderr }).start();
      else spinner.text = text;
    },
    succeed(text) {
      (spinner ?? ora({ stream: process.stderr })).succeed(text);
      spinner = undefined;
    },
    fail(text) {
      (spinner ?? ora({ stream: process.stderr })).fail(text);
      spinner = undefined;
    },
    stop() {
      spinner?.stop();
      spinner = undefined;
    },
  };
}

export function elapsed(since: number): string {
  const s = Math.round((Date.now() - since) / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
