// What the kernel stage is told to keep for explain (keptSourceFiles, passed as keepSources):
// mm/gup.c and every file under include/ and mm/ that defines a FOLL_* flag.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { keptSourceFiles } from '../../../src/explain/source.js';

describe('keptSourceFiles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kexp-kept-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps mm/gup.c and the files that define FOLL_* flags, nothing else', async () => {
    const files: Record<string, string> = {
      'mm/gup.c': 'long __get_user_pages(void) { return 0; }\n',
      'mm/internal.h': 'enum {\n\tFOLL_TOUCH = 1 << 16,\n};\n',
      'include/linux/mm_types.h': '#define FOLL_WRITE\t0x01\n',
      'include/linux/other.h': 'int uses(int FOLL_WRITE_not_a_definition);\n',
      'kernel/fork.c': '#define FOLL_FAKE 1\n',
    };
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(join(dir, file, '..'), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
    execFileSync('git', ['init', '-q', dir]);
    execFileSync('git', ['-C', dir, 'add', '.']);
    expect((await keptSourceFiles(dir)).sort()).toEqual(['include/linux/mm_types.h', 'mm/gup.c', 'mm/internal.h']);
  });
});
