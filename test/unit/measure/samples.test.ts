import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAgentLine, parseAgentOutput, sampleStatus, type AgentSample } from '../../../src/measure/samples.js';
import { computeFigures, missingSample, toSampleRecord } from '../../../src/measure/figures.js';

const captured = readFileSync('test/fixtures/console/ok-6.12.results.jsonl', 'utf8');

describe('result channel parsing', () => {
  it('reads a captured result channel: hello, two samples, done', () => {
    const messages = parseAgentOutput(captured);
    expect(messages.map((m) => m.type)).toEqual(['hello', 'sample', 'sample', 'done']);
    const sample = messages[1] as AgentSample;
    expect(sample).toMatchObject({ workload: 'uffd-populate', pages: 64, rep: 0, exit: 0 });
    expect(sample.counts.ftrace?.__get_user_pages).toBe(131);
    expect(sampleStatus(sample)).toEqual({ status: 'ok' });
  });

  it('keeps a broken line as a protocol error instead of dropping it', () => {
    expect(parseAgentLine('{"type":"sample","index":0')).toMatchObject({ type: 'invalid', problem: 'not JSON' });
    expect(parseAgentLine('{"type":"sample","index":-1}')).toMatchObject({ type: 'invalid' });
    expect(parseAgentLine('   ')).toBeUndefined();
  });

  it('makes a sample a failure when the workload says so, with its words', () => {
    const base = parseAgentOutput(captured)[1] as AgentSample;
    const failed = { ...base, exit: 1, result: { ok: false, error: 'madvise(MADV_POPULATE_READ) returned -1 errno EFAULT' } };
    expect(sampleStatus(failed)).toEqual({ status: 'failed', reason: 'madvise(MADV_POPULATE_READ) returned -1 errno EFAULT' });
    expect(sampleStatus({ ...base, result: null, exit: 139 })).toEqual({ status: 'failed', reason: 'uffd-populate printed no result (exit 139)' });
  });
});

describe('figures', () => {
  const messages = parseAgentOutput(captured);
  const hello = messages[0]!.type === 'hello' ? messages[0] : undefined;
  const samples = messages.filter((m): m is AgentSample => m.type === 'sample').map(toSampleRecord);

  it('fits each function over the sizes with the collectors in agreement', () => {
    const figures = computeFigures(samples, ['__get_user_pages', 'handle_userfault', '__get_user_pages_remote'], hello);
    expect(figures.find((f) => f.function === '__get_user_pages')).toMatchObject({ status: 'ok', per_page: 2, fixed: 3, residual: 0, flags: [] });
    expect(figures.find((f) => f.function === 'handle_userfault')).toMatchObject({ status: 'ok', per_page: 1, fixed: 0 });
    expect(figures.find((f) => f.function === '__get_user_pages_remote')).toMatchObject({ status: 'skipped', per_page: null });
  });

  it('flags collectors that disagree', () => {
    const tampered = samples.map((s, i) => (i === 0 ? { ...s, counts: { ...s.counts, kprobe: { ...s.counts.kprobe, __get_user_pages: 130 } } } : s));
    const [figure] = computeFigures(tampered, ['__get_user_pages'], hello);
    expect(figure!.flags).toContain('collectors disagree at 64 pages (rep 0): ftrace 131, kprobe 130');
  });

  it('shows a crashed or failed sample as a status, never as a number', () => {
    const crashed = [samples[0]!, missingSample('uffd-populate', [], 128, 0, 'crashed', 'not run: Kernel panic')];
    expect(computeFigures(crashed, ['__get_user_pages'], hello)[0]).toMatchObject({
      status: 'crashed',
      per_page: null,
      reason: '1 of 2 samples crashed: not run: Kernel panic',
    });
  });
});

describe('untrustworthy counts', () => {
  it("fail the sample, with the agent's words", () => {
    const base = parseAgentOutput(captured)[1] as AgentSample;
    expect(sampleStatus({ ...base, countErrors: ['kvm/kvm_async_pf_ready: hist dropped 172 events'] })).toEqual({
      status: 'failed',
      reason: 'counts not trustworthy: kvm/kvm_async_pf_ready: hist dropped 172 events',
    });
  });
});
