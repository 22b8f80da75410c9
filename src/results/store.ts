/**
 * The result store: one folder per run under results/. Every file is replaced atomically (written
 * beside, then renamed), a cell's record appears only when the cell finished, and the manifest says
 * which cells are done, so an interrupted run is a valid record of what finished, and a resume
 * runs only the rest.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import { writeJsonAtomic } from '../store/store.js';
import type { BootStatus } from '../vm/boot.js';
import type { SampleRecord } from '../measure/figures.js';
import type { Hello } from '../measure/samples.js';

export type RunState = 'running' | 'complete' | 'incomplete';

export interface CellState {
  kernel: string;
  variant: string;
  rep: number;
  state: 'pending' | 'done';
  status?: BootStatus;
  reason?: string;
  seconds?: number;
  /** Who ran it: "local" or a worker's name. */
  worker?: string;
}

export interface ArtifactProvenance {
  key: string;
  inputKey?: string;
  source?: string;
  sourceId?: string;
  patches?: { name: string; sha256: string }[];
  configSha256?: string;
  compiler?: string;
  cached?: boolean;
  error?: string;
  /** The fleet worker that built or found it. */
  worker?: string;
}

export interface RunManifest {
  schema: 'kexp/run@1';
  id: string;
  experiment: string;
  experimentFile: string;
  state: RunState;
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  only?: Record<string, string[]>;
  kexp: { version: string; commit: string | null };
  host: { hostname: string; kernel: string; cpus: number; memoryMiB: number };
  qemu: string | null;
  accel?: { accel: string; reason: string };
  /** Where the cells ran: local, or a fleet's queue (its URL without the password). */
  executor?: { name: string; redis?: string; store?: string };
  /** When `kexp run --cancel` stopped the run (a fleet run); it cannot be resumed then. */
  cancelledAt?: string;
  artifacts: { kernels: Record<string, ArtifactProvenance>; image?: ArtifactProvenance };
  cells: Record<string, CellState>;
  /** Cell ids in the order they were planned. */
  plannedCells: string[];
}

export interface CellRecord {
  schema: 'kexp/cell@1';
  id: string;
  kernel: string;
  variant: string;
  rep: number;
  status: BootStatus;
  reason?: string;
  excerpt?: string[];
  accel: string;
  kernelKey: string | null;
  imageKey: string | null;
  seconds: number;
  worker: string;
  traceable: Hello['traceable'] | null;
  warnings: { title: string; excerpt: string[] }[];
  agentErrors: string[];
  samples: SampleRecord[];
}

export function resultsRoot(root: string, override?: string): string {
  if (override) return resolve(override);
  if (process.env.KEXP_RESULTS) return resolve(process.env.KEXP_RESULTS);
  return join(root, 'results');
}

export class RunStore {
  constructor(readonly dir: string) {}

  get manifestFile(): string {
    return join(this.dir, 'manifest.json');
  }

  cellDir(id: string): string {
    return join(this.dir, 'cells', id);
  }

  static create(resultsDir: string, id: string, experimentText: string, manifest: RunManifest): RunStore {
    const dir = join(resultsDir, id);
    if (existsSync(dir)) throw new InputError(`run ${id} already exists in ${resultsDir}`);
    mkdirSync(join(dir, 'cells'), { recursive: true });
    writeFileSync(join(dir, 'experiment.json'), experimentText);
    const store = new RunStore(dir);
    store.writeManifest(manifest);
    return store;
  }

  static open(resultsDir: string, idOrPath: string): RunStore {
    const dir = existsSync(join(idOrPath, 'manifest.json')) ? resolve(idOrPath) : join(resultsDir, idOrPath);
    if (!existsSync(join(dir, 'manifest.json'))) {
      const known = listRuns(resultsDir).slice(-5).map((r) => r.id);
      throw new InputError(`no run "${idOrPath}" in ${resultsDir}`, known.length > 0 ? `recent runs: ${known.join(', ')} (kexp runs lists them all)` : 'kexp runs lists the runs');
    }
    return new RunStore(dir);
  }

