/**
 * The result channel of guest protocol 2, parsed: the agent (images/agent/init) streams what the
 * kernel's files say, raw, between marker lines, and this turns it into the same AgentMessage
 * values as the JSON lines of protocol 1, so that everything downstream is unchanged. Pure.
 *
 *   @@kexp hello 2 begin            the protocol number, then one "key value" line each:
 *     kernel <release>              uname -r
 *     online <cpu list>             /sys/devices/system/cpu/online ("0", "0-1", "0,2-3")
 *     tracefs <path>                where tracefs is
 *     note <text> / error <text>    the hello's notes; an agent error during setup
 *     traceable <collector> <name> 0|1   ftrace / kprobe / tracepoint / perf: could it be set up
 *     kprobe <i> <function>         the kprobe event kexp/kexp_<i> probes the function
 *     perf-event <perf name> <name> an event perf counts, and the function or tracepoint it is
 *     explain <i> return|entry|unavailable: <why>   how explain's probe i was attached
 *   @@kexp hello 2 end
 *   @@kexp plan 0 begin / the plan text (src/image/plan.ts) / @@kexp plan 0 end
 *   @@kexp sample <i> begin         the i-th sample or exec line of the plan
 *     @@kexp <block> <i> begin [<key>] / raw text / @@kexp <block> <i> end, blocks:
 *       kprobe before|after         kprobe_profile just inside and just after the window
 *       ftrace after|reset          trace_stat/function* after the window; `reset`: again after
 *                                   the profiler was enabled and disabled once more, at the
 *                                   first sample with hits only
 *       hist <group>/<event>        the event's hist file: a tracepoint of the events lines
 *                                   (keys=common_pid), or explain's probe kexpx/x<n>
 *       perf                        perf stat -x, output
 *       result                      a workload's stdout
 *       stdout|stderr <bytes>       a program's output (its last 192 / 32 KiB) and its size
 *     @@kexp count-error <i> <text> a count of the sample the agent saw fail
 *   @@kexp sample <i> end exit=<status> ms=<window in ms>
 *   @@kexp error <text>             an agent problem; the run goes on
 *   @@kexp done <samples written>
 */
import { decodeArg } from '../image/plan.js';
import { parseHist, trimHistText } from './hist.js';
import { parseAgentLine, parseWorkloadResult, type AgentMessage, type AgentSample, type Hello } from './samples.js';

/** The protocol this host reads; the hello line names the agent's. */
export const PROTOCOL = 2;

const MARK = '@@kexp ';

interface Block {
  kind: string;
  index: number;
  key: string;
  lines: string[];
}

interface OpenSample {
  index: number;
  blocks: Block[];
  countErrors: string[];
}

/** A line-by-line parser of one boot's result channel: push each line, get the messages it completes. */
export class ChannelParser {
  /** Set when the channel is not protocol 2; nothing more is parsed then. */
  protocolError?: string;
  private phase: 'start' | 'hello' | 'plan' | 'body' = 'start';
  private helloLines: string[] = [];
  private planLines: string[] = [];
  private hello?: Hello;
  private kprobeEvents = new Map<number, string>();
  private perfEvents: Record<string, string> = {};
  private block?: Block;
  private sample?: OpenSample;
  /** ftrace: does enabling the profiler reset its stats (null: not known yet), and the stats to subtract when not. */
  private resets: boolean | null = null;
  private base: Record<string, number> = {};

  push(raw: string): AgentMessage[] {
    if (this.protocolError) return [];
    const line = raw.replace(/\r$/, '');
    if (this.phase === 'start') return this.start(line);
    if (this.block) {
      if (line === `${MARK}${this.block.kind} ${this.block.index} end`) return this.closeBlock();
      this.block.lines.push(line);
      return [];
    }
    if (this.phase === 'hello') {
      if (/^@@kexp hello \d+ end$/.test(line)) return this.endHello();
      this.helloLines.push(line);
      return [];
    }
    if (this.phase === 'plan') {
      if (line === `${MARK}plan 0 end`) this.phase = 'body';
      else this.planLines.push(line);
      return [];
    }
    return this.bodyLine(line);
  }

