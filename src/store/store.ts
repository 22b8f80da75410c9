/**
 * The content-addressed artifact store. An artifact is a folder `<kind>/<key>/` that appears
 * atomically (written under .tmp, then renamed), so a reader never sees half an artifact and an
 * interrupted writer leaves only a .tmp folder that the next writer sweeps away.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, renameSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { withLock, type LockOptions } from './lock.js';

export type ArtifactKind = 'kernels' | 'images' | 'configs' | 'tools' | 'index' | 'kselftests';

export class ArtifactStore {
  constructor(
    readonly root: string,
    readonly locksDir: string,
  ) {}

  path(kind: ArtifactKind, key: string): string {
    return join(this.root, kind, key);
  }

  has(kind: ArtifactKind, key: string): boolean {
    return existsSync(this.path(kind, key));
  }

  /** Fill a fresh folder and publish it as `<kind>/<key>`; returns the final path. */
  async put(kind: ArtifactKind, key: string, fill: (dir: string) => Promise<void>): Promise<string> {
    const final = this.path(kind, key);
    if (existsSync(final)) return final;
    const tmpRoot = join(this.root, '.tmp');
    mkdirSync(tmpRoot, { recursive: true });
    mkdirSync(join(this.root, kind), { recursive: true });
    const tmp = join(tmpRoot, `${kind}-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
    mkdirSync(tmp);
    try {
      await fill(tmp);
      if (existsSync(final)) {
        rmSync(tmp, { recursive: true, force: true });
      } else {
        renameSync(tmp, final);
      }
      return final;
    } catch (error) {
      rmSync(tmp, { recursive: true, force: true });
      throw error;
    }
  }

  /** Serialise work on one key across processes. */
  lock<T>(kind: ArtifactKind, key: string, fn: () => Promise<T>, options?: LockOptions): Promise<T> {
    return withLock(this.locksDir, `${kind}-${key}`, fn, options);
  }

  /** Remove .tmp folders left by writers that are no longer running. */
  sweep(): void {
    const tmpRoot = join(this.root, '.tmp');
    if (!existsSync(tmpRoot)) return;
    for (const name of readdirSync(tmpRoot)) {
      const pid = Number(/-(\d+)-[0-9a-f]{8}$/.exec(name)?.[1]);
      if (!Number.isFinite(pid) || !isAlive(pid)) rmSync(join(tmpRoot, name), { recursive: true, force: true });
    }
  }

  /** Small named pointers (an input key to the artifact key it produced), written atomically. */
  readIndex(name: string): string | undefined {
    const file = join(this.root, 'index', name);
    return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
  }

  writeIndex(name: string, value: string): void {
    const dir = join(this.root, 'index');
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.${name}.${process.pid}.tmp`);
    writeFileSync(tmp, `${value}\n`);
    renameSync(tmp, join(dir, name));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}
