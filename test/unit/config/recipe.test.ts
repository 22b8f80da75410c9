import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRecipe, parseRecipe } from '../../../src/config/recipe.js';
import { listVariants, loadSeries, resolveVariantNames } from '../../../src/config/variants.js';
import { packageRoot } from '../../../src/core/paths.js';
import { InputError } from '../../../src/core/errors.js';

function fixture(): string {
  const root = mkdtempSync(join(tmpdir(), 'kexp-recipe-'));
  mkdirSync(join(root, 'kernels/fragments'), { recursive: true });
  writeFileSync(join(root, 'kernels/fragments/base.config'), 'CONFIG_A=y\n');
  return root;
}

const good = { name: 'k', source: { type: 'debian-package', package: 'linux-source-6.1' }, fragments: ['base'] };

describe('kernel recipes', () => {
  it('loads a valid recipe with its fragments resolved to files and the series defaulting to the name', () => {
    const root = fixture();
    writeFileSync(join(root, 'kernels/k.json'), JSON.stringify(good));
    const recipe = loadRecipe(root, 'k');
    expect(recipe.series).toBe('k');
    expect(recipe.fragments).toEqual([{ name: 'base', file: join(root, 'kernels/fragments/base.config') }]);
  });

  it('names the file, the field, what was expected and what was found', () => {
    const root = fixture();
    const file = join(root, 'kernels/k.json');
    const bad = { ...good, source: { type: 'debian-package', package: 'linux-6.1' } };
    expect(() => parseRecipe(file, JSON.stringify(bad), join(root, 'kernels/fragments'))).toThrow(InputError);
    expect(() => parseRecipe(file, JSON.stringify(bad), join(root, 'kernels/fragments'))).toThrow(
      /k\.json: invalid\n\s+source\.package: expected a package name like linux-source-6\.1 \(found "linux-6\.1"\)/,
    );
  });

  it('rejects an unknown source type and unknown fields', () => {
    const root = fixture();
    const file = join(root, 'kernels/k.json');
    expect(() => parseRecipe(file, JSON.stringify({ ...good, source: { type: 'svn', url: 'x' } }), join(root, 'kernels/fragments'))).toThrow(/source\.type/);
    expect(() => parseRecipe(file, JSON.stringify({ ...good, fragmnets: [] }), join(root, 'kernels/fragments'))).toThrow(/fragmnets/);
  });

  it('requires a sha256 for a tarball source', () => {
    const root = fixture();
    const file = join(root, 'kernels/k.json');
    const bad = { ...good, source: { type: 'tarball', location: 'linux.tar.xz', sha256: 'abc' } };
    expect(() => parseRecipe(file, JSON.stringify(bad), join(root, 'kernels/fragments'))).toThrow(/source\.sha256: expected 64 lowercase hex digits/);
  });

  it('lists the known fragments when one is missing', () => {
    const root = fixture();
    const file = join(root, 'kernels/k.json');
    try {
      parseRecipe(file, JSON.stringify({ ...good, fragments: ['base', 'kvm'] }), join(root, 'kernels/fragments'));
      expect.unreachable();
    } catch (error) {
      expect((error as InputError).message).toMatch(/fragments\.1: no fragment "kvm"/);
      expect((error as InputError).hint).toContain('known fragments: base');
    }
  });

  it('reports bad JSON and a name that differs from the file name', () => {
    const root = fixture();
    const file = join(root, 'kernels/k.json');
    expect(() => parseRecipe(file, '{', join(root, 'kernels/fragments'))).toThrow(/k\.json: not valid JSON/);
    expect(() => parseRecipe(file, JSON.stringify({ ...good, name: 'other' }), join(root, 'kernels/fragments'))).toThrow(/name: expected "k"/);
  });

  it('lists the known kernels for an unknown one', () => {
    const root = fixture();
    writeFileSync(join(root, 'kernels/k.json'), JSON.stringify(good));
    expect(() => loadRecipe(root, '9.9')).toThrow(/unknown kernel "9\.9"/);
  });
});

describe('variants', () => {
  it('are folders; "all" lists them with baseline first', () => {
    const root = fixture();
    for (const v of ['zeta', 'baseline', 'alpha']) mkdirSync(join(root, 'patches', v), { recursive: true });
    // The root is layered over kexp's own patches/: its variants are listed too.
    const packaged = listVariants(packageRoot()).filter((v) => v !== 'baseline');
    expect(resolveVariantNames(root, 'all')).toEqual(['baseline', ...[...new Set(['alpha', 'zeta', ...packaged])].sort()]);
    expect(() => resolveVariantNames(root, 'alpha,nope')).toThrow(/unknown variant "nope"/);
  });

  it('orders a series by file name and insists on the number prefix', () => {
    const root = fixture();
    const dir = join(root, 'patches/v/6.1');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '0002-b.patch'), 'b');
    writeFileSync(join(dir, '0001-a.patch'), 'a');
    expect(loadSeries(join(root, 'patches/v'), 'v', '6.1').patches.map((p) => p.name)).toEqual(['0001-a.patch', '0002-b.patch']);
    expect(loadSeries(join(root, 'patches/v'), 'v', '6.12').patches).toEqual([]);
    writeFileSync(join(dir, 'fix.patch'), 'c');
    expect(() => loadSeries(join(root, 'patches/v'), 'v', '6.1')).toThrow(/4-digit order/);
  });
});
