/**
 * npm run bench:own — a developer's own tree, measured in one run on this machine (issue 15):
 *   1. a clean build of a tree (a git repository of Debian's 6.12 source with an uncommitted
 *      change), with an empty ccache of its own: the reference (every object a miss), which
 *      fills that ccache;
 *   2. the first build of the same content plus another one-line change, in a second tree at
 *      another path: how much comes from ccache (CCACHE_BASEDIR makes the paths relative);
 *   3. a one-file edit of the first clone, rebuilt: target <= 0.1 x the clean build;
 *   4. a patch variant of the tree (--patch, mm/gup.c): the same target.
 * Everything in a fresh cache; the 6.12 source comes from /usr/src (linux-source-6.12).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../src/core/paths.js';

const root = packageRoot();
const cache = mkdtempSync(join(tmpdir(), 'kexp-bench-own-'));
const work = mkdtempSync(join(tmpdir(), 'kexp-bench-trees-'));
const ccacheDir = join(work, 'ccache');

interface BuildJson {
  key: string;
  cached: boolean;
  bzImage: string;
}
interface BuildRecord {
  timings: { [phase: string]: number };
  objectsCompiled: number;
}

async function build(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ wall: number; record: BuildRecord }> {
  const started = process.hrtime.bigint();
  const result = await execa('node', [join(root, 'bin/kexp.js'), 'build', ...args, '--json'], {
    env: { ...env, KEXP_CACHE: cache, CCACHE_DIR: ccacheDir, CI: '1' },
    stderr: 'inherit',
  });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const json = JSON.parse(result.stdout.trim().split('\n').pop()!) as BuildJson;
  const record = JSON.parse(readFileSync(join(json.bzImage, '..', 'build.json'), 'utf8')) as BuildRecord;
  process.stderr.write(`${name}: ${wall.toFixed(1)} s, ${record.objectsCompiled} objects\n`);
  return { wall, record };
}

async function ccacheHits(): Promise<string> {
  const stats = (await execa('ccache', ['--print-stats'], { env: { CCACHE_DIR: ccacheDir } })).stdout;
  const value = (key: string): number => Number(new RegExp(`^${key}\\t(\\d+)$`, 'm').exec(stats)?.[1] ?? 0);
  const hits = value('direct_cache_hit') + value('preprocessed_cache_hit');
  const misses = value('cache_miss');
  return `${hits} hits, ${misses} misses (${((100 * hits) / Math.max(1, hits + misses)).toFixed(1)}% from ccache)`;
}

async function clone(name: string): Promise<string> {
  const dir = join(work, name);
  await execa('mkdir', ['-p', dir]);
  await execa('tar', ['-x', '-f', '/usr/src/linux-source-6.12.tar.xz', '-C', dir, '--strip-components=1']);
  // Debian's source package ignores everything at the top ("/*", for its packaging): a developer's tree does not.
  writeFileSync(join(dir, '.gitignore'), readFileSync(join(dir, '.gitignore'), 'utf8').replace(/^\/\*$/m, ''));
  await execa('git', ['init', '-q'], { cwd: dir });
  await execa('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', 'add', '-A'], { cwd: dir });
  await execa('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', 'commit', '-q', '-m', 'linux 6.12'], { cwd: dir });
  return dir;
}

function edit(dir: string, file: string, line: string): void {
  writeFileSync(join(dir, file), `${readFileSync(join(dir, file), 'utf8')}\n${line}\n`);
}

try {
  process.stderr.write(`bench:own — cache ${cache}, trees and ccache in ${work}\n`);
  const first = await clone('linux-a');
  edit(first, 'mm/gup.c', '/* an uncommitted change */');
  const clean = await build('clean build of a tree (empty ccache)', ['--tree', first], {});
  const cleanHits = await ccacheHits();
  await execa('ccache', ['--zero-stats'], { env: { CCACHE_DIR: ccacheDir } });
  const second = await clone('linux-b');
  edit(second, 'mm/gup.c', '/* another change, another path */');
  const other = await build('first build of a second tree at another path', ['--tree', second], {});
  const hits = await ccacheHits();
  edit(first, 'mm/gup.c', '/* a one-file edit */');
  const oneFile = await build('one-file edit of the first tree', ['--tree', first], {});
  // A patch on the tree as it is now: one more line in mm/gup.c.
  const patched = join(work, 'gup.c');
  writeFileSync(patched, `${readFileSync(join(first, 'mm/gup.c'), 'utf8')}/* patched */\n`);
  const patch = join(work, 'fix.patch');
  writeFileSync(
    patch,
    `${(await execa('diff', ['-u', '--label', 'a/mm/gup.c', '--label', 'b/mm/gup.c', join(first, 'mm/gup.c'), patched], { reject: false })).stdout}\n`,
  );
  const variant = await build('patch variant of the tree (--patch)', ['--tree', first, '--variant', `fix=${patch}`], {});
  const lines = [
    `linux 6.12 trees on ${(await execa('nproc')).stdout} cores`,
    `clean build of a tree               ${clean.wall.toFixed(1).padStart(6)} s  (make ${clean.record.timings.make?.toFixed(1)} s, ${clean.record.objectsCompiled} objects; ccache: ${cleanHits})`,
    `first build of another tree         ${other.wall.toFixed(1).padStart(6)} s  (make ${other.record.timings.make?.toFixed(1)} s; ccache: ${hits})`,
    `one-file edit                       ${oneFile.wall.toFixed(1).padStart(6)} s  (make ${oneFile.record.timings.make?.toFixed(1)} s, ${oneFile.record.objectsCompiled} objects)`,
    `patch variant                       ${variant.wall.toFixed(1).padStart(6)} s  (make ${variant.record.timings.make?.toFixed(1)} s, ${variant.record.objectsCompiled} objects)`,
    `ratio another tree / clean          ${(other.wall / clean.wall).toFixed(3)}`,
    `ratio one-file edit / clean         ${(oneFile.wall / clean.wall).toFixed(3)}  (target <= 0.1)`,
    `ratio patch variant / clean         ${(variant.wall / clean.wall).toFixed(3)}  (target <= 0.1)`,
  ];
  console.log(lines.join('\n'));
} finally {
  if (!process.env.KEXP_BENCH_KEEP) {
    rmSync(cache, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}
