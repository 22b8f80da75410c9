/**
 * Where run records go (results/store.ts resultsRoot): --results, $KEXP_RESULTS, the project
 * folder's results/ (a layer kexp wrote counts as the root under it), kexp's own folder when it
 * runs from a checkout. The installed case (kexp's package folder under node_modules, records under
 * $XDG_DATA_HOME) compares with packageRoot(), which is this checkout here: only its test,
 * isInstalledPackage, is tested directly.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isInstalledPackage, resultsRoot } from '../../../src/results/store.js';
import { LAYER_FILE } from '../../../src/config/layers.js';
import { packageRoot } from '../../../src/core/paths.js';
import { scratchFolders } from '../../helpers/scratch.js';

const folder = scratchFolders('kexp-results-root');

function layer(below: string, generated: boolean): string {
  const dir = folder('layer');
  writeFileSync(join(dir, LAYER_FILE), JSON.stringify({ below, ...(generated ? { generated: true } : {}) }));
  return dir;
}

const saved = { KEXP_RESULTS: process.env.KEXP_RESULTS, XDG_DATA_HOME: process.env.XDG_DATA_HOME };
beforeEach(() => {
  delete process.env.KEXP_RESULTS;
});
afterEach(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('resultsRoot', () => {
  it('--results wins over $KEXP_RESULTS, which wins over the root; both are made absolute', () => {
    const root = folder('root');
    process.env.KEXP_RESULTS = 'env-results';
    expect(resultsRoot(root, 'flag-results')).toBe(resolve('flag-results'));
    expect(resultsRoot(root)).toBe(resolve('env-results'));
    process.env.KEXP_RESULTS = '';
    expect(resultsRoot(root)).toBe(join(root, 'results'));
  });

  it('a --root folder keeps its records in its results/', () => {
    const root = folder('root');
    expect(resultsRoot(root)).toBe(join(root, 'results'));
  });

  it('a layer kexp wrote (for a tree, a patch, a config) puts them in the results/ of the root under it', () => {
    const root = folder('root');
    expect(resultsRoot(layer(root, true))).toBe(join(root, 'results'));
    // A generated layer on a generated layer: still the person's folder.
    expect(resultsRoot(layer(layer(root, true), true))).toBe(join(root, 'results'));
    // A layer a person wrote is their folder.
    const own = layer(root, false);
    expect(resultsRoot(own)).toBe(join(own, 'results'));
  });

  it("kexp's own folder, a checkout (not under node_modules), keeps them in its results/", () => {
    expect(isInstalledPackage(packageRoot())).toBe(false);
    expect(resultsRoot(packageRoot())).toBe(join(packageRoot(), 'results'));
    // A layer kexp wrote over its own folder: the same.
    expect(resultsRoot(layer(packageRoot(), true))).toBe(join(packageRoot(), 'results'));
  });

  it('an XDG_DATA_HOME does not move the records of a checkout or a --root folder', () => {
    process.env.XDG_DATA_HOME = folder('xdg');
    const root = folder('root');
    expect(resultsRoot(root)).toBe(join(root, 'results'));
    expect(resultsRoot(packageRoot())).toBe(join(packageRoot(), 'results'));
  });
});

describe('isInstalledPackage', () => {
  it('is true for a folder inside node_modules (npm install -g), false for a checkout', () => {
    expect(isInstalledPackage('/usr/lib/node_modules/kexp')).toBe(true);
    expect(isInstalledPackage('/home/me/project/node_modules/@scope/kexp')).toBe(true);
    expect(isInstalledPackage('/home/me/src/kexp')).toBe(false);
    expect(isInstalledPackage('/home/me/node_modules_backup/kexp')).toBe(false);
    expect(isInstalledPackage('/home/me/node_modules/../src/kexp')).toBe(false);
  });
});
