/**
 * A developer's own kernel, for real: a git clone of the 6.12 source the suite already extracted,
 * with the early-break fix applied but not committed (plus an untracked file), built and booted
 * with --tree; a one-file edit rebuilt; a patch given with --patch compared against the tree in
 * one `kexp run`; a kernel built elsewhere booted with --bzimage. The clone compiles mostly from
 * ccache (the 6.12 package tree's objects, at another path), so this file adds no clean build.
 * Nothing may be written into the user's tree: its files, mtimes and .git are compared before
 * and after.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureHost } from '../../src/doctor/probe.js';
import type { Figure } from '../../src/records/index.js';
import { kexp, repoRoot } from '../helpers/kexp.js';

interface BuildJson {
  kernel: string;
  variant: string;
  key: string;
  bzImage: string;
  cached: boolean;
  seconds: number;
}
interface BootJson {
  status: string;
  kernel: string;
  variant: string;
  kernelKey: string;
  figures: Figure[];
}

const work = mkdtempSync(join(tmpdir(), 'kexp-own-'));
const tree = join(work, 'linux');
const results = join(work, 'results');
const earlyBreak = join(repoRoot, 'patches', 'early-break', '6.12');
const revert = join(work, 'revert.patch');
const nonce = `${process.pid}-${Date.now()}`;

function jsonLine<T>(stdout: string): T {
  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`no JSON on stdout:\n${stdout}`);
  return JSON.parse(line) as T;
}

/** Every file of the tree (its .git included) with its size, mtime and, for .git's small files, content. */
function fingerprint(dir: string): string {
  const lines: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      const stat = lstatSync(path);
      if (stat.isDirectory()) walk(path);
      else
        lines.push(
          `${relative(dir, path)} ${stat.size} ${stat.mtimeMs}${relative(dir, path).startsWith('.git/') && stat.size < 1 << 20 ? ` ${createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16)}` : ''}`,
        );
    }
  };
  walk(dir);
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

function perPage(figures: Figure[], workload: string, fn = '__get_user_pages'): number | null | undefined {
  return figures.find((f) => f.workload === workload && f.function === fn)?.per_page;
}

async function buildRecord(
  key: string,
): Promise<{ objectsCompiled: number; logFile: string; source: { kind: string; label: string }; tree: { path: string } }> {
  const store = join(process.env.KEXP_CACHE ?? join(process.env.HOME ?? '/root', '.cache', 'kexp'), 'store');
  return JSON.parse(readFileSync(join(store, 'kernels', key, 'build.json'), 'utf8')) as never;
}

let before: string;
const timings: Record<string, number> = {};

beforeAll(async () => {
  await ensureHost(repoRoot);
  // The 6.12 source tree the suite builds anyway (a store hit when another test built it).
  const base = await kexp(['build', '--kernel', '6.12', '--json']);
  expect(base.exitCode, base.stderr).toBe(0);
  const record = await buildRecord(jsonLine<BuildJson>(base.stdout).key);
  await execa('git', ['clone', '-q', '--shared', record.tree.path, tree]);
  // Debian's source package ignores everything at the top level ("/*" in .gitignore, for its
  // packaging); a kernel.org tree does not: drop that rule, as a commit of the user's.
  const gitignore = join(tree, '.gitignore');
  writeFileSync(gitignore, readFileSync(gitignore, 'utf8').replace(/^\/\*$/m, ''));
  await execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '-q', '-m', 'no Debian packaging rule', '--', '.gitignore'], {
    cwd: tree,
  });
  // The fix, applied and not committed; an untracked file beside it.
  const patch = join(earlyBreak, readdirSync(earlyBreak)[0]!);
  await execa('git', ['apply', patch], { cwd: tree });
  // Content of this run's own (a second run of the test on the same cache builds again, rather
  // than finding the first run's kernel: the store is keyed by content, not by path).
  writeFileSync(join(tree, 'mm', 'kexp-untracked-note.txt'), `not committed, not ignored; ${nonce}\n`);
  // The fix reverted, as a patch on the tree: what the tree does without its uncommitted change.
  writeFileSync(revert, `${(await execa('git', ['diff', '-R', '--', 'mm/gup.c'], { cwd: tree })).stdout}\n`);
  before = fingerprint(tree);
});

afterAll(() => {
  console.log(`own kernel timings (s): ${JSON.stringify(timings)}`);
  rmSync(work, { recursive: true, force: true });
});

