/**
 * One VM boot: QEMU with the kernel and the image, the console streamed and watched, the result
 * channel polled, and the outcome classified (ok, crashed, hung, failed). QEMU never outlives
 * this function: a fatal console event, the watchdog, the overall timeout or the abort signal
 * kill its process group.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { CancelledError, InputError } from '../core/errors.js';
import { run, ProcessError, displayCommand } from '../core/proc.js';
import type { Logger } from '../core/log.js';
import { encodePlan, expandSamples, type GuestPlan, type PlannedSample } from '../image/plan.js';
import type { AgentMessage, Hello } from '../measure/samples.js';
import { ChannelParser } from '../measure/channel.js';
import { missingSample, toPlannedSampleRecord } from '../measure/figures.js';
import { figureUnit, unresolvedPrograms } from '../image/plan.js';
import { ConsoleWatcher, type ConsoleEvent } from './console.js';
import { kernelCommandLine, MAX_COMMAND_LINE, qemuArgs, tscKhzFromCpuinfo, type Accel, type VmSpec } from './qemu.js';
import type { BootStatus, SampleRecord } from '../records/index.js';

export interface BootRequest {
  kernel: string;
  initrd: string;
  plan: GuestPlan;
  accel: Accel;
  memoryMiB?: number;
  cpus?: number;
  /** Folder for console.log, channel.txt and qemu.json. */
  outDir: string;
  /** No new line on the result channel for this long: hung. */
  watchdogMs?: number;
  /** The whole boot may take this long. */
  timeoutMs?: number;
  signal?: AbortSignal;
  logger?: Logger;
  onMessage?: (message: AgentMessage) => void;
}

export interface BootOutcome {
  status: BootStatus;
  reason?: string;
  /** Console lines around what ended the run. */
  excerpt?: string[];
  accel: Accel;
  hello?: Hello;
  samples: SampleRecord[];
  /** Agent errors and protocol problems. */
  agentErrors: string[];
  warnings: ConsoleEvent[];
  consoleLog: string;
  resultLog: string;
  durationMs: number;
  command: string;
}

export function vmSpec(request: BootRequest): VmSpec {
  const tscKhz = request.accel === 'tcg' ? hostTscKhz() : undefined;
  const append = kernelCommandLine({ params: { ...encodePlan(request.plan), 'kexp.out': '/dev/ttyS1' }, ...(tscKhz ? { tscKhz } : {}) });
  if (append.length >= MAX_COMMAND_LINE) {
    throw new InputError(
      `the guest plan is too long for the kernel command line (${append.length} of ${MAX_COMMAND_LINE} bytes)`,
      'run fewer sizes, workloads or repetitions per boot',
    );
  }
  return {
    kernel: request.kernel,
    initrd: request.initrd,
    accel: request.accel,
    memoryMiB: request.memoryMiB ?? 1024,
    cpus: request.cpus ?? 1,
    append,
    resultFile: join(request.outDir, 'channel.txt'),
  };
}

let tscCache: number | undefined | null = null;
function hostTscKhz(): number | undefined {
  if (tscCache === null) {
    try {
      tscCache = tscKhzFromCpuinfo(readFileSync('/proc/cpuinfo', 'utf8'));
    } catch {
      tscCache = undefined;
    }
  }
  return tscCache;
}

class ResultTail {
  private offset = 0;
  private partial = '';
  constructor(private readonly file: string) {}
  /** New complete lines since the last call. */
  read(): string[] {
    if (!existsSync(this.file)) return [];
    const size = statSync(this.file).size;
    if (size <= this.offset) return [];
    const fd = openSync(this.file, 'r');
    try {
      const buffer = Buffer.alloc(size - this.offset);
      readSync(fd, buffer, 0, buffer.length, this.offset);
      this.offset = size;
      const text = this.partial + buffer.toString('utf8');
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      return lines;
    } finally {
      closeSync(fd);
    }
  }
  flush(): string[] {
    const rest = [...this.read(), ...(this.partial ? [this.partial] : [])];
    this.partial = '';
    return rest;
  }
}

