import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../../src/store/store.js';
import { isArtifactKey, parseSums, SharedStore, SUMS } from '../../../src/fleet/shared-store.js';

function stores(): { a: ArtifactStore; b: ArtifactStore; sharedDir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kexp-shared-'));
  return {
    a: new ArtifactStore(join(dir, 'a', 'store'), join(dir, 'a', 'locks')),
    b: new ArtifactStore(join(dir, 'b', 'store'), join(dir, 'b', 'locks')),
    sharedDir: join(dir, 'shared'),
  };
}

const key = 'c'.repeat(64);

describe('the shared store', () => {
  it('publishes an artifact with its sums and another machine takes it into its own store, verified', async () => {
    const { a, b, sharedDir } = stores();
    await a.put('kernels', key, async (dir) => {
      writeFileSync(join(dir, 'bzImage'), 'kernel bytes');
      mkdirSync(join(dir, 'source', 'mm'), { recursive: true });
      writeFileSync(join(dir, 'source', 'mm', 'gup.c'), 'patched');
    });
    await new SharedStore(sharedDir, a).publish('kernels', key);
    const sums = parseSums(readFileSync(join(sharedDir, 'store', 'kernels', key, SUMS), 'utf8'));
    expect([...sums.keys()].sort()).toEqual(['bzImage', 'source/mm/gup.c']);
    const onB = new SharedStore(sharedDir, b);
    expect(await onB.fetch('kernels', key)).toBe(true);
    expect(readFileSync(join(b.path('kernels', key), 'source', 'mm', 'gup.c'), 'utf8')).toBe('patched');
    expect(await onB.fetch('images', key)).toBe(false);
  });

  it('refuses a damaged shared copy and leaves no half artifact in the local store', async () => {
    const { a, b, sharedDir } = stores();
    await a.put('images', key, async (dir) => writeFileSync(join(dir, 'initramfs.cpio.gz'), 'image'));
    await new SharedStore(sharedDir, a).publish('images', key);
    writeFileSync(join(sharedDir, 'store', 'images', key, 'initramfs.cpio.gz'), 'imagf');
    await expect(new SharedStore(sharedDir, b).fetch('images', key)).rejects.toThrow(/does not match its sha256/);
    expect(b.has('images', key)).toBe(false);
    expect(existsSync(join(b.root, '.tmp')) ? readdirSync(join(b.root, '.tmp')) : []).toEqual([]);
  });

  it('lets one machine at a time hold a build lock', async () => {
    const { a, b, sharedDir } = stores();
    const events: string[] = [];
    const hold = (who: string) => async (): Promise<void> => {
      events.push(`${who} in`);
      await new Promise((r) => setTimeout(r, 300));
      events.push(`${who} out`);
    };
    await Promise.all([new SharedStore(sharedDir, a).lock('build-key', hold('a')), new SharedStore(sharedDir, b).lock('build-key', hold('b'))]);
    expect(events).toHaveLength(4);
    expect(events[1]!.replace(/^. /, '')).toBe('out');
    expect(events[0]!.slice(0, 1)).toBe(events[1]!.slice(0, 1));
  });

  it('reads sha256sum lines and ignores paths that climb out', () => {
    const sums = parseSums(`${'a'.repeat(64)}  bzImage\n${'b'.repeat(64)}  ../x\nnot a line\n`);
    expect([...sums.entries()]).toEqual([['bzImage', 'a'.repeat(64)]]);
  });

  it('checks a key read from its index before it becomes a path: another machine wrote it', async () => {
    const { a, sharedDir } = stores();
    const store = new SharedStore(sharedDir, a);
    store.writeIndex('kernel-input-abc', key);
    expect(store.readIndex('kernel-input-abc')).toBe(key);
    expect(store.readIndex('kernel-input-none')).toBeUndefined();
    for (const bad of ['../../../../etc', `${key}/../../x`, key.toUpperCase(), 'c'.repeat(63), '']) {
      mkdirSync(join(sharedDir, 'store', 'index'), { recursive: true });
      writeFileSync(join(sharedDir, 'store', 'index', 'kernel-input-bad'), `${bad}\n`);
      expect(() => store.readIndex('kernel-input-bad'), bad).toThrow(/not an artifact key/);
    }
    expect(() => store.readIndex('../store/kernels')).toThrow(/not an index name/);
    expect(() => store.writeIndex('kernel-input-x', '../x')).toThrow(/not an artifact key/);
    await expect(store.fetch('kernels', '../../etc')).rejects.toThrow(/not an artifact key/);
    await expect(store.publish('kernels', `${key}/..`)).rejects.toThrow(/not an artifact key/);
  });

  it('knows an artifact key when it sees one', () => {
    expect(isArtifactKey('0123456789abcdef'.repeat(4))).toBe(true);
    expect(isArtifactKey(`${'a'.repeat(64)}\n`)).toBe(false);
    expect(isArtifactKey('g'.repeat(64))).toBe(false);
  });
});
