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
  const read = (): Record<string, string> => {
    try {
      return existsSync(memoFile) ? (JSON.parse(readFileSync(memoFile, 'utf8')) as Record<string, string>) : {};
    } catch {
      return {};
    }
  };
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
