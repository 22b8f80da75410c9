import { describe, expect, it } from 'vitest';
import { ChannelParser, cpuCount, kprobeHits, parseChannel, planSamples, profileHits } from '../../../src/measure/channel.js';
import type { AgentSample } from '../../../src/measure/samples.js';

const hello = (lines: string[]): string[] => ['@@kexp hello 2 begin', 'kernel 6.12.0', 'online 0', ...lines, '@@kexp hello 2 end'];
const plan = (lines: string[]): string[] => ['@@kexp plan 0 begin', ...lines, '@@kexp plan 0 end'];
const stat = (hits: Record<string, number>): string[] => [
  '  Function    Hit    Time',
  '  --------    ---    ----',
  ...Object.entries(hits).map(([f, n]) => `  ${f}    ${n}    1.0 us`),
];
const hist = (hits: number, dropped: number): string[] => [
  '# event histogram',
  '#',
  '# trigger info: hist:keys=common_pid:vals=hitcount:size=2048 [paused]',
  '#',
  '',
  `{ common_pid:         35 } hitcount:  ${hits}`,
  '',
  'Totals:',
  `    Hits: ${hits + dropped}`,
  '    Entries: 1',
  `    Dropped: ${dropped}`,
];
function sample(i: number, blocks: [string, string, string[]][], end = `exit=0 ms=20`, extra: string[] = []): string[] {
  return [
    `@@kexp sample ${i} begin`,
    ...blocks.flatMap(([kind, key, lines]) => [`@@kexp ${kind} ${i} begin${key ? ` ${key}` : ''}`, ...lines, `@@kexp ${kind} ${i} end`]),
    ...extra,
    `@@kexp sample ${i} end ${end}`,
  ];
}
const samples = (text: string[]): AgentSample[] => parseChannel(text.join('\n')).messages.filter((m): m is AgentSample => m.type === 'sample');