  private start(line: string): AgentMessage[] {
    if (line.trim() === '') return [];
    const m = /^@@kexp hello (\S+) begin$/.exec(line);
    if (m) {
      if (m[1] === String(PROTOCOL)) {
        this.phase = 'hello';
        return [];
      }
      this.protocolError = `the guest agent speaks protocol ${m[1]}, this kexp reads protocol ${PROTOCOL}: the image was built by another kexp (rebuild it with this one)`;
    } else {
      const v1 = parseAgentLine(line);
      this.protocolError =
        v1?.type === 'hello'
          ? `the guest agent speaks protocol 1 (a JSON hello line without a protocol number), this kexp reads protocol ${PROTOCOL}: the image was built by another kexp (rebuild it with this one)`
          : `the result channel does not start with a hello line carrying a protocol number (this kexp reads protocol ${PROTOCOL}): ${line.slice(0, 120)}`;
    }
    return [{ type: 'invalid', line: line.slice(0, 200), problem: this.protocolError }];
  }

  private endHello(): AgentMessage[] {
    const hello: Hello = { type: 'hello', kernel: '', traceable: {}, notes: [], protocol: PROTOCOL } as Hello;
    const errors: AgentMessage[] = [];
    const explain: Record<string, string> = {};
    for (const line of this.helloLines) {
      const [key = '', ...words] = line.split(' ');
      const rest = words.join(' ');
      if (key === 'kernel') hello.kernel = rest;
      else if (key === 'online') (hello as Record<string, unknown>).cpus = cpuCount(rest);
      else if (key === 'tracefs') (hello as Record<string, unknown>).tracefs = rest;
      else if (key === 'note') hello.notes.push(clean(rest));
      else if (key === 'error') errors.push({ type: 'error', message: clean(rest) });
      else if (key === 'traceable' && words.length === 3) {
        const [collector = '', name = '', ok] = words;
        hello.traceable[collector] = { ...hello.traceable[collector], [name]: ok === '1' };
      } else if (key === 'kprobe' && words.length === 2) this.kprobeEvents.set(Number(words[0]), words[1] ?? '');
      else if (key === 'perf-event' && words.length === 2) this.perfEvents[words[0] ?? ''] = words[1] ?? '';
      else if (key === 'explain' && words.length >= 2) explain[words[0] ?? ''] = words.slice(1).join(' ');
      else if (line.trim() !== '') errors.push({ type: 'invalid', line, problem: 'not a hello line of protocol 2' });
    }
    if (!('cpus' in hello)) (hello as Record<string, unknown>).cpus = null;
    if (Object.keys(explain).length > 0) hello.explain = explain;
    this.hello = hello;
    this.phase = 'body';
    return [hello, ...errors];
  }

  private bodyLine(line: string): AgentMessage[] {
    if (line.trim() === '') return [];
    if (line === `${MARK}plan 0 begin`) {
      this.phase = 'plan';
      this.planLines = [];
      return [];
    }
    if (!line.startsWith(MARK)) return [{ type: 'invalid', line, problem: 'not a protocol 2 line' }];
    const words = line.slice(MARK.length).split(' ');
    const [kind = '', second = ''] = words;
    if (kind === 'error') return [{ type: 'error', message: clean(line.slice(MARK.length + 'error '.length)) }];
    if (kind === 'done') return [{ type: 'done', samples: Number(second), profilerResets: this.resets }];
    const index = Number(second);
    if (!/^\d+$/.test(second)) return [{ type: 'invalid', line, problem: 'a marker without a sample index' }];
    if (kind === 'sample' && words[2] === 'begin') {
      this.sample = { index, blocks: [], countErrors: [] };
      return [];
    }
    if (kind === 'sample' && words[2] === 'end') return this.endSample(index, words.slice(3));
    if (!this.sample || this.sample.index !== index) return [{ type: 'invalid', line, problem: `outside sample ${index}` }];
    if (kind === 'count-error') {
      this.sample.countErrors.push(clean(words.slice(2).join(' ')));
      return [];
    }
    if (words[2] === 'begin') {
      this.block = { kind, index, key: words.slice(3).join(' '), lines: [] };
      return [];
    }
    return [{ type: 'invalid', line, problem: 'not a protocol 2 marker' }];
  }

  private closeBlock(): AgentMessage[] {
    if (this.block && this.sample) this.sample.blocks.push(this.block);
    this.block = undefined;
    return [];
  }

