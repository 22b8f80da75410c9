import { describe, expect, it } from 'vitest';
import { FragmentSyntaxError, parseConfigText } from '../../../src/config/kconfig-fragment.js';
import {
  applyAssignments,
  configToMap,
  describeDeps,
  findKconfigEntries,
  formatMismatches,
  mergeAssignments,
  verifyConfig,
} from '../../../src/kernel/kconfig.js';

describe('fragments', () => {
  it('parses assignments and "is not set", skipping comments', () => {
    const parsed = parseConfigText('# a comment\nCONFIG_A=y\n\n# CONFIG_B is not set\nCONFIG_C="x y"\nCONFIG_D=0x10\n', 'f.config');
    expect(parsed.map((a) => [a.symbol, a.value, a.origin])).toEqual([
      ['CONFIG_A', 'y', 'f.config:2'],
      ['CONFIG_B', 'n', 'f.config:4'],
      ['CONFIG_C', '"x y"', 'f.config:5'],
      ['CONFIG_D', '0x10', 'f.config:6'],
    ]);
  });

  it('rejects a line that is not an assignment, naming file and line', () => {
    expect(() => parseConfigText('CONFIG_A=y\nKVM=y\n', 'kernels/fragments/kvm.config')).toThrow(FragmentSyntaxError);
    expect(() => parseConfigText('CONFIG_A=y\nKVM=y\n', 'kernels/fragments/kvm.config')).toThrow(/kvm\.config:2: expected CONFIG_NAME=value/);
  });

  it('lets later fragments override earlier ones', () => {
    const merged = mergeAssignments([parseConfigText('CONFIG_A=y\nCONFIG_B=y', 'one'), parseConfigText('# CONFIG_A is not set', 'two')]);
    expect(merged.get('CONFIG_A')).toMatchObject({ value: 'n', origin: 'two:1' });
    expect(merged.get('CONFIG_B')?.value).toBe('y');
  });
});

describe('applyAssignments', () => {
  it('replaces lines in place and appends new symbols', () => {
    const base = '# CONFIG_A is not set\nCONFIG_B=y\n';
    const requested = mergeAssignments([parseConfigText('CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=y', 'f')]);
    expect(applyAssignments(base, requested)).toBe('CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=y\n');
  });
});

describe('verifyConfig', () => {
  const requested = mergeAssignments([parseConfigText('CONFIG_TMPFS=y\nCONFIG_KVM=y\n# CONFIG_X is not set\nCONFIG_GONE=y', 'base.config')]);
  const resolved = configToMap('CONFIG_KVM=y\n# CONFIG_TMPFS is not set\n# CONFIG_SHMEM is not set\n');

  it('reports every symbol whose resolved value differs, and accepts absent for "not set"', () => {
    expect(verifyConfig(requested, resolved)).toEqual([
      { symbol: 'CONFIG_TMPFS', wanted: 'y', got: 'n', origin: 'base.config:1' },
      { symbol: 'CONFIG_GONE', wanted: 'y', got: undefined, origin: 'base.config:4' },
    ]);
  });

  it('names what a failing symbol depends on, with the current values', () => {
    const kconfig = [
      {
        file: 'fs/Kconfig',
        text: 'config TMPFS\n\tbool "Tmpfs virtual memory file system support (former shm fs)"\n\tdepends on SHMEM\n\thelp\n\t  Tmpfs\n\nconfig OTHER\n\tbool\n',
      },
    ];
    const entries = new Map([
      ['CONFIG_TMPFS', findKconfigEntries('CONFIG_TMPFS', kconfig)],
      ['CONFIG_GONE', findKconfigEntries('CONFIG_GONE', kconfig)],
    ]);
    const text = formatMismatches(verifyConfig(requested, resolved), entries, resolved);
    expect(text).toContain('CONFIG_TMPFS: asked y (base.config:1), got not set');
    expect(text).toContain('depends on SHMEM   [SHMEM=n] (fs/Kconfig)');
    expect(text).toContain('CONFIG_GONE: asked y (base.config:4), got absent from .config');
    expect(text).toContain('does not exist in this kernel version');
  });

  it('describes dependency expressions symbol by symbol', () => {
    expect(describeDeps('HAVE_KVM && (X86_LOCAL_APIC || FOO)', configToMap('CONFIG_HAVE_KVM=y\nCONFIG_X86_LOCAL_APIC=y'))).toBe(
      'HAVE_KVM=y X86_LOCAL_APIC=y FOO=n',
    );
  });
});
