/**
 * Before a cell boots: its programs made real. The kselftests it names are built from its own
 * kernel's tree and variant, the overlay is read, every command's program is found (in the image,
 * else on this host, carried with its libraries, else an input error naming what is missing), and
 * the lot becomes a layer over the base image. Runs nothing in the guest; fails before any boot.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { KernelArtifact } from '../kernel/build.js';
import { buildKselftests, type BuiltKselftest, type KernelOrigin } from '../kselftest/build.js';
import { elfKind } from '../core/elf.js';
import type { GuestImage, ImageContext } from './image.js';
import { workspaceOf } from '../store/workspace.js';
import {
  buildLayer,
  combineInitrd,
  hostSearchPath,
  imagePaths,
  interpreterProblem,
  libraryClosure,
  locateProgram,
  mergeContent,
  readOverlay,
  type LayerContent,
  type LayerFile,
} from './layer.js';
import type { GuestPlan, WorkloadRun } from './plan.js';

export interface ProgramImage {
  /** The plan with every program resolved to its guest path and folder. */
  plan: GuestPlan;
  /** The initrd to boot: the base image, or the base image with the layer. */
  initramfs: string;
  /** Set when the cell needed a layer. */
  layer?: { key: string; initrdKey: string; cached: boolean; files: number };
  kselftests: BuiltKselftest[];
  /** Said, not failed: host programs carried into the image. */
  notes: string[];
}

/** Whether a plan needs anything beyond the base image. */
export function needsPrograms(plan: GuestPlan, overlay: string | undefined): boolean {
  return overlay !== undefined || plan.runs.some((r) => r.command);
}

export async function preparePrograms(
  ctx: ImageContext & { logger: Logger },
  kernel: KernelArtifact,
  image: GuestImage,
  plan: GuestPlan,
  overlay: string | undefined,
  source?: KernelOrigin,
): Promise<ProgramImage> {
  const notes: string[] = [];
  const selftestRuns = plan.runs.filter((r) => r.command?.kind === 'kselftest');
  const specs = selftestRuns.map((r) => ({ target: r.command!.kselftest!.target, test: r.command!.kselftest!.test, args: r.args }));
  const built = await buildKselftests({ ...workspaceOf(ctx), ...(ctx.onStage ? { onStage: ctx.onStage } : {}) }, kernel, specs, source);
  const tests: LayerContent = { files: built.map((b): LayerFile => ({ guestPath: b.guestPath, hostPath: b.binary, mode: 0o755 })), links: [] };
  // An experiment's overlay may be relative: to the project root, where its kernels/ and images/ are.
  const over: LayerContent = overlay ? await readOverlay(ctx, resolve(ctx.root, overlay)) : { files: [], links: [] };

  const base = imagePaths(image);
  const layered = new Set([...tests.files, ...over.files, ...over.links].map((f) => f.guestPath));
  const inImage = (p: string): boolean => base.has(p) || layered.has(p);
  const onHost = (p: string): boolean => existsSync(p) && statSync(p).isFile();

  const carried: LayerFile[] = [];
  const carry = async (file: LayerFile, shownAs: string): Promise<void> => {
    if (carried.some((c) => c.guestPath === file.guestPath)) return;
    carried.push(file);
    for (const lib of await libraryClosure(file.hostPath, shownAs))
      if (!inImage(lib.guestPath) && !carried.some((c) => c.guestPath === lib.guestPath)) carried.push(lib);
  };

  let selftest = 0;
  const runs: WorkloadRun[] = [];
  for (const run of plan.runs) {
    if (!run.command) {
      runs.push(run);
      continue;
    }
    if (run.command.kind === 'kselftest') {
      const b = built[selftest++]!;
      runs.push({ ...run, command: { ...run.command, program: b.guestPath, dir: b.guestDir } });
      continue;
    }
    const where = locateProgram(run.command.program, inImage, onHost, hostSearchPath());
    if (where.where === 'missing') throw new InputError(where.message, where.hint);
    if (where.where === 'host') {
      await carry({ guestPath: where.guestPath, hostPath: where.hostPath, mode: 0o755 }, where.hostPath);
      notes.push(
        `${run.command.program}: carried from this host (${where.hostPath}) into the guest image${elfKind(readFileSync(where.hostPath)).elf ? ', with its libraries' : ''}`,
      );
      const problem = interpreterProblem(where.hostPath, where.guestPath, (p) => inImage(p) || carried.some((c) => c.guestPath === p));
      if (problem) throw new InputError(problem, 'put the interpreter into --overlay, or run a program the image has');
    } else {
      const fromOverlay = over.files.find((f) => f.guestPath === where.guestPath);
      if (fromOverlay) {
        const problem = interpreterProblem(fromOverlay.hostPath, where.guestPath, inImage);
        if (problem) throw new InputError(problem, 'put the interpreter into --overlay too');
        if ((fromOverlay.mode & 0o111) === 0) throw new InputError(`--overlay: ${where.guestPath} is not executable`, `chmod +x the file in the overlay`);
      }
    }
    runs.push({ ...run, command: { ...run.command, program: where.guestPath } });
  }
  // Dynamic executables of the overlay bring their libraries too (unless the overlay has them).
  const overlayNames = new Set([...over.files, ...over.links].map((f) => f.guestPath.split('/').pop()!));
  for (const f of over.files) {
    if ((f.mode & 0o111) === 0) continue;
    for (const lib of await libraryClosure(f.hostPath, `--overlay: ${f.guestPath}`, (name) => overlayNames.has(name)))
      if (!inImage(lib.guestPath) && !carried.some((c) => c.guestPath === lib.guestPath)) carried.push(lib);
  }

  const resolved: GuestPlan = { ...plan, runs };
  const content = mergeContent({ files: carried, links: [] }, tests, over);
  if (content.files.length === 0 && content.links.length === 0) return { plan: resolved, initramfs: image.initramfs, kselftests: built, notes };
  ctx.onStage?.('image layer');
  const layer = await buildLayer(ctx, content);
  const initrd = await combineInitrd(ctx, image, layer);
  return {
    plan: resolved,
    initramfs: initrd.initramfs,
    layer: { key: layer.key, initrdKey: initrd.key, cached: layer.cached, files: content.files.length + content.links.length },
    kselftests: built,
    notes,
  };
}
