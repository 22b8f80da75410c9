/**
 * From a function's parameters to the in-kernel counters that split its calls: one kprobe event
 * with typed argument fetching (a return probe, so each call's entry arguments and its return
 * value are paired, where the kernel allows that; an entry probe otherwise) and a few hist
 * triggers on it, each keyed by the caller's stack trace and the flags, with filters for what a
 * hist key cannot say (pages NULL or not, one page or a range, a range's return value's sign).
 * A hist map has at most three keys, hence filters instead of more keys.
 */
import type { CFunction } from './cdecl.js';
import type { NrPagesClass, ProbeMode } from '../records/index.js';

export type Role = 'flags' | 'pages' | 'count';

export interface ProbeField {
  role: Role;
  name: string;
  fetch: string;
}

export interface HistTrigger {
  /** Position among the probe's triggers of this mode. */
  index: number;
  mode: ProbeMode;
  keys: string[];
  /** Hist filter, e.g. "pages == 0 && nr_pages == 1"; empty = every call. */
  filter: string;
  /** What the filter fixes about every call it counts. */
  fixed: { pagesNull?: boolean; nrPages?: NrPagesClass; ret?: RetClass };
}

/** A return value counted by the hist key itself is exact; '>0' is a range call's positive value. */
export type RetClass = 'exact' | '>0';

export interface ExplainProbe {
  function: string;
  fields: ProbeField[];
  triggers: HistTrigger[];
  /** Why a parameter the explanation would like is not there. */
  notes: string[];
}

const FLAG_NAMES = /^(gup_flags|foll_flags)$/;

/** Which parameters steer the retry loop: the FOLL_* flags, the pages array, the page count. */
export function probeFields(fn: CFunction): ProbeField[] {
  const fields: ProbeField[] = [];
  for (const p of fn.params) {
    if (FLAG_NAMES.test(p.name) && !p.pointer) fields.push({ role: 'flags', name: p.name, fetch: `${p.name}=$arg${p.index}:x32` });
    else if (p.name === 'pages' && p.pointer) fields.push({ role: 'pages', name: p.name, fetch: `${p.name}=$arg${p.index}:x64` });
    else if (p.name === 'nr_pages' && !p.pointer) fields.push({ role: 'count', name: p.name, fetch: `${p.name}=$arg${p.index}:u64` });
  }
  return fields;
}

export function explainProbe(fn: CFunction): ExplainProbe {
  const fields = probeFields(fn);
  const flags = fields.find((f) => f.role === 'flags');
  const pages = fields.find((f) => f.role === 'pages');
  const count = fields.find((f) => f.role === 'count');
  const notes: string[] = [];
  if (fn.params.length > 0 && fields.length === 0)
    notes.push(`${fn.name}: no gup_flags, pages or nr_pages parameter (${fn.where}); its calls split by caller and return value only`);
  const baseKeys = ['stacktrace', ...(flags ? [flags.name] : [])];
  const pageSplits: { filter: string; pagesNull?: boolean }[] = pages
    ? [
        { filter: `${pages.name} == 0`, pagesNull: true },
        { filter: `${pages.name} != 0`, pagesNull: false },
      ]
    : [{ filter: '' }];
  const countSplits: { filter: string; nrPages?: NrPagesClass }[] = count
    ? [
        { filter: `${count.name} == 1`, nrPages: '1' },
        { filter: `${count.name} != 1`, nrPages: 'range' },
      ]
    : [{ filter: '' }];
  const triggers: HistTrigger[] = [];
  const add = (mode: ProbeMode, keys: string[], parts: string[], fixed: HistTrigger['fixed']): void => {
    triggers.push({ index: triggers.filter((t) => t.mode === mode).length, mode, keys, filter: parts.filter(Boolean).join(' && '), fixed });
  };
  for (const p of pageSplits) {
    for (const c of countSplits) {
      const fixed = { ...(p.pagesNull !== undefined ? { pagesNull: p.pagesNull } : {}), ...(c.nrPages ? { nrPages: c.nrPages } : {}) };
      add('entry', baseKeys, [p.filter, c.filter], fixed);
      if (c.nrPages === 'range') {
        // A range call returns how far it got: exact values would make a bucket per size.
        add('return', [...baseKeys, 'ret'], [p.filter, c.filter, 'ret <= 0'], { ...fixed, ret: 'exact' });
        add('return', baseKeys, [p.filter, c.filter, 'ret > 0'], { ...fixed, ret: '>0' });
      } else {
        add('return', [...baseKeys, 'ret'], [p.filter, c.filter], { ...fixed, ret: 'exact' });
      }
    }
  }
  return { function: fn.name, fields, triggers, notes };
}

export const HIST_SIZE = 2048;

/**
 * The name of trigger t of probe i. The kernel finds the trigger a :pause, :cont or :clear is
 * meant for by comparing keys and whether there is a filter, not the filter itself: of several
 * triggers that differ only in their filters, every command would reach the same one. A name
 * (a named hist) makes each one addressable.
 */
export function triggerName(probe: number, t: HistTrigger): string {
  return `kexpx${probe}${t.mode === 'return' ? 'r' : 'p'}${t.index}`;
}

/** The trigger as written to events/<group>/<event>/trigger; commands append :pause, :cont, :clear. */
export function triggerSpec(probe: number, t: HistTrigger): string {
  return `hist:name=${triggerName(probe, t)}:keys=${t.keys.join(',')}:vals=hitcount:sort=hitcount:size=${HIST_SIZE}`;
}

/**
 * The guest plan's lines for probe <i>: `xprobe <i> <function> <fetch...>` and one
 * `xhist <i> <r|p> <spec>[ if <filter>]` per trigger, in order.
 */
export function planLines(i: number, probe: ExplainProbe): string[] {
  return [
    ['xprobe', String(i), probe.function, ...probe.fields.map((f) => f.fetch)].join(' '),
    ...probe.triggers.map((t) => `xhist ${i} ${t.mode === 'return' ? 'r' : 'p'} ${triggerSpec(i, t)}${t.filter ? ` if ${t.filter}` : ''}`),
  ];
}
