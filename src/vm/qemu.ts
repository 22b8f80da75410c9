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
    '-accel', spec.accel === 'tcg' ? 'tcg,thread=multi' : 'kvm',
    '-cpu', cpuModel(spec.accel),
    '-m', `${spec.memoryMiB}M`,
    '-smp', String(spec.cpus),
    '-nodefaults',
    '-no-user-config',
    '-display', 'none',
    '-no-reboot',
    '-kernel', spec.kernel,
    '-initrd', spec.initrd,
    '-append', spec.append,
    '-serial', 'stdio',
    '-serial', `file:${spec.resultFile}`,
  ];
}

export interface CommandLineOptions {
  /** The guest agent's parameters, e.g. { 'kexp.plan': '...' }. */
  params: Record<string, string>;
  loglevel?: number;
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
    'rdinit=/init',
  ];
  const params = Object.entries(options.params).map(([k, v]) => `${k}=${v}`);
  return [...base, ...params].join(' ');
}

/** x86's COMMAND_LINE_SIZE; a longer line is silently truncated by the kernel. */
export const MAX_COMMAND_LINE = 2048;
