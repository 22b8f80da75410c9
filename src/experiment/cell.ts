/**
 * One cell of an experiment: a kernel variant booted with a guest plan. Everything it needs comes
 * in as data and everything it finds goes out as data (no reaching into a planner's memory), so
 * that an executor can run it here or on another machine.
 */
import { join } from 'node:path';
import { type StageContext, workspaceOf } from '../store/workspace.js';
import { loadWorkloadManifest, type WorkloadManifest } from '../config/workloads.js';
import { buildKernel, type BuildProgress, type KernelArtifact } from '../kernel/build.js';
import { existsSync } from 'node:fs';
import { buildImage, PERF, type GuestImage } from '../image/image.js';
import type { GuestPlan } from '../image/plan.js';
import { chooseAccel, type AccelChoice, type AccelRequest } from '../vm/accel.js';
import { boot, type BootOutcome } from '../vm/boot.js';
import { applyEvidence } from '../measure/evidence.js';
import { computeFigures } from '../measure/figures.js';
import type { AgentMessage, Hello } from '../measure/samples.js';
import { type Figure, isStopped, type SampleRecord, type SampleExplain } from '../records/index.js';
import { keptSourceFiles, prepareExplain, type ExplainSetup } from '../explain/source.js';
import { planLines } from '../explain/probes.js';
import { decodeHist } from '../explain/buckets.js';
import { needsPrograms, preparePrograms, type ProgramImage } from '../image/programs.js';
import type { KernelOrigin } from '../kselftest/build.js';

export interface CellSpec {
  kernel: string;
  variant: string;
  plan: GuestPlan;
  accel: AccelRequest;
  memoryMiB?: number;
  watchdogSeconds?: number;
  timeoutSeconds?: number;
  /** kexp explain: split these functions' calls into buckets (each must be counted too). */
  explain?: { functions: string[]; strict?: boolean };
  /** Files put into the guest image (a folder or a tar), under the programs and kselftests the plan runs. */
  overlay?: string;
}

export interface CellEnv extends StageContext {
  /** Where this cell's console.log, channel.txt and qemu.json go. */
  outDir: string;
  onBuildProgress?: (progress: BuildProgress) => void;
  onStage?: (stage: string) => void;
  onMessage?: (message: AgentMessage) => void;
  /** A kernel built elsewhere (a bisect step's commit or patch prefix) instead of spec.kernel/variant. */
  kernel?: KernelArtifact;
  /** The recipe and patches that kernel was built from, for kselftests built from the same tree (a bisect step). */
  kernelSource?: KernelOrigin;
  /** The image and accelerator a run already settled for all its cells (else found here). */
  image?: GuestImage;
  accel?: AccelChoice;
}

/** Whether the image must carry perf: asked for, and the host has it. */
export function imageNeedsPerf(collectors: readonly string[]): boolean {
  return collectors.includes('perf') && existsSync(PERF);
}

export interface CellResult {
  spec: CellSpec;
  kernel: KernelArtifact;
  image: GuestImage;
  accel: AccelChoice;
  outcome: BootOutcome;
  figures: Figure[];
  /** Functions, then tracepoints: what the figures are about. */
  targets: string[];
  /** Collectors that were unavailable, and the like: said, not failed. */
  notes: string[];
  /** kexp explain: where each probed function's parameters came from (file:line). */
  explained?: Record<string, string>;
  /** The programs, kselftests and overlay the cell carried over the base image. */
  programs?: Pick<ProgramImage, 'layer' | 'kselftests'>;
}

/** The plan with every workload's own tracepoints added. */
export function withWorkloadEvents(plan: GuestPlan, manifests: Map<string, WorkloadManifest>): GuestPlan {
  const events = new Set(plan.events ?? []);
  for (const run of plan.runs) for (const e of manifests.get(run.workload)?.events ?? []) events.add(e);
  return { ...plan, events: [...events] };
}

