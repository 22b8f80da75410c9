import { describe, expect, it } from 'vitest';
import { decodePlan, encodePlan, expandSamples, planText, type GuestPlan } from '../../../src/image/plan.js';
import { busyboxEntries, cpioList, skeleton } from '../../../src/image/cpio.js';

const plan: GuestPlan = {
  runs: [
    { workload: 'uffd-populate', args: [], sizes: [64, 128] },
    { workload: 'uffd-populate', args: ['--write'], sizes: [64, 128] },
  ],
  repetitions: 2,
  collectors: ['ftrace', 'kprobe'],
  functions: ['__get_user_pages', 'handle_userfault'],
};

describe('guest plan', () => {
  it('expands repetitions outermost', () => {
    expect(expandSamples(plan).map((s) => `${s.rep}:${s.args.join('')}@${s.pages}`)).toEqual([
      '0:@64',
      '0:@128',
      '0:--write@64',
      '0:--write@128',
      '1:@64',
      '1:@128',
      '1:--write@64',
      '1:--write@128',
    ]);
  });

  it('encodes the lines the agent reads, and round-trips through base64', () => {
    const text = planText(plan);
    expect(text.split('\n').slice(0, 4)).toEqual([
      'funcs __get_user_pages handle_userfault',
      'collect ftrace kprobe',
      'sample uffd-populate 64 0',
      'sample uffd-populate 128 0',
    ]);
    expect(decodePlan(encodePlan(plan))).toBe(text);
    expect(encodePlan(plan)['kexp.plan']).toMatch(/^[A-Za-z0-9+/=]+$/);
  });

  it('names each function and tracepoint once (the agent takes them as they are)', () => {
    const text = planText({ ...plan, functions: ['f', 'g', 'f'], events: ['kvm/a', 'kvm/b', 'kvm/a'] });
    expect(text.split('\n').filter((l) => /^(funcs|events) /.test(l))).toEqual(['funcs f g', 'events kvm/a kvm/b']);
  });

  it('refuses what the agent could not carry', () => {
    expect(() => planText({ ...plan, runs: [{ workload: 'x', args: ['a b'], sizes: [1] }] })).toThrow(/cannot carry/);
    expect(() => planText({ ...plan, functions: ['rm -rf'] })).toThrow(/not a kernel symbol/);
    expect(() => planText({ ...plan, explain: [{ function: 'a; reboot', lines: [] }] })).toThrow(/not a kernel symbol/);
  });

  it("carries explain's lines as explain wrote them, in probe order, after the counters", () => {
    const explain = [
      { function: '__get_user_pages', lines: ['xprobe 0 __get_user_pages x=+0(%si):u64', 'xhist 0 r hist:name=kexpx0r0:keys=x'] },
      { function: 'handle_userfault', lines: ['xprobe 1 handle_userfault'] },
    ];
    const lines = planText({ ...plan, explain }).split('\n');
    expect(lines.slice(2, 5)).toEqual([...explain[0]!.lines, ...explain[1]!.lines]);
  });
});

describe('initramfs file list', () => {
  it('writes gen_init_cpio lines', () => {
    expect(
      cpioList([
        { type: 'dir', path: '/bin' },
        { type: 'file', path: '/init', from: '/x/init' },
        { type: 'slink', path: '/bin/sh', target: 'busybox' },
        { type: 'nod', path: '/dev/console', mode: 0o600, dev: 'c', major: 5, minor: 1 },
      ]),
    ).toBe('dir /bin 755 0 0\nfile /init /x/init 755 0 0\nslink /bin/sh busybox 777 0 0\nnod /dev/console 600 0 0 c 5 1\n');
  });

  it('links every busybox applet except names the image provides itself', () => {
    const entries = busyboxEntries('/bin/busybox', ['sh', 'mount', 'busybox', 'uffd-populate', 'sh'], new Set(['uffd-populate']));
    expect(entries.map((e) => e.path)).toEqual(['/bin/busybox', '/bin/mount', '/bin/sh']);
    expect(skeleton().some((e) => e.path === '/dev/console')).toBe(true);
  });
});
