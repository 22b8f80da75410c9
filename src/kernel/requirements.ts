/**
 * What kexp needs of a kernel it did not build: the kexp fragments' =y symbols, checked against
 * that kernel's .config before a boot is spent on it. Pure, apart from reading fragment files.
 *
 * Only "=y" asks are requirements: a fragment's "is not set" or "=m" shapes the kernels kexp
 * builds, but a foreign kernel with more or other options still boots kexp's guest. A symbol at
 * =m where =y is asked is missing: kexp's guest image loads no modules.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors.js';
import { FragmentSyntaxError, parseConfigText, type ConfigAssignment, type ConfigValue } from '../config/kconfig-fragment.js';
import { configToMap, mergeAssignments } from './kconfig.js';

/** What a missing option breaks. */
export type RequirementGroup = 'boot' | 'counting' | 'workloads' | 'other';

export interface RequirementProblem {
  /** CONFIG_X */
  symbol: string;
  /** The value in the kernel's .config: "m", "n" (is not set), or undefined (not in it at all). */
  got: ConfigValue | undefined;
  group: RequirementGroup;
  /** What kexp uses it for, in a kernel developer's words; undefined for "other". */
  purpose: string | undefined;
  /** The fragment line that asks for it, e.g. "kernels/fragments/tracing.config:4". */
  origin: string;
}

interface Role {
  group: Exclude<RequirementGroup, 'other'>;
  purpose: string;
  /** Other symbols that do the same job: any one of them at =y satisfies the requirement. */
  satisfiedBy?: string[];
}

const ROLES: Record<string, Role> = {
  CONFIG_64BIT: { group: 'boot', purpose: 'x86-64 kernel (the guest programs are x86-64)' },
  CONFIG_TTY: { group: 'boot', purpose: 'TTY layer, under the serial console' },
  CONFIG_PRINTK: { group: 'boot', purpose: 'kernel messages on the console (kexp watches them for panics and oopses)' },
  CONFIG_SERIAL_8250: { group: 'boot', purpose: '8250/16550 serial driver: ttyS0 is the console, ttyS1 the result channel' },
  CONFIG_SERIAL_8250_CONSOLE: { group: 'boot', purpose: 'console on the 8250 serial port (console=ttyS0)' },
  CONFIG_BLK_DEV_INITRD: { group: 'boot', purpose: "initramfs support (kexp's guest is an initramfs)" },
  CONFIG_RD_GZIP: { group: 'boot', purpose: 'gzip-compressed initramfs (kexp writes its initramfs with gzip)' },
  CONFIG_BINFMT_ELF: { group: 'boot', purpose: 'ELF executables (busybox, the agent, the workloads)' },
  CONFIG_BINFMT_SCRIPT: { group: 'boot', purpose: '#! scripts (the guest agent /init is a shell script)' },
  CONFIG_DEVTMPFS: { group: 'boot', purpose: 'devtmpfs (/dev, with the serial ports)' },
  CONFIG_DEVTMPFS_MOUNT: { group: 'boot', purpose: 'devtmpfs mounted on /dev at boot' },
  CONFIG_PROC_FS: { group: 'boot', purpose: '/proc' },
  CONFIG_SYSFS: { group: 'boot', purpose: '/sys (tracefs is mounted under it)' },
  CONFIG_SHMEM: { group: 'boot', purpose: 'shmem (tmpfs and anonymous shared memory)' },
  CONFIG_TMPFS: { group: 'boot', purpose: 'tmpfs' },
  CONFIG_MULTIUSER: { group: 'boot', purpose: 'uid/gid syscalls (busybox needs them)' },
  CONFIG_FUTEX: { group: 'boot', purpose: 'futex (static glibc programs need it)' },
  CONFIG_SMP: { group: 'boot', purpose: 'more than one CPU (the guest gets several)' },
  CONFIG_FTRACE: { group: 'counting', purpose: 'ftrace, under the function profiler and kprobe events' },
  CONFIG_FUNCTION_TRACER: { group: 'counting', purpose: 'function tracer (counts calls)' },
  CONFIG_DYNAMIC_FTRACE: { group: 'counting', purpose: 'dynamic ftrace (set_ftrace_filter: count only the functions asked for)' },
  CONFIG_FUNCTION_PROFILER: { group: 'counting', purpose: 'ftrace function profiler (trace_stat/function*: the call counts)' },
  CONFIG_KPROBES: { group: 'counting', purpose: 'kprobes, under kprobe events' },
  CONFIG_KPROBE_EVENTS: { group: 'counting', purpose: 'kprobe events (counts and arguments of a function)' },
  CONFIG_HIST_TRIGGERS: { group: 'counting', purpose: 'hist triggers (kexp explain splits calls by argument and caller)' },
  CONFIG_PERF_EVENTS: { group: 'counting', purpose: 'perf events (the perf collector)' },
  CONFIG_TRACEPOINTS: { group: 'counting', purpose: 'tracepoints (counted as events)' },
  CONFIG_STACKTRACE: { group: 'counting', purpose: 'stack traces (callers in kexp explain)' },
  // The guess unwinder reports stale addresses; ORC and frame pointers both give reliable callers.
  CONFIG_UNWINDER_ORC: {
    group: 'counting',
    purpose: 'a reliable unwinder for callers in kexp explain (ORC or frame pointers)',
    satisfiedBy: ['CONFIG_UNWINDER_FRAME_POINTER'],
  },
  CONFIG_ADVISE_SYSCALLS: { group: 'workloads', purpose: 'madvise (MADV_POPULATE_READ/WRITE workloads)' },
  CONFIG_CROSS_MEMORY_ATTACH: { group: 'workloads', purpose: 'process_vm_readv/writev (remote-access workloads)' },
  CONFIG_USERFAULTFD: { group: 'workloads', purpose: 'userfaultfd (uffd-populate, uffd-remote, async-pf)' },
  CONFIG_EPOLL: { group: 'workloads', purpose: 'epoll (userfaultfd fault handlers)' },
  CONFIG_EVENTFD: { group: 'workloads', purpose: 'eventfd' },
  CONFIG_SIGNALFD: { group: 'workloads', purpose: 'signalfd' },
  CONFIG_TIMERFD: { group: 'workloads', purpose: 'timerfd' },
  CONFIG_VIRTUALIZATION: { group: 'workloads', purpose: 'the Virtualization menu, above KVM' },
  CONFIG_KVM: { group: 'workloads', purpose: "KVM host (async-pf runs a nested guest in kexp's guest)" },
  CONFIG_KVM_AMD: { group: 'workloads', purpose: 'KVM on AMD SVM (async-pf under TCG -cpu max, or on an AMD host)' },
  CONFIG_KVM_INTEL: { group: 'workloads', purpose: 'KVM on Intel VMX (async-pf under KVM on an Intel host)' },
  CONFIG_CPU_SUP_AMD: { group: 'workloads', purpose: 'AMD CPU support, under KVM_AMD' },
  CONFIG_CPU_SUP_INTEL: { group: 'workloads', purpose: 'Intel CPU support, under KVM_INTEL' },
  CONFIG_HIGH_RES_TIMERS: { group: 'workloads', purpose: "high-resolution timers (KVM's guest timers)" },
};

