/**
 * The result store: one folder per run under results/. Every file is replaced atomically (written
 * beside, then renamed), a cell's record appears only when the cell finished, and the manifest says
 * which cells are done, so an interrupted run is a valid record of what finished, and a resume
 * runs only the rest.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { packageRoot } from '../core/paths.js';
import { projectFolder } from '../config/layers.js';
import { InputError } from '../core/errors.js';
import { writeJsonAtomic } from '../store/store.js';
import { cellRecordSchema, checkRecordFile, displayPath, isSafeId, manifestSchema, readRecordFile, RecordProblem, type RecordKind } from './records.js';
import type { BootStatus, SampleRecord } from '../records/index.js';
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
  /** A git source: the commit it was built from (the branch or tag of its recipe, resolved when the build started). */
  commit?: string;
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

/**
 * Where run records go: --results, else $KEXP_RESULTS, else results/ of the project folder: the
 * --root folder (a layer kexp wrote for a tree or a patch counts as the root under it), or kexp's
 * own folder when it runs from a checkout. Installed as a package (npm install -g puts it under
 * node_modules) kexp never writes into its package folder: $XDG_DATA_HOME/kexp/results
 * (~/.local/share/kexp/results when XDG_DATA_HOME is not set).
 */
export function resultsRoot(root: string, override?: string): string {
  if (override) return resolve(override);
  if (process.env.KEXP_RESULTS) return resolve(process.env.KEXP_RESULTS);
  const project = projectFolder(root);
  if (resolve(project) === resolve(packageRoot()) && isInstalledPackage(project)) return join(dataHome(), 'kexp', 'results');
  return join(project, 'results');
}

/** A folder inside node_modules is a package npm installed, not a checkout to write into. */
export function isInstalledPackage(dir: string): boolean {
  return resolve(dir).split(sep).includes('node_modules');
}

function dataHome(): string {
  const xdg = process.env.XDG_DATA_HOME;
  return xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.local', 'share');
}

/** A cell whose record could not be read: it is left out, and named. */
export interface DamagedCell {
  id: string;
  file: string;
  problem: RecordProblem;
}

function manifestKind(dir: string): RecordKind {
  return { what: 'run manifest', consequence: 'the run record is damaged', fix: `remove the folder ${displayPath(dir)} or restore it from a copy` };
}

function cellKind(dir: string, id: string): RecordKind {
  return {
    what: 'cell record',
    consequence: `the record of cell ${id} is damaged`,
    fix: `restore it from a copy, or rerun the cell: kexp run --resume ${displayPath(dir)} runs again every cell whose record is damaged`,
  };
}

/** A cell id from a record becomes a folder name: a slash or ".." would reach outside the run. */
function checkedCellId(dir: string, id: string): string {
  if (!isSafeId(id))
    throw new InputError(
      `${displayPath(join(dir, 'manifest.json'))}: cell id ${JSON.stringify(id).slice(0, 80)} is not a plain name (letters, digits, dot, dash, underscore)`,
      'the run record was edited or crafted; remove it or restore it from a copy',
    );
  return id;
}

export class RunStore {
  constructor(readonly dir: string) {}

  get manifestFile(): string {
    return join(this.dir, 'manifest.json');
  }

  cellDir(id: string): string {
    return join(this.dir, 'cells', checkedCellId(this.dir, id));
  }

