/**
 * The kernel stage for real: Debian's 6.1 source, built in all three variants through the kexp
 * command. The first build of a fresh cache takes minutes; the variants must reuse its tree.
 */
import { existsSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256File } from '../../src/core/hash.js';
import { ensureHost } from '../../src/doctor/probe.js';
import type { BuildJson } from '../../src/cli/build.js';
import { buildJsonSchema } from '../../src/cli/json-output.js';
import type { BuildRecord } from '../../src/kernel/build.js';
import { markMakeStarted, UNFINISHED_MARKER } from '../../src/kernel/unfinished.js';
import { jsonLines, kexp, kexpChild, repoRoot, scratchRoot } from '../helpers/kexp.js';

const markers: Record<string, string | undefined> = {
  baseline: undefined,
  'early-break': 'kexp variant: early-break',
  continue: 'kexp variant: continue',
};

function record(artifact: BuildJson): BuildRecord {
  return JSON.parse(readFileSync(join(artifact.bzImage, '..', 'build.json'), 'utf8')) as BuildRecord;
}

/** A patch that adds a file unique to this test run: a new key, a build that compiles nothing. */
function uniquePatch(tag: string): string {
  return [
    'From 0 Mon Sep 17 00:00:00 2001',
    `Subject: [PATCH] kexp test ${tag}`,
    '',
    '---',
    `diff --git a/Documentation/kexp-test-${tag}.txt b/Documentation/kexp-test-${tag}.txt`,
    'new file mode 100644',
    '--- /dev/null',
    `+++ b/Documentation/kexp-test-${tag}.txt`,
    '@@ -0,0 +1 @@',
    `+${tag}`,
    '',
  ].join('\n');
}

