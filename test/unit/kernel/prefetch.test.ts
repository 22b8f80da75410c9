import { describe, expect, it } from 'vitest';
import { treesToPrefetch } from '../../../src/kernel/build.js';

describe('treesToPrefetch', () => {
  it('makes ahead the trees of later builds, not the one the first build makes now', () => {
    expect(
      treesToPrefetch([
        { treeId: 'a', inStore: false },
        { treeId: 'a', inStore: false },
        { treeId: 'b', inStore: false },
        { treeId: 'c', inStore: false },
        { treeId: 'b', inStore: false },
      ]),
    ).toEqual(['b', 'c']);
  });

  it('skips trees whose builds are all in the store, and counts the first build the store lacks as first', () => {
    expect(
      treesToPrefetch([
        { treeId: 'a', inStore: true },
        { treeId: 'b', inStore: false },
        { treeId: 'c', inStore: true },
        { treeId: 'a', inStore: false },
      ]),
    ).toEqual(['a']);
    expect(
      treesToPrefetch([
        { treeId: 'a', inStore: true },
        { treeId: 'b', inStore: true },
      ]),
    ).toEqual([]);
    expect(treesToPrefetch([{ treeId: 'a', inStore: false }])).toEqual([]);
  });
});
