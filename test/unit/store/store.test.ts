import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../../src/store/store.js';

function store(): ArtifactStore {
  const root = mkdtempSync(join(tmpdir(), 'kexp-store-'));
  return new ArtifactStore(join(root, 'store'), join(root, 'locks'));
}

describe('artifact store', () => {
  it('publishes a folder only when its writer finished', async () => {
    const s = store();
    const path = await s.put('kernels', 'k1', async (dir) => writeFileSync(join(dir, 'bzImage'), 'x'));
    expect(readFileSync(join(path, 'bzImage'), 'utf8')).toBe('x');
    expect(s.has('kernels', 'k1')).toBe(true);
  });

  it('leaves nothing behind when the writer fails', async () => {
    const s = store();
    await expect(
      s.put('kernels', 'k2', async (dir) => {
        writeFileSync(join(dir, 'half'), 'x');
        throw new Error('make died');
      }),
    ).rejects.toThrow('make died');
    expect(s.has('kernels', 'k2')).toBe(false);
    expect(readdirSync(join(s.root, '.tmp'))).toEqual([]);
  });

  it('sweeps temporary folders of writers that are gone', () => {
    const s = store();
    const dead = join(s.root, '.tmp', 'kernels-k3-999999999-deadbeef');
    mkdirSync(dead, { recursive: true });
    s.sweep();
    expect(existsSync(dead)).toBe(false);
  });

  it('serialises holders of the same lock', async () => {
    const s = store();
    const order: string[] = [];
    const slow = s.lock('kernels', 'k4', async () => {
      order.push('a-start');
      await new Promise((r) => setTimeout(r, 300));
      order.push('a-end');
    });
    await new Promise((r) => setTimeout(r, 50));
    const fast = s.lock('kernels', 'k4', async () => {
      order.push('b');
    });
    await Promise.all([slow, fast]);
    expect(order).toEqual(['a-start', 'a-end', 'b']);
  });

  it('keeps index pointers', () => {
    const s = store();
    expect(s.readIndex('x')).toBeUndefined();
    s.writeIndex('x', 'abc');
    expect(s.readIndex('x')).toBe('abc');
  });
});
