/**
 * The --json outputs of kexp image, doctor and boot (with a kselftest, the fields only a boot with
 * programs prints), from the real commands, parsed with the schemas that schemas/*.v1.schema.json
 * are generated from. build's and a plain boot's are checked in kernel-build.test.ts and
 * boot.test.ts. The image is a store hit once any other test has built it; the boot reuses the
 * 6.12 baseline kernel and the madv_populate kselftest the other tests build.
 */
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { bootJsonSchema, doctorJsonSchema, imageJsonSchema } from '../../src/cli/json-output.js';
import { ensureHost } from '../../src/doctor/probe.js';
import { jsonLines, kexp, repoRoot } from '../helpers/kexp.js';

beforeAll(async () => {
  await ensureHost(repoRoot);
});

describe('kexp image --json', () => {
  it('prints one object its schema describes, and the same image from the store the second time', async () => {
    const first = await kexp(['image', '--json']);
    expect(first.exitCode, first.stderr).toBe(0);
    const [built] = jsonLines<unknown>(first.stdout).map((line) => imageJsonSchema.parse(line));
    expect(existsSync(built!.initramfs)).toBe(true);
    expect(built!.initramfs).toContain(built!.key);
    expect(built!.workloads).toContain('uffd-populate');
    const second = await kexp(['image', '--json']);
    expect(second.exitCode, second.stderr).toBe(0);
    const again = jsonLines<unknown>(second.stdout).map((line) => imageJsonSchema.parse(line));
    expect(again).toEqual([expect.objectContaining({ key: built!.key, initramfs: built!.initramfs, cached: true })]);
  });
});

describe('kexp doctor --json', () => {
  it('prints one object its schema describes, and exits 0 exactly when it says ok', async () => {
    const result = await kexp(['doctor', '--json']);
    const json = doctorJsonSchema.parse(JSON.parse(result.stdout));
    expect(result.exitCode, result.stderr).toBe(json.ok ? 0 : 3);
    expect(json.checks.length).toBeGreaterThan(0);
    expect(json.ok).toBe(json.missing.length === 0);
    const failing = new Set(json.checks.filter((c) => !c.ok).map((c) => c.package));
    for (const pkg of json.missing) expect(failing.has(pkg), pkg).toBe(true);
    // The rest of the suite runs here, so this host has everything required.
    expect(json.missing).toEqual([]);
  });
});

describe('kexp boot --kselftest --json', () => {
  it('prints one object its schema describes, with the kselftests it built and the image layer', async () => {
    const result = await kexp(['boot', '--kernel', '6.12', '--kselftest', 'mm:madv_populate', '--accel', 'tcg', '--json']);
    const line = result.stdout.split('\n').find((l) => l.startsWith('{'));
    expect(line, result.stderr).toBeDefined();
    const json = bootJsonSchema.parse(JSON.parse(line!));
    expect(result.exitCode, result.stderr).toBe(0);
    expect(json.kselftests).toEqual([expect.objectContaining({ label: 'mm:madv_populate', program: 'madv_populate' })]);
    expect(json.layerKey).toMatch(/^layer-[0-9a-f]{64}$/);
    expect(json.samples[0]).toMatchObject({ workload: 'mm:madv_populate', unit: 'run', program: { kind: 'kselftest' } });
    expect(json.figures.some((f) => f.per_run !== undefined)).toBe(true);
  });
});
