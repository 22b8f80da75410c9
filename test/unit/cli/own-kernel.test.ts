import { describe, expect, it } from 'vitest';
import { splitVariantFlag, variantsFor } from '../../../src/cli/own-kernel.js';

describe('--variant with patches', () => {
  it('splits names from NAME=PATH patches', () => {
    expect(splitVariantFlag('early-break,fix=../fix.patch')).toEqual({ names: ['early-break'], patches: ['fix=../fix.patch'] });
    expect(splitVariantFlag(undefined)).toEqual({ names: [], patches: [] });
  });

  it('compares with baseline first unless variants are named, boots the one given, builds what is given', () => {
    expect(variantsFor('compare', [], ['fix'])).toBe('baseline,fix');
    expect(variantsFor('compare', ['early-break'], ['fix'])).toBe('early-break,fix');
    expect(variantsFor('compare', ['baseline'], ['fix'])).toBe('baseline,fix');
    expect(variantsFor('single', [], ['fix'])).toBe('fix');
    expect(variantsFor('single', [], [])).toBe('baseline');
    expect(variantsFor('single', ['continue'], ['fix'])).toBe('continue,fix');
    expect(variantsFor('build', ['baseline'], ['fix'])).toBe('baseline,fix');
    expect(variantsFor('build', [], [])).toBe('baseline');
  });
});
