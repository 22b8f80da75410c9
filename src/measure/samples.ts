/**
 * The messages of the guest agent: hello, sample, error, done. Protocol 2's raw channel is turned
 * into them by src/measure/channel.ts; parseAgentLine reads them as JSON lines (protocol 1, the
 * captures in test/fixtures/guest/*.results.jsonl). A line that is not valid is kept as a
 * protocol error, never silently dropped.
 */
import { z } from 'zod';
import type { SampleStatus } from '../records/index.js';

const counts = z.record(z.string(), z.number().int().nonnegative());

const helloSchema = z
  .object({
    type: z.literal('hello'),
    kernel: z.string(),
    traceable: z.record(z.string(), z.record(z.string(), z.boolean())).default({}),
    notes: z.array(z.string()).default([]),
    /** The guest protocol the agent speaks (images/agent/init; src/measure/channel.ts reads 2). */
    protocol: z.number().int().optional(),
    /** Per explain probe (by index): "return", "entry" or "unavailable: <why>". */
    explain: z.record(z.string(), z.string()).optional(),
  })
  .passthrough();

const workloadResultSchema = z
  .object({
    workload: z.string().optional(),
    pages: z.number().optional(),
    ok: z.boolean(),
    /** The workload could not run here (e.g. no nested KVM): neither a pass nor a failure. */
    skipped: z.boolean().optional(),
    error: z.string().nullable().optional(),
  })
  .passthrough();

const sampleSchema = z
  .object({
    type: z.literal('sample'),
    index: z.number().int().nonnegative(),
    workload: z.string(),
    args: z.array(z.string()).default([]),
    /** A workload's page count; a program's value of {n} (0 when it has no size). */
    pages: z.number().int().nonnegative(),
    rep: z.number().int().nonnegative(),
    exit: z.number().int(),
    result: workloadResultSchema.nullable(),
    /** "exec": a program run as it is (kexp boot -- CMD, a kselftest); its verdict comes from exit and output. */
    kind: z.literal('exec').optional(),
    /** A program's output: the last bytes of each stream, and how many it wrote in all. */
    output: z
      .object({
        stdout: z.string(),
        stdoutBytes: z.number().int().nonnegative(),
        stderr: z.string(),
        stderrBytes: z.number().int().nonnegative(),
      })
      .optional(),
    counts: z.record(z.string(), counts).default({}),
    /** Counts the agent could not trust (a hist map dropped events, a hist file unreadable). */
    countErrors: z.array(z.string()).optional(),
    /** perf stat -x, output and the map from perf's event names to kexp's names. */
    perfRaw: z.object({ lines: z.array(z.string()), events: z.record(z.string(), z.string()) }).optional(),
    /** Per explain probe (by index): the text of its hist file after the window. */
    hist: z.record(z.string(), z.string()).optional(),
    ms: z.number().optional(),
    /** What a workload printed when it was not one result line (newlines as spaces). */
    stdout: z.string().optional(),
  })
  .passthrough();

const doneSchema = z
  .object({
    type: z.literal('done'),
    samples: z.number().int().nonnegative(),
    /** Whether enabling the ftrace function profiler reset its stats (null: never checked). */
    profilerResets: z.boolean().nullable().optional(),
  })
  .passthrough();
const errorSchema = z.object({ type: z.literal('error'), message: z.string() }).passthrough();

export type Hello = z.infer<typeof helloSchema>;
export type AgentSample = z.infer<typeof sampleSchema>;
export type WorkloadResult = z.infer<typeof workloadResultSchema>;

export type AgentMessage = Hello | AgentSample | z.infer<typeof doneSchema> | z.infer<typeof errorSchema> | { type: 'invalid'; line: string; problem: string };

const messageSchema = z.discriminatedUnion('type', [helloSchema, sampleSchema, doneSchema, errorSchema]);

export function parseAgentLine(line: string): AgentMessage | undefined {
  const trimmed = line.replace(/\r$/, '').trim();
  if (trimmed === '') return undefined;
  let data: unknown;
  try {
    data = JSON.parse(trimmed);
  } catch {
    return { type: 'invalid', line: trimmed, problem: 'not JSON' };
  }
  const parsed = messageSchema.safeParse(data);
  if (!parsed.success) {
    return { type: 'invalid', line: trimmed, problem: parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ') };
  }
  return parsed.data as AgentMessage;
}

/** A workload's result line (its stdout), or null when it is not one. */
export function parseWorkloadResult(line: string): WorkloadResult | null {
  try {
    const parsed = workloadResultSchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function parseAgentOutput(text: string): AgentMessage[] {
  return text
    .split('\n')
    .map(parseAgentLine)
    .filter((m): m is AgentMessage => m !== undefined);
}

/** The workload's own verdict: ok only when it exited 0 and said ok. (A program's verdict: see judgeProgram.) */
export function sampleStatus(sample: AgentSample): { status: SampleStatus; reason?: string } {
  if (sample.kind === 'exec') {
    if (sample.countErrors && sample.countErrors.length > 0) return { status: 'failed', reason: `counts not trustworthy: ${sample.countErrors.join('; ')}` };
    return sample.exit === 0 ? { status: 'ok' } : { status: 'failed', reason: `${sample.workload} exited ${sample.exit}` };
  }
  if (sample.result === null) return { status: 'failed', reason: `${sample.workload} printed no result (exit ${sample.exit})` };
  if (sample.result.skipped) return { status: 'skipped', reason: sample.result.error ?? `${sample.workload} could not run here` };
  if (sample.countErrors && sample.countErrors.length > 0) return { status: 'failed', reason: `counts not trustworthy: ${sample.countErrors.join('; ')}` };
  if (sample.result.ok && sample.exit === 0) return { status: 'ok' };
  return { status: 'failed', reason: sample.result.error ?? `${sample.workload} exited ${sample.exit}` };
}

/** How a workload with its options is named in figures and tables: "uffd-populate --write". */
export function workloadLabel(workload: string, args: readonly string[]): string {
  return [workload, ...args].join(' ');
}