export async function runBootCell(spec: CellSpec, env: CellEnv): Promise<CellResult> {
  const manifests = new Map(spec.plan.runs.map((r) => [r.workload, loadWorkloadManifest(env.root, r.workload)]));
  const notes: string[] = [];
  let plan = withWorkloadEvents(spec.plan, manifests);
  if (plan.collectors.includes('perf') && !imageNeedsPerf(plan.collectors)) {
    // A missing perf makes the collector unavailable, not the sample failed.
    notes.push(`perf collector unavailable: no ${PERF} on this host (apt-get install linux-perf)`);
    plan = { ...plan, collectors: plan.collectors.filter((c) => c !== 'perf') };
  }
  const kernel =
    env.kernel ?? (await buildKernel({ ...workspaceOf(env), onProgress: env.onBuildProgress, keepSources: keptSourceFiles }, spec.kernel, spec.variant));
  let explain: ExplainSetup | undefined;
  if (spec.explain && spec.explain.functions.length > 0) {
    env.onStage?.('reading the kernel source for explain');
    explain = await prepareExplain(kernel, env.layout, spec.explain.functions, { strict: spec.explain.strict ?? false });
    notes.push(...explain.notes);
    plan = { ...plan, explain: explain.probes.map((probe, i) => ({ function: probe.function, lines: planLines(i, probe) })) };
  }
  const image =
    env.image ?? (await buildImage({ ...workspaceOf(env), onStage: (s) => env.onStage?.(`image: ${s}`) }, { perf: imageNeedsPerf(plan.collectors) }));
  let initrd = image.initramfs;
  let programs: ProgramImage | undefined;
  if (needsPrograms(plan, spec.overlay)) {
    programs = await preparePrograms({ ...workspaceOf(env), onStage: (s) => env.onStage?.(s) }, kernel, image, plan, spec.overlay, env.kernelSource);
    plan = programs.plan;
    initrd = programs.initramfs;
    notes.push(...programs.notes);
  }
  env.onStage?.('choosing accelerator');
  const accel =
    env.accel ??
    (await chooseAccel(spec.accel, { kernel: kernel.bzImage, initrd: image.initramfs, cacheDir: env.layout.root, logger: env.logger, signal: env.signal }));
  env.logger.info(accel, 'accelerator');
  env.onStage?.(`booting under ${accel.accel}`);
  const outcome = await boot({
    kernel: kernel.bzImage,
    initrd,
    plan,
    accel: accel.accel,
    ...(spec.memoryMiB ? { memoryMiB: spec.memoryMiB } : {}),
    outDir: env.outDir,
    watchdogMs: (spec.watchdogSeconds ?? 60) * 1000,
    timeoutMs: (spec.timeoutSeconds ?? 600) * 1000,
    ...(env.signal ? { signal: env.signal } : {}),
    logger: env.logger,
    ...(env.onMessage ? { onMessage: env.onMessage } : {}),
  });
  const setup = explain;
  const samples = outcome.samples
    .map((s) => (setup ? decodeExplain(s, setup, outcome.hello, notes) : s))
    .map((s) => applyEvidence(s, manifests.get(s.workload) ?? { events: [] }));
  // A collector the guest could not run is said, not failed.
  notes.push(...(outcome.hello?.notes ?? []).filter((n) => /unavailable|^explain:/.test(n)));
  const targets = [...plan.functions, ...(plan.events ?? [])];
  const figures = computeFigures(samples, targets, outcome.hello);
  return {
    spec: { ...spec, plan },
    kernel,
    image,
    accel,
    outcome: { ...outcome, samples },
    figures,
    targets,
    notes,
    ...(explain ? { explained: explain.where } : {}),
    ...(programs ? { programs: { ...(programs.layer ? { layer: programs.layer } : {}), kselftests: programs.kselftests } } : {}),
  };
}

/**
 * A sample's hist files into call groups per probed function. A probe the kernel would not take
 * is a note (said once per cell); a hist that dropped events or cannot be read fails the sample.
 */
function decodeExplain(sample: SampleRecord, setup: ExplainSetup, hello: Hello | undefined, notes: string[]): SampleRecord {
  const { hist, ...rest } = sample;
  if (isStopped(sample.status)) return rest;
  const explain: Record<string, SampleExplain> = {};
  const problems: string[] = [];
  setup.probes.forEach((probe, i) => {
    const mode = hello?.explain?.[String(i)];
    if (mode !== 'return' && mode !== 'entry') {
      const note = `explain: ${probe.function}: ${mode ?? 'the agent did not set it up'}`;
      if (!notes.includes(note)) notes.push(note);
      return;
    }
    const text = hist?.[String(i)];
    if (text === undefined) {
      problems.push(`explain: no hist output for ${probe.function}`);
      return;
    }
    const decoded = decodeHist(probe, i, mode, text, setup.flags);
    explain[probe.function] = decoded;
    problems.push(...decoded.problems);
  });
  const failed = problems.length > 0 && rest.status === 'ok' ? { status: 'failed' as const, reason: `counts not trustworthy: ${problems.join('; ')}` } : {};
  return { ...rest, explain, ...failed };
}

export function cellOutDir(logs: string, kernel: string, variant: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return join(logs, 'boots', `${kernel}-${variant}-${stamp}`);
}
