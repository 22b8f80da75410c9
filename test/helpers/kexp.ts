/** Run the real kexp command (the built CLI) as a child process, as a user would. */
import { execa, type ResultPromise } from 'execa';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..');
export const kexpBin = join(repoRoot, 'bin', 'kexp.js');

export interface KexpRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function kexp(args: string[], env: Record<string, string> = {}): Promise<KexpRun> {
  const result = await execa('node', [kexpBin, ...args], { reject: false, env: { ...env, CI: '1' }, all: false });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export function kexpChild(args: string[], env: Record<string, string> = {}): ResultPromise<{ reject: false }> {
  return execa('node', [kexpBin, ...args], { reject: false, env: { ...env, CI: '1' } });
}

export function jsonLines<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as T);
}

/** A project root whose kernels/ and images/ are the real ones and whose patches/ holds test variants. */
export function scratchRoot(variants: Record<string, Record<string, string>>): string {
  const root = mkdtempSync(join(tmpdir(), 'kexp-root-'));
  symlinkSync(join(repoRoot, 'kernels'), join(root, 'kernels'));
  symlinkSync(join(repoRoot, 'images'), join(root, 'images'));
  for (const [variant, files] of Object.entries(variants)) {
    mkdirSync(join(root, 'patches', variant), { recursive: true });
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(join(root, 'patches', variant, rel, '..'), { recursive: true });
      writeFileSync(join(root, 'patches', variant, rel), content);
    }
  }
  return root;
}