/** The boot folder, fresh: an empty console.log and result file, and qemu.json with QEMU's exact command. */
function prepareBootFolder(request: BootRequest): { spec: VmSpec; args: string[]; consoleLog: string; command: string } {
  mkdirSync(request.outDir, { recursive: true });
  const spec = vmSpec(request);
  const args = qemuArgs(spec);
  const consoleLog = join(request.outDir, 'console.log');
  writeFileSync(consoleLog, '');
  writeFileSync(spec.resultFile, '');
  const command = displayCommand('qemu-system-x86_64', args);
  writeFileSync(join(request.outDir, 'qemu.json'), `${JSON.stringify({ command, args, accel: request.accel }, null, 2)}\n`);
  return { spec, args, consoleLog, command };
}

/** What a boot saw by the time QEMU was gone. */
export interface BootEvidence {
  /** The result channel spoke another guest protocol. */
  protocolError?: string;
  /** The first panic, BUG or Oops on the console. */
  fatal?: { title: string; excerpt: string[] };
  /** Why kexp stopped the VM itself (the watchdog, the time limit, a crash seen on the console). */
  ending?: { status: BootStatus; reason: string; excerpt?: string[] };
  /** QEMU exited with an error: the last lines it printed. */
  qemuTail?: string[];
  /** The agent said it finished its plan. */
  done: boolean;
  consoleTail: string[];
}

/** How a boot ended, in order of precedence: protocol, crash, kexp's own stop, QEMU's failure, an early end. Pure. */
export function classifyBoot(e: BootEvidence): { status: BootStatus; reason?: string; excerpt?: string[] } {
  if (e.protocolError) return { status: 'failed', reason: e.protocolError };
  if (e.fatal) return { status: 'crashed', reason: e.fatal.title, excerpt: e.fatal.excerpt };
  if (e.ending) return e.ending;
  if (e.qemuTail) return { status: 'failed', reason: `qemu-system-x86_64 failed: ${e.qemuTail.slice(-5).join(' / ')}`, excerpt: e.qemuTail };
  if (!e.done) return { status: 'crashed', reason: 'the VM stopped before the agent finished its plan', excerpt: e.consoleTail.slice(-20) };
  return { status: 'ok' };
}

