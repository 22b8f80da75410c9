/**
 * Cache keys. A kernel artifact is identified by everything that determines the bzImage: the
 * source's identity, the diffs of the patches (not their mail headers or file names), the resolved
 * .config, the compiler and the make variables. The input key (known before configuring) maps to
 * the artifact key (known after), so a hit costs a few hashes and no kconfig run.
 */
import { hashJson, sha256 } from '../core/hash.js';
import { parsePatch } from '../config/patch-file.js';
import type { ConfigAssignment } from '../config/kconfig-fragment.js';

/** Bump when the way kexp configures or builds changes what comes out. */
export const BUILD_RECIPE_VERSION = 1;

export interface KernelKeyInputs {
  sourceId: string;
  arch: string;
  requestedConfig: Map<string, ConfigAssignment>;
  patches: { content: string }[];
  compiler: string;
  makeVariables: Record<string, string>;
  /** The configuration's base when it is not tinyconfig: a make target, or file:<sha256> of a .config. */
  baseConfig?: string;
}

export function patchDiffHash(content: string): string {
  return sha256(parsePatch(content).diff);
}

/** Absent for tinyconfig, so that the keys of every recipe without a base stay what they were. */
function base(inputs: KernelKeyInputs): { base?: string } {
  return inputs.baseConfig ? { base: inputs.baseConfig } : {};
}

function requestedConfigData(requested: Map<string, ConfigAssignment>): Record<string, string> {
  return Object.fromEntries([...requested.values()].map((a) => [a.symbol, a.value]));
}

export function kernelInputKey(inputs: KernelKeyInputs): string {
  return hashJson({
    v: BUILD_RECIPE_VERSION,
    source: inputs.sourceId,
    arch: inputs.arch,
    config: requestedConfigData(inputs.requestedConfig),
    patches: inputs.patches.map((p) => patchDiffHash(p.content)),
    compiler: inputs.compiler,
    make: inputs.makeVariables,
    ...base(inputs),
  });
}

/** The resolved .config depends only on the source, the request and patches that touch Kconfig. */
export function resolvedConfigKey(inputs: KernelKeyInputs): string {
  const kconfigPatches = inputs.patches
    .map((p) => parsePatch(p.content))
    .filter((p) => p.files.some((f) => /(^|\/)Kconfig[^/]*$/.test(f.newPath ?? f.oldPath ?? '')))
    .map((p) => sha256(p.diff));
  return hashJson({
    v: BUILD_RECIPE_VERSION,
    source: inputs.sourceId,
    arch: inputs.arch,
    config: requestedConfigData(inputs.requestedConfig),
    kconfigPatches,
    compiler: inputs.compiler,
    ...base(inputs),
  });
}

export function kernelArtifactKey(inputs: KernelKeyInputs, resolvedConfigText: string): string {
  return hashJson({
    v: BUILD_RECIPE_VERSION,
    source: inputs.sourceId,
    arch: inputs.arch,
    resolvedConfig: sha256(resolvedConfigText),
    patches: inputs.patches.map((p) => patchDiffHash(p.content)),
    compiler: inputs.compiler,
    make: inputs.makeVariables,
  });
}