describe("kexp build, 6.1 from Debian's source", () => {
  let builds: BuildJson[] = [];

  beforeAll(async () => {
    await ensureHost(repoRoot);
    const result = await kexp(['build', '--kernel', '6.1', '--variant', 'all', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    // The real output, checked against schemas/build.v1.schema.json's source.
    builds = jsonLines<unknown>(result.stdout).map((line) => buildJsonSchema.parse(line));
    console.log(
      `6.1 builds:\n${builds.map((b) => `  ${b.variant}: ${b.cached ? 'store hit' : 'built'} in ${b.seconds}s, key ${b.key.slice(0, 12)}`).join('\n')}`,
    );
  });

  it('prints one JSON object per variant with an absolute bzImage path', () => {
    expect(builds.map((b) => b.variant)).toEqual(['baseline', 'continue', 'early-break']);
    for (const b of builds) {
      expect(b.kernel).toBe('6.1');
      expect(b.bzImage.startsWith('/')).toBe(true);
      expect(existsSync(b.bzImage)).toBe(true);
      expect(b.key).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('builds three different bzImages', async () => {
    const hashes = await Promise.all(builds.map((b) => sha256File(b.bzImage)));
    expect(new Set(hashes).size).toBe(3);
  });

  it('builds the variants in the same tree and build folder, recompiling only what the patch touched', () => {
    const records = builds.map(record);
    expect(new Set(records.map((r) => r.tree.path)).size).toBe(1);
    expect(new Set(records.map((r) => r.tree.buildDir)).size).toBe(1);
    for (const r of records.filter((r) => r.variant !== 'baseline')) {
      expect(r.tree.created).toBe(false);
      // mm/gup.o plus the version stamp: a handful, not the ~1000 objects of a clean build.
      expect(r.objectsCompiled).toBeLessThan(20);
    }
  });

  it('built each variant from a tree whose mm/gup.c carries its change', () => {
    for (const b of builds) {
      const marker = markers[b.variant];
      const rec = record(b);
      if (marker === undefined) {
        expect(rec.patches).toEqual([]);
        continue;
      }
      expect(rec.patches.map((p) => p.files)).toEqual([['mm/gup.c']]);
      const gup = readFileSync(join(b.bzImage, '..', 'source', 'mm', 'gup.c'), 'utf8');
      expect(gup).toContain(marker);
      for (const [other, otherMarker] of Object.entries(markers)) if (other !== b.variant && otherMarker) expect(gup).not.toContain(otherMarker);
    }
  });

  it('answers a second request from the store in well under a second', async () => {
    const started = Date.now();
    const result = await kexp(['build', '--kernel', '6.1', '--variant', 'early-break', '--json']);
    const wall = Date.now() - started;
    expect(result.exitCode, result.stderr).toBe(0);
    const [again] = jsonLines<BuildJson>(result.stdout);
    expect(again).toMatchObject({ cached: true, key: builds.find((b) => b.variant === 'early-break')!.key });
    expect(again!.seconds).toBeLessThan(1);
    console.log(`store hit: ${again!.seconds}s inside kexp, ${wall} ms for the whole command`);
  });

  it('refuses a patch that does not apply, naming patch, file, hunk and series, and leaves the tree pristine', async () => {
    const broken = readFileSync(join(repoRoot, 'test/fixtures/patches/broken/6.1/0001-does-not-apply.patch'), 'utf8');
    const root = scratchRoot({ broken: { '6.1/0001-does-not-apply.patch': broken } });
    const result = await execa('node', [join(repoRoot, 'bin/kexp.js'), 'build', '--kernel', '6.1', '--variant', 'broken'], {
      reject: false,
      env: { KEXP_ROOT: root, CI: '1' },
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('0001-does-not-apply.patch');
    expect(result.stderr).toContain('target file: mm/gup.c');
    expect(result.stderr).toContain('hunk #2');
    expect(result.stderr).toContain('series 6.1');
    const tree = record(builds[0]!).tree.path;
    const status = await execa('git', ['-C', tree, 'status', '--porcelain']);
    expect(status.stdout).toBe('');
  });

  it('lets two processes ask for the same new key at once: one builds, the other waits and gets it from the store', async () => {
    const tag = `concurrent-${Date.now()}`;
    const root = scratchRoot({ [tag]: { [`6.1/0001-${tag}.patch`]: uniquePatch(tag) } });
    const env = { KEXP_ROOT: root };
    const [a, b] = await Promise.all([
      kexp(['build', '--kernel', '6.1', '--variant', tag, '--json'], env),
      kexp(['build', '--kernel', '6.1', '--variant', tag, '--json'], env),
    ]);
    expect(a.exitCode, a.stderr).toBe(0);
    expect(b.exitCode, b.stderr).toBe(0);
    const [ja] = jsonLines<BuildJson>(a.stdout);
    const [jb] = jsonLines<BuildJson>(b.stdout);
    expect(ja!.key).toBe(jb!.key);
    expect([ja!.cached, jb!.cached].sort()).toEqual([false, true]);
  });

  it('cleans up after Ctrl-C mid-build: make is killed, nothing half-built is stored, the next run builds it', async () => {
    const tag = `interrupt-${Date.now()}`;
    const root = scratchRoot({ [tag]: { [`6.1/0001-${tag}.patch`]: uniquePatch(tag) } });
    const child = kexpChild(['build', '--kernel', '6.1', '--variant', tag, '--json'], { KEXP_ROOT: root });
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('compiling')) resolve();
      });
      child.on('exit', () => reject(new Error(`kexp exited before compiling:\n${seen}`)));
    });
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    const makes = await execa('pgrep', ['-f', `make -C ${record(builds[0]!).tree.path}`], { reject: false });
    expect(makes.stdout.trim()).toBe('');
    const again = await kexp(['build', '--kernel', '6.1', '--variant', tag, '--json'], { KEXP_ROOT: root });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(jsonLines<BuildJson>(again.stdout)[0]!.cached).toBe(false);
  });

  it('survives a make killed mid-link: the next build in the tree removes what it left half-written instead of trusting it', async () => {
    const buildDir = record(builds[0]!).tree.buildDir;
    // What a make SIGKILLed while linking leaves: kexp's mark of a make started, then vmlinux.o
    // and an object cut short, newer than their inputs, their .cmd files those of the build before.
    // Without the cleanup, make trusts them: objcopy: vmlinux.o: file format not recognized.
    markMakeStarted(buildDir, 'a make killed by the test');
    truncateSync(join(buildDir, 'vmlinux.o'), 4096);
    truncateSync(join(buildDir, 'mm', 'gup.o'), 100);
    const tag = `killed-${Date.now()}`;
    const root = scratchRoot({ [tag]: { [`6.1/0001-${tag}.patch`]: uniquePatch(tag) } });
    const result = await kexp(['build', '--kernel', '6.1', '--variant', tag, '--json'], { KEXP_ROOT: root });
    expect(result.exitCode, result.stderr).toBe(0);
    const built = jsonLines<BuildJson>(result.stdout)[0]!;
    expect(built.cached).toBe(false);
    const rec = record(built);
    expect(rec.warnings.filter((w) => w.startsWith('a make killed in'))).toHaveLength(1);
    expect(rec.objectsCompiled).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(buildDir, UNFINISHED_MARKER))).toBe(false);
    for (const file of ['vmlinux.o', 'mm/gup.o']) {
      expect(readFileSync(join(buildDir, file)).subarray(0, 4).toString('latin1'), file).toBe('\x7fELF');
      expect(statSync(join(buildDir, file)).size, file).toBeGreaterThan(4096);
    }
  });
});
