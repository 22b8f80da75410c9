/**
 * Layered roots (config/layers.ts) and the loaders that look things up through them: a user's
 * folder over kexp's packaged one, kexp-layer.json "below" chains, loops. The bottom layer is
 * this checkout's own kernels/, patches/, experiments/ and images/workloads/: what the tests
 * expect of it is read from it, never written down here.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeLayers, findInRoot, foldersInRoot, isGeneratedLayer, LAYER_FILE, listInRoot, projectFolder, rootLayers } from '../../../src/config/layers.js';
import { configFileProblem, listKernelNames, loadRecipe } from '../../../src/config/recipe.js';
import { listVariants, loadVariant, resolveVariantNames, variantDir } from '../../../src/config/variants.js';
import { listWorkloadNames, loadWorkloadManifest, workloadDir, workloadIncludeDirs } from '../../../src/config/workloads.js';
import { loadExperiment, resolveExperimentFile } from '../../../src/config/experiment.js';
import { InputError } from '../../../src/core/errors.js';
import { packageRoot } from '../../../src/core/paths.js';

const pkg = packageRoot();
const scratch = realpathSync(mkdtempSync(join(tmpdir(), 'kexp-layers-')));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let count = 0;
/** A fresh folder (rootLayers memoizes per root: every test gets its own). */
function folder(name = 'root'): string {
  const dir = join(scratch, `${name}-${++count}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function write(file: string, text: string): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
}

function layerOver(dir: string, below: string, generated = false): void {
  write(join(dir, LAYER_FILE), JSON.stringify({ below, ...(generated ? { generated: true } : {}) }));
}

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  return expect.unreachable('no InputError') as never;
}

const packagedKernels = readdirSync(join(pkg, 'kernels'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => basename(f, '.json'))
  .sort();
const packagedVariants = readdirSync(join(pkg, 'patches')).filter((f) => statSync(join(pkg, 'patches', f)).isDirectory());
const packagedWorkloads = readdirSync(join(pkg, 'images/workloads'))
  .filter((f) => f.endsWith('.c'))
  .map((f) => f.slice(0, -2))
  .sort();

describe('rootLayers', () => {
  it("puts a root over kexp's own folder, and kexp's own folder alone is one layer", () => {
    const root = folder();
    expect(rootLayers(root)).toEqual([root, pkg]);
    expect(rootLayers(pkg)).toEqual([pkg]);
  });

  it('follows kexp-layer.json "below" (relative to the layer) down to kexp\'s folder', () => {
    const a = folder('a');
    const b = folder('b');
    const c = folder('c');
    layerOver(a, `../${basename(b)}`);
    layerOver(b, c);
    expect(rootLayers(a)).toEqual([a, b, c, pkg]);
  });

  it("stops at a loop, each folder once, and does not repeat kexp's folder when a layer names it", () => {
    const a = folder('a');
    const b = folder('b');
    layerOver(a, b);
    layerOver(b, a);
    expect(rootLayers(a)).toEqual([a, b, pkg]);
    const self = folder('self');
    layerOver(self, '.');
    expect(rootLayers(self)).toEqual([self, pkg]);
    const onPkg = folder('on-pkg');
    layerOver(onPkg, pkg);
    expect(rootLayers(onPkg)).toEqual([onPkg, pkg]);
  });

  it('a layer file without "below" ends the chain there', () => {
    const a = folder();
    write(join(a, LAYER_FILE), '{}');
    expect(rootLayers(a)).toEqual([a, pkg]);
  });

  it('refuses a damaged layer file or a "below" that is not a folder, naming the file and the field', () => {
    const bad = folder();
    write(join(bad, LAYER_FILE), '{"below": ');
    const json = inputError(() => rootLayers(bad));
    expect(json.message).toContain(join(bad, LAYER_FILE));
    expect(json.message).toContain('not valid JSON');

    const number = folder();
    write(join(number, LAYER_FILE), '{"below": 5}');
    const field = inputError(() => rootLayers(number));
    expect(field.message).toContain(join(number, LAYER_FILE));
    expect(field.message).toContain('below');

    const missing = folder();
    layerOver(missing, join(scratch, 'no-such-folder'));
    const gone = inputError(() => rootLayers(missing));
    expect(gone.message).toContain(join(missing, LAYER_FILE));
    expect(gone.message).toContain('below');
    expect(gone.message).toContain(join(scratch, 'no-such-folder'));

    const file = folder();
    write(join(file, 'plain'), 'x');
    layerOver(file, join(file, 'plain'));
    expect(inputError(() => rootLayers(file)).message).toContain('below');
  });
});

describe('isGeneratedLayer and projectFolder', () => {
  it("tells a layer kexp wrote from a person's folder, and finds the folder a person chose", () => {
    const user = folder('user');
    const gen = folder('gen');
    layerOver(gen, user, true);
    expect(isGeneratedLayer(gen)).toBe(true);
    expect(isGeneratedLayer(user)).toBe(false);
    expect(projectFolder(gen)).toBe(user);
    expect(projectFolder(user)).toBe(user);

    const handMade = folder('hand');
    layerOver(handMade, user);
    expect(isGeneratedLayer(handMade)).toBe(false);
    expect(projectFolder(handMade)).toBe(handMade);

    const genOverPkg = folder('gen-pkg');
    layerOver(genOverPkg, pkg, true);
    expect(projectFolder(genOverPkg)).toBe(pkg);

    const damaged = folder('damaged');
    write(join(damaged, LAYER_FILE), 'not json');
    expect(isGeneratedLayer(damaged)).toBe(false);
  });
});

describe('findInRoot, foldersInRoot, listInRoot', () => {
  it("finds the top layer's copy first, then the ones below", () => {
    const top = folder('top');
    const mid = folder('mid');
    layerOver(top, mid);
    write(join(mid, 'kernels/only-mid.json'), '{}');
    write(join(mid, 'kernels/both.json'), 'mid');
    write(join(top, 'kernels/both.json'), 'top');
    expect(findInRoot(top, 'kernels', 'both.json')).toBe(join(top, 'kernels/both.json'));
    expect(findInRoot(top, 'kernels', 'only-mid.json')).toBe(join(mid, 'kernels/only-mid.json'));
    expect(findInRoot(top, 'kernels', `${packagedKernels[0]}.json`)).toBe(join(pkg, 'kernels', `${packagedKernels[0]}.json`));
    expect(findInRoot(top, 'kernels', 'nowhere.json')).toBeUndefined();
    expect(foldersInRoot(top, 'kernels')).toEqual([join(top, 'kernels'), join(mid, 'kernels'), join(pkg, 'kernels')]);
    expect(foldersInRoot(top, 'no-such-folder')).toEqual([]);
    const names = listInRoot(top, ['kernels'], (f) => f.endsWith('.json'));
    expect([...names].sort()).toEqual([...new Set(['both.json', 'only-mid.json', ...packagedKernels.map((k) => `${k}.json`)])].sort());
    expect(names.filter((n) => n === 'both.json')).toHaveLength(1);
    expect(describeLayers(top, 'kernels')).toBe([join(top, 'kernels'), join(mid, 'kernels'), join(pkg, 'kernels')].join(', then '));
  });
});

const fragmentsOf612 = (JSON.parse(readFileSync(join(pkg, 'kernels/6.12.json'), 'utf8')) as { fragments: string[] }).fragments;

describe('kernel recipes across layers', () => {
  const recipe = (name: string, extra: Record<string, unknown> = {}): string =>
    JSON.stringify({ name, series: '6.12', source: { type: 'debian-package', package: 'linux-source-6.12' }, fragments: fragmentsOf612, ...extra });

  it("a user's kernels/6.12.json overrides the packaged one; a new kernels/mine.json adds one", () => {
    const root = folder();
    write(join(root, 'kernels/6.12.json'), recipe('6.12', { description: 'mine' }));
    write(join(root, 'kernels/mine.json'), recipe('mine'));
    expect(listKernelNames(root)).toEqual([...new Set([...packagedKernels, 'mine'])].sort());
    expect(loadRecipe(root, '6.12').file).toBe(join(root, 'kernels/6.12.json'));
    expect(loadRecipe(root, 'mine').file).toBe(join(root, 'kernels/mine.json'));
    // Not overridden: still the packaged one.
    const other = packagedKernels.find((k) => k !== '6.12')!;
    expect(loadRecipe(root, other).file).toBe(join(pkg, 'kernels', `${other}.json`));
  });

  it("looks fragments up in the layer first, then in kexp's own", () => {
    const root = folder();
    const [first, ...rest] = fragmentsOf612;
    write(join(root, 'kernels/fragments', `${first}.config`), 'CONFIG_MINE=y\n');
    write(join(root, 'kernels/fragments/extra.config'), 'CONFIG_EXTRA=y\n');
    write(join(root, 'kernels/mine.json'), recipe('mine', { fragments: [...fragmentsOf612, 'extra'] }));
    const loaded = loadRecipe(root, 'mine');
    expect(loaded.fragments[0]).toEqual({ name: first, file: join(root, 'kernels/fragments', `${first}.config`) });
    expect(loaded.fragments.slice(1, 1 + rest.length).map((f) => f.file)).toEqual(rest.map((f) => join(pkg, 'kernels/fragments', `${f}.config`)));
    expect(loaded.fragments.at(-1)).toEqual({ name: 'extra', file: join(root, 'kernels/fragments/extra.config') });
  });

  it('an unknown fragment names every folder looked in and lists the fragments of all layers', () => {
    const root = folder();
    write(join(root, 'kernels/fragments/extra.config'), 'CONFIG_EXTRA=y\n');
    write(join(root, 'kernels/mine.json'), recipe('mine', { fragments: ['nope'] }));
    const error = inputError(() => loadRecipe(root, 'mine'));
    expect(error.message).toContain(`no fragment "nope" in ${join(root, 'kernels/fragments')} or ${join(pkg, 'kernels/fragments')}`);
    expect(error.hint).toContain('extra');
    expect(error.hint).toContain(fragmentsOf612[0]);
  });

  it('an unknown kernel says where it looked', () => {
    const root = folder();
    const error = inputError(() => loadRecipe(root, 'nope'));
    expect(error.message).toContain(join(root, 'kernels'));
    expect(error.message).toContain(join(pkg, 'kernels'));
    expect(error.hint).toContain(packagedKernels.join(', '));
  });

  it('reads a "tree" source and the "config" base (a target, or a .config relative to the recipe)', () => {
    const root = folder();
    write(join(root, 'kernels/t.json'), recipe('t', { source: { type: 'tree', path: '../linux' } }));
    const t = loadRecipe(root, 't');
    expect(t.source).toEqual({ type: 'tree', path: '../linux' });
    expect(t.baseConfig).toEqual({ kind: 'target', target: 'tinyconfig' });

    write(join(root, 'kernels/d.json'), recipe('d', { config: 'defconfig' }));
    expect(loadRecipe(root, 'd').baseConfig).toEqual({ kind: 'target', target: 'defconfig' });

    const text = 'CONFIG_A=y\n# CONFIG_B is not set\n';
    write(join(root, 'configs/my.config'), text);
    write(join(root, 'kernels/f.json'), recipe('f', { config: { file: '../configs/my.config' } }));
    expect(loadRecipe(root, 'f').baseConfig).toEqual({ kind: 'file', file: join(root, 'configs/my.config'), text });
  });

  it('refuses a bad "config": a missing file, a file that is not a .config, a target that is not one', () => {
    const root = folder();
    write(join(root, 'kernels/m.json'), recipe('m', { config: { file: 'missing.config' } }));
    const missing = inputError(() => loadRecipe(root, 'm'));
    expect(missing.message).toContain(join(root, 'kernels/m.json'));
    expect(missing.message).toContain('config.file');
    expect(missing.message).toContain(join(root, 'kernels/missing.config'));

    write(join(root, 'kernels/notes.txt'), 'just some notes\n');
    write(join(root, 'kernels/n.json'), recipe('n', { config: { file: 'notes.txt' } }));
    const notConfig = inputError(() => loadRecipe(root, 'n'));
    expect(notConfig.message).toContain('config.file');
    expect(notConfig.message).toContain('not a kernel .config');

    write(join(root, 'kernels/s.json'), recipe('s', { config: 'menu' }));
    const target = inputError(() => loadRecipe(root, 's'));
    expect(target.message).toContain(join(root, 'kernels/s.json'));
    expect(target.message).toContain('config');

    write(join(root, 'kernels/x.json'), recipe('x', { source: { type: 'tree' } }));
    expect(inputError(() => loadRecipe(root, 'x')).message).toContain('source.path');
  });
});

describe('configFileProblem', () => {
  it('accepts a .config and says why other text is not one', () => {
    expect(configFileProblem('#\n# Automatically generated file; DO NOT EDIT.\n#\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C="x y"\n\n')).toBeUndefined();
    expect(configFileProblem('')).toBe('is empty');
    expect(configFileProblem('CONFIG_A=y\0')).toContain('not text');
    expect(configFileProblem('# only a comment\n')).toContain('no CONFIG_X=');
    expect(configFileProblem('CONFIG_A=y\nobj-y += foo.o\n')).toContain('"obj-y += foo.o"');
  });
});

describe('variants across layers', () => {
  it("adds a user's variant, overrides a packaged one by folder, and keeps baseline first", () => {
    const root = folder();
    mkdirSync(join(root, 'patches/mine/6.12'), { recursive: true });
    write(join(root, 'patches/mine/6.12/0001-x.patch'), 'x');
    write(join(root, 'patches/not-a-variant'), 'a file');
    expect(listVariants(root)).toEqual(['baseline', ...[...new Set([...packagedVariants, 'mine'])].filter((v) => v !== 'baseline').sort()]);
    expect(resolveVariantNames(root, 'mine,early-break')).toEqual(['mine', 'early-break']);
    expect(variantDir(root, 'mine')).toBe(join(root, 'patches/mine'));
    expect(variantDir(root, 'early-break')).toBe(join(pkg, 'patches/early-break'));
    expect(variantDir(root, 'nope')).toBeUndefined();
    expect(loadVariant(root, 'mine', '6.12').patches.map((p) => p.path)).toEqual([join(root, 'patches/mine/6.12/0001-x.patch')]);
    expect(loadVariant(root, 'early-break', '6.12').patches.length).toBeGreaterThan(0);

    // A user's patches/early-break/ replaces the packaged folder, series and all.
    write(join(root, 'patches/early-break/6.12/0001-mine.patch'), 'mine');
    expect(loadVariant(root, 'early-break', '6.12').patches.map((p) => p.name)).toEqual(['0001-mine.patch']);
    expect(loadVariant(root, 'early-break', '6.1').patches).toEqual([]);

    const unknown = inputError(() => resolveVariantNames(root, 'nope'));
    expect(unknown.hint).toContain(join(root, 'patches'));
    expect(unknown.hint).toContain(join(pkg, 'patches'));
  });
});

describe('workloads across layers', () => {
  it("adds a user's workload, overrides a packaged one with its own manifest, and finds include folders", () => {
    const root = folder();
    write(join(root, 'images/workloads/mine.c'), 'int main(void) { return 0; }\n');
    expect(listWorkloadNames(root)).toEqual([...new Set([...packagedWorkloads, 'mine'])].sort());
    expect(workloadDir(root, 'mine')).toBe(join(root, 'images/workloads'));
    const packaged = packagedWorkloads[0]!;
    expect(workloadDir(root, packaged)).toBe(join(pkg, 'images/workloads'));
    expect(workloadDir(root, 'nope')).toBeUndefined();
    expect(loadWorkloadManifest(root, 'mine')).toEqual({ events: [] });
    expect(workloadIncludeDirs(root)).toEqual([join(pkg, 'images/workloads/include')]);

    mkdirSync(join(root, 'images/workloads/include'), { recursive: true });
    expect(workloadIncludeDirs(root)).toEqual([join(root, 'images/workloads/include'), join(pkg, 'images/workloads/include')]);

    // A user's copy of a packaged workload brings its own manifest: the packaged one does not leak in.
    write(join(root, 'images/workloads', `${packaged}.c`), 'int main(void) { return 0; }\n');
    expect(workloadDir(root, packaged)).toBe(join(root, 'images/workloads'));
    expect(loadWorkloadManifest(root, packaged)).toEqual({ events: [] });
    write(join(root, 'images/workloads', `${packaged}.json`), JSON.stringify({ events: ['kvm/kvm_async_pf_ready'] }));
    expect(loadWorkloadManifest(root, packaged).events).toEqual(['kvm/kvm_async_pf_ready']);
  });
});

describe('experiments across layers', () => {
  it("a user's experiments/default.json overrides the packaged one; others are still found below", () => {
    const root = folder();
    expect(resolveExperimentFile(root)).toBe(join(pkg, 'experiments/default.json'));
    const packaged = JSON.parse(readFileSync(join(pkg, 'experiments/default.json'), 'utf8')) as Record<string, unknown>;
    write(join(root, 'experiments/default.json'), JSON.stringify({ ...packaged, $schema: undefined, name: 'mine', kernels: ['6.12'] }));
    expect(resolveExperimentFile(root)).toBe(join(root, 'experiments/default.json'));
    expect(resolveExperimentFile(root, 'default')).toBe(join(root, 'experiments/default.json'));
    expect(loadExperiment(root, resolveExperimentFile(root)).experiment.kernels).toEqual(['6.12']);
    const other = readdirSync(join(pkg, 'experiments')).find((f) => f !== 'default.json' && f.endsWith('.json'));
    if (other) expect(resolveExperimentFile(root, basename(other, '.json'))).toBe(join(pkg, 'experiments', other));
    const error = inputError(() => resolveExperimentFile(root, 'nope'));
    expect(error.hint).toContain(join(root, 'experiments'));
    expect(error.hint).toContain(join(pkg, 'experiments'));
  });
});
