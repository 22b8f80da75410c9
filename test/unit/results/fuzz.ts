/**
 * Deterministic damage for the parsers of kexp's data files and records: truncated prefixes of a
 * real valid file, seeded random bytes, seeded random JSON values, and seeded mutations of a valid
 * value (one field replaced or removed). No dependency: a 32-bit PRNG (mulberry32) seeded per test,
 * so a failure names the seed and the case, and reproduces.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { InputError } from '../../../src/core/errors.js';

export type Rand = () => number;

export function prng(seed: number): Rand {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Put one case in place. Removed first, then written: truncating a file in place makes ext4 flush
 * it to disk (3 ms a write here), a new file does not.
 */
export function writeCase(file: string, content: string | Buffer, encoding: BufferEncoding = 'utf8'): void {
  rmSync(file, { force: true });
  writeFileSync(file, content, typeof content === 'string' ? encoding : undefined);
}

export function int(rand: Rand, below: number): number {
  return Math.floor(rand() * below);
}

export function pick<T>(rand: Rand, items: readonly T[]): T {
  return items[int(rand, items.length)]!;
}

export function randomBytes(rand: Rand, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = int(rand, 256);
  return bytes;
}

/** Every strictly shorter prefix of a short text; for a longer one, `limit` prefixes spread over it (always 0, 1 and length-1). */
export function prefixes(text: string, limit = 4000): string[] {
  if (text.length <= limit) return Array.from({ length: text.length }, (_, n) => text.slice(0, n));
  const lengths = new Set([0, 1, text.length - 1]);
  for (let i = 0; i < limit; i++) lengths.add(Math.floor((i * text.length) / limit));
  return [...lengths]
    .filter((n) => n < text.length)
    .sort((a, b) => a - b)
    .map((n) => text.slice(0, n));
}

const STRINGS = [
  '',
  'x',
  '..',
  '../other-run/cells/x',
  '/etc/passwd',
  'done',
  'ok',
  'kexp/run@1',
  'kexp/cell@1',
  'kexp/bisect@1',
  '6.1',
  'baseline',
  '\u0000',
  '💥',
  'a'.repeat(300),
];

/** A random JSON value; object keys come from `keys` (the real field names) as often as not, so that values reach past the top level. */
export function randomJson(rand: Rand, keys: readonly string[], depth = 3): unknown {
  const kind = int(rand, depth > 0 ? 8 : 5);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2:
      return pick(rand, [0, -1, 1, 2.5, 1e308, -0, 2 ** 53 + 1, int(rand, 1000)]);
    case 3:
      return pick(rand, STRINGS);
    case 4:
      return Array.from({ length: int(rand, 3) }, () => int(rand, 100));
    case 5:
    case 6: {
      const object: Record<string, unknown> = {};
      for (let i = int(rand, 5); i > 0; i--) object[rand() < 0.5 ? pick(rand, keys) : pick(rand, STRINGS)] = randomJson(rand, keys, depth - 1);
      return object;
    }
    default:
      return Array.from({ length: int(rand, 4) }, () => randomJson(rand, keys, depth - 1));
  }
}

/** Every key name in a JSON value (to aim random objects at the real fields). */
export function keysOf(value: unknown, into = new Set<string>()): string[] {
  if (Array.isArray(value)) for (const v of value) keysOf(v, into);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      into.add(k);
      keysOf(v, into);
    }
  }
  return [...into];
}

/** A deep copy of `value` with one field somewhere in it replaced by a random value, or removed. */
export function mutate(rand: Rand, value: unknown, keys: readonly string[]): unknown {
  const copy = structuredClone(value);
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]): void => {
    if (Array.isArray(v))
      v.forEach((x, i) => {
        paths.push([...path, i]);
        walk(x, [...path, i]);
      });
    else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        paths.push([...path, k]);
        walk(x, [...path, k]);
      }
  };
  walk(copy, []);
  if (paths.length === 0) return randomJson(rand, keys);
  const path = pick(rand, paths);
  let parent = copy as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (rand() < 0.25 && !Array.isArray(parent)) delete parent[last];
  else parent[last] = randomJson(rand, keys, 2);
  return copy;
}

/**
 * Runs `read` on one damaged input: it must throw an InputError whose message names the file
 * (when `mayPass` is false), or return; any other exception fails with the case that caused it.
 */
export function expectInputError(read: () => unknown, fileName: string, what: string, mayPass = false): 'passed' | 'refused' {
  try {
    read();
  } catch (error) {
    if (!(error instanceof InputError))
      throw new Error(`${what}: expected an InputError, got ${error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error)}`, {
        cause: error,
      });
    if (!error.message.includes(fileName)) throw new Error(`${what}: the error does not name ${fileName}: ${error.message}`);
    return 'refused';
  }
  if (!mayPass) throw new Error(`${what}: expected an InputError, nothing was thrown`);
  return 'passed';
}
