import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoByFile, readMemoFile } from '../../../src/core/memo.js';

const scratch = mkdtempSync(join(tmpdir(), 'kexp-memo-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('memoised facts about files', () => {
  it('computes once, then answers from the memo', async () => {
    const file = join(scratch, 'input');
    writeFileSync(file, 'content');
    let computed = 0;
    const compute = async (): Promise<string> => String(++computed);
    expect(await memoByFile(scratch, 'sha', file, compute)).toBe('1');
    expect(await memoByFile(scratch, 'sha', file, compute)).toBe('1');
    expect(computed).toBe(1);
  });

  it('treats a damaged memo (truncated, null, an array, numbers) as empty, computes again and repairs it', async () => {
    const file = join(scratch, 'input2');
    writeFileSync(file, 'content');
    const memo = join(scratch, 'memo-damaged.json');
    for (const damaged of ['{"a": "b', 'null', '[]', '7', '{"x": 1}', '']) {
      writeFileSync(memo, damaged);
      expect(readMemoFile(memo)).toEqual({});
      expect(await memoByFile(scratch, 'damaged', file, async () => 'fresh')).toBe('fresh');
      expect(Object.values(JSON.parse(readFileSync(memo, 'utf8')) as Record<string, string>)).toEqual(['fresh']);
    }
    writeFileSync(memo, '{"k": "v", "n": 3}');
    expect(readMemoFile(memo)).toEqual({ k: 'v' });
  });
});
