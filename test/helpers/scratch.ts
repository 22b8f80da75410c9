/** Temporary folders for unit tests: one scratch folder per test file, removed after it; a fresh subfolder per call. */
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export function scratchFolders(prefix: string): (name: string) => string {
  const scratch = realpathSync(mkdtempSync(join(tmpdir(), `${prefix}-`)));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  let count = 0;
  return (name: string): string => {
    const dir = join(scratch, `${count++}`, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
}

/** git without the user's configuration, with a fixed author: what the tests' repositories are made with. */
export const testGitEnv = {
  ...process.env,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Kexp Test',
  GIT_AUTHOR_EMAIL: 'test@kexp.invalid',
  GIT_COMMITTER_NAME: 'Kexp Test',
  GIT_COMMITTER_EMAIL: 'test@kexp.invalid',
};
