import { describe, expect, it } from 'vitest';
import { kernelCommandLine, qemuArgs, tscKhzFromCpuinfo, type VmSpec } from '../../../src/vm/qemu.js';

const spec: VmSpec = {
  kernel: '/k/bzImage',
  initrd: '/i/initramfs.cpio.gz',
  accel: 'tcg',
  memoryMiB: 1024,
  cpus: 2,
  append: 'console=ttyS0',
  resultFile: '/out/channel.txt',
};

describe('QEMU command line', () => {
  it('under TCG uses -cpu max, which gives the guest SVM with nested paging', () => {
    const args = qemuArgs(spec);
    expect(args.slice(0, 4)).toEqual(['-accel', 'tcg,thread=multi', '-cpu', 'max']);
  });

  it('under KVM passes the host CPU through', () => {
    const args = qemuArgs({ ...spec, accel: 'kvm' });
    expect(args.slice(0, 4)).toEqual(['-accel', 'kvm', '-cpu', 'host']);
  });

  it('boots the kernel directly with no network, no display, and exits on reboot', () => {
    const args = qemuArgs(spec);
    for (const flag of ['-nodefaults', '-no-reboot', '-no-user-config']) expect(args).toContain(flag);
    expect(args).not.toContain('-netdev');
    expect(args[args.indexOf('-display') + 1]).toBe('none');
    expect(args[args.indexOf('-kernel') + 1]).toBe('/k/bzImage');
    expect(args[args.indexOf('-initrd') + 1]).toBe('/i/initramfs.cpio.gz');
  });

  it('puts the console on stdio (ttyS0) and the result channel on a second serial port (ttyS1)', () => {
    const args = qemuArgs(spec);
    const serials = args.flatMap((a, i) => (a === '-serial' ? [args[i + 1]] : []));
    expect(serials).toEqual(['stdio', 'file:/out/channel.txt']);
  });

  it('builds a kernel command line that shows warnings and turns every crash into an exit', () => {
    const line = kernelCommandLine({ params: { 'kexp.plan': 'abc' } });
    expect(line).toContain('console=ttyS0');
    expect(line).toContain('loglevel=7');
    expect(line).not.toMatch(/\bquiet\b/);
    for (const p of ['reboot=t', 'panic=-1', 'oops=panic']) expect(line.split(' ')).toContain(p);
    expect(line.endsWith('kexp.plan=abc')).toBe(true);
  });

  it('skips the IO-APIC timer check, which panics a TCG guest on a loaded host', () => {
    expect(kernelCommandLine({ params: {} }).split(' ')).toContain('no_timer_check');
  });
});

describe('TSC rate for the guest', () => {
  it('reads the host rate from /proc/cpuinfo and passes it as tsc_early_khz', () => {
    expect(tscKhzFromCpuinfo('processor\t: 0\ncpu MHz\t\t: 2445.402\ncache size\t: 512 KB\n')).toBe(2445402);
    expect(tscKhzFromCpuinfo('processor\t: 0\n')).toBeUndefined();
    expect(kernelCommandLine({ params: {}, tscKhz: 2445402 }).split(' ')).toContain('tsc_early_khz=2445402');
    expect(kernelCommandLine({ params: {} })).not.toContain('tsc_early_khz');
  });
});
