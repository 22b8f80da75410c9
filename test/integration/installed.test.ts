/**
 * kexp installed as a package (npm pack, then npm install -g into a prefix of its own): it finds
 * its kernels, fragments, patches and agent in its package folder, and keeps its run records under
 * $XDG_DATA_HOME/kexp/results (~/.local/share/kexp/results), never in the package folder.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/kexp.js';

const work = mkdtempSync(join(tmpdir(), 'kexp-installed-'));
const prefix = join(work, 'prefix');
const installed = join(prefix, 'lib', 'node_modules', 'kexp');
const bin = join(prefix, 'bin', 'kexp');

beforeAll(async () => {
  // The package as npm publishes it (dist/ is built by the test command's pretest).
  await execa('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: repoRoot });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
  await execa('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', join(work, tarball)], { cwd: work });
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('kexp installed globally', () => {
  it('keeps run records under $XDG_DATA_HOME/kexp/results, or ~/.local/share/kexp/results', async () => {
    const data = join(work, 'data');
    mkdirSync(data);
    const withXdg = await execa(bin, ['report'], { reject: false, env: { XDG_DATA_HOME: data, KEXP_RESULTS: '', CI: '1' } });
    expect(withXdg.exitCode).toBe(2);
    expect(withXdg.stderr).toContain(`no runs in ${join(data, 'kexp', 'results')}`);
    const home = join(work, 'home');
    mkdirSync(home);
    const withoutXdg = await execa(bin, ['runs', '--json'], {
      reject: false,
      env: { HOME: home, XDG_DATA_HOME: '', KEXP_RESULTS: '', KEXP_CACHE: join(work, 'cache'), CI: '1' },
    });
    expect(withoutXdg.exitCode, withoutXdg.stderr).toBe(0);
    const nowhere = await execa(bin, ['report'], {
      reject: false,
      env: { HOME: home, XDG_DATA_HOME: '', KEXP_RESULTS: '', KEXP_CACHE: join(work, 'cache'), CI: '1' },
    });
    expect(nowhere.stderr).toContain(`no runs in ${join(home, '.local', 'share', 'kexp', 'results')}`);
    expect(existsSync(join(installed, 'results'))).toBe(false);
  });

  it('finds its own kernels, variants and experiments in the package folder', async () => {
    const build = await execa(bin, ['build', '--kernel', 'nosuch'], { reject: false, env: { KEXP_CACHE: join(work, 'cache'), CI: '1' } });
    expect(build.exitCode).toBe(2);
    expect(build.stderr).toContain('known kernels: 6.1, 6.12');
    const explain = await execa(bin, ['explain', '--kernel', '6.12', '--variant', 'nosuch'], {
      reject: false,
      env: { KEXP_CACHE: join(work, 'cache'), CI: '1' },
    });
    expect(explain.stderr).toContain('known variants: baseline, continue, early-break');
  });
});
