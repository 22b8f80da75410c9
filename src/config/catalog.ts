/**
 * What a project root holds, as plain data: its kernels (and the patch series each one takes),
 * its variants (and the series folders each one has), its workloads (and the options each one
 * takes). Read once from the folders, in milliseconds, so that every flag and every experiment
 * is checked against it before anything slow starts; the checks themselves are pure functions of
 * this data.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listKernelNames, loadRecipe } from './recipe.js';
import { listVariants, variantDir } from './variants.js';
import { listWorkloadNames, loadWorkloadOptions, type WorkloadOption } from './workloads.js';

export interface Catalog {
  kernels: string[];
  variants: string[];
  workloads: string[];
  /** kernel → the patches/<variant>/<series>/ folder it takes (the recipe's "series", else its name). */
  kernelSeries?: Record<string, string>;
  /** variant → the series folders it has; none means it patches nothing, on every kernel (baseline). */
  variantSeries?: Record<string, string[]>;
  /** workload → the options its usage line declares (absent: not declared, only characters are checked). */
  workloadOptions?: Record<string, WorkloadOption[] | undefined>;
}

export function loadCatalog(root: string): Catalog {
  const kernels = listKernelNames(root);
  const variants = listVariants(root);
  const workloads = listWorkloadNames(root);
  const kernelSeries: Record<string, string> = {};
  for (const kernel of kernels) {
    try {
      kernelSeries[kernel] = loadRecipe(root, kernel).series;
    } catch {
      // A broken recipe is reported by whatever uses that kernel (loadRecipe says what is wrong);
      // the others stay usable.
    }
  }
  const variantSeries: Record<string, string[]> = {};
  for (const variant of variants) {
    const dir = variantDir(root, variant);
    variantSeries[variant] = dir
      ? readdirSync(dir)
          .filter((name) => statSync(join(dir, name)).isDirectory())
          .sort()
      : [];
  }
  const workloadOptions: Record<string, WorkloadOption[] | undefined> = {};
  for (const workload of workloads) workloadOptions[workload] = loadWorkloadOptions(root, workload);
  return { kernels, variants, workloads, kernelSeries, variantSeries, workloadOptions };
}

/** Why `variant` does not apply to `kernel`, or undefined when it does (or the catalog cannot say). */
export function variantMismatch(catalog: Catalog, kernel: string, variant: string): { problem: string; hint: string } | undefined {
  const series = catalog.kernelSeries?.[kernel];
  const folders = catalog.variantSeries?.[variant];
  if (series === undefined || folders === undefined) return undefined;
  // A variant without series folders patches nothing anywhere; one with a folder for this series
  // (even an empty one: "nothing to change here") says what it does to this kernel.
  if (folders.length === 0 || folders.includes(series)) return undefined;
  return {
    problem: `variant "${variant}" has patches for ${folders.join(', ')} only, none for kernel ${kernel} (series ${series}): that build would be the unpatched kernel under the variant's name`,
    hint: `add patches/${variant}/${series}/ (an empty folder says the variant changes nothing on ${series}), or leave ${variant} or ${kernel} out`,
  };
}
