/**
 * Boot and measure for real: the three 6.12 variants with uffd-populate at 64 and 128 pages
 * under QEMU (TCG here), and a kernel patched to panic on purpose.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureHost } from '../../src/doctor/probe.js';
import { bootJsonSchema, type BootJson } from '../../src/cli/json-output.js';
import { kexp, kexpChild, repoRoot, scratchRoot } from '../helpers/kexp.js';

async function bootJson(args: string[], env: Record<string, string> = {}): Promise<{ exitCode: number; json: BootJson; stderr: string }> {
  const result = await kexp(['boot', ...args, '--json'], env);
  const line = result.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`kexp boot printed no JSON (exit ${result.exitCode}):\n${result.stderr}`);
  // The real output, checked against schemas/boot.v1.schema.json's source: every field described, none missing.
  return { exitCode: result.exitCode, json: bootJsonSchema.parse(JSON.parse(line)), stderr: result.stderr };
}

describe('kexp boot, 6.12, uffd-populate at 64 and 128 pages', () => {
  const results: Record<string, BootJson> = {};

  beforeAll(async () => {
    await ensureHost(repoRoot);
    for (const variant of ['baseline', 'early-break', 'continue']) {
      const { json, stderr } = await bootJson([
        '--kernel',
        '6.12',
        '--variant',
        variant,
        '--workload',
        'uffd-populate,uffd-populate --write',
        '--pages',
        '64,128',
      ]);
      results[variant] = json;
      const gup = json.figures
        .filter((f) => f.function === '__get_user_pages')
        .map((f) => `${f.workload}: ${f.status === 'ok' ? `${f.per_page}/page + ${f.fixed}` : `${f.status} (${f.reason})`}`);
      console.log(`6.12 ${variant}: ${json.status} in ${json.seconds}s under ${json.accel}; __get_user_pages ${gup.join('; ')}`);
      if (json.status !== 'ok') console.log(stderr);
    }
  });

  it('runs every planned sample and reports each one', () => {
    for (const [variant, r] of Object.entries(results)) {
      expect(r.status, `${variant}: ${r.reason}`).toBe('ok');
      expect(r.samples.map((s) => `${[s.workload, ...s.args].join(' ')}@${s.pages}`)).toEqual([
        'uffd-populate@64',
        'uffd-populate@128',
        'uffd-populate --write@64',
        'uffd-populate --write@128',
      ]);
    }
  });

  it('verifies the data wherever the populate syscall succeeded', () => {
    for (const r of Object.values(results)) {
      for (const s of r.samples) {
        const result = s.result as { ret: number; verified: number; pages: number; faults: number; ok: boolean } | null;
        expect(result).not.toBeNull();
        if (result!.ret === 0) {
          expect(result!.verified).toBe(s.pages);
          expect(result!.faults).toBe(s.pages);
        }
        expect(s.status).toBe(result!.ok ? 'ok' : 'failed');
      }
    }
  });

  it('counts __get_user_pages with both collectors, in agreement, on an integral per-page line', () => {
    for (const r of Object.values(results)) {
      expect(r.traceable?.ftrace?.__get_user_pages).toBe(true);
      expect(r.traceable?.kprobe?.__get_user_pages).toBe(true);
      for (const s of r.samples.filter((x) => x.status === 'ok')) {
        expect(s.counts.ftrace?.__get_user_pages).toBeGreaterThan(0);
        expect(s.counts.kprobe?.__get_user_pages).toBe(s.counts.ftrace?.__get_user_pages);
      }
      for (const f of r.figures.filter((x) => x.function === '__get_user_pages' && x.status === 'ok')) {
        expect(Number.isInteger(f.per_page)).toBe(true);
        expect(f.residual).toBe(0);
        expect(f.flags).toEqual([]);
      }
    }
  });

  it('reports a function the kernel cannot trace as such, not as zero', () => {
    const r = results.baseline!;
    const remote = r.figures.find((f) => f.function === '__get_user_pages_remote')!;
    if (r.traceable?.ftrace?.__get_user_pages_remote === false && r.traceable?.kprobe?.__get_user_pages_remote === false) {
      expect(remote.status).toBe('skipped');
      expect(remote.per_page).toBeNull();
      expect(r.samples.every((s) => !('__get_user_pages_remote' in (s.counts.ftrace ?? {})))).toBe(true);
    } else {
      expect(remote.status).toBe('ok');
    }
  });
});

describe('kexp boot, a kernel that panics on purpose', () => {
  it('reports the run as crashed with the panic text, and exits 1', async () => {
    const patch = readFileSync(join(repoRoot, 'test/fixtures/patches/panic/6.12/0001-kexp-test-panic-in-populate.patch'), 'utf8');
    const root = scratchRoot({ panic: { '6.12/0001-kexp-test-panic-in-populate.patch': patch } });
    const { exitCode, json } = await bootJson(['--kernel', '6.12', '--variant', 'panic', '--workload', 'uffd-populate', '--pages', '64,128'], {
      KEXP_ROOT: root,
    });
    expect(exitCode).toBe(1);
    expect(json.status).toBe('crashed');
    expect(json.reason).toContain('Kernel panic - not syncing');
    expect(json.excerpt!.join('\n')).toContain('kexp-test: deliberate panic in faultin_page_range');
    expect(json.samples.every((s) => s.status === 'crashed')).toBe(true);
    expect(json.figures.find((f) => f.function === '__get_user_pages')!.status).toBe('crashed');
    expect(readFileSync(json.consoleLog, 'utf8')).toContain('kexp-test: deliberate panic');
  });
});

describe('kexp boot, stopped from outside', () => {
  /** The QEMU processes kexp started (its children), by pid. */
  async function qemuChildren(kexpPid: number): Promise<number[]> {
    const { execa } = await import('execa');
    const r = await execa('pgrep', ['-P', String(kexpPid), '-f', '^qemu-system-x86_64 '], { reject: false });
    return r.stdout.split('\n').filter(Boolean).map(Number);
  }

  function alive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`leaves no QEMU behind after ${signal} mid-boot`, async () => {
      const child = kexpChild(['boot', '--kernel', '6.12', '--variant', 'baseline', '--pages', '64,128', '--reps', '12']);
      await new Promise<void>((resolve, reject) => {
        let seen = '';
        child.stderr!.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          if (/\b1\/24 samples/.test(seen)) resolve();
        });
        child.on('exit', () => reject(new Error(`kexp exited before the first sample:\n${seen}`)));
      });
      const qemus = await qemuChildren(child.pid!);
      expect(qemus).toHaveLength(1);
      child.kill(signal);
      const result = await child;
      expect(result.exitCode).toBe(130);
      expect(qemus.filter(alive)).toEqual([]);
    });
  }
});
