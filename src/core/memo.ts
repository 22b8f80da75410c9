/**
 * Facts derived from a file that only change when the file does (a tarball's sha256, the
 * compiler's version string), remembered by path, size and mtime so a store hit spawns nothing.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export async function memoByFile(dir: string, name: string, file: string, compute: () => Promise<string>): Promise<string> {
  const real = realpathSync(file);
  const st = statSync(real);
  const memoFile = join(dir, `memo-${name}.json`);
  const read = (): Record<string, string> => readMemoFile(memoFile);
  const key = `${real}|${st.size}|${st.mtimeMs}`;
  const known = read()[key];
  if (known !== undefined) return known;
  const value = await compute();
  const fresh = { ...read(), [key]: value };
  mkdirSync(dir, { recursive: true });
  const tmp = `${memoFile}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(fresh, null, 1));
  renameSync(tmp, memoFile);
  return value;
}

/**
 * A memo file's entries. One that cannot be read, is not JSON, or is not an object of strings (a
 * truncated file, `null`, a hand edit) counts as empty: the facts are computed again.
 */
export function readMemoFile(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return {};
  const entries: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) if (typeof value === 'string') entries[key] = value;
  return entries;
}
