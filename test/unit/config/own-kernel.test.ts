/**
 * ownKernelLayer: --tree, --config, --config-add and --patch turned into a content-addressed layer
 * over the command's root. The "kernel tree" here is a folder with the few files kexp checks
 * (Makefile VERSION/PATCHLEVEL, Kconfig, arch/x86/Kconfig, scripts/kconfig/): nothing is built,
 * the tests check what the layer holds and that kexp's own loaders read it back.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ownKernelLayer, wantsOwnKernel, type OwnKernelFlags } from '../../../src/config/own-kernel.js';
import { isGeneratedLayer, rootLayers } from '../../../src/config/layers.js';
import { listKernelNames, loadRecipe, type RecipeFile } from '../../../src/config/recipe.js';
import { listVariants, loadVariant } from '../../../src/config/variants.js';
import { loadExperiment, resolveExperimentFile } from '../../../src/config/experiment.js';
import { readRequestedConfig } from '../../../src/kernel/configure.js';
import { InputError } from '../../../src/core/errors.js';
import { packageRoot } from '../../../src/core/paths.js';
import { scratchFolders } from '../../helpers/scratch.js';

const pkg = packageRoot();
const folder = scratchFolders('kexp-own-kernel');

function write(file: string, text: string): string {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
  return file;
}

function fakeTree(name = 'linux', version = '6', patchlevel = '12'): string {
  const dir = folder(name);
  write(join(dir, 'Makefile'), `# SPDX-License-Identifier: GPL-2.0\nVERSION = ${version}\nPATCHLEVEL = ${patchlevel}\nSUBLEVEL = 0\nEXTRAVERSION =\n`);
  write(join(dir, 'Kconfig'), 'mainmenu "Linux"\n');
  write(join(dir, 'arch/x86/Kconfig'), 'config X86\n\tdef_bool y\n');
  mkdirSync(join(dir, 'scripts/kconfig'), { recursive: true });
  return dir;
}

const diff = (line: string): string => `diff --git a/mm/gup.c b/mm/gup.c\n--- a/mm/gup.c\n+++ b/mm/gup.c\n@@ -1 +1 @@\n-old\n+${line}\n`;

/** A root (layered over kexp's own) and an empty cache folder for layers. */
function setup(): { root: string; home: string } {
  return { root: folder('root'), home: join(folder('cache'), 'layers') };
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Refused with an InputError, and nothing written under home. */
function refused(root: string, home: string, flags: OwnKernelFlags): InputError {
  try {
    ownKernelLayer(root, home, flags);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    expect(entries(home)).toEqual([]);
    return error as InputError;
  }
  return expect.unreachable(`accepted ${JSON.stringify(flags)}`) as never;
}

const packaged612 = JSON.parse(readFileSync(join(pkg, 'kernels/6.12.json'), 'utf8')) as RecipeFile;
const packaged61 = JSON.parse(readFileSync(join(pkg, 'kernels/6.1.json'), 'utf8')) as RecipeFile;

describe('wantsOwnKernel', () => {
  it('is true for a tree, a config, an addition or a patch, and not for --kernel alone', () => {
    expect(wantsOwnKernel({})).toBe(false);
    expect(wantsOwnKernel({ kernels: ['6.12'], configAdd: [], patches: [] })).toBe(false);
    expect(wantsOwnKernel({ tree: 'x' })).toBe(true);
    expect(wantsOwnKernel({ config: 'defconfig' })).toBe(true);
    expect(wantsOwnKernel({ configAdd: ['X=y'] })).toBe(true);
    expect(wantsOwnKernel({ patches: ['a.patch'] })).toBe(true);
  });
});

describe('--tree', () => {
  it("writes a recipe named after the folder, of the Makefile's series, with kexp's fragments of that series", () => {
    const { root, home } = setup();
    const tree = fakeTree('my-linux');
    const choice = ownKernelLayer(root, home, { tree });
    expect(choice.kernels).toEqual(['my-linux']);
    expect(choice.patchVariants).toEqual([]);
    expect(choice.root.startsWith(home)).toBe(true);
    expect(isGeneratedLayer(choice.root)).toBe(true);
    expect(rootLayers(choice.root)).toEqual([choice.root, root, pkg]);
    const recipe = loadRecipe(choice.root, 'my-linux');
    expect(recipe.series).toBe('6.12');
    expect(recipe.source).toEqual({ type: 'tree', path: tree });
    expect(recipe.fragments.map((f) => f.name)).toEqual(packaged612.fragments);
    expect(recipe.baseConfig).toEqual({ kind: 'target', target: 'tinyconfig' });
    expect(listKernelNames(choice.root)).toEqual(expect.arrayContaining(['my-linux', '6.1', '6.12']));
    // The other series' fragments for a 6.1 tree.
    const old = ownKernelLayer(root, home, { tree: fakeTree('old', '6', '1') });
    expect(loadRecipe(old.root, 'old').fragments.map((f) => f.name)).toEqual(packaged61.fragments);
    expect(loadRecipe(old.root, 'old').series).toBe('6.1');
  });

  it('is content-addressed: the same flags give the same folder, other flags another; no temporary folder is left', () => {
    const { root, home } = setup();
    const tree = fakeTree();
    const a = ownKernelLayer(root, home, { tree });
    const before = readFileSync(join(a.root, 'kernels/linux.json'), 'utf8');
    const b = ownKernelLayer(root, home, { tree });
    expect(b.root).toBe(a.root);
    expect(readFileSync(join(b.root, 'kernels/linux.json'), 'utf8')).toBe(before);
    const c = ownKernelLayer(root, home, { tree, configAdd: ['CONFIG_DEBUG_VM=y'] });
    expect(c.root).not.toBe(a.root);
    expect(entries(home).sort()).toEqual([a.root, c.root].map((d) => d.slice(home.length + 1)).sort());
  });

  it('refuses a folder that is not a kernel tree before anything is written', () => {
    const { root, home } = setup();
    expect(refused(root, home, { tree: join(folder('gone'), 'no-such-tree') }).message).toContain('does not exist');
    expect(refused(root, home, { tree: write(join(folder('f'), 'file'), 'x') }).message).toContain('is not a folder');
    const noMake = folder('nomake');
    expect(refused(root, home, { tree: noMake }).message).toMatch(/--tree .*nomake: has no Makefile/);
    const otherMake = folder('other');
    write(join(otherMake, 'Makefile'), 'all:\n\techo hi\n');
    expect(refused(root, home, { tree: otherMake }).message).toContain('VERSION = ');
    const partial = fakeTree('partial');
    rmSync(join(partial, 'arch'), { recursive: true });
    expect(refused(root, home, { tree: partial }).message).toContain('arch/x86/Kconfig');
    const error = refused(root, home, { tree: fakeTree(), kernels: ['6.12'] });
    expect(error.message).toContain('one kernel source at a time');
  });
});

describe('--config', () => {
  const dotConfig = '#\n# Linux/x86 6.12.0 Kernel Configuration\n#\nCONFIG_64BIT=y\n# CONFIG_SWAP is not set\nCONFIG_LOCALVERSION=""\n';

  it('a .config file becomes kernels/base.config, the base of each --kernel recipe', () => {
    const { root, home } = setup();
    const file = write(join(folder('cfg'), '.config'), dotConfig);
    const choice = ownKernelLayer(root, home, { kernels: ['6.12', '6.1'], config: file });
    expect(choice.kernels).toEqual(['6.12', '6.1']);
    expect(readFileSync(join(choice.root, 'kernels/base.config'), 'utf8')).toBe(dotConfig);
    for (const kernel of ['6.12', '6.1']) {
      const recipe = loadRecipe(choice.root, kernel);
      expect(recipe.file).toBe(join(choice.root, 'kernels', `${kernel}.json`));
      expect(recipe.baseConfig).toEqual({ kind: 'file', file: join(choice.root, 'kernels/base.config'), text: dotConfig });
      expect(recipe.source).toEqual((kernel === '6.12' ? packaged612 : packaged61).source);
      expect(recipe.fragments.map((f) => f.name)).toEqual((kernel === '6.12' ? packaged612 : packaged61).fragments);
    }
  });

  it('a make target ending in "config" is the base as it is', () => {
    const { root, home } = setup();
    const choice = ownKernelLayer(root, home, { tree: fakeTree(), config: 'defconfig' });
    expect(loadRecipe(choice.root, 'linux').baseConfig).toEqual({ kind: 'target', target: 'defconfig' });
  });

  it('refuses a file that is not a .config, a bad target, and a config with no kernel, writing nothing', () => {
    const { root, home } = setup();
    const dir = folder('bad');
    expect(refused(root, home, { kernels: ['6.12'], config: write(join(dir, 'empty'), '') }).message).toContain('is empty');
    const notes = refused(root, home, { kernels: ['6.12'], config: write(join(dir, 'notes.txt'), 'remember the milk\n') });
    expect(notes.message).toContain(`--config ${join(dir, 'notes.txt')}`);
    expect(notes.message).toContain('not a kernel .config');
    expect(refused(root, home, { kernels: ['6.12'], config: write(join(dir, 'bin'), 'CONFIG_A=y\0\0') }).message).toContain('not text');
    expect(refused(root, home, { kernels: ['6.12'], config: 'no/such.config' }).message).toContain('no such file');
    expect(refused(root, home, { kernels: ['6.12'], config: 'menu' }).message).toContain('--config menu');
    expect(refused(root, home, { config: 'defconfig' }).message).toContain('--kernel NAME or --tree DIR');
    expect(refused(root, home, { kernels: ['nope'], config: 'defconfig' }).message).toContain('unknown kernel "nope"');
  });
});

describe('--config-add', () => {
  it("turns CONFIG_X=y, X=y, CONFIG_X=n and a fragment file into fragments that go before kexp's", () => {
    const { root, home } = setup();
    const fragment = write(join(folder('frag'), 'debug.config'), '# mine\nCONFIG_DEBUG_INFO=y\n# CONFIG_DEBUG_INFO_BTF is not set\n');
    const choice = ownKernelLayer(root, home, { kernels: ['6.12'], configAdd: ['CONFIG_DEBUG_VM=y', 'KASAN=y', 'CONFIG_SWAP=n', fragment] });
    const recipe = loadRecipe(choice.root, '6.12');
    expect(recipe.fragments.map((f) => f.name)).toEqual(['config-add-1', 'config-add-2', 'config-add-3', 'config-add-4', ...packaged612.fragments]);
    expect(recipe.baseConfig).toEqual({ kind: 'target', target: 'tinyconfig' });
    const requested = readRequestedConfig(recipe);
    expect(requested.get('CONFIG_DEBUG_VM')?.value).toBe('y');
    expect(requested.get('CONFIG_KASAN')?.value).toBe('y');
    expect(requested.get('CONFIG_DEBUG_INFO')?.value).toBe('y');
    expect(requested.get('CONFIG_DEBUG_INFO_BTF')?.value).toBe('n');
    expect(readFileSync(join(choice.root, 'kernels/fragments/config-add-3.config'), 'utf8')).toContain('# CONFIG_SWAP is not set');
  });

  it('refuses garbage, an empty value, a fragment file with stray lines or no settings, and no kernel', () => {
    const { root, home } = setup();
    const dir = folder('bad');
    expect(refused(root, home, { kernels: ['6.12'], configAdd: ['hello'] }).message).toContain('--config-add hello: not CONFIG_X=VALUE');
    expect(refused(root, home, { kernels: ['6.12'], configAdd: ['CONFIG_X='] }).message).toContain('no value');
    const stray = refused(root, home, { kernels: ['6.12'], configAdd: [write(join(dir, 'stray.config'), 'CONFIG_A=y\nobj-y += x.o\n')] });
    expect(stray.message).toContain('stray.config');
    expect(stray.message).toContain('obj-y += x.o');
    expect(refused(root, home, { kernels: ['6.12'], configAdd: [write(join(dir, 'comments.config'), '# nothing\n')] }).message).toContain('no CONFIG_X= lines');
    expect(refused(root, home, { configAdd: ['CONFIG_X=y'] }).message).toContain('--kernel NAME or --tree DIR');
  });

  it("keeps a --kernel recipe's own relative paths (source and config file) pointing where they did", () => {
    const { root, home } = setup();
    const tree = fakeTree('src-tree');
    write(join(root, 'configs/my.config'), 'CONFIG_64BIT=y\n');
    write(
      join(root, 'kernels/mine.json'),
      JSON.stringify({
        name: 'mine',
        series: '6.12',
        source: { type: 'tree', path: relative(join(root, 'kernels'), tree) },
        fragments: packaged612.fragments,
        config: { file: '../configs/my.config' },
      }),
    );
    expect(loadRecipe(root, 'mine').source).toMatchObject({ type: 'tree' });
    const choice = ownKernelLayer(root, home, { kernels: ['mine'], configAdd: ['CONFIG_DEBUG_VM=y'] });
    const recipe = loadRecipe(choice.root, 'mine');
    expect(recipe.source).toEqual({ type: 'tree', path: tree });
    expect(recipe.baseConfig).toEqual({ kind: 'file', file: join(root, 'configs/my.config'), text: 'CONFIG_64BIT=y\n' });
  });
});

describe('--patch', () => {
  it("becomes a variant named after the file, with its patches under patches/<name>/<series>/ for each kernel's series", () => {
    const { root, home } = setup();
    const patch = write(join(folder('p'), 'fix.patch'), diff('new'));
    const choice = ownKernelLayer(root, home, { kernels: ['6.1', '6.12'], patches: [patch] });
    expect(choice.patchVariants).toEqual(['fix']);
    expect(choice.kernels).toEqual(['6.1', '6.12']);
    // --kernel alone writes no recipe: the root's own are used.
    expect(entries(join(choice.root, 'kernels'))).toEqual([]);
    for (const series of ['6.1', '6.12']) {
      const loaded = loadVariant(choice.root, 'fix', series);
      expect(loaded.patches).toHaveLength(1);
      expect(loaded.patches[0]!.path.startsWith(join(choice.root, 'patches/fix', series))).toBe(true);
      expect(loaded.patches[0]!.content).toBe(diff('new'));
    }
    expect(listVariants(choice.root)).toEqual(expect.arrayContaining(['baseline', 'early-break', 'fix']));
  });

  it("on a tree, the patches go under the tree's series; NAME=PATH names the variant", () => {
    const { root, home } = setup();
    const patch = write(join(folder('p'), 'fix.patch'), diff('new'));
    const choice = ownKernelLayer(root, home, { tree: fakeTree('t', '6', '9'), patches: [`mine=${patch}`] });
    expect(choice.patchVariants).toEqual(['mine']);
    expect(entries(join(choice.root, 'patches/mine'))).toEqual(['6.9']);
    expect(loadVariant(choice.root, 'mine', '6.9').patches).toHaveLength(1);
  });

  it('the copy in the layer is what is measured: a later edit of the file gives another layer', () => {
    const { root, home } = setup();
    const patch = write(join(folder('p'), 'fix.patch'), diff('one'));
    const first = ownKernelLayer(root, home, { kernels: ['6.12'], patches: [patch] });
    write(patch, diff('two'));
    const second = ownKernelLayer(root, home, { kernels: ['6.12'], patches: [patch] });
    expect(second.root).not.toBe(first.root);
    expect(loadVariant(first.root, 'fix', '6.12').patches[0]!.content).toBe(diff('one'));
    expect(loadVariant(second.root, 'fix', '6.12').patches[0]!.content).toBe(diff('two'));
  });

  it('refuses a name that clashes with a variant, two patches of one name, a patch with no kernel, a file with no patch', () => {
    const { root, home } = setup();
    const dir = folder('p');
    const fix = write(join(dir, 'fix.patch'), diff('new'));
    const clash = refused(root, home, { kernels: ['6.12'], patches: [write(join(dir, 'early-break.patch'), diff('x'))] });
    expect(clash.message).toContain('a variant "early-break" exists already');
    expect(clash.hint).toContain('--variant NAME=');
    expect(refused(root, home, { kernels: ['6.12'], patches: [`baseline=${fix}`] }).message).toContain('"baseline" exists already');
    const other = write(join(folder('q'), 'fix.patch'), diff('other'));
    expect(refused(root, home, { kernels: ['6.12'], patches: [fix, other] }).message).toContain('two patches would both be the variant "fix"');
    expect(refused(root, home, { patches: [fix] }).message).toContain('which kernel does it patch?');
    expect(refused(root, home, { kernels: ['6.12'], patches: [write(join(dir, 'empty.patch'), '')] }).message).toContain('empty.patch');
    expect(refused(root, home, { kernels: ['6.12'], patches: [join(dir, 'missing.patch')] }).message).toContain('missing.patch');
  });

  it("a user root's own variant clashes too", () => {
    const { root, home } = setup();
    mkdirSync(join(root, 'patches/fix/6.12'), { recursive: true });
    const fix = write(join(folder('p'), 'fix.patch'), diff('new'));
    expect(refused(root, home, { kernels: ['6.12'], patches: [fix] }).message).toContain('a variant "fix" exists already');
  });
});

describe('ExperimentOverride', () => {
  const text = readFileSync(join(pkg, 'experiments/default.json'), 'utf8');
  const packaged = JSON.parse(text) as { name: string; kernels: string[]; variants: string[] };

  it('writes the experiment into the layer with the kernels and variants replaced, baseline first', () => {
    const { root, home } = setup();
    const patch = write(join(folder('p'), 'fix.patch'), diff('new'));
    const choice = ownKernelLayer(root, home, { kernels: ['6.12'], patches: [patch] }, { text, variants: ['early-break'] });
    expect(choice.experiment).toBeDefined();
    expect(choice.experiment!.startsWith(join(choice.root, 'experiments'))).toBe(true);
    const loaded = loadExperiment(choice.root, choice.experiment!).experiment;
    expect(loaded.kernels).toEqual(['6.12']);
    expect(loaded.variants).toEqual(['baseline', 'early-break', 'fix']);
    expect(loaded.name).toContain(packaged.name);
    expect(resolveExperimentFile(choice.root, loaded.name)).toBe(choice.experiment);
    // Everything else is the experiment's own.
    expect(loaded.workloads).toEqual(loadExperiment(pkg, join(pkg, 'experiments/default.json')).experiment.workloads);
  });

  it("keeps the experiment's kernels and variants when the command line names none", () => {
    const { root, home } = setup();
    const choice = ownKernelLayer(root, home, { kernels: [] }, { text, variants: [] });
    const loaded = loadExperiment(choice.root, choice.experiment!).experiment;
    expect(loaded.kernels).toEqual(packaged.kernels);
    expect(loaded.variants).toEqual(packaged.variants);
  });

  it('on a tree: the tree is the one kernel; baseline and the patch are the variants', () => {
    const { root, home } = setup();
    const patch = write(join(folder('p'), 'fix.patch'), diff('new'));
    const choice = ownKernelLayer(root, home, { tree: fakeTree('work'), patches: [patch] }, { text, variants: [] });
    const loaded = loadExperiment(choice.root, choice.experiment!).experiment;
    expect(loaded.kernels).toEqual(['work']);
    expect(loaded.variants).toEqual(['baseline', 'fix']);
  });
});

describe('an experiment kernel that names a tree', () => {
  it('becomes a recipe in a layer, named as given, and loading the experiment again reuses it', () => {
    const { root, home } = setup();
    const tree = fakeTree('src-linux');
    const file = write(
      join(folder('exp'), 'mine.json'),
      JSON.stringify({
        name: 'mine',
        kernels: ['6.12', { tree: join('..', '..', tree.split('/').slice(-2).join('/')), name: 'mine', configAdd: ['CONFIG_DEBUG_VM=y'] }],
        variants: ['baseline'],
        workloads: [{ name: 'uffd-populate' }],
      }),
    );
    const loaded = loadExperiment(root, file, { layerHome: home });
    expect(loaded.experiment.kernels).toEqual(['6.12', 'mine']);
    expect(loaded.root).not.toBe(root);
    const recipe = loadRecipe(loaded.root, 'mine');
    expect(recipe.source).toEqual({ type: 'tree', path: tree });
    expect(recipe.series).toBe('6.12');
    expect(readRequestedConfig(recipe).get('CONFIG_DEBUG_VM')?.value).toBe('y');
    expect(loadRecipe(loaded.root, '6.12').file).toBe(join(pkg, 'kernels', '6.12.json'));
    // A run resolving it again in its own root (a resume) gets no second layer.
    expect(loadExperiment(loaded.root, file).root).toBe(loaded.root);
  });

  it('a tree that is not a kernel tree is named with the experiment file and the entry', () => {
    const { root, home } = setup();
    const file = write(
      join(folder('exp'), 'bad.json'),
      JSON.stringify({ name: 'bad', kernels: [{ tree: '/proc' }], variants: ['baseline'], workloads: [{ name: 'uffd-populate' }] }),
    );
    expect(() => loadExperiment(root, file, { layerHome: home })).toThrow(/bad\.json: kernels\.0: --tree \/proc: has no Makefile/);
    expect(entries(home)).toEqual([]);
  });
});
