/**
 * The parsers of kernel recipes (kernels/*.json) and experiment files (experiments/*.json), fed
 * truncated prefixes of the repository's real files, seeded random bytes, random JSON values and
 * mutations of the valid value: each must end in an InputError naming the file (exit 2), or (for a
 * mutation that happens to stay valid) load; never another exception. Also: a kernel is a name,
 * never a path, and an experiment is a file, never a folder.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadExperiment, resolveExperimentFile } from '../../../src/config/experiment.js';
import { loadRecipe, parseRecipe } from '../../../src/config/recipe.js';
import { EXIT, InputError } from '../../../src/core/errors.js';
import { packageRoot } from '../../../src/core/paths.js';
import { expectInputError, keysOf, mutate, prefixes, prng, randomBytes, randomJson, writeCase } from '../results/fuzz.js';

const repo = packageRoot();
const scratch = mkdtempSync(join(tmpdir(), 'kexp-config-fuzz-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('kernel recipes: damaged files', () => {
  const text = readFileSync(join(repo, 'kernels/6.12.json'), 'utf8').trimEnd();
  const valid: unknown = JSON.parse(text);
  const keys = keysOf(valid);
  // parseRecipe checks that the name matches the file's name: the damaged copy keeps the name.
  const file = join(scratch, '6.12.json');
  const fragments = join(repo, 'kernels/fragments');

  it('parses the real recipe', () => {
    expect(parseRecipe(file, text, fragments).name).toBe('6.12');
  });

  it('refuses every truncated prefix, random bytes and random JSON with an InputError naming the file', () => {
    const rand = prng(0x72656369);
    const cases = [
      ...prefixes(text),
      ...Array.from({ length: 300 }, (_, i) => randomBytes(rand, 1 + (i % 40)).toString('latin1')),
      ...Array.from({ length: 300 }, () => JSON.stringify(randomJson(rand, keys))),
    ];
    for (const damaged of cases) expectInputError(() => parseRecipe(file, damaged, fragments), file, `recipe ${JSON.stringify(damaged.slice(0, 120))}`);
  });

  it('a mutated recipe loads, or is refused naming the file', () => {
    const rand = prng(0x6d757461);
    let refused = 0;
    for (let i = 0; i < 400; i++) {
      const damaged = JSON.stringify(mutate(rand, valid, keys));
      if (expectInputError(() => parseRecipe(file, damaged, fragments), file, `mutation ${i}: ${damaged}`, true) === 'refused') refused++;
    }
    expect(refused).toBeGreaterThan(200);
  });

  it('loadRecipe reads through the same checks (a truncated file in kernels/)', () => {
    const root = join(scratch, 'root-truncated');
    mkdirSync(join(root, 'kernels/fragments'), { recursive: true });
    writeFileSync(join(root, 'kernels/k.json'), '{"name": "k", "source": {"type": "debian-pa');
    expectInputError(() => loadRecipe(root, 'k'), join(root, 'kernels/k.json'), 'truncated kernels/k.json');
    mkdirSync(join(root, 'kernels/d.json'));
    expectInputError(() => loadRecipe(root, 'd'), join(root, 'kernels/d.json'), 'a folder named d.json');
  });
});

describe('kernel names', () => {
  it('refuses a path as a kernel name (exit 2), listing the known kernels, even where the path leads to a valid recipe', () => {
    const root = join(scratch, 'root-names');
    mkdirSync(join(root, 'kernels/fragments'), { recursive: true });
    writeFileSync(join(root, 'kernels/fragments/base.config'), 'CONFIG_A=y\n');
    const recipe = (name: string): string => JSON.stringify({ name, source: { type: 'debian-package', package: 'linux-source-6.1' }, fragments: ['base'] });
    writeFileSync(join(root, 'kernels/k.json'), recipe('k'));
    // A valid recipe outside kernels/: reachable as "../x" before names were checked.
    writeFileSync(join(root, 'x.json'), recipe('x'));
    expect(loadRecipe(root, 'k').name).toBe('k');
    for (const name of ['../x', '../kernels/k', '/etc/passwd', 'a/b', '.', '..', '.hidden', '', 'k\u0000']) {
      try {
        loadRecipe(root, name);
        expect.unreachable(`kernel name ${JSON.stringify(name)} was accepted`);
      } catch (error) {
        expect(error).toBeInstanceOf(InputError);
        expect((error as InputError).exitCode).toBe(EXIT.usage);
        expect((error as InputError).message).toContain(`kernel "${name}"`);
        // The root is layered over kexp's own kernels: k is listed among them.
        expect((error as InputError).hint).toMatch(/known kernels: ([\w.-]+, )*k(, [\w.-]+)*;/);
      }
    }
  });
});

describe('experiment files: damaged files, through the public loader', () => {
  const text = readFileSync(join(repo, 'experiments/default.json'), 'utf8').trimEnd();
  const valid: unknown = JSON.parse(text);
  const keys = keysOf(valid);
  const file = join(scratch, 'experiment.json');

  it('loads the real experiment', () => {
    writeCase(file, text);
    expect(loadExperiment(repo, file).experiment.name).toBe('default');
  });

  it('refuses every truncated prefix, random bytes and random JSON with an InputError naming the file', { timeout: 60_000 }, () => {
    const rand = prng(0x65787065);
    const cases = [
      ...prefixes(text),
      ...Array.from({ length: 200 }, (_, i) => randomBytes(rand, 1 + (i % 40))),
      ...Array.from({ length: 200 }, () => JSON.stringify(randomJson(rand, keys))),
    ];
    for (const damaged of cases) {
      writeCase(file, damaged);
      expectInputError(() => loadExperiment(repo, file), file, `experiment ${JSON.stringify(damaged.toString('latin1').slice(0, 120))}`);
    }
  });

  it('a mutated experiment loads, or is refused naming the file', { timeout: 60_000 }, () => {
    const rand = prng(0x6d757462);
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const damaged = JSON.stringify(mutate(rand, valid, keys));
      writeCase(file, damaged);
      if (expectInputError(() => loadExperiment(repo, file), file, `mutation ${i}: ${damaged}`, true) === 'refused') refused++;
    }
    expect(refused).toBeGreaterThan(100);
  });
});

describe('experiment files: a folder is not one', () => {
  it('refuses a folder with exit 2, and points a run folder at --resume', () => {
    const plain = join(scratch, 'a-folder');
    mkdirSync(plain, { recursive: true });
    expect(() => resolveExperimentFile(repo, plain)).toThrow(/a-folder: is a folder, not an experiment file/);
    const run = join(scratch, 'default-20261201-100000');
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, 'manifest.json'), '{}');
    writeFileSync(join(run, 'experiment.json'), '{}');
    try {
      resolveExperimentFile(repo, run);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).hint).toContain(`kexp run --resume ${run}`);
    }
    // A name under experiments/ and a file still resolve.
    expect(resolveExperimentFile(repo, 'default')).toBe(join(repo, 'experiments/default.json'));
  });
});
