/**
 * Reading the kernel console as it streams: what ends a run (panic, Oops, BUG, soft lockup, hung
 * task) and what is attached to it as a warning (WARNING: with its location). Pure: lines in,
 * events out; the excerpt keeps a few lines before and the report that follows.
 */

export type ConsoleEventKind = 'panic' | 'oops' | 'bug' | 'soft-lockup' | 'hung-task' | 'rcu-stall' | 'warning';

export interface ConsoleEvent {
  kind: ConsoleEventKind;
  /** The line that identified it, without the timestamp. */
  title: string;
  /** 1-based console line. */
  line: number;
  excerpt: string[];
}

const patterns: { kind: ConsoleEventKind; re: RegExp }[] = [
  { kind: 'panic', re: /Kernel panic - not syncing/ },
  { kind: 'bug', re: /kernel BUG at |BUG: (?!soft lockup)[A-Za-z]/ },
  { kind: 'oops', re: /Oops: |general protection fault|BUG: unable to handle/ },
  { kind: 'soft-lockup', re: /BUG: soft lockup|watchdog: BUG: soft lockup/ },
  { kind: 'hung-task', re: /INFO: task .+ blocked for more than \d+ seconds/ },
  { kind: 'rcu-stall', re: /rcu: INFO: rcu_\w+ detected stalls|rcu_sched self-detected stall/ },
  { kind: 'warning', re: /WARNING: CPU: \d+ PID: \d+ at |------------\[ cut here \]------------/ },
];

/** Kinds that end the run: the kernel is no longer trustworthy. */
export function isFatal(kind: ConsoleEventKind): boolean {
  return kind !== 'warning';
}

export function stripTimestamp(line: string): string {
  return line.replace(/^\[\s*\d+\.\d+\]\s?/, '').replace(/\r$/, '');
}

export class ConsoleWatcher {
  readonly events: ConsoleEvent[] = [];
  private readonly recent: string[] = [];
  private lineNo = 0;
  /** Events still collecting the lines that follow them. */
  private open: { event: ConsoleEvent; remaining: number }[] = [];

  constructor(
    private readonly before = 5,
    private readonly after = 25,
  ) {}

  push(raw: string): ConsoleEvent | undefined {
    const line = stripTimestamp(raw);
    this.lineNo++;
    for (const o of this.open) {
      o.event.excerpt.push(line);
      o.remaining--;
    }
    this.open = this.open.filter((o) => o.remaining > 0);
    let found: ConsoleEvent | undefined;
    for (const { kind, re } of patterns) {
      if (!re.test(line)) continue;
      if (kind === 'warning' && line.includes('cut here')) {
        // the WARNING line follows; the excerpt starts here
        break;
      }
      // A panic that follows an Oops is the same failure: keep the first as the reason.
      found = { kind, title: line.trim(), line: this.lineNo, excerpt: [...this.recent.slice(-this.before), line] };
      this.events.push(found);
      this.open.push({ event: found, remaining: this.after });
      break;
    }
    this.recent.push(line);
    if (this.recent.length > this.before) this.recent.shift();
    return found;
  }

  /** The first event that ends the run, if any. */
  fatal(): ConsoleEvent | undefined {
    return this.events.find((e) => isFatal(e.kind));
  }

  warnings(): ConsoleEvent[] {
    return this.events.filter((e) => e.kind === 'warning');
  }
}

export function watchLog(text: string): ConsoleWatcher {
  const watcher = new ConsoleWatcher();
  for (const line of text.split('\n')) watcher.push(line);
  return watcher;
}