  private endSample(index: number, fields: string[]): AgentMessage[] {
    const open = this.sample?.index === index ? this.sample : { index, blocks: [], countErrors: [] };
    this.sample = undefined;
    const plan = planSamples(this.planLines)[index];
    const line = `@@kexp sample ${index} end ${fields.join(' ')}`;
    if (!plan) return [{ type: 'invalid', line, problem: `the plan has no sample ${index}` }];
    const field = (name: string): number | undefined => {
      const v = fields.find((f) => f.startsWith(`${name}=`))?.slice(name.length + 1);
      return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : undefined;
    };
    const exit = field('exit');
    if (exit === undefined) return [{ type: 'invalid', line, problem: 'no exit=<status>' }];
    const ms = field('ms');
    const text = (kind: string, key?: string): string | undefined => {
      const b = open.blocks.find((x) => x.kind === kind && (key === undefined || x.key === key));
      return b ? b.lines.join('\n') : undefined;
    };
    const countErrors = [...open.countErrors];
    const counts: AgentSample['counts'] = {};
    const traceable = this.hello?.traceable ?? {};
    const traced = (collector: string): string[] =>
      Object.entries(traceable[collector] ?? {})
        .filter(([, ok]) => ok)
        .map(([name]) => name);

    const after = text('ftrace', 'after');
    if (after !== undefined) counts.ftrace = this.ftraceCounts(traced('ftrace'), after, text('ftrace', 'reset'));
    const kBefore = text('kprobe', 'before');
    const kAfter = text('kprobe', 'after');
    if (kBefore !== undefined && kAfter !== undefined) {
      const before = kprobeHits(kBefore);
      const hits = kprobeHits(kAfter);
      const c: Record<string, number> = {};
      for (const [i, fn] of this.kprobeEvents) if (traceable.kprobe?.[fn]) c[fn] = (hits.get(i) ?? 0) - (before.get(i) ?? 0);
      counts.kprobe = c;
    }
    const events = traced('tracepoint');
    if (events.length > 0) {
      const c: Record<string, number> = {};
      for (const event of events) {
        c[event] = 0;
        const hist = text('hist', event);
        if (hist === undefined) continue;
        const sections = parseHist(hist);
        if (sections.length === 0 || sections.some((s) => s.dropped === null)) {
          countErrors.push(`tracepoint ${event}: its hist file has no totals (could not be read)`);
          continue;
        }
        c[event] = sections.reduce((n, s) => n + s.entries.reduce((m, e) => m + e.hitcount, 0), 0);
        const dropped = sections.reduce((n, s) => n + (s.dropped ?? 0), 0);
        if (dropped > 0) countErrors.push(`tracepoint ${event}: the hist map dropped ${dropped} events`);
      }
      counts.tracepoint = c;
    }
    const sample: AgentSample = {
      type: 'sample',
      index,
      workload: plan.workload,
      args: plan.args,
      pages: plan.pages,
      rep: plan.rep,
      exit,
      result: null,
      counts,
    };
    if (plan.exec) {
      sample.kind = 'exec';
      const out = (name: string): { text: string; bytes: number } => {
        const b = open.blocks.find((x) => x.kind === name);
        return { text: b ? b.lines.map((l) => `${clean(l, true)}\n`).join('') : '', bytes: Number(b?.key) || 0 };
      };
      const stdout = out('stdout');
      const stderr = out('stderr');
      sample.output = { stdout: stdout.text, stdoutBytes: stdout.bytes, stderr: stderr.text, stderrBytes: stderr.bytes };
    } else {
      const res = (text('result') ?? '').replace(/\n+$/, '');
      const parsed = workloadResult(res);
      if (parsed) sample.result = parsed;
      else if (res !== '') (sample as Record<string, unknown>).stdout = clean(res.replace(/[\n\r\t]/g, ' '));
    }
    const perf = text('perf');
    if (perf !== undefined) sample.perfRaw = { lines: perf.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')), events: { ...this.perfEvents } };
    const explainOn = Object.values(this.hello?.explain ?? {}).some((m) => m === 'return' || m === 'entry');
    const hists = open.blocks.filter((b) => b.kind === 'hist' && /^kexpx\/x\d+$/.test(b.key));
    if (explainOn || hists.length > 0) sample.hist = Object.fromEntries(hists.map((b) => [b.key.slice('kexpx/x'.length), trimHistText(b.lines.join('\n'))]));
    if (countErrors.length > 0) sample.countErrors = countErrors;
    if (ms !== undefined) sample.ms = ms;
    // Each count error is also an agent error, as protocol 1 reported them.
    return [sample, ...countErrors.map((e): AgentMessage => ({ type: 'error', message: `sample ${index}: ${e}` }))];
  }

  /**
   * The profiler's hits per traced function in the window. Enabling the profiler resets its stats
   * on the kernels kexp builds; that is checked at the first sample with hits (the `reset` dump,
   * taken after one more enable and disable, must hold fewer), and if it does not, every later
   * sample counts the difference from the previous sample's stats: its `reset` dump when it has
   * one (agents before 2026-12-07 sent one with every sample), else its `after` dump (a profiler
   * that does not reset holds the same after one more enable and disable).
   */
  private ftraceCounts(functions: string[], after: string, reset: string | undefined): Record<string, number> {
    const now = profileHits(after, functions);
    const counts: Record<string, number> = {};
    for (const fn of functions) counts[fn] = (now[fn] ?? 0) - (this.resets === false ? (this.base[fn] ?? 0) : 0);
    if (this.resets === false) this.base = reset !== undefined ? profileHits(reset, functions) : now;
    else if (this.resets === null && reset !== undefined) {
      const hits = functions.reduce((n, fn) => n + (now[fn] ?? 0), 0);
      if (hits > 0) {
        const left = profileHits(reset, functions);
        this.resets = functions.reduce((n, fn) => n + (left[fn] ?? 0), 0) < hits;
        if (!this.resets) this.base = left;
      }
    }
    return counts;
  }
}

/** The whole channel text at once (a finished boot, a capture). */
export function parseChannel(text: string): { messages: AgentMessage[]; protocolError?: string } {
  const parser = new ChannelParser();
  const messages = text.split('\n').flatMap((l) => parser.push(l));
  return { messages, ...(parser.protocolError ? { protocolError: parser.protocolError } : {}) };
}

interface PlanSample {
  workload: string;
  args: string[];
  pages: number;
  rep: number;
  exec: boolean;
}

/** The plan's sample and exec lines in order (a malformed one holds its index: the agent reported it and ran nothing). */
export function planSamples(lines: readonly string[]): (PlanSample | undefined)[] {
  const out: (PlanSample | undefined)[] = [];
  for (const line of lines) {
    const [key, ...w] = line.trim().split(/\s+/);
    if (key === 'sample') {
      const [workload = '', pages = '', rep = '', ...args] = w;
      out.push(/^\d+$/.test(pages) && /^\d+$/.test(rep) ? { workload, args, pages: Number(pages), rep: Number(rep), exec: false } : undefined);
    } else if (key === 'exec') {
      const [size = '', rep = '', , program = '', ...args] = w;
      out.push(
        /^\d+$/.test(size) && /^\d+$/.test(rep)
          ? { workload: program, args: args.map(decodeArg), pages: Number(size), rep: Number(rep), exec: true }
          : undefined,
      );
    }
  }
  return out;
}

/** kprobe_profile: "<event> <hits> <misses>" per line → hits of kexp_<i> by i. */
export function kprobeHits(text: string): Map<number, number> {
  const hits = new Map<number, number>();
  for (const line of text.split('\n')) {
    const m = /^\s*kexp_(\d+)\s+(\d+)\s/.exec(`${line} `);
    if (m) hits.set(Number(m[1]), Number(m[2]));
  }
  return hits;
}

/** trace_stat/function<N> (one after the other): the Hit column summed per function over the CPUs. */
export function profileHits(text: string, functions: readonly string[]): Record<string, number> {
  const want = new Set(functions);
  const hits: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [fn = '', hit = ''] = line.trim().split(/\s+/);
    if (want.has(fn) && /^\d+$/.test(hit)) hits[fn] = (hits[fn] ?? 0) + Number(hit);
  }
  return hits;
}

/** "0", "0-1", "0,2-3" → the number of CPUs; null when unreadable. */
export function cpuCount(list: string): number | null {
  let n = 0;
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return null;
    n += m[2] === undefined ? 1 : Number(m[2]) - Number(m[1]) + 1;
  }
  return n;
}

/** The workload's one line, when it is one JSON object that is a workload result. */
function workloadResult(text: string): AgentSample['result'] {
  if (text.includes('\n') || !text.startsWith('{') || !text.endsWith('}')) return null;
  return parseWorkloadResult(text);
}

/** Control characters dropped (a tab kept when asked), as protocol 1's JSON strings had them. */
function clean(text: string, keepTab = false): string {
  let out = '';
  for (const ch of text) if (ch >= ' ' || (keepTab && ch === '\t')) out += ch;
  return out;
}
