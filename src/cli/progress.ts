/**
 * Terminal progress: a spinner line with the stage and elapsed time on a TTY, plain lines at
 * stage changes otherwise (logs, CI). Always on stderr, so --json output stays clean.
 */
import type { Ora } from 'ora';
import type { BuildProgress } from '../kernel/build.js';

// ora is loaded only for a terminal: it costs start-up time that scripts and CI need not pay.
const loadOra = async (): Promise<typeof import('ora').default> => (await import('ora')).default;

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
    // Logs and CI: a line when something other than a counter of objects or the clock changed,
    // and otherwise one every 15 s, so a 10-minute build does not print 800 lines.
    let last = '';
    let lastAt = 0;
    return {
      update(text) {
        const key = text.replace(/\s*\[.*?\]/g, '').replace(/\d+ objects/g, 'N objects');
        if (key === last && Date.now() - lastAt < 15_000) return;
        process.stderr.write(`  ${text}\n`);
        last = key;
        lastAt = Date.now();
      },
      succeed: (text) => process.stderr.write(`✓ ${text}\n`),
      fail: (text) => process.stderr.write(`✗ ${text}\n`),
      stop: () => undefined,
    };
  }
  let spinner: Ora | undefined;
  let makeOra: typeof import('ora').default | undefined;
  void loadOra().then((factory) => {
    makeOra = factory;
  });
  return {
    update(text) {
      if (!makeOra) return;
      if (!spinner) spinner = makeOra({ text, stream: process.stderr }).start();
      else spinner.text = text;
    },
    succeed(text) {
      if (spinner) spinner.succeed(text);
      else process.stderr.write(`✓ ${text}\n`);
      spinner = undefined;
    },
    fail(text) {
      if (spinner) spinner.fail(text);
      else process.stderr.write(`✗ ${text}\n`);
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

/** A kernel build's progress line: its stage, and while compiling the objects so far. */
export function describeProgress(p: BuildProgress, started: number): string {
  const what = `${p.kernel}/${p.variant}`;
  if (p.stage === 'compiling') return `${what}: compiling [${elapsed(started)}, ${p.objects ?? 0} objects${p.current ? `, ${p.current}` : ''}]`;
  return `${what}: ${p.stage} [${elapsed(started)}]`;
}
