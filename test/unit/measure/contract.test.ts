/**
 * Contract tests of the guest protocol: real result channels of protocol 2 (test/fixtures/guest/
 * *.channel.txt), each captured with the same plan as a protocol 1 capture (*.results.jsonl, JSON
 * lines), parse into the same records in everything that does not depend on timing: the samples
 * (workload, options, pages, rep), their counts, status, exit status and workload results, the
 * traceable maps, the kinds of agent errors. See test/fixtures/guest/README.md.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseChannel } from '../../../src/measure/channel.js';
import { toSampleRecord } from '../../../src/measure/figures.js';
import type { SampleRecord } from '../../../src/records/index.js';
import { parseAgentOutput, type AgentMessage, type AgentSample, type Hello } from '../../../src/measure/samples.js';
import { parseHist } from '../../../src/measure/hist.js';

const dir = 'test/fixtures/guest';

interface Parsed {
  hello: Hello | undefined;
  records: Map<string, SampleRecord & { exit: number }>;
  errorKinds: string[];
  done: number | undefined;
}

function digest(messages: AgentMessage[]): Parsed {
  const records = new Map<string, SampleRecord & { exit: number }>();
  for (const m of messages.filter((x): x is AgentSample => x.type === 'sample'))
    records.set(`${[m.workload, ...m.args].join(' ')} ${m.pages} rep ${m.rep}`, { ...toSampleRecord(m), exit: m.exit });
  // the kind of an error: its words before the last ": " (what follows names the case)
  const errorKinds = messages.flatMap((m) => (m.type === 'error' ? [m.message.replace(/: [^:]*$/, '')] : [])).sort();
  const done = messages.find((m) => m.type === 'done');
  return {
    hello: messages.find((m): m is Hello => m.type === 'hello'),
    records,
    errorKinds,
    done: done?.type === 'done' ? done.samples : undefined,
  };
}

const v1 = (name: string): Parsed => digest(parseAgentOutput(readFileSync(`${dir}/${name}.results.jsonl`, 'utf8')));
function v2(name: string): Parsed {
  const { messages, protocolError } = parseChannel(readFileSync(`${dir}/${name}.channel.txt`, 'utf8'));
  expect(protocolError).toBeUndefined();
  expect(messages.filter((m) => m.type === 'invalid')).toEqual([]);
  return digest(messages);
}

/** The fields of a workload's line that do not depend on timing (async-pf's kvmStats do). */
const stable = [
  'workload',
  'pages',
  'write',
  'ret',
  'errno',
  'errnoName',
  'faults',
  'faultsAfter',
  'touched',
  'verified',
  'checksum',
  'ok',
  'skipped',
  'error',
];
function stableResult(result: SampleRecord['result']): Record<string, unknown> | null {
  if (!result) return null;
  return Object.fromEntries(Object.entries(result).filter(([k]) => stable.includes(k)));
}

describe('protocol 2 captures match the protocol 1 captures of the same plans', () => {
  for (const name of [
    '6.12-std',
    '6.12-full',
    '6.12-errors',
    '6.12-ftrace-only',
    '6.12-kprobe-only',
    '6.12-noplan',
    'async-pf-6.12-full',
    'async-pf-6.12-early-break',
    'async-pf-6.12-continue',
    'async-pf-6.1-baseline',
    'async-pf-6.1-early-break',
    'async-pf-6.1-continue',
    'perf-6.1-full',
    'perf-6.12-full',
    'perf-6.12-perf-only',
  ]) {
    it(name, () => {
      const before = v1(name);
      const after = v2(name);
      expect(after.hello?.protocol).toBe(2);
      expect(after.hello?.traceable).toEqual(before.hello?.traceable);
      expect([...after.records.keys()].sort()).toEqual([...before.records.keys()].sort());
      for (const [key, was] of before.records) {
        const now = after.records.get(key)!;
        expect({ key, counts: now.counts, status: now.status, exit: now.exit }).toEqual({ key, counts: was.counts, status: was.status, exit: was.exit });
        expect(stableResult(now.result)).toEqual(stableResult(was.result));
      }
      expect(after.errorKinds).toEqual(before.errorKinds);
      expect(after.done).toBe(before.done);
    });
  }
});

describe('protocol 2 captures on their own', () => {
  it('explain: each probe mode in the hello, each sample a hist text that decodes into buckets adding up to the kprobe counts', () => {
    const { messages } = parseChannel(readFileSync(`${dir}/explain-6.12-baseline.channel.txt`, 'utf8'));
    const hello = messages.find((m): m is Hello => m.type === 'hello')!;
    expect(hello.explain).toEqual({ '0': 'return', '1': 'return' });
    const samples = messages.filter((m): m is AgentSample => m.type === 'sample');
    expect(samples.map((s) => s.pages)).toEqual([64, 128]);
    for (const s of samples) {
      expect(Object.keys(s.hist ?? {})).toEqual(['0', '1']);
      expect(s.hist?.['0']).toMatch(/^# event histogram\n# trigger info: hist:name=kexpx0r0:/);
      expect(s.hist?.['0']).not.toMatch(/\n\s*\n/);
      expect(s.countErrors).toBeUndefined();
      // the return probe's sections (kexpx0r*) count every call once: as many as the kprobe counted
      const calls = parseHist(s.hist?.['0'] ?? '')
        .filter((sec) => /^kexpx0r\d+$/.test(sec.name))
        .reduce((n, sec) => n + sec.entries.reduce((m, e) => m + e.hitcount, 0), 0);
      expect(calls).toBe(s.counts.kprobe?.__get_user_pages);
      expect(calls).toBe(3 + 2 * s.pages);
    }
  });

  it('timeout: a workload that runs into its own --timeout is a failed sample with its words, and the next one runs', () => {
    const { messages } = parseChannel(readFileSync(`${dir}/6.12-timeout.channel.txt`, 'utf8'));
    const samples = messages.filter((m): m is AgentSample => m.type === 'sample');
    expect(samples.map((s) => [s.workload, s.exit])).toEqual([
      ['uffd-populate', 1],
      ['uffd-remote', 1],
      ['uffd-populate', 0],
    ]);
    const records = samples.map(toSampleRecord);
    expect(records.map((r) => r.status)).toEqual(['failed', 'failed', 'ok']);
    expect(records[0]?.reason).toBe('timeout after 1 s during MADV_POPULATE_READ');
    expect(records[1]?.reason).toBe('timeout after 1 s during process_vm_readv');
    for (const s of samples.slice(0, 2)) expect(s.ms).toBeGreaterThanOrEqual(1000);
    expect(records[2]?.counts).toEqual({ ftrace: { __get_user_pages: 11, handle_userfault: 4 }, kprobe: { __get_user_pages: 11, handle_userfault: 4 } });
  });

  it('an agent of another protocol is a protocol error naming both numbers, and nothing of its channel is read', () => {
    const old = parseChannel(readFileSync(`${dir}/6.12-std.results.jsonl`, 'utf8'));
    expect(old.protocolError).toMatch(/protocol 1 .*reads protocol 2/);
    expect(old.messages).toHaveLength(1);
    expect(old.messages[0]).toMatchObject({ type: 'invalid' });
    const future = parseChannel(readFileSync(`${dir}/6.12-std.channel.txt`, 'utf8').replace('@@kexp hello 2 begin', '@@kexp hello 3 begin'));
    expect(future.protocolError).toMatch(/speaks protocol 3, this kexp reads protocol 2/);
    expect(parseChannel('garbage\n').protocolError).toMatch(/does not start with a hello line carrying a protocol number/);
  });
});