describe('the protocol 2 channel parser', () => {
  it('counts ftrace per sample when the profiler resets, and says so in the done line', () => {
    const text = [
      ...hello(['traceable ftrace f 1', 'traceable ftrace g 0']),
      ...plan(['funcs f g', 'collect ftrace', 'sample w 8 0', 'sample w 16 0']),
      ...sample(0, [
        ['ftrace', 'after', [...stat({ f: 10 }), ...stat({ f: 1 })]],
        ['ftrace', 'reset', stat({})],
        ['result', '', ['{"ok":true}']],
      ]),
      ...sample(1, [
        ['ftrace', 'after', stat({ f: 18 })],
        ['ftrace', 'reset', stat({})],
      ]),
      '@@kexp done 2',
    ];
    const { messages } = parseChannel(text.join('\n'));
    const got = messages.filter((m): m is AgentSample => m.type === 'sample');
    expect(got.map((s) => s.counts)).toEqual([{ ftrace: { f: 11 } }, { ftrace: { f: 18 } }]);
    expect(got[0]).toMatchObject({ workload: 'w', pages: 8, rep: 0, exit: 0, ms: 20, result: { ok: true } });
    expect(got[1]).toMatchObject({ result: null });
    expect(messages.at(-1)).toEqual({ type: 'done', samples: 2, profilerResets: true });
  });

  it('checks the profiler once: a sample with no hits sends no reset dump, the first with hits does, later ones need none', () => {
    const resetting = [
      ...hello(['traceable ftrace f 1']),
      ...plan(['funcs f', 'collect ftrace', 'sample w 8 0', 'sample w 16 0', 'sample w 32 0']),
      ...sample(0, [['ftrace', 'after', stat({})]], 'exit=1 ms=5'),
      ...sample(1, [
        ['ftrace', 'after', stat({ f: 19 })],
        ['ftrace', 'reset', stat({})],
      ]),
      ...sample(2, [['ftrace', 'after', stat({ f: 35 })]]),
      '@@kexp done 3',
    ];
    const { messages } = parseChannel(resetting.join('\n'));
    expect(messages.filter((m): m is AgentSample => m.type === 'sample').map((s) => s.counts)).toEqual([
      { ftrace: { f: 0 } },
      { ftrace: { f: 19 } },
      { ftrace: { f: 35 } },
    ]);
    expect(messages.at(-1)).toEqual({ type: 'done', samples: 3, profilerResets: true });
  });

  it("a profiler that does not reset: later samples count the difference from the previous sample's stats", () => {
    const text = [
      ...hello(['traceable ftrace f 1']),
      ...plan(['funcs f', 'collect ftrace', 'sample w 8 0', 'sample w 16 0', 'sample w 32 0']),
      ...sample(0, [
        ['ftrace', 'after', stat({ f: 19 })],
        ['ftrace', 'reset', stat({ f: 19 })],
      ]),
      ...sample(1, [['ftrace', 'after', stat({ f: 19 + 35 })]]),
      ...sample(2, [['ftrace', 'after', stat({ f: 19 + 35 + 67 })]]),
      '@@kexp done 3',
    ];
    const { messages } = parseChannel(text.join('\n'));
    expect(messages.filter((m): m is AgentSample => m.type === 'sample').map((s) => s.counts)).toEqual([
      { ftrace: { f: 19 } },
      { ftrace: { f: 35 } },
      { ftrace: { f: 67 } },
    ]);
    expect(messages.at(-1)).toEqual({ type: 'done', samples: 3, profilerResets: false });
  });

  it('makes dropped hist events and the count errors the agent saw errors of the sample, and agent errors too', () => {
    const text = [
      ...hello(['traceable tracepoint kvm/a 1', 'traceable tracepoint kvm/b 1', 'traceable tracepoint kvm/c 0']),
      ...plan(['events kvm/a kvm/b kvm/c', 'sample w 8 0']),
      ...sample(0, [['hist', 'kvm/a', hist(40, 3)]], 'exit=0 ms=10', ['@@kexp count-error 0 tracepoint kvm/b: the hist trigger did not take :cont']),
    ];
    const { messages } = parseChannel(text.join('\n'));
    const [s] = messages.filter((m): m is AgentSample => m.type === 'sample');
    expect(s?.counts).toEqual({ tracepoint: { 'kvm/a': 40, 'kvm/b': 0 } });
    expect(s?.countErrors).toEqual(['tracepoint kvm/b: the hist trigger did not take :cont', 'tracepoint kvm/a: the hist map dropped 3 events']);
    expect(messages.filter((m) => m.type === 'error').map((m) => (m.type === 'error' ? m.message : ''))).toEqual([
      'sample 0: tracepoint kvm/b: the hist trigger did not take :cont',
      'sample 0: tracepoint kvm/a: the hist map dropped 3 events',
    ]);
  });

  it('a hist file without totals is a count error, never a zero taken for a count', () => {
    const text = [
      ...hello(['traceable tracepoint kvm/a 1']),
      ...plan(['events kvm/a', 'sample w 8 0']),
      ...sample(0, [['hist', 'kvm/a', ['# event histogram']]]),
    ];
    expect(samples(text)[0]?.countErrors).toEqual(['tracepoint kvm/a: its hist file has no totals (could not be read)']);
  });

  it('kprobe counts are after minus before, perf lines pass on with the hello map', () => {
    const text = [
      ...hello(['kprobe 0 f', 'kprobe 2 h', 'traceable kprobe f 1', 'traceable kprobe g 0', 'traceable kprobe h 1', 'perf-event kexp:kexp_0 f']),
      ...plan(['funcs f g h', 'collect kprobe perf', 'sample w 8 0 --write']),
      ...sample(0, [
        ['kprobe', 'before', ['  kexp_0   5   0', '  kexp_2   1   0']],
        ['kprobe', 'after', ['  kexp_0   25   0', '  kexp_2   9   0']],
        ['perf', '', ['# started', '', '20,,kexp:kexp_0,100,100.00,,']],
      ]),
    ];
    const [s] = samples(text);
    expect(s).toMatchObject({
      args: ['--write'],
      counts: { kprobe: { f: 20, h: 8 } },
      perfRaw: { lines: ['20,,kexp:kexp_0,100,100.00,,'], events: { 'kexp:kexp_0': 'f' } },
    });
  });

  it('a sample cut off by a crash is not reported; a line outside the grammar is invalid, not dropped', () => {
    const parser = new ChannelParser();
    const text = [...hello([]), ...plan(['sample w 8 0', 'sample w 16 0']), ...sample(0, []), '@@kexp sample 1 begin', '@@kexp result 1 begin', '{"ok":'];
    const messages = text.flatMap((l) => parser.push(l));
    expect(messages.filter((m) => m.type === 'sample').map((m) => (m as AgentSample).index)).toEqual([0]);
    expect(parseChannel([...hello([]), 'stray text'].join('\n')).messages.at(-1)).toMatchObject({ type: 'invalid', line: 'stray text' });
  });

  it('reads the small formats: cpu lists, kprobe_profile, trace_stat, the plan', () => {
    expect([cpuCount('0'), cpuCount('0-1'), cpuCount('0,2-3'), cpuCount('x')]).toEqual([1, 2, 3, null]);
    expect(kprobeHits('  kexp_0   12   0\n  other  3  0\n  kexp_10  7  1')).toEqual(
      new Map([
        [0, 12],
        [10, 7],
      ]),
    );
    expect(profileHits(['  f  3  1 us', '  g  4  1 us', '  f  2  1 us', '  Function  Hit'].join('\n'), ['f'])).toEqual({ f: 5 });
    expect(planSamples(['funcs f', 'sample w 008 00 --x', 'sample w x 0', 'exec 16 1 /tmp /usr/bin/p a%20b %'])).toEqual([
      { workload: 'w', args: ['--x'], pages: 8, rep: 0, exec: false },
      undefined,
      { workload: '/usr/bin/p', args: ['a b', ''], pages: 16, rep: 1, exec: true },
    ]);
  });
});
