/**
 * The real guest agent (images/agent/init) run under busybox sh against a fake root: a tracefs
 * folder of plain files, a /proc with a kexp.plan, workloads that are small shell scripts, the
 * result channel a file. The fake workloads play the kernel too: each adds its calls to the
 * fake kprobe_profile and trace_stat files (as a profiler that does not reset would) and writes
 * the hist files, so what the host computes from the raw channel can be checked against them.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseChannel } from '../../../src/measure/channel.js';
import type { AgentSample, Hello } from '../../../src/measure/samples.js';
import { toSampleRecord } from '../../../src/measure/figures.js';

const BUSYBOX = '/bin/busybox';
const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function put(root: string, path: string, text: string, mode?: number): void {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  if (mode) chmodSync(file, mode);
}

/** The kernel's part, played by each fake workload: calls = 3 + 2/page and 1/page, added to the counters. */
const KERNEL = `
T=$KEXP_ROOT/sys/kernel/tracing
p=$2
a=$((3 + 2 * p)) b=$p
if [ -s "$T/kprobe_profile" ]; then
  awk -v a=$a -v b=$b '$1 == "kexp_0" { $2 += a } $1 == "kexp_1" { $2 += b } { print "  " $1 "  " $2 "  " $3 }' "$T/kprobe_profile" > "$T/kp.new"
  mv "$T/kp.new" "$T/kprobe_profile"
fi
for f in function0 function1; do
  awk -v a=$a -v b=$b -v f=$f 'NR <= 2 { print; next } f == "function1" { print; next }
    $1 == "__get_user_pages" { $2 += a } $1 == "handle_userfault" { $2 += b } { print "  " $1 "    " $2 "    1.0 us" }' "$T/trace_stat/$f" > "$T/ts.new"
  mv "$T/ts.new" "$T/trace_stat/$f"
done
printf '# event histogram\\n#\\n# trigger info: hist:keys=common_pid:vals=hitcount:size=2048 [active]\\n#\\n\\n{ common_pid:         35 } hitcount:  %d\\n\\nTotals:\\n    Hits: %d\\n    Entries: 1\\n    Dropped: 0\\n' $p $p > "$T/events/kvm/kvm_async_pf_ready/hist"
printf '# event histogram\\n#\\n# trigger info: hist:name=x0:keys=gup_flags:vals=hitcount:sort=hitcount:size=2048 [paused]\\n#\\n\\n{ gup_flags:          1 } hitcount:  %d\\n\\nTotals:\\n    Hits: %d\\n    Entries: 1\\n    Dropped: 0\\n' $a $a > "$T/events/kexpx/x0/hist"
`;

function fakeRoot(plan: string, options: { kprobes?: boolean } = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'kexp-agent-'));
  roots.push(root);
  put(root, 'proc/cmdline', `console=ttyS0 kexp.plan=${Buffer.from(plan).toString('base64')} kexp.out=${join(root, 'channel')}\n`);
  put(root, 'proc/uptime', '12.34 5.67\n');
  put(root, 'proc/sys/kernel/osrelease', '6.12.0-fake\n');
  put(root, 'sys/devices/system/cpu/online', '0-1\n');
  put(root, 'dev/null', '');
  put(root, 'channel', '');
  mkdirSync(join(root, 'tmp'));
  const t = 'sys/kernel/tracing';
  for (const f of ['trace', 'set_ftrace_filter', 'function_profile_enabled', 'tracing_on', 'error_log']) put(root, `${t}/${f}`, '');
  if (options.kprobes !== false) {
    put(root, `${t}/kprobe_events`, '');
    put(root, `${t}/kprobe_profile`, '  kexp_0  7  0\n  kexp_1  5  0\n');
    put(root, `${t}/events/kexp/enable`, '');
  }
  const header =
    '  Function                               Hit    Time            Avg             s^2\n  --------                               ---    ----            ---             ---\n';
  put(root, `${t}/trace_stat/function0`, `${header}  __get_user_pages    0    0.0 us\n  handle_userfault    0    0.0 us\n`);
  put(root, `${t}/trace_stat/function1`, `${header}  __get_user_pages    0    0.0 us\n`);
  for (const f of ['trigger', 'hist', 'id']) put(root, `${t}/events/kvm/kvm_async_pf_ready/${f}`, '');
  for (const f of ['trigger', 'hist']) put(root, `${t}/events/kexpx/x0/${f}`, '');
  put(root, 'bin/uffd-populate', `#!/bin/sh\n${KERNEL}\necho '{"workload":"uffd-populate","pages":'$p',"ok":true,"error":null}'\n`, 0o755);
  put(root, 'bin/noisy', `#!/bin/sh\necho "usage: noisy"\necho "second line"\nexit 2\n`, 0o755);
  put(root, 'usr/bin/prog', `#!/bin/sh\necho "ok 1 - first"\necho "args: $*"\necho "a warning" >&2\nexit 1\n`, 0o755);
  return root;
}

