/**
 * The checks a command makes before it builds or boots anything, for its programs: every named
 * kselftest exists in every kernel's source, and the overlay exists. A wrong name is exit 2 with
 * the names that kernel has, not a failed cell after a kernel build.
 */
import { resolve } from 'node:path';
import type { CacheLayout } from '../core/paths.js';
import { loadExperiment } from '../config/experiment.js';
import { planRun, type OnlyFilter } from './plan.js';
import { checkOverlay } from '../image/layer.js';
import type { GuestPlan } from '../image/plan.js';
import { preflightKselftests } from '../kselftest/resolve.js';
import type { KselftestSpec } from '../config/kselftest.js';

/** The kselftests a plan names. Pure. */
export function kselftestsOfPlan(plan: GuestPlan): KselftestSpec[] {
  return plan.runs.flatMap((r) => (r.command?.kselftest ? [{ target: r.command.kselftest.target, test: r.command.kselftest.test, args: r.args }] : []));
}

export async function preflightPlan(root: string, layout: CacheLayout, kernels: string[], plan: GuestPlan, signal?: AbortSignal): Promise<void> {
  await preflightKselftests(root, layout, kernels, kselftestsOfPlan(plan), signal);
}

/** kexp run: the experiment's kselftests against each of its kernels, its overlay on disk. */
export async function preflightExperiment(root: string, layout: CacheLayout, file: string, only: OnlyFilter, signal?: AbortSignal): Promise<void> {
  const { experiment } = loadExperiment(root, file);
  if (experiment.overlay) checkOverlay(resolve(root, experiment.overlay), `${file}: overlay`);
  const plan = planRun(experiment, only);
  const first = plan.cells[0];
  if (!first) return;
  await preflightPlan(root, layout, [...new Set(plan.cells.map((c) => c.kernel))], first.spec.plan, signal);
}
