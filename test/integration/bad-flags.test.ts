/**
 * Bad flags fail at once: the built CLI, spawned as a user would, exits 2 within a couple of
 * seconds naming the flag, the value and what is accepted, before any package install, build or
 * boot (a fresh, empty cache folder gets no work/ folder). On current main before this check,
 * each of these started a cold kernel build (8-10 minutes) first, or ran with a value misread.
 */
import { cellRecord, runManifest, uffdSamples } from '../helpers/records.js';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunStore } from '../../src/results/store.js';
import { kexp } from '../helpers/kexp.js';

const cases: [string[], RegExp][] = [
  [
    ['explain', '--kernel', '6.12', '--variant', 'baseline,nosuch'],
    /^kexp: --variant: unknown variant "nosuch"\n\s+→ known variants: baseline, continue, early-break/,
  ],
  [['explain', '--kernel', '6.12', '--function', 'bad name'], /^kexp: --function: "bad name" is not a kernel function name/],
  [['boot', '--kernel', '6.12', '--functions', 'bad name'], /^kexp: --functions: "bad name" is not a kernel function name/],
  [['boot', '--kernel', '6.12', '--workload', 'uffd-populate $(id)'], /^kexp: --workload: "uffd-populate \$\(id\)": "\$\(id\)" has characters/],
  [['boot', '--kernel', '6.12', '--pages', '99999999'], /^kexp: --pages: 99999999 pages do not fit the guest: expected at most 131072/],
  [['boot', '--kernel', '6.12', '--watchdog', '-1'], /^kexp: --watchdog: expected a whole number of seconds from 5 to 3600, found "-1"/],
  [['boot', '--kernel', '6.12', '--memory', 'abc'], /^kexp: --memory: expected a whole number of MiB from 128 to 65536, found "abc"/],
  [['build', '-k', 'nosuch', '-V', 'early-break'], /^kexp: --kernel: unknown kernel "nosuch"/],
  [['run', '--only', 'kernel=6.1=6.12'], /^kexp: --only: "kernel=6\.1=6\.12" is not key=value/],
  [['run', '--only', 'kernel=5.10'], /^kexp: --only: kernel "5\.10" is not in this experiment\n\s+→ its kernels: 6\.1, 6\.12/],
  [
    ['bisect', '--series', 'patches/early-break/6.1', '--pages', '64,1e3', '--predicate', '__get_user_pages.per_page <= 2'],
    /^kexp: --pages: expected page counts/,
  ],
  // your own kernel: each refused before a layer, a snapshot or a build
  [['build', '--tree', '/proc'], /^kexp: --tree \/proc: has no Makefile: it is not a kernel source tree/],
  [['boot', '--kernel', '6.12', '--tree', '/tmp'], /^kexp: --tree \/tmp and --kernel 6\.12: one kernel source at a time/],
  [['run', '--kernel', '6.12', '--patch', '/nonexistent.patch'], /^kexp: --patch \/nonexistent\.patch: no such file or folder/],
  [['boot', '--kernel', '6.12', '--patch', '/etc/hostname'], /^kexp: --patch \/etc\/hostname: no patch found/],
  [['boot', '--bzimage', '/etc/hostname'], /^kexp: \/etc\/hostname is a text file, not an x86 bzImage/],
  [['build', '--kernel', '6.12', '--config', 'menuconfig'], /^kexp: --config menuconfig: no such file, and not a make target that writes a whole \.config/],
  [['build', '--kernel', '6.12', '--config-add', 'garbage'], /^kexp: --config-add garbage: not CONFIG_X=VALUE and no such file/],
  [['run', '--root', '/nonexistent-root'], /^kexp: the project folder \/nonexistent-root \(from --root\) is not a folder/],
];

describe('bad flags are refused before anything slow starts', () => {
  for (const [args, message] of cases) {
    it(`kexp ${args.join(' ')}`, async () => {
      const cache = mkdtempSync(join(tmpdir(), 'kexp-cache-'));
      const started = Date.now();
      const r = await kexp(args, { KEXP_CACHE: cache });
      const seconds = (Date.now() - started) / 1000;
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(seconds).toBeLessThan(3);
      expect(existsSync(join(cache, 'work'))).toBe(false);
      expect(existsSync(join(cache, 'store', 'kernels'))).toBe(false);
    });
  }

  it('kexp report --function names the functions the run has', async () => {
    const results = mkdtempSync(join(tmpdir(), 'kexp-results-'));
    const experiment = {
      name: 'x',
      kernels: ['6.12'],
      variants: ['baseline'],
      workloads: [{ name: 'uffd-populate' }],
      functions: ['__get_user_pages', 'handle_userfault'],
    };
    const manifest = runManifest('x-20261126-000000', { '6.12_baseline_r0': { variant: 'baseline', rep: 0 } }, { updatedAt: '2026-11-26T00:00:00.000Z' });
    const store = RunStore.create(results, manifest.id, JSON.stringify(experiment), manifest);
    const cell = cellRecord({
      id: '6.12_baseline_r0',
      samples: uffdSamples((pages) => ({ ftrace: { __get_user_pages: 2 * pages + 3, handle_userfault: pages } })),
    });
    store.recordCell(cell);
    const cache = mkdtempSync(join(tmpdir(), 'kexp-cache-'));
    const ok = await kexp(['report', manifest.id, '--results', results, '--function', 'handle_userfault'], { KEXP_CACHE: cache });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/handle_userfault calls per faulted page/);
    const bad = await kexp(['report', manifest.id, '--results', results, '--function', 'bad;name'], { KEXP_CACHE: cache });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^kexp: --function: "bad;name" is not a kernel function name/);
    expect(bad.stderr).toMatch(/this run counted: __get_user_pages, handle_userfault/);
    const missing = await kexp(['report', manifest.id, '--results', results, '--function', 'do_page_fault'], { KEXP_CACHE: cache });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/^kexp: --function: this run never counted "do_page_fault"\n\s+→ this run counted: __get_user_pages, handle_userfault/);
  });
});