describe('kexp boot --tree: the tree as it is on disk', () => {
  let boot: { exitCode: number; json: BootJson; stderr: string };
  beforeAll(async () => {
    const started = Date.now();
    const result = await kexp(['boot', '--tree', tree, '--workload', 'async-pf', '--accel', 'tcg', '--json']);
    timings.firstTreeBuildAndBoot = (Date.now() - started) / 1000;
    boot = { exitCode: result.exitCode, json: jsonLine<BootJson>(result.stdout), stderr: result.stderr };
  });

  it('builds the uncommitted fix: async-pf runs __get_user_pages 2 times per page, not 3', async () => {
    expect(boot.exitCode, boot.stderr).toBe(0);
    expect(boot.json).toMatchObject({ status: 'ok', kernel: 'linux', variant: 'baseline' });
    expect(perPage(boot.json.figures, 'async-pf')).toBe(2);
    const record = await buildRecord(boot.json.kernelKey);
    expect(record.source.kind).toBe('tree');
    expect(record.source.label).toContain(tree);
    expect(record.source.label).toMatch(/\+ \d+ changed files? \(.*mm\/gup\.c/);
    expect(record.source.label).toContain('mm/kexp-untracked-note.txt');
  });

  it('after a one-file edit, recompiles that file only', async () => {
    writeFileSync(join(tree, 'mm', 'gup.c'), `${readFileSync(join(tree, 'mm', 'gup.c'), 'utf8')}\n/* an edit, ${nonce} */\n`);
    before = fingerprint(tree);
    const started = Date.now();
    const result = await kexp(['build', '--tree', tree, '--json']);
    timings.oneFileEdit = (Date.now() - started) / 1000;
    expect(result.exitCode, result.stderr).toBe(0);
    const built = jsonLine<BuildJson>(result.stdout);
    expect(built.cached).toBe(false);
    const record = await buildRecord(built.key);
    // Of the kernel's sources, mm/gup.c only; the rest is what every link redoes (version,
    // kallsyms, the boot wrapper).
    const compiled = readFileSync(record.logFile, 'utf8')
      .split('\n')
      .map((l) => /^\s+CC\s+(\S+)$/.exec(l)?.[1])
      .filter((o): o is string => o !== undefined);
    expect(compiled.filter((o) => !/^(init\/version|arch\/x86\/boot\/)/.test(o))).toEqual(['mm/gup.o']);
    // Same content again: the store has it.
    const again = await kexp(['build', '--tree', tree, '--json']);
    expect(jsonLine<BuildJson>(again.stdout)).toMatchObject({ key: built.key, cached: true });
  });
});

describe('kexp run --tree --patch: the tree with and without a patch, side by side', () => {
  let run: { exitCode: number; stdout: string; stderr: string };
  beforeAll(async () => {
    const started = Date.now();
    run = await kexp(['run', '--tree', tree, '--patch', revert, '--results', results]);
    timings.runWithPatch = (Date.now() - started) / 1000;
  });

  it('prints the table with baseline and the patch as columns', () => {
    expect(run.exitCode, run.stderr).toBe(0);
    const table = run.stdout.slice(run.stdout.indexOf('__get_user_pages calls per faulted page'));
    expect(table).toMatch(/workload\s+baseline\s+revert\n/);
    expect(table).toMatch(/uffd-populate\s+1\s+2\n/);
    expect(table).toMatch(/async-pf\s+2\s+3\n/);
    expect(table).toMatch(/uffd-remote\s+2\s+2\n/);
  });

  it('kexp explain names what the patch changed: the async-pf call the fix removed comes back', async () => {
    const result = await kexp([
      'explain',
      '--tree',
      tree,
      '--patch',
      revert,
      '--workload',
      'async-pf',
      '--function',
      '__get_user_pages',
      '--accel',
      'tcg',
      '--json',
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    const json = jsonLine<{
      variants: { variant: string }[];
      changes: { from: string; to: string; total: { before: number; after: number }; buckets: unknown[] }[];
    }>(result.stdout);
    expect(json.variants.map((v) => v.variant)).toEqual(['baseline', 'revert']);
    expect(json.changes).toEqual([expect.objectContaining({ from: 'baseline', to: 'revert', total: { before: 2, after: 3 } })]);
    expect(json.changes[0]!.buckets.length).toBeGreaterThan(0);
  });

  it('keeps the layer (recipe, patch) with the run record, and writes the results where asked', () => {
    const [runDir] = readdirSync(results).filter((d) => existsSync(join(results, d, 'manifest.json')));
    expect(runDir).toBeDefined();
    const layer = join(results, runDir!, 'layer');
    expect(JSON.parse(readFileSync(join(layer, 'kernels', 'linux.json'), 'utf8'))).toMatchObject({ source: { type: 'tree', path: tree }, series: '6.12' });
    expect(readdirSync(join(layer, 'patches', 'revert', '6.12')).filter((f) => f.endsWith('.patch'))).toEqual(['0001-revert.patch']);
  });
});

describe('bad input, before any build', () => {
  it('a patch that does not apply names the file and the hunk, and the tree is left as it was', async () => {
    const stale = join(work, 'stale.patch');
    writeFileSync(stale, readFileSync(join(earlyBreak, readdirSync(earlyBreak)[0]!), 'utf8'));
    const result = await kexp(['build', '--tree', tree, '--patch', stale]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('patch does not apply');
    expect(result.stderr).toContain(`patch does not apply: ${stale}`);
    expect(result.stderr).toMatch(/hunk #1 \(patch line \d+\)/);
  });

  it('a folder that is not a kernel tree, a file that is not a bzImage, a config that is not one', async () => {
    const notTree = await kexp(['build', '--tree', work]);
    expect(notTree.exitCode).toBe(2);
    expect(notTree.stderr).toContain(`--tree ${work}: has no Makefile`);
    const notImage = await kexp(['boot', '--bzimage', join(tree, 'Makefile')]);
    expect(notImage.exitCode).toBe(2);
    expect(notImage.stderr).toContain('not an x86 bzImage');
    const notConfig = await kexp(['build', '--tree', tree, '--config', join(tree, 'Makefile')]);
    expect(notConfig.exitCode).toBe(2);
    expect(notConfig.stderr).toMatch(/--config .*Makefile: has no CONFIG_X=\.\.\. lines: it is not a kernel \.config/);
  });

  it('a --config-add that the kernel cannot have is named after olddefconfig', async () => {
    const result = await kexp(['build', '--tree', tree, '--config-add', 'CONFIG_KEXP_NO_SUCH_OPTION=y']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('CONFIG_KEXP_NO_SUCH_OPTION');
  });

  it('never wrote into the tree', () => {
    expect(fingerprint(tree)).toBe(before);
  });
});

describe('kexp boot --bzimage: a kernel built elsewhere', () => {
  it('boots a bzImage with the .config it was built with, and refuses one whose config lacks what kexp needs', async () => {
    const base = jsonLine<BuildJson>((await kexp(['build', '--kernel', '6.12', '--json'])).stdout);
    const elsewhere = join(work, 'elsewhere');
    cpSync(dirname(base.bzImage), elsewhere, { recursive: true });
    const noConfig = await kexp(['boot', '--bzimage', join(elsewhere, 'bzImage')]);
    expect(noConfig.exitCode).toBe(2);
    expect(noConfig.stderr).toContain('embeds no configuration');
    const lacking = join(work, 'lacking.config');
    writeFileSync(lacking, readFileSync(join(elsewhere, 'config'), 'utf8').replace(/^CONFIG_USERFAULTFD=y$/m, '# CONFIG_USERFAULTFD is not set'));
    const refused = await kexp(['boot', '--bzimage', join(elsewhere, 'bzImage'), '--config', lacking]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/CONFIG_USERFAULTFD\s+is not set/);
    const started = Date.now();
    const result = await kexp(['boot', '--bzimage', join(elsewhere, 'bzImage'), '--config', join(elsewhere, 'config'), '--accel', 'tcg', '--json']);
    timings.bzImageBoot = (Date.now() - started) / 1000;
    expect(result.exitCode, result.stderr).toBe(0);
    const boot = jsonLine<BootJson>(result.stdout);
    expect(boot).toMatchObject({ status: 'ok', variant: 'bzimage' });
    expect(boot.kernel).toMatch(/^6\.12\./);
    expect(perPage(boot.figures, 'uffd-populate')).toBe(2);

    // explain needs the source it was built from: named, or refused.
    const sourceless = await kexp(['explain', '--bzimage', join(elsewhere, 'bzImage'), '--config', join(elsewhere, 'config')]);
    expect(sourceless.exitCode).toBe(2);
    expect(sourceless.stderr).toContain('which source was it built from?');
    const explained = await kexp([
      'explain',
      '--bzimage',
      join(elsewhere, 'bzImage'),
      '--config',
      join(elsewhere, 'config'),
      '--kernel',
      '6.12',
      '--function',
      '__get_user_pages',
      '--accel',
      'tcg',
      '--json',
    ]);
    expect(explained.exitCode, explained.stderr).toBe(0);
    const json = jsonLine<{
      variants: { variant: string; definitions: Record<string, string>; explanations: { workload: string; adds_up: boolean; total: { per_page: number } }[] }[];
    }>(explained.stdout);
    expect(json.variants[0]!.definitions.__get_user_pages).toMatch(/^mm\/gup\.c:\d+$/);
    expect(json.variants[0]!.explanations).toEqual([
      expect.objectContaining({ workload: 'async-pf', adds_up: true, total: expect.objectContaining({ per_page: 3 }) }),
    ]);
  });
});
