// The --json objects of build, image, doctor and boot against their schemas (src/cli/json-output.ts).
// Boot's samples and figures come from result channels the guest agent really wrote
// (test/fixtures/guest/, test/unit/measure/fixtures/programs/: see the READMEs and programs.test.ts).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildJson } from '../../../src/cli/build.js';
import { doctorJson } from '../../../src/cli/doctor.js';
import { imageJson } from '../../../src/cli/image.js';
import { bootJsonSchema, buildJsonSchema, doctorJsonSchema, imageJsonSchema } from '../../../src/cli/json-output.js';
import { baseChecks, missingPackages, type CheckResult } from '../../../src/doctor/checks.js';
import { kselftestRun, expandSamples, type GuestPlan } from '../../../src/image/plan.js';
import type { BuildRecord, KernelArtifact } from '../../../src/kernel/build.js';
import { computeFigures, missingSample, toPlannedSampleRecord } from '../../../src/measure/figures.js';
import { parseAgentOutput, type AgentSample, type Hello } from '../../../src/measure/samples.js';
import type { SampleRecord } from '../../../src/records/index.js';

const KEY = 'a'.repeat(64);

describe('kexp build --json', () => {
  const artifact: KernelArtifact = {
    kernel: '6.1',
    variant: 'early-break',
    series: '6.1',
    key: KEY,
    bzImage: `/cache/store/kernels/${KEY}/bzImage`,
    dir: `/cache/store/kernels/${KEY}`,
    cached: false,
    seconds: 312.34567,
    record: {} as BuildRecord,
  };

  it('prints what its schema describes, and nothing else', () => {
    const json = buildJson(artifact);
    expect(buildJsonSchema.parse(json)).toEqual({
      kernel: '6.1',
      variant: 'early-break',
      key: KEY,
      bzImage: artifact.bzImage,
      cached: false,
      seconds: 312.346,
    });
  });

  it('is a schema that rejects what a reader could not rely on', () => {
    const json = buildJson(artifact);
    expect(buildJsonSchema.safeParse({ ...json, key: 'abc' }).success).toBe(false);
    expect(buildJsonSchema.safeParse({ ...json, extra: 1 }).success).toBe(false);
    const { seconds: _, ...withoutSeconds } = json;
    expect(buildJsonSchema.safeParse(withoutSeconds).success).toBe(false);
  });
});

describe('kexp image --json', () => {
  it('prints what its schema describes', () => {
    const json = imageJson({
      key: KEY,
      initramfs: `/cache/store/images/${KEY}/initramfs.cpio.gz`,
      dir: `/cache/store/images/${KEY}`,
      cached: true,
      workloads: ['async-pf', 'uffd-populate'],
      seconds: 0.012,
    });
    expect(imageJsonSchema.parse(json)).toEqual({
      key: KEY,
      initramfs: `/cache/store/images/${KEY}/initramfs.cpio.gz`,
      cached: true,
      workloads: ['async-pf', 'uffd-populate'],
      seconds: 0.012,
    });
  });
});

describe('kexp doctor --json', () => {
  it('prints every check and the packages that fail the host, as its schema describes', () => {
    const results: CheckResult[] = baseChecks().map((check, i) => ({ check, ok: i % 3 !== 0, detail: i % 3 !== 0 ? 'found' : 'not found' }));
    const missing = missingPackages(results);
    const json = doctorJsonSchema.parse(doctorJson(results, missing));
    expect(json.ok).toBe(false);
    expect(json.missing).toEqual(missing);
    expect(json.checks).toHaveLength(results.length);
    expect(json.checks[0]).toEqual({ name: results[0]!.check.name, ok: false, detail: 'not found', package: results[0]!.check.debianPackage });
    expect(
      doctorJsonSchema.parse(
        doctorJson(
          results.map((r) => ({ ...r, ok: true })),
          [],
        ),
      ).ok,
    ).toBe(true);
  });
});

describe('kexp boot --json: samples and figures from real result channels', () => {
  const sampleList = bootJsonSchema.shape.samples;
  const figureList = bootJsonSchema.shape.figures;

  function channel(text: string, plan?: GuestPlan): { samples: SampleRecord[]; hello: Hello | undefined } {
    const messages = parseAgentOutput(text);
    const planned = plan ? expandSamples(plan) : [];
    const samples = messages.filter((m): m is AgentSample => m.type === 'sample').map((m) => toPlannedSampleRecord(m, planned[m.index]));
    return { samples, hello: messages.find((m): m is Hello => m.type === 'hello') };
  }

  const functions = ['__get_user_pages', '__get_user_pages_remote', 'handle_userfault'];

  for (const name of ['6.12-full', 'perf-6.12-full', 'async-pf-6.12-full', '6.12-errors']) {
    it(`describes the samples and figures of ${name}`, () => {
      const { samples, hello } = channel(readFileSync(`test/fixtures/guest/${name}.results.jsonl`, 'utf8'));
      expect(samples.length).toBeGreaterThan(0);
      expect(sampleList.parse(samples)).toEqual(samples);
      const figures = computeFigures(samples, functions, hello);
      expect(figureList.parse(figures)).toEqual(figures);
    });
  }

  it("describes a kselftest's samples (program, tests, unit, size) and its per-run figure", () => {
    const run = kselftestRun({ target: 'mm', test: 'madv_populate', args: [] }, [64, 128]);
    const resolved = { ...run, command: { ...run.command!, program: '/kselftest/vm/madv_populate', dir: '/kselftest/vm' } };
    const plan: GuestPlan = { collectors: ['ftrace', 'kprobe'], functions, repetitions: 1, runs: [resolved] };
    const { samples, hello } = channel(readFileSync('test/unit/measure/fixtures/programs/madv_populate-6.1-baseline.results.jsonl', 'utf8'), plan);
    expect(samples[0]).toMatchObject({ program: { kind: 'kselftest' }, unit: 'run' });
    expect(sampleList.parse(samples)).toEqual(samples);
    const figures = computeFigures(samples, functions, hello);
    expect(figures.some((f) => f.per_run !== undefined)).toBe(true);
    expect(figureList.parse(figures)).toEqual(figures);
  });

  it('describes the samples a crash left unreported, and their figures', () => {
    const samples = [
      missingSample('uffd-populate', [], 64, 0, 'crashed', 'Kernel panic - not syncing: x'),
      missingSample('uffd-populate', [], 128, 0, 'crashed', 'Kernel panic - not syncing: x'),
    ];
    expect(sampleList.parse(samples)).toEqual(samples);
    expect(figureList.parse(computeFigures(samples, functions, undefined))[0]).toMatchObject({ status: 'crashed', per_page: null });
  });

  it('rejects a field it does not describe, at the top and in a sample', () => {
    const { samples } = channel(readFileSync('test/fixtures/guest/6.12-full.results.jsonl', 'utf8'));
    expect(sampleList.safeParse([{ ...samples[0], surprise: 1 }]).success).toBe(false);
    expect(bootJsonSchema.safeParse({}).success).toBe(false);
  });
});
