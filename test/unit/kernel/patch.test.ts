import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePatch, touchedFiles } from '../../../src/config/patch-file.js';
import { explainApplyFailure, formatApplyFailure } from '../../../src/kernel/patch.js';

const broken = readFileSync('test/fixtures/patches/broken/6.1/0001-does-not-apply.patch', 'utf8');
const continue612 = readFileSync('patches/continue/6.12/0001-mm-gup-skip-FOLL_TRIED-retry-for-prefaults.patch', 'utf8');

describe('parsePatch', () => {
  it('reads the subject, the files and the hunks of a format-patch mail', () => {
    const parsed = parsePatch(broken);
    expect(parsed.files).toHaveLength(1);
    expect(parsed.files[0]!.oldPath).toBe('mm/gup.c');
    expect(parsed.files[0]!.hunks.map((h) => h.oldStart)).toEqual([1454, 1514]);
    expect(parsed.files[0]!.hunks.map((h) => h.index)).toEqual([1, 2]);
    expect(touchedFiles(parsed)).toEqual(['mm/gup.c']);
  });

  it('separates the mail header from the diff', () => {
    const parsed = parsePatch(continue612);
    expect(parsed.subject).toBe('mm/gup: skip FOLL_TRIED retry for prefaults');
    expect(parsed.diff.startsWith('diff --git a/mm/gup.c b/mm/gup.c')).toBe(true);
    expect(parsed.description).toContain('Andrea Arcangeli');
    expect(parsed.diff).not.toContain('Andrea Arcangeli');
  });

  it('reads a plain diff -u patch without git headers', () => {
    const plain = ['--- a/x.c\t2020-01-01', '+++ b/x.c\t2020-01-01', '@@ -3 +3,2 @@ int f(void)', '-a', '+b', '+c', ''].join('\n');
    const parsed = parsePatch(plain);
    expect(parsed.files).toEqual([
      { oldPath: 'x.c', newPath: 'x.c', hunks: [expect.objectContaining({ oldStart: 3, oldLines: 1, newStart: 3, newLines: 2, patchLine: 3 })] },
    ]);
  });

  it('treats /dev/null as a created or deleted file', () => {
    const created = ['diff --git a/new.c b/new.c', 'new file mode 100644', '--- /dev/null', '+++ b/new.c', '@@ -0,0 +1 @@', '+x', ''].join('\n');
    const parsed = parsePatch(created);
    expect(parsed.files[0]).toMatchObject({ oldPath: null, newPath: 'new.c' });
  });
});

describe('explainApplyFailure', () => {
  // Captured from `git apply --check` on Debian's 6.1.192 tree (see the fixture's README).
  const gitOutput = 'error: patch failed: mm/gup.c:1514\nerror: mm/gup.c: patch does not apply';

  it('names the target file and the hunk that failed', () => {
    const failure = explainApplyFailure(gitOutput, parsePatch(broken));
    expect(failure.reason).toBe('does-not-apply');
    expect(failure.targetFile).toBe('mm/gup.c');
    expect(failure.hunk?.index).toBe(2);
    const text = formatApplyFailure(failure, 'patches/x/6.1/0001-does-not-apply.patch', '6.1', '6.1');
    expect(text).toContain('patches/x/6.1/0001-does-not-apply.patch');
    expect(text).toContain('target file: mm/gup.c');
    expect(text).toContain('hunk #2');
    expect(text).toContain('@@ -1514,7 +1514,7 @@');
    expect(text).toContain('series 6.1');
  });

  it('recognises a patch against a file the tree does not have', () => {
    const failure = explainApplyFailure('error: mm/nope.c: No such file or directory', parsePatch(broken));
    expect(failure).toMatchObject({ reason: 'missing-file', targetFile: 'mm/nope.c', hunk: undefined });
  });

  it('recognises a corrupt patch', () => {
    expect(explainApplyFailure('error: corrupt patch at line 12', parsePatch(broken)).reason).toBe('corrupt');
  });
});
