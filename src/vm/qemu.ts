/**
 * The QEMU command line as a pure function of a typed description (virtme-ng's boot knowledge,
 * without its 1,000-line function): direct kernel boot, no firmware menus, no network, no
 * display, the console on stdio (ttyS0) and the result channel on a second serial port (ttyS1).
 */

export type Accel = 'kvm' | 'tcg';

export interface VmSpec {
  kernel: string;
  initrd: string;
  accel: Accel;
  memoryMiB: number;
  cpus: number;
  /** Kernel command line (see kernelCommandLine). */
  append: string;
  /** File that receives the result channel (ttyS1). */
  resultFile: string;
}

/** Under TCG, -cpu max exposes SVM with nested paging; under KVM, host passes the host CPU through. */
export function cpuModel(accel: Accel): string {
  return accel === 'kvm' ? 'host' : 'max';
}

export function qemuArgs(spec: VmSpec): string[] {
  return [
    '-accel',
    spec.accel === 'tcg' ? 'tcg,thread=multi' : 'kvm',
    '-cpu',
    cpuModel(spec.accel),
    '-m',
    `${spec.memoryMiB}M`,
    '-smp',
    String(spec.cpus),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-kernel',
    spec.kernel,
    '-initrd',
    spec.initrd,
    '-append',
    spec.append,
    '-serial',
    'stdio',
    '-serial',
    `file:${spec.resultFile}`,
  ];
}

export interface CommandLineOptions {
  /** The guest agent's parameters, e.g. { 'kexp.plan': '...' }. */
  params: Record<string, string>;
  loglevel?: number;
  /**
   * The TSC rate to give the guest (kHz). Under TCG the guest's TSC runs at the host's rate, and
   * a guest that fails to calibrate it against the PIT (common on a loaded host) ends with
   * tsc_khz = 0, on which KVM inside the guest never enters a nested guest.
   */
  tscKhz?: number;
}

/** The host's TSC rate in kHz from /proc/cpuinfo ("cpu MHz : 2445.402"). Pure. */
export function tscKhzFromCpuinfo(cpuinfo: string): number | undefined {
  const m = /^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo);
  if (!m) return undefined;
  const khz = Math.round(Number(m[1]) * 1000);
  return Number.isFinite(khz) && khz > 0 ? khz : undefined;
}

/**
 * Kernel command line: console on ttyS0, warnings visible (loglevel 7, never `quiet`), every
 * crash turned into a reboot so QEMU (-no-reboot) exits instead of sitting at a panic.
 */
export function kernelCommandLine(options: CommandLineOptions): string {
  const base = [
    'console=ttyS0,115200',
    `loglevel=${options.loglevel ?? 7}`,
    'reboot=t',
    'panic=-1',
    'oops=panic',
    'softlockup_panic=1',
    'hung_task_panic=1',
    'nokaslr',
    // Skip the IO-APIC timer check: under TCG on a loaded host the test interrupt can come late
    // and the kernel panics ("IO-APIC + timer doesn't work!") before the guest runs at all.
    'no_timer_check',
    'rdinit=/init',
    ...(options.tscKhz ? [`tsc_early_khz=${options.tscKhz}`] : []),
  ];
  const params = Object.entries(options.params).map(([k, v]) => `${k}=${v}`);
  return [...base, ...params].join(' ');
}

/** x86's COMMAND_LINE_SIZE; a longer line is silently truncated by the kernel. */
export const MAX_COMMAND_LINE = 2048;
