/** The host's programs as every stage looks them up: a command on PATH, and the C compiler's version. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { EnvironmentError } from './errors.js';
import { memoByFile } from './memo.js';
import type { CacheLayout } from './paths.js';
import { capture } from './proc.js';

/** The first executable `command` on PATH, or undefined. */
export function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

let compilerCache: string | undefined;
/** The first line of `gcc --version`, remembered per gcc binary (a store hit then spawns nothing). */
export async function compilerVersion(layout?: CacheLayout): Promise<string> {
  if (compilerCache) return compilerCache;
  const gcc = which('gcc');
  if (!gcc) throw new EnvironmentError('gcc is not on PATH', 'apt-get install gcc  (or: kexp doctor --fix)');
  const compute = async (): Promise<string> => (await capture(gcc, ['--version'])).split('\n')[0]!;
  compilerCache = layout ? await memoByFile(layout.downloads, 'gcc-version', gcc, compute) : await compute();
  return compilerCache;
}
