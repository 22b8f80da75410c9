/**
 * When `git apply` refuses a patch (read as data by config/patch-file.ts), which hunk failed.
 * Pure: no files, no processes.
 */
import type { Hunk, ParsedPatch } from '../config/patch-file.js';

export interface ApplyFailure {
  targetFile: string | undefined;
  hunk: Hunk | undefined;
  /** What git said, trimmed to the relevant lines. */
  gitMessage: string;
  reason: 'does-not-apply' | 'missing-file' | 'already-exists' | 'corrupt' | 'unknown';
}

/**
 * Map `git apply --check` output to the hunk that failed. git reports a failed hunk as
 * "error: patch failed: <file>:<line>" where <line> is the hunk's old start line.
 */
export function explainApplyFailure(gitOutput: string, patch: ParsedPatch): ApplyFailure {
  const gitMessage =
    gitOutput
      .split('\n')
      .filter((l) => l.startsWith('error:') || l.startsWith('fatal:'))
      .join('\n') || gitOutput.trim();
  const failed = /patch failed: (.+):(\d+)\s*$/m.exec(gitOutput);
  if (failed) {
    const targetFile = failed[1]!;
    const line = Number(failed[2]);
    const file = patch.files.find((f) => f.oldPath === targetFile || f.newPath === targetFile);
    const hunk = file?.hunks.find((h) => h.oldStart === line) ?? file?.hunks.find((h) => Math.abs(h.oldStart - line) <= 3);
    return { targetFile, hunk, gitMessage, reason: 'does-not-apply' };
  }
  const missing = /error: (.+): (No such file or directory|does not exist in index)/m.exec(gitOutput);
  if (missing) return { targetFile: missing[1]!, hunk: undefined, gitMessage, reason: 'missing-file' };
  const exists = /error: (.+): already exists in (working directory|index)/m.exec(gitOutput);
  if (exists) return { targetFile: exists[1]!, hunk: undefined, gitMessage, reason: 'already-exists' };
  const corrupt = /corrupt patch at line (\d+)/.exec(gitOutput);
  if (corrupt) return { targetFile: undefined, hunk: undefined, gitMessage, reason: 'corrupt' };
  return { targetFile: undefined, hunk: undefined, gitMessage, reason: 'unknown' };
}

export function formatApplyFailure(failure: ApplyFailure, patchPath: string, series: string, kernel: string): string {
  const parts = [`patch does not apply: ${patchPath}`, `  kernel ${kernel}, series ${series}`];
  if (failure.targetFile) parts.push(`  target file: ${failure.targetFile}`);
  if (failure.hunk) {
    parts.push(`  hunk #${failure.hunk.index} (patch line ${failure.hunk.patchLine}): ${failure.hunk.header}`);
  }
  const why: Record<ApplyFailure['reason'], string> = {
    'does-not-apply': "the hunk's context does not match the source",
    'missing-file': 'the target file does not exist in this source tree',
    'already-exists': 'the patch creates a file that already exists',
    corrupt: 'the patch file is malformed',
    unknown: 'git apply refused it',
  };
  parts.push(`  why: ${why[failure.reason]}`);
  parts.push(...failure.gitMessage.split('\n').map((l) => `  | ${l}`));
  return parts.join('\n');
}
