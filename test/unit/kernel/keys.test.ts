import { describe, expect, it } from 'vitest';
import { kernelArtifactKey, kernelInputKey, resolvedConfigKey, type KernelKeyInputs } from '../../../src/kernel/keys.js';
import { parseConfigText } from '../../../src/config/kconfig-fragment.js';
import { mergeAssignments } from '../../../src/kernel/kconfig.js';

const diff = (line: string, file = 'mm/gup.c'): string =>
  [`diff --git a/${file} b/${file}`, `--- a/${file}`, `+++ b/${file}`, '@@ -1,3 +1,3 @@', ' a', `-${line}`, `+${line}!`, ' c', ''].join('\n');
const mail = (subject: string, body: string): string => `From 0 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] ${subject}\n\n${body}\n---\n`;

function inputs(overrides: Partial<KernelKeyInputs> = {}): KernelKeyInputs {
  return {
    sourceId: 'tar-abc',
    arch: 'x86_64',
    requestedConfig: mergeAssignments([parseConfigText('CONFIG_A=y\n', 'f')]),
    patches: [{ content: mail('one', 'why') + diff('b') }],
    compiler: 'gcc (Debian 12.2.0-14) 12.2.0',
    makeVariables: {},
    ...overrides,
  };
}

describe('kernel cache keys', () => {
  const base = kernelInputKey(inputs());

  it('is stable for equal inputs', () => {
    expect(kernelInputKey(inputs())).toBe(base);
  });

  it('changes with the source, the config request, a patch diff, the compiler and make variables', () => {
    expect(kernelInputKey(inputs({ sourceId: 'tar-def' }))).not.toBe(base);
    expect(kernelInputKey(inputs({ requestedConfig: mergeAssignments([parseConfigText('CONFIG_A=n\n', 'f')]) }))).not.toBe(base);
    expect(kernelInputKey(inputs({ patches: [{ content: mail('one', 'why') + diff('x') }] }))).not.toBe(base);
    expect(kernelInputKey(inputs({ patches: [] }))).not.toBe(base);
    expect(kernelInputKey(inputs({ compiler: 'gcc 13' }))).not.toBe(base);
    expect(kernelInputKey(inputs({ makeVariables: { KCFLAGS: '-g' } }))).not.toBe(base);
  });

  it("does not change with a patch's mail header, a fragment comment or where the request came from", () => {
    expect(kernelInputKey(inputs({ patches: [{ content: mail('reworded', 'a longer explanation') + diff('b') }] }))).toBe(base);
    expect(kernelInputKey(inputs({ requestedConfig: mergeAssignments([parseConfigText('# why\nCONFIG_A=y\n', 'other.config')]) }))).toBe(base);
  });

  it('keeps the resolved config key independent of patches that do not touch Kconfig', () => {
    const a = resolvedConfigKey(inputs());
    expect(resolvedConfigKey(inputs({ patches: [] }))).toBe(a);
    expect(resolvedConfigKey(inputs({ patches: [{ content: diff('x', 'mm/Kconfig') }] }))).not.toBe(a);
  });

  it('keys the artifact by the resolved .config', () => {
    const one = kernelArtifactKey(inputs(), 'CONFIG_A=y\n');
    expect(kernelArtifactKey(inputs(), 'CONFIG_A=y\n')).toBe(one);
    expect(kernelArtifactKey(inputs(), 'CONFIG_A=y\nCONFIG_B=y\n')).not.toBe(one);
  });
});
