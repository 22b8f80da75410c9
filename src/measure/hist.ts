/**
 * The text of an event's `hist` file, parsed. One file holds a section per hist trigger
 * ("# event histogram" ... "Totals:"), each naming its trigger ("# trigger info: hist:keys=...
 * if <filter> [paused]"), with entries such as
 *
 *   { common_stacktrace:
 *          faultin_page_range+0xa1/0x24a
 *          do_madvise+0x174/0x717
 *   , gup_flags:    6357056, ret:          0} hitcount:          1
 *
 * (6.1 says `stacktrace:`), and totals Hits / Entries / Dropped.
 */

export interface HistEntry {
  /** Stack frames as printed (symbol+off/len), outermost last; empty without a stack key. */
  stack: string[];
  fields: Record<string, number>;
  hitcount: number;
}

export interface HistSection {
  /** The trigger as the kernel prints it, without the [paused]/[active] state. */
  trigger: string;
  /** The hist's name (name=...), empty when unnamed. */
  name: string;
  filter: string;
  entries: HistEntry[];
  hits: number | null;
  entriesTotal: number | null;
  dropped: number | null;
}

export function parseHist(text: string): HistSection[] {
  const sections: HistSection[] = [];
  for (const chunk of text.split(/^# event histogram\s*$/m).slice(1)) {
    const info = /^# trigger info: (.*)$/m.exec(chunk)?.[1]?.trim() ?? '';
    const trigger = info.replace(/\s*\[(paused|active)\]\s*$/, '');
    const filter = / if (.*)$/.exec(trigger)?.[1]?.trim() ?? '';
    const name = /^hist:(?:.*:)?name=([^:\s]+)/.exec(trigger)?.[1] ?? '';
    const entries: HistEntry[] = [];
    for (const m of chunk.matchAll(/^\{([\s\S]*?)\}\s*hitcount:\s*(\d+)/gm)) entries.push(parseEntry(m[1] ?? '', Number(m[2])));
    const total = (name: string): number | null => {
      const v = new RegExp(`^\\s*${name}:\\s*(\\d+)\\s*$`, 'm').exec(chunk)?.[1];
      return v === undefined ? null : Number(v);
    };
    sections.push({ trigger, name, filter, entries, hits: total('Hits'), entriesTotal: total('Entries'), dropped: total('Dropped') });
  }
  return sections;
}

/**
 * A hist file as kept in a sample record: the comment lines other than the section and trigger
 * lines left out, blank lines too, tabs as spaces, every line ending in a newline.
 */
export function trimHistText(text: string): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !(l.startsWith('#') && !/^# (event histogram|trigger info:)/.test(l)))
    .map((l) => `${l.replace(/\t/g, ' ')}\n`)
    .join('');
}

function parseEntry(body: string, hitcount: number): HistEntry {
  let stack: string[] = [];
  let rest = body;
  const st = /(?:common_)?stacktrace:\s*\n([\s\S]*?)\n\s*(,|$)/.exec(body);
  if (st) {
    stack = (st[1] ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    rest = body.slice(0, st.index) + body.slice(st.index + st[0].length);
  }
  const fields: Record<string, number> = {};
  for (const m of rest.matchAll(/([A-Za-z_][\w*+\-/.]*):\s*(-?\d+)/g)) fields[m[1] ?? ''] = Number(m[2]);
  return { stack, fields, hitcount };
}

/** Frames that belong to the tracing machinery, not to the kernel path being explained. */
const MACHINERY =
  /^(kretprobe_|__kretprobe|kprobe_|__kprobe|rethook|arch_rethook|optimized_callback|aggr_|pre_handler_kretprobe|ftrace_|trace_|event_triggers|event_hist|hist_|perf_|kprobe_ftrace_handler|arch_ftrace|fprobe|__fprobe|0x[0-9a-f]+$)/;

/**
 * The caller of `fn` as the few frames above it: names only (offsets stripped), the tracing
 * machinery (kprobe, kretprobe and ftrace trampolines, handlers) and `fn` itself dropped, and a
 * frame repeated by a recovered return address counted once.
 */
export function normaliseCaller(stack: readonly string[], fn: string, depth: number): string[] {
  const names = stack
    .map((f) =>
      f
        .replace(/^\?\s*/, '')
        .replace(/[+].*$/, '')
        .trim(),
    )
    .filter((n) => n !== '' && !MACHINERY.test(n));
  let start = 0;
  while (start < names.length && (names[start] === fn || names[start]?.startsWith(`${fn}.`))) start++;
  const out: string[] = [];
  for (const n of names.slice(start)) {
    if (out[out.length - 1] === n) continue;
    out.push(n);
    if (out.length === depth) break;
  }
  return out;
}
