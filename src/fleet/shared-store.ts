/**
 * The artifact store every machine of a fleet reaches: a shared directory (NFS in a lab) laid out
 * like the local store. An artifact is published into it with a SHA256SUMS file, and taken from
 * it into a machine's own store only after every file's copy matched its sum; both directions go
 * through ArtifactStore.put, so neither store ever holds half an artifact. Other machines write
 * this directory: a key read from it is checked to be a key (64 hex digits) before it becomes a
 * path.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import { EnvironmentError } from '../core/errors.js';
import { ArtifactStore, type ArtifactKind } from '../store/store.js';

export const SUMS = 'SHA256SUMS';

/** Artifact keys are sha256 hex digests; index names are letters, digits and `_.-`. Pure. */
export function isArtifactKey(text: string): boolean {
  return /^[0-9a-f]{64}$/.test(text);
}

function isIndexName(text: string): boolean {
  return /^[\w.-]{1,200}$/.test(text) && !text.startsWith('.');
}

function checkKey(kind: string, key: string): void {
  if (!isArtifactKey(key))
    throw new EnvironmentError(`shared store: ${JSON.stringify(key.slice(0, 80))} is not an artifact key (64 hex digits), refused as ${kind}/<key>`);
}

function checkIndexName(name: string): void {
  if (!isIndexName(name)) throw new EnvironmentError(`shared store: ${JSON.stringify(name.slice(0, 80))} is not an index name`);
}

function filesUnder(dir: string, base = dir): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? filesUnder(path, base) : [relative(base, path)];
    });
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** sha256sum's format: "<hex>  <path>" per line. Pure. */
export function parseSums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m && !m[2]!.split('/').includes('..')) sums.set(m[2]!, m[1]!);
  }
  return sums;
}

export class SharedStore {
  readonly shared: ArtifactStore;
  constructor(
    readonly dir: string,
    private readonly local: ArtifactStore,
  ) {
    this.shared = new ArtifactStore(join(dir, 'store'), join(dir, 'locks'));
  }

  /** Copy a local artifact into the shared store (once), with its sums. */
  async publish(kind: ArtifactKind, key: string): Promise<void> {
    checkKey(kind, key);
    if (this.shared.has(kind, key)) return;
    const from = this.local.path(kind, key);
    if (!existsSync(from)) throw new EnvironmentError(`cannot publish ${kind}/${key}: not in the local store ${this.local.root}`);
    await this.shared.put(kind, key, async (dir) => {
      const lines: string[] = [];
      for (const file of filesUnder(from).filter((f) => f !== SUMS)) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        copyFileSync(join(from, file), join(dir, file));
        lines.push(`${sha256File(join(dir, file))}  ${file}`);
      }
      writeFileSync(join(dir, SUMS), `${lines.join('\n')}\n`);
    });
  }

  /**
   * Make kind/key present in the local store: taken from the shared store, every file checked
   * against its sum. False when the shared store does not have it.
   */
  async fetch(kind: ArtifactKind, key: string): Promise<boolean> {
    checkKey(kind, key);
    if (this.local.has(kind, key)) return true;
    const from = this.shared.path(kind, key);
    if (!existsSync(join(from, SUMS))) return false;
    await this.local.lock(kind, key, async () => {
      if (this.local.has(kind, key)) return;
      const sums = parseSums(readFileSync(join(from, SUMS), 'utf8'));
      if (sums.size === 0) throw new EnvironmentError(`${join(from, SUMS)} lists no files`, `remove ${from} from the shared store; it is published again`);
      await this.local.put(kind, key, async (dir) => {
        for (const [file, expected] of sums) {
          mkdirSync(dirname(join(dir, file)), { recursive: true });
          copyFileSync(join(from, file), join(dir, file));
          const found = sha256File(join(dir, file));
          if (found !== expected) {
            throw new EnvironmentError(
              `shared store: ${kind}/${key}/${file} does not match its sha256 (expected ${expected.slice(0, 16)}…, found ${found.slice(0, 16)}…)`,
              `the shared copy is damaged: remove ${from}; the next build publishes it again`,
            );
          }
        }
        writeFileSync(join(dir, SUMS), readFileSync(join(from, SUMS)));
      });
    });
    return true;
  }

  /** Serialise work on one name across every machine that shares the directory. */
  lock<T>(name: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.shared.lock('kernels', name, fn, signal ? { signal } : {});
  }

  /** The artifact key filed under `name`, checked: another machine wrote it. */
  readIndex(name: string): string | undefined {
    checkIndexName(name);
    const value = this.shared.readIndex(name);
    if (value !== undefined && !isArtifactKey(value)) {
      throw new EnvironmentError(
        `shared store: ${join(this.shared.root, 'index', name)} holds ${JSON.stringify(value.slice(0, 80))}, not an artifact key (64 hex digits)`,
        'remove that file: the next build of that kernel writes it again',
      );
    }
    return value;
  }

  writeIndex(name: string, value: string): void {
    checkIndexName(name);
    checkKey('index value', value);
    this.shared.writeIndex(name, value);
  }
}