function runAgent(root: string): string {
  execFileSync(BUSYBOX, ['sh', join(process.cwd(), 'images/agent/init')], {
    env: { KEXP_ROOT: root, PATH: '/usr/bin:/bin' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30_000,
  });
  return readFileSync(join(root, 'channel'), 'utf8');
}

const PLAN = [
  'funcs __get_user_pages handle_userfault',
  'collect ftrace kprobe perf',
  'events kvm/kvm_async_pf_ready',
  'xprobe 0 __get_user_pages gup_flags=%dx:x32',
  'xhist 0 p hist:name=x0:keys=gup_flags:vals=hitcount:sort=hitcount:size=2048',
  'sample uffd-populate 64 0',
  'sample uffd-populate 128 0 --write',
  'sample uffd-populate x 0',
  'sample missing 8 0',
  'sample noisy 8 0',
  'exec 16 0 /tmp /usr/bin/prog --size=16 %',
  '',
].join('\n');

describe('the guest agent under busybox sh, against a fake tracefs', () => {
  it('streams raw counters that parse into the samples the fake kernel counted', () => {
    const root = fakeRoot(PLAN);
    const channel = runAgent(root);
    expect(channel.split('\n')[0]).toBe('@@kexp hello 2 begin');
    const { messages, protocolError } = parseChannel(channel);
    expect(protocolError).toBeUndefined();
    const hello = messages.find((m): m is Hello => m.type === 'hello')!;
    expect(hello).toMatchObject({ kernel: '6.12.0-fake', cpus: 2, protocol: 2, explain: { '0': 'entry' } });
    // perf unavailable (no perf in the fake root): no perf key, a note says why
    expect(hello.traceable).toEqual({
      ftrace: { __get_user_pages: true, handle_userfault: true },
      kprobe: { __get_user_pages: true, handle_userfault: true },
      tracepoint: { 'kvm/kvm_async_pf_ready': true },
    });
    expect(hello.notes).toContain(`perf: unavailable: ${root}/usr/bin/perf is not in the image`);

    const samples = messages.filter((m): m is AgentSample => m.type === 'sample');
    expect(samples.map((s) => s.index)).toEqual([0, 1, 3, 4, 5]);
    const [s64, s128, missing, noisy, prog] = samples as [AgentSample, AgentSample, AgentSample, AgentSample, AgentSample];
    for (const [s, pages] of [
      [s64, 64],
      [s128, 128],
    ] as const) {
      expect(s.counts).toEqual({
        ftrace: { __get_user_pages: 3 + 2 * pages, handle_userfault: pages },
        kprobe: { __get_user_pages: 3 + 2 * pages, handle_userfault: pages },
        tracepoint: { 'kvm/kvm_async_pf_ready': pages },
      });
      expect(s.result).toEqual({ workload: 'uffd-populate', pages, ok: true, error: null });
      expect(s.exit).toBe(0);
      expect(s.ms).toBe(0);
      expect(s.hist?.['0']).toContain(`{ gup_flags:          1 } hitcount:  ${3 + 2 * pages}`);
      expect(toSampleRecord(s).status).toBe('ok');
    }
    expect(s128.args).toEqual(['--write']);
    expect(missing).toMatchObject({ workload: 'missing', exit: 127, result: null });
    expect(noisy).toMatchObject({ workload: 'noisy', exit: 2, result: null, stdout: 'usage: noisy second line' });
    expect(prog).toMatchObject({
      kind: 'exec',
      workload: '/usr/bin/prog',
      args: ['--size=16', ''],
      pages: 16,
      exit: 1,
      output: { stdout: 'ok 1 - first\nargs: --size=16 \n', stdoutBytes: 30, stderr: 'a warning\n', stderrBytes: 10 },
    });
    const errors = messages.flatMap((m) => (m.type === 'error' ? [m.message] : []));
    expect(errors).toEqual(['plan: sample 2: bad page count: x', 'workload /bin/missing not found']);
    // the fake profiler never resets: found out at the first sample, later ones are differences
    expect(messages.at(-1)).toEqual({ type: 'done', samples: 5, profilerResets: false });
    expect(messages.filter((m) => m.type === 'invalid')).toEqual([]);
  });

  it('says which collector could not be set up, and counts with the others', () => {
    const channel = runAgent(fakeRoot('funcs f g\ncollect kprobe ftrace\nsample uffd-populate 8 0\n', { kprobes: false }));
    const { messages } = parseChannel(channel);
    const hello = messages[0] as Hello;
    expect(hello.traceable).toEqual({ ftrace: { f: true, g: true }, kprobe: { f: false, g: false } });
    expect(hello.notes.some((n) => n.startsWith('kprobe: ') && n.endsWith('kprobe_events missing (CONFIG_KPROBE_EVENTS?)'))).toBe(true);
    const sample = messages.find((m): m is AgentSample => m.type === 'sample')!;
    expect(sample.counts).toEqual({ ftrace: { f: 0, g: 0 } });
  });

  it('a hist trigger that stops taking commands is a count error of its sample, which then has no hist for it', () => {
    const root = fakeRoot('funcs f\ncollect ftrace\nevents kvm/kvm_async_pf_ready\nsample breaker 8 0\nsample uffd-populate 8 0\n');
    // the "kernel" refuses every later trigger command: the file becomes a folder mid-window
    const trigger = `${root}/sys/kernel/tracing/events/kvm/kvm_async_pf_ready/trigger`;
    put(root, 'bin/breaker', `#!/bin/sh\nrm -f ${trigger}; mkdir ${trigger}\necho '{}'\n`, 0o755);
    const { messages } = parseChannel(runAgent(root));
    const [broken, next] = messages.filter((m): m is AgentSample => m.type === 'sample');
    expect(broken?.countErrors).toEqual(['tracepoint kvm/kvm_async_pf_ready: the hist trigger did not take :pause']);
    expect(broken?.counts.tracepoint).toEqual({ 'kvm/kvm_async_pf_ready': 0 });
    expect(next?.countErrors).toEqual([
      'tracepoint kvm/kvm_async_pf_ready: the hist trigger did not take :clear',
      'tracepoint kvm/kvm_async_pf_ready: the hist trigger did not take :cont',
      'tracepoint kvm/kvm_async_pf_ready: the hist trigger did not take :pause',
    ]);
    expect(toSampleRecord(broken!).status).not.toBe('ok');
  });

  it('without a plan: the hello, the error, done', () => {
    const root = fakeRoot('');
    put(root, 'proc/cmdline', `console=ttyS0 kexp.out=${join(root, 'channel')}\n`);
    const { messages } = parseChannel(runAgent(root));
    expect(messages.map((m) => m.type)).toEqual(['hello', 'error', 'done']);
    expect(messages[1]).toEqual({ type: 'error', message: 'no plan: kexp.plan missing from the kernel command line' });
  });
});