const GROUPS: { group: RequirementGroup; title: string }[] = [
  { group: 'boot', title: "boot and console: the kernel cannot boot kexp's guest or be heard from" },
  { group: 'counting', title: 'counting: kexp cannot count calls (run, boot) or explain them (explain)' },
  { group: 'workloads', title: 'workloads: the workloads that use these fail' },
  { group: 'other', title: "other options kexp's fragments ask for" },
];

/**
 * The =y symbols of `requested` that `configText` (a .config) does not have at =y, in the order
 * the fragments ask for them. `source` names the .config in messages, e.g. "the .config embedded
 * in build/arch/x86/boot/bzImage".
 */
export function checkKernelRequirements(configText: string, requested: Map<string, ConfigAssignment>, source: string): RequirementProblem[] {
  const config = configToMap(configText);
  if (config.size === 0) {
    throw new InputError(
      `${source} is not a kernel .config: it has no CONFIG_ lines`,
      'give the .config the kernel was built with (the .config file of its build folder)',
    );
  }
  const problems: RequirementProblem[] = [];
  for (const [symbol, asked] of requested) {
    if (asked.value !== 'y') continue;
    const got = config.get(symbol);
    if (got === 'y') continue;
    const role = ROLES[symbol];
    if (role?.satisfiedBy?.some((other) => config.get(other) === 'y')) continue;
    problems.push({ symbol, got, group: role?.group ?? 'other', purpose: role?.purpose, origin: asked.origin });
  }
  return problems;
}

/** The message for the problems of one kernel: grouped by what they break, then the fix. */
export function formatRequirementProblems(problems: RequirementProblem[], source: string): string {
  if (problems.length === 0) return `${source} has every option kexp needs`;
  const width = Math.max(...problems.map((p) => p.symbol.length));
  const valueWidth = Math.max(...problems.map((p) => describeValue(p.got).length));
  const lines = [`${source} lacks ${problems.length === 1 ? 'an option' : `${problems.length} options`} kexp needs:`];
  for (const { group, title } of GROUPS) {
    const members = problems.filter((p) => p.group === group);
    if (members.length === 0) continue;
    lines.push(`  ${title}`);
    for (const p of members) {
      const why = p.purpose ? `${p.purpose}; ` : '';
      lines.push(`    ${p.symbol.padEnd(width)}  ${describeValue(p.got).padEnd(valueWidth)}  ${why}asked by ${p.origin}`);
    }
  }
  if (problems.some((p) => p.got === 'm')) lines.push("  (=m is not enough: kexp's guest loads no modules)");
  const bare = GROUPS.flatMap(({ group }) => problems.filter((p) => p.group === group)).map((p) => p.symbol.replace(/^CONFIG_/, ''));
  lines.push(
    'fix: rebuild the kernel with them built in (=y), in its build folder:',
    `    scripts/config ${bare.map((s) => `-e ${s}`).join(' ')}`,
    '    make olddefconfig && make bzImage',
    '  then check that .config has them at =y (an option whose dependencies are off stays off).',
    `  If ${source} is not what this kernel was built with, give the right .config with --config.`,
  );
  return lines.join('\n');
}

function describeValue(got: ConfigValue | undefined): string {
  if (got === undefined) return 'not in the .config';
  if (got === 'n') return 'is not set';
  return `=${got}`;
}

/** The merged assignments of fragment files (later files win), as the kernel builds use them. */
export function requirementsOfFragments(files: string[]): Map<string, ConfigAssignment> {
  return mergeAssignments(
    files.map((file) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new InputError(`${file}: cannot read the config fragment (${(error as Error).message})`);
      }
      try {
        return parseConfigText(text, file);
      } catch (error) {
        if (error instanceof FragmentSyntaxError) throw new InputError(error.message);
        throw error;
      }
    }),
  );
}
