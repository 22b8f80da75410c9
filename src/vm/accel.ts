/**
 * Choosing the accelerator. `auto` uses KVM only where a short probe boot shows that a normal
 * kernel runs on it: some hosts expose a /dev/kvm that only runs special guests (a PVM
 * hypervisor: QEMU fails on MSR setup, or a normal kernel hangs silently), and some deny access.
 * Otherwise TCG, with the reason. The probe's verdict is remembered until the host reboots.
 */
import { constants, accessSync, existsSync, readFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { EnvironmentError } from '../core/errors.js';
import { writeJsonAtomic } from '../store/store.js';
import type { Logger } from '../core/log.js';
import type { Accel } from './qemu.js';
import { boot } from './boot.js';

export type AccelRequest = 'auto' | Accel;

export interface AccelChoice {
  accel: Accel;
  reason: string;
  /** Whether the guest can run nested KVM guests (SVM/VMX exposed). */
  nested: 'yes' | 'no' | 'unknown';
}

function kvmDeviceProblem(): string | undefined {
  if (!existsSync('/dev/kvm')) return '/dev/kvm does not exist (no hardware virtualization, or the kvm module is not loaded)';
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/kvm is not accessible to this user (add it to the kvm group)';
  }
  return undefined;
}

function hostNested(): AccelChoice['nested'] {
  for (const mod of ['kvm_amd', 'kvm_intel']) {
    const file = `/sys/module/${mod}/parameters/nested`;
    if (existsSync(file)) return /^(1|Y)/.test(readFileSync(file, 'utf8').trim()) ? 'yes' : 'no';
  }
  return 'unknown';
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

export interface ProbeInputs {
  kernel: string;
  initrd: string;
  cacheDir: string;
  logger?: Logger;
  signal?: AbortSignal;
}

async function probeKvm(inputs: ProbeInputs): Promise<{ ok: boolean; reason: string }> {
  const memo = join(inputs.cacheDir, 'kvm-probe.json');
  const id = bootId();
  const known = readProbeMemo(memo);
  if (known && known.bootId === id) return { ok: known.ok, reason: known.reason };
  const outDir = mkdtempSync(join(tmpdir(), 'kexp-kvm-probe-'));
  let verdict: { ok: boolean; reason: string };
  try {
    const outcome = await boot({
      kernel: inputs.kernel,
      initrd: inputs.initrd,
      plan: { runs: [], repetitions: 1, collectors: [], functions: [] },
      accel: 'kvm',
      memoryMiB: 256,
      cpus: 1,
      outDir,
      watchdogMs: 15_000,
      timeoutMs: 20_000,
      ...(inputs.signal ? { signal: inputs.signal } : {}),
      ...(inputs.logger ? { logger: inputs.logger } : {}),
    });
    verdict =
      outcome.status === 'ok'
        ? { ok: true, reason: `a probe boot under KVM reached userspace in ${(outcome.durationMs / 1000).toFixed(1)} s` }
        : {
            ok: false,
            reason: `a probe boot under KVM did not reach userspace (${outcome.status}: ${firstLine(outcome.reason)}); this /dev/kvm may only run special guests (PVM)`,
          };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  mkdirSync(inputs.cacheDir, { recursive: true });
  // Atomic: a process that reads the memo while another writes it sees the old one or the new one.
  writeJsonAtomic(memo, { bootId: id, ...verdict, at: new Date().toISOString() });
  return verdict;
}

/** The remembered probe verdict; a memo that cannot be read or makes no sense counts as absent (the probe runs again). */
export function readProbeMemo(file: string): { bootId: string; ok: boolean; reason: string } | undefined {
  try {
    const data: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (data === null || typeof data !== 'object') return undefined;
    const { bootId: id, ok, reason } = data as Record<string, unknown>;
    if (typeof id !== 'string' || typeof ok !== 'boolean' || typeof reason !== 'string') return undefined;
    return { bootId: id, ok, reason };
  } catch {
    return undefined;
  }
}

/** QEMU's first complaint, without its path and the assertion that follows. */
function firstLine(reason: string | undefined): string {
  const text = (reason ?? '').replace(/^qemu-system-x86_64 failed: /, '').split(' / ')[0] ?? '';
  return text.replace(/^qemu-system-x86_64: (error: )?/, '').slice(0, 80);
}

export async function chooseAccel(request: AccelRequest, inputs: ProbeInputs): Promise<AccelChoice> {
  if (request === 'tcg') return { accel: 'tcg', reason: 'asked for TCG', nested: 'yes' };
  const problem = kvmDeviceProblem();
  if (request === 'kvm') {
    if (problem) throw new EnvironmentError(`--accel kvm: ${problem}`, 'use --accel tcg or --accel auto');
    return { accel: 'kvm', reason: 'asked for KVM', nested: hostNested() };
  }
  if (problem) return { accel: 'tcg', reason: `TCG: ${problem}`, nested: 'yes' };
  const probe = await probeKvm(inputs);
  if (!probe.ok) return { accel: 'tcg', reason: `TCG: ${probe.reason}`, nested: 'yes' };
  return { accel: 'kvm', reason: `KVM: ${probe.reason}`, nested: hostNested() };
}
