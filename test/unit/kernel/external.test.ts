/** externalKernelName: the cell name of a bzImage built elsewhere, from the release its header gives. */
import { describe, expect, it } from 'vitest';
import { externalKernelName } from '../../../src/kernel/external.js';
import { isSafeId } from '../../../src/results/records.js';

describe('externalKernelName', () => {
  it('is the release when it is a plain name', () => {
    expect(externalKernelName('6.12.118')).toBe('6.12.118');
    expect(externalKernelName('6.1.0-28-amd64')).toBe('6.1.0-28-amd64');
    expect(externalKernelName('6.13.0-rc1_mine')).toBe('6.13.0-rc1_mine');
  });

  it('turns what a folder or cell name cannot hold into dashes, trimmed at the ends', () => {
    expect(externalKernelName('6.12.0-rc3+')).toBe('6.12.0-rc3');
    expect(externalKernelName('6.12.0 (me@host) #1 SMP')).toBe('6.12.0-me-host-1-SMP');
    expect(externalKernelName('../../etc/passwd')).toBe('etc-passwd');
    expect(externalKernelName('.hidden.')).toBe('hidden');
  });

  it('is "bzimage" when the header gives no release, or nothing usable is left', () => {
    expect(externalKernelName(undefined)).toBe('bzimage');
    expect(externalKernelName('')).toBe('bzimage');
    expect(externalKernelName('..')).toBe('bzimage');
    expect(externalKernelName('+++')).toBe('bzimage');
  });

  it('always gives a plain name that can be a kernel name and a path component', () => {
    for (const release of ['6.12', ' 6.12 ', '-6.12-', '6.12/../x', 'a\u0000b', 'Ünïcode-6.1', '.', '-', '6.12.0+ #1', 'x'.repeat(64)]) {
      const name = externalKernelName(release);
      expect(isSafeId(name), `${JSON.stringify(release)} → ${name}`).toBe(true);
      expect(name, JSON.stringify(release)).toMatch(/^(?![.-])[\w.-]+(?<![.-])$/);
    }
  });
});
