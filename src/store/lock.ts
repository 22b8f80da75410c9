import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { EnvironmentError } from '../core/errors.js';

export interface LockOptions {
  /** Called once if the lock is held by someone else, before waiting. */
  onWait?: (holder: string) => void;
  /** Give up after this long (default: wait as long as the holder stays alive). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Runs `fn` holding an inter-process lock named `name` under `locksDir`. A holder that died
 * (kill -9) leaves a lock that goes stale within `stale` ms and is then taken over.
 */
export async function withLock<T>(locksDir: string, name: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  mkdirSync(locksDir, { recursive: true });
  const target = join(locksDir, `${name.replace(/[^\w.-]/g, '_')}`);
  if (!existsSync(target)) writeFileSync(target, '');
  const started = Date.now();
  let warned = false;
  let release: (() => Promise<void>) | undefined;
  for (;;) {
    if (options.signal?.aborted) throw new EnvironmentError(`cancelled while waiting for lock ${name}`);
    try {
      release = await lockfile.lock(target, { stale: 20_000, update: 5_000, realpath: false });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      if (!warned) {
        warned = true;
        options.onWait?.(name);
      }
      if (options.timeoutMs !== undefined && Date.now() - started > options.timeoutMs) {
        throw new EnvironmentError(
          `timed out waiting for lock ${name} (${target}.lock)`,
          'another kexp process holds it; wait for it or remove the .lock folder if no kexp runs',
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