  manifest(): RunManifest {
    return JSON.parse(readFileSync(this.manifestFile, 'utf8')) as RunManifest;
  }

  writeManifest(manifest: RunManifest): void {
    manifest.updatedAt = new Date().toISOString();
    writeJsonAtomic(this.manifestFile, manifest);
  }

  experimentText(): string {
    return readFileSync(join(this.dir, 'experiment.json'), 'utf8');
  }

  /** Files a cell wrote elsewhere (on a fleet worker), each written atomically into its folder. */
  writeCellFiles(id: string, files: Record<string, Buffer>): void {
    mkdirSync(this.cellDir(id), { recursive: true });
    for (const [name, content] of Object.entries(files)) {
      if (!/^[\w.-]+$/.test(name) || name === 'cell.json') continue;
      const file = join(this.cellDir(id), name);
      writeFileSync(`${file}.${process.pid}.tmp`, content);
      renameSync(`${file}.${process.pid}.tmp`, file);
    }
  }

  /** A finished cell: its record appears atomically, then the manifest says it is done. */
  recordCell(record: CellRecord): void {
    mkdirSync(this.cellDir(record.id), { recursive: true });
    writeJsonAtomic(join(this.cellDir(record.id), 'cell.json'), record);
    const manifest = this.manifest();
    manifest.cells[record.id] = {
      ...(manifest.cells[record.id] ?? { kernel: record.kernel, variant: record.variant, rep: record.rep }),
      state: 'done',
      status: record.status,
      ...(record.reason ? { reason: record.reason } : {}),
      seconds: record.seconds,
      worker: record.worker,
    } as CellState;
    this.writeManifest(manifest);
    this.writeSamples();
  }

  /** Records of the cells the manifest says are done (a record without that is ignored). */
  cellRecords(): CellRecord[] {
    const manifest = this.manifest();
    return manifest.plannedCells
      .filter((id) => manifest.cells[id]?.state === 'done' && existsSync(join(this.cellDir(id), 'cell.json')))
      .map((id) => JSON.parse(readFileSync(join(this.cellDir(id), 'cell.json'), 'utf8')) as CellRecord);
  }

  /** samples.jsonl: every sample of every finished cell, one JSON object per line. */
  writeSamples(): void {
    const lines = this.cellRecords().flatMap((cell) => cell.samples.map((s) => JSON.stringify({ cell: cell.id, kernel: cell.kernel, variant: cell.variant, ...s })));
    const file = join(this.dir, 'samples.jsonl');
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, lines.length > 0 ? `${lines.join('\n')}\n` : '');
    renameSync(tmp, file);
  }

  writeFile(name: string, content: string): void {
    const file = join(this.dir, name);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, content);
    renameSync(tmp, file);
  }
}

export interface RunSummary {
  id: string;
  dir: string;
  experiment: string;
  state: RunState;
  startedAt: string;
  cellsDone: number;
  cellsPlanned: number;
}

export function listRuns(resultsDir: string): RunSummary[] {
  if (!existsSync(resultsDir)) return [];
  const runs: RunSummary[] = [];
  for (const name of readdirSync(resultsDir)) {
    const file = join(resultsDir, name, 'manifest.json');
    if (!existsSync(file)) continue;
    try {
      const m = JSON.parse(readFileSync(file, 'utf8')) as RunManifest;
      runs.push({ id: m.id, dir: join(resultsDir, name), experiment: m.experiment, state: m.state, startedAt: m.startedAt, cellsDone: Object.values(m.cells).filter((c) => c.state === 'done').length, cellsPlanned: m.plannedCells.length });
    } catch {
      // a manifest is only ever replaced atomically; an unreadable one is not ours
    }
  }
  return runs.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

export function newRunId(experiment: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-');
  return `${experiment}-${stamp}`;
}
