/**
 * What explain reads from C source, as pure functions of the text: a function's parameters from
 * its definition, and the FOLL_* flag values from wherever a kernel version keeps them (6.1:
 * `#define FOLL_WRITE 0x01` in include/linux/mm.h; 6.12: `FOLL_WRITE = 1 << 0,` in an enum of
 * include/linux/mm_types.h plus internal flags in mm/internal.h). Nothing per version is known
 * here: the texts decide.
 */

export interface CParam {
  /** 1-based position: the kprobe fetch argument $arg<index>. */
  index: number;
  name: string;
  type: string;
  pointer: boolean;
}

export interface CFunction {
  name: string;
  returns: string;
  params: CParam[];
  /** Where the definition was found, file:line. */
  where: string;
}

const stripComments = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/\/\/[^\n]*/g, '');

/** The definition (not a declaration or call) of `fn` in `text`: `<type> fn(<params>) {`. */
export function findDefinition(text: string, fn: string, file: string): CFunction | undefined {
  const clean = stripComments(text);
  const re = new RegExp(`^([A-Za-z_][\\w \\t*]*?[\\s*])${fn.replace(/[.]/g, '\\.')}\\s*\\(([^()]*)\\)\\s*\\{`, 'gm');
  for (const m of clean.matchAll(re)) {
    const head = (m[1] ?? '').replace(/\s+/g, ' ').trim();
    if (/^(return|else|if|while|for)\b/.test(head)) continue;
    const returns = head
      .replace(/\b(static|inline|__always_inline|noinline|notrace|__weak|__init|__cold)\b/g, '')
      .replace(/\s+/g, ' ')
      .trim();
    const line = clean.slice(0, m.index).split('\n').length;
    return { name: fn, returns, params: parseParams(m[2] ?? ''), where: `${file}:${line}` };
  }
  return undefined;
}

export function parseParams(list: string): CParam[] {
  const text = list.replace(/\s+/g, ' ').trim();
  if (text === '' || text === 'void') return [];
  return text.split(',').map((raw, i) => {
    const p = raw.trim();
    const m = /^(.*?)([A-Za-z_]\w*)\s*(\[[^\]]*\])?$/.exec(p);
    const name = m?.[2] ?? `arg${i + 1}`;
    const type = (m?.[1] ?? p).trim() + (m?.[3] ? ' *' : '');
    return {
      index: i + 1,
      name,
      type: type
        .replace(/\s*\*\s*/g, ' *')
        .replace(/\s+/g, ' ')
        .trim(),
      pointer: type.includes('*') || Boolean(m?.[3]),
    };
  });
}

export interface FlagTable {
  prefix: string;
  /** Single-bit flags by value; composite masks are left out of decoding. */
  bits: Map<number, string>;
  /** Every definition found, with where it was. */
  defined: { name: string; value: number; where: string }[];
}

/**
 * Every `#define <prefix>X <expr>` and enum member `<prefix>X = <expr>` in the files, with the
 * expressions kernel headers use for flags: numbers, shifts, parentheses, | of earlier names.
 */
export function parseFlagDefinitions(files: { path: string; text: string }[], prefix = 'FOLL_'): FlagTable {
  const values = new Map<string, number>();
  const defined: FlagTable['defined'] = [];
  const pattern = new RegExp(`^\\s*(?:#\\s*define\\s+(${prefix}\\w+)\\s+([^\\n]+?)|(${prefix}\\w+)\\s*=\\s*([^,\\n]+?)\\s*,?)\\s*$`, 'gm');
  for (const file of files) {
    const clean = stripComments(file.text).replace(/\\\n/g, ' ');
    for (const m of clean.matchAll(pattern)) {
      const name = m[1] ?? m[3];
      const expr = m[2] ?? m[4];
      if (!name || !expr) continue;
      const value = evaluate(expr, values);
      if (value === undefined) continue;
      values.set(name, value);
      defined.push({ name, value, where: `${file.path}:${clean.slice(0, m.index + m[0].indexOf(name)).split('\n').length}` });
    }
  }
  const bits = new Map<number, string>();
  for (const d of defined) if (d.value > 0 && (d.value & (d.value - 1)) === 0 && !bits.has(d.value)) bits.set(d.value, d.name);
  return { prefix, bits, defined };
}

/** A flag expression's value, or undefined when it is not one (a function-like macro, ...). */
export function evaluate(expr: string, names: Map<string, number>): number | undefined {
  const tokens = expr.trim().match(/0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*|[A-Za-z_]\w*|<<|[|()]|\S/g);
  if (!tokens) return undefined;
  let pos = 0;
  const peek = (): string | undefined => tokens[pos];
  const primary = (): number | undefined => {
    const t = tokens[pos++];
    if (t === undefined) return undefined;
    if (t === '(') {
      const v = or();
      return tokens[pos++] === ')' ? v : undefined;
    }
    if (/^\d|^0[xX]/.test(t)) return Number.parseInt(t.replace(/[uUlL]+$/, ''), t.startsWith('0x') || t.startsWith('0X') ? 16 : 10);
    if (t === 'BIT') {
      if (tokens[pos++] !== '(') return undefined;
      const v = or();
      return tokens[pos++] === ')' && v !== undefined ? 2 ** v : undefined;
    }
    return names.get(t);
  };
  const shift = (): number | undefined => {
    let v = primary();
    while (v !== undefined && peek() === '<<') {
      pos++;
      const r = primary();
      v = r === undefined ? undefined : v * 2 ** r;
    }
    return v;
  };
  const or = (): number | undefined => {
    let v = shift();
    while (v !== undefined && peek() === '|') {
      pos++;
      const r = shift();
      v = r === undefined ? undefined : orNumbers(v, r);
    }
    return v;
  };
  const v = or();
  return pos === tokens.length && v !== undefined && Number.isSafeInteger(v) ? v : undefined;
}

function orNumbers(a: number, b: number): number {
  return Number(BigInt(a) | BigInt(b));
}

/** Set bits as names, lowest first; bits no definition names in hex. */
export function decodeFlags(value: number, table: FlagTable): string[] {
  const names: string[] = [];
  let unknown = 0n;
  let rest = BigInt(value);
  for (let bit = 0n; rest > 0n; bit++) {
    const mask = 1n << bit;
    if (rest & mask) {
      const name = table.bits.get(Number(mask));
      if (name) names.push(name);
      else unknown |= mask;
      rest &= ~mask;
    }
  }
  if (unknown > 0n) names.push(`0x${unknown.toString(16)}`);
  return names;
}