  /** The run folder appears whole (experiment.json and manifest.json) or not at all. */
  static create(resultsDir: string, id: string, experimentText: string, manifest: RunManifest): RunStore {
    if (!isSafeId(id)) throw new InputError(`run id ${JSON.stringify(id)} is not a plain name (letters, digits, dot, dash, underscore)`);
    const dir = join(resultsDir, id);
    if (existsSync(dir)) throw new InputError(`run ${id} already exists in ${resultsDir}`);
    mkdirSync(resultsDir, { recursive: true });
    const tmp = join(resultsDir, `.${id}.${process.pid}.tmp`);
    try {
      mkdirSync(join(tmp, 'cells'), { recursive: true });
      writeFileSync(join(tmp, 'experiment.json'), experimentText);
      manifest.updatedAt = new Date().toISOString();
      writeFileSync(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      renameSync(tmp, dir);
    } catch (error) {
      rmSync(tmp, { recursive: true, force: true });
      if ((error as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (error as NodeJS.ErrnoException).code === 'EEXIST')
        throw new InputError(`run ${id} already exists in ${resultsDir}`);
      throw error;
    }
    return new RunStore(dir);
  }

  static open(resultsDir: string, idOrPath: string): RunStore {
    const dir = existsSync(join(idOrPath, 'manifest.json')) ? resolve(idOrPath) : join(resultsDir, idOrPath);
    if (!existsSync(join(dir, 'manifest.json'))) {
      const known = listRuns(resultsDir)
        .slice(-5)
        .map((r) => r.id);
      throw new InputError(
        `no run "${idOrPath}" in ${resultsDir}`,
        known.length > 0 ? `recent runs: ${known.join(', ')} (kexp runs lists them all)` : 'kexp runs lists the runs',
      );
    }
    const store = new RunStore(dir);
    // A damaged record fails here, naming the file, before a command does anything else.
    store.manifest();
    return store;
  }

  /** The manifest, checked: a truncated or malformed one is an InputError naming the file. */
  manifest(): RunManifest {
    return readRecordFile(this.manifestFile, manifestSchema, manifestKind(this.dir)) as unknown as RunManifest;
  }

  writeManifest(manifest: RunManifest): void {
    manifest.updatedAt = new Date().toISOString();
    writeJsonAtomic(this.manifestFile, manifest);
  }

  get experimentFile(): string {
    return join(this.dir, 'experiment.json');
  }

  /** The experiment file as the run recorded it (its content is checked by whoever parses it). */
  experimentText(): string {
    try {
      return readFileSync(this.experimentFile, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const problem = code === 'ENOENT' ? 'missing' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot be read (${(error as Error).message})`;
      throw new InputError(`${displayPath(this.experimentFile)}: ${problem}; the run record is damaged`, manifestKind(this.dir).fix);
    }
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
    checkedCellId(this.dir, record.id);
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

  /**
   * Records of the cells the manifest says are done (a record without that is ignored), and the
   * done cells whose record is missing or damaged, each with its problem.
   */
  readCells(): { records: CellRecord[]; damaged: DamagedCell[] } {
    const manifest = this.manifest();
    const records: CellRecord[] = [];
    const damaged: DamagedCell[] = [];
    for (const id of manifest.plannedCells) {
      if (manifest.cells[id]?.state !== 'done') continue;
      const file = join(this.cellDir(id), 'cell.json');
      const checked = checkRecordFile(file, cellRecordSchema, cellKind(this.dir, id));
      if (!checked.ok) {
        damaged.push({ id, file, problem: checked.problem });
      } else if (checked.value.id !== id) {
        damaged.push({
          id,
          file,
          problem: new RecordProblem(file, `id: says "${checked.value.id}", but the record is in the folder of cell "${id}"`, cellKind(this.dir, id)),
        });
      } else {
        records.push(checked.value as unknown as CellRecord);
      }
    }
    return { records, damaged };
  }

  /** Records of the cells the manifest says are done; a damaged one is an InputError naming it. */
  cellRecords(): CellRecord[] {
    const { records, damaged } = this.readCells();
    if (damaged[0]) throw damaged[0].problem.toError();
    return records;
  }

  /** Ids of the cells the manifest calls done whose record is missing or damaged (a resume runs them again). */
  damagedCells(): string[] {
    return this.readCells().damaged.map((d) => d.id);
  }

  /** samples.jsonl: every sample of every finished cell whose record is readable, one JSON object per line. */
  writeSamples(): void {
    const lines = this.readCells().records.flatMap((cell) =>
      cell.samples.map((s) => JSON.stringify({ cell: cell.id, kernel: cell.kernel, variant: cell.variant, ...s })),
    );
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
  /** "damaged": its manifest cannot be read (`problem` says why); the run is listed, not hidden. */
  state: RunState | 'damaged';
  startedAt: string;
  cellsDone: number;
  cellsPlanned: number;
  /** For a damaged run: the file and what is wrong with it. */
  problem?: string;
}

export function listRuns(resultsDir: string): RunSummary[] {
  if (!existsSync(resultsDir)) return [];
  const runs: RunSummary[] = [];
  for (const name of readdirSync(resultsDir)) {
    const dir = join(resultsDir, name);
    const file = join(dir, 'manifest.json');
    // A folder without a manifest is not a run (a bisection, a half-created run being written).
    if (name.startsWith('.') || !existsSync(file)) continue;
    const checked = checkRecordFile(file, manifestSchema, manifestKind(dir));
    if (checked.ok) {
      const m = checked.value;
      runs.push({
        id: m.id,
        dir,
        experiment: m.experiment,
        state: m.state,
        startedAt: m.startedAt,
        cellsDone: Object.values(m.cells).filter((c) => c.state === 'done').length,
        cellsPlanned: m.plannedCells.length,
      });
    } else {
      runs.push({
        id: name,
        dir,
        experiment: recordedExperimentName(dir) ?? '?',
        state: 'damaged',
        startedAt: modified(file),
        cellsDone: 0,
        cellsPlanned: 0,
        problem: checked.problem.message,
      });
    }
  }
  return runs.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/** The experiment's name from a run's experiment.json, when the manifest cannot say it. */
function recordedExperimentName(dir: string): string | undefined {
  try {
    const name = (JSON.parse(readFileSync(join(dir, 'experiment.json'), 'utf8')) as { name?: unknown }).name;
    return typeof name === 'string' && isSafeId(name) ? name : undefined;
  } catch {
    return undefined;
  }
}

function modified(file: string): string {
  try {
    return statSync(file).mtime.toISOString();
  } catch {
    return new Date(0).toISOString();
  }
}

export function newRunId(experiment: string, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '')
    .replace('T', '-');
  return `${experiment}-${stamp}`;
}
