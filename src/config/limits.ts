/**
 * What kexp accepts, in one place: the bounds of every number a user gives (on the command line
 * or in an experiment file) and the shape of every name that ends up in the guest plan. The flag
 * parsers (src/cli/options.ts) and the experiment rules (src/config/experiment.ts) both read these,
 * so a value is accepted or refused the same way wherever it comes from.
 */

export interface Bounds {
  min: number;
  max: number;
}

/** Guest memory in MiB (QEMU -m). */
export const MEMORY_MIB: Bounds = { min: 128, max: 65536 };
export const DEFAULT_MEMORY_MIB = 1024;

/** The workloads' own limit on --pages (MAX_PAGES in images/workloads/include/kexp-workload.h). */
export const WORKLOAD_MAX_PAGES = 1_048_576;
export const PAGE_SIZE = 4096;

/** Repetitions of every workload and size in one boot. */
export const REPETITIONS: Bounds = { min: 1, max: 100 };

/** A result channel silent this long means the VM is hung. An hour of silence is not a measurement. */
export const WATCHDOG_SECONDS: Bounds = { min: 5, max: 3600 };
export const DEFAULT_WATCHDOG_SECONDS = 60;

/** VMs (or make jobs) at once. */
export const JOBS: Bounds = { min: 1, max: 256 };

/** Caller frames that key an explain bucket. */
export const DEPTH: Bounds = { min: 1, max: 8 };

/**
 * The largest size a workload may touch in a guest of `memoryMiB`: half of its memory in 4 KiB
 * pages (the kernel, the initramfs held in RAM and the tracing buffers live in the other half),
 * and never more than the workloads' own limit. 1024 MiB (the default) → 131072 pages.
 */
export function maxPagesFor(memoryMiB: number): number {
  return Math.min(WORKLOAD_MAX_PAGES, Math.floor((memoryMiB * 2 ** 20) / PAGE_SIZE / 2));
}

/** A kernel function as the tracers name it: a C identifier, or one with the compiler's .isra.0 suffixes. */
export const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;
/** A tracepoint: group/name, e.g. kvm/kvm_async_pf_ready. */
export const EVENT_NAME = /^[\w-]+\/[\w-]+$/;
/** One word of a workload's command line, as the guest plan carries it. */
export const ARG_TOKEN = /^[A-Za-z0-9_.,=+:/-]+$/;

export const FUNCTION_NAME_TEXT = 'a kernel function name (a C identifier such as __get_user_pages)';
export const EVENT_NAME_TEXT = 'a tracepoint as group/name (such as kvm/kvm_async_pf_ready)';

export function isFunctionName(text: string): boolean {
  return FUNCTION_NAME.test(text) && text.length <= 256;
}

export function isEventName(text: string): boolean {
  return EVENT_NAME.test(text) && text.length <= 256;
}