export async function boot(request: BootRequest): Promise<BootOutcome> {
  const unresolved = unresolvedPrograms(request.plan);
  if (unresolved.length > 0) throw new Error(`kexp bug: booting with programs not resolved to guest paths: ${unresolved.join(', ')}`);
  const { spec, args, consoleLog, command } = prepareBootFolder(request);

  const watcher = new ConsoleWatcher();
  const tail = new ResultTail(spec.resultFile);
  const messages: AgentMessage[] = [];
  const consoleTail: string[] = [];
  let ending: { status: BootStatus; reason: string; excerpt?: string[] } | undefined;
  let lastProgress = Date.now();
  const started = Date.now();
  const stopper = new AbortController();
  const stop = (status: BootStatus, reason: string, excerpt?: string[], graceMs = 0): void => {
    if (ending) return;
    ending = { status, reason, ...(excerpt ? { excerpt } : {}) };
    request.logger?.info({ status, reason }, 'stopping VM');
    // A grace period lets the console finish the report (and panic=-1 reboot QEMU by itself).
    setTimeout(() => stopper.abort(), graceMs).unref();
  };
  const onAbort = (): void => stopper.abort();
  request.signal?.addEventListener('abort', onAbort, { once: true });

  // The result channel speaks guest protocol 2 (src/measure/channel.ts); another protocol ends
  // the boot at once, as failed, with the reason naming both numbers.
  const channel = new ChannelParser();
  const take = (lines: string[]): void => {
    for (const line of lines) {
      const found = channel.push(line);
      for (const message of found) {
        messages.push(message);
        request.onMessage?.(message);
      }
      if (found.length > 0 || line.startsWith('@@kexp ')) lastProgress = Date.now();
      if (channel.protocolError) stop('failed', channel.protocolError);
    }
  };
  const watchdogMs = request.watchdogMs ?? 60_000;
  const timeoutMs = request.timeoutMs ?? 10 * 60_000;
  const poll = setInterval(() => {
    take(tail.read());
    const now = Date.now();
    if (now - lastProgress > watchdogMs) stop('hung', `no progress on the result channel for ${Math.round(watchdogMs / 1000)} s`, consoleTail.slice(-20));
    else if (now - started > timeoutMs) stop('hung', `the boot took longer than ${Math.round(timeoutMs / 1000)} s`, consoleTail.slice(-20));
  }, 100);

  let qemuError: ProcessError | undefined;
  try {
    await run('qemu-system-x86_64', args, {
      signal: stopper.signal,
      dieWithKexp: true,
      logger: request.logger,
      tailLines: 30,
      onLine: (line, stream) => {
        if (stream === 'stderr') {
          appendFileSync(consoleLog, `[qemu] ${line}\n`);
          return;
        }
        appendFileSync(consoleLog, `${line}\n`);
        consoleTail.push(line);
        if (consoleTail.length > 40) consoleTail.shift();
        const event = watcher.push(line);
        if (event && event.kind !== 'warning') stop('crashed', event.title, undefined, 1500);
      },
    });
  } catch (error) {
    if (error instanceof CancelledError) {
      if (!ending && request.signal?.aborted) throw error;
    } else if (error instanceof ProcessError) {
      qemuError = error;
    } else {
      throw error;
    }
  } finally {
    clearInterval(poll);
    request.signal?.removeEventListener('abort', onAbort);
  }
  take(tail.flush());

  const hello = messages.find((m): m is Hello => m.type === 'hello');
  const done = messages.some((m) => m.type === 'done');
  const agentErrors = messages.flatMap((m) =>
    m.type === 'error' ? [m.message] : m.type === 'invalid' ? [`invalid line on the result channel (${m.problem}): ${m.line.slice(0, 120)}`] : [],
  );
  const fatal = watcher.fatal();
  const outcome = classifyBoot({
    ...(channel.protocolError ? { protocolError: channel.protocolError } : {}),
    ...(fatal ? { fatal } : {}),
    ...(ending ? { ending } : {}),
    ...(qemuError ? { qemuTail: qemuError.tail } : {}),
    done,
    consoleTail,
  });

  const samples = collectSamples(messages, expandSamples(request.plan), outcome, request.outDir);
  return {
    ...outcome,
    accel: request.accel,
    ...(hello ? { hello } : {}),
    samples,
    agentErrors,
    warnings: watcher.warnings(),
    consoleLog,
    resultLog: spec.resultFile,
    durationMs: Date.now() - started,
    command,
  };
}

/**
 * Reported samples in plan order, and every planned one the VM never reported, marked as such.
 * A program's whole output goes beside the results as output-<index>.txt.
 */
function collectSamples(messages: AgentMessage[], planned: PlannedSample[], outcome: { status: BootStatus; reason?: string }, outDir: string): SampleRecord[] {
  const reported = new Map<number, SampleRecord>();
  for (const m of messages) {
    if (m.type !== 'sample') continue;
    const record = toPlannedSampleRecord(m, planned[m.index]);
    if (m.output && record.program) {
      const file = `output-${m.index}.txt`;
      // The agent sends the last 192 KiB of stdout and 32 KiB of stderr (images/agent/init, run_exec).
      const cut = (bytes: number, kept: number): string => (bytes > kept ? `[... only the last ${kept} of ${bytes} bytes were kept]\n` : '');
      writeFileSync(
        join(outDir, file),
        `$ ${[record.program.program, ...record.program.argv].join(' ')}\n# exit ${m.exit}\n# stdout (${m.output.stdoutBytes} bytes)\n${cut(m.output.stdoutBytes, 196608)}${m.output.stdout}# stderr (${m.output.stderrBytes} bytes)\n${cut(m.output.stderrBytes, 32768)}${m.output.stderr}`,
      );
      record.program.outputFile = file;
    }
    reported.set(m.index, record);
  }
  return planned.map((p, index) => {
    const got = reported.get(index);
    if (got) return got;
    const status = outcome.status === 'ok' ? 'failed' : outcome.status;
    const reason = outcome.status === 'ok' ? 'the agent finished without reporting this sample' : `not run: ${outcome.reason ?? outcome.status}`;
    const missing = missingSample(p.workload, p.args, p.pages, p.rep, status, reason);
    return p.command ? { ...missing, unit: figureUnit(p.command.unit), size: p.size ?? 0 } : missing;
  });
}
