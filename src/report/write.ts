/**
 * The edge of the report stage: read a run record, write its reports (report.txt, .md, .csv,
 * .json, .html) beside it. Everything it draws comes from the pure model and renderers.
 */
import { experimentSchema, type Experiment } from '../config/experiment.js';
import { parseJsonFile } from '../config/issues.js';
import { InputError, isKexpError } from '../core/errors.js';
import { reportInput } from '../results/figures.js';
import { displayPath } from '../results/records.js';
import { RunStore, type DamagedCell, type RunManifest } from '../results/store.js';
import type { ReportInput } from '../records/index.js';
import { buildTables } from './model.js';
import { rendererNames, renderers } from './renderer.js';

export interface LoadedRun {
  input: ReportInput;
  /** The function the experiment's report names (experiment.report.function). */
  function: string;
  /** The functions and tracepoints the run's experiment counts, whether or not a cell finished. */
  counted: string[];
  manifest: RunManifest;
  /**
   * Done cells whose record is missing or damaged: the report shows the rest, names each of
   * these under the tables, and the commands say so on stderr and exit 2.
   */
  damaged: DamagedCell[];
}

/**
 * A run folder as report input. The experiment file was validated when the run started; it is
 * checked again here against the schema only (not against the kernels this checkout has now).
 */
export function loadReportInput(dir: string): LoadedRun {
  const store = new RunStore(dir);
  const manifest = store.manifest();
  const experiment = recordedExperiment(store);
  const { records, damaged } = store.readCells();
  const input = reportInput(manifest, experiment, records);
  for (const cell of damaged) input.provenance.push(`cell ${cell.id} is left out: ${cell.problem.message}`);
  return { input, function: experiment.report.function, counted: [...experiment.functions, ...experiment.events], manifest, damaged };
}

function recordedExperiment(store: RunStore): Experiment {
  const text = store.experimentText();
  try {
    return parseJsonFile(displayPath(store.experimentFile), text, experimentSchema);
  } catch (error) {
    if (!isKexpError(error)) throw error;
    throw new InputError(
      `${error.message}\n(the experiment file the run recorded: the run record is damaged)`,
      `remove the folder ${displayPath(store.dir)} or restore experiment.json from a copy`,
    );
  }
}

/** The error for a report that left damaged cells out (raised after the report was shown). */
export function damagedCellsError(damaged: DamagedCell[]): InputError {
  const lines = damaged.map((d) => d.problem.message);
  return new InputError(
    `${damaged.length === 1 ? 'a cell record is' : `${damaged.length} cell records are`} damaged; the report shows the other cells:\n  ${lines.join('\n  ')}`,
    damaged[0]!.problem.kind.fix,
  );
}

/** Writes report.<ext> in every format into the run folder; returns the file names written. */
export function writeReports(dir: string, options: { function?: string } = {}): string[] {
  const loaded = loadReportInput(dir);
  const tables = buildTables(loaded.input, { function: options.function ?? loaded.function });
  const store = new RunStore(dir);
  return rendererNames.map((name) => {
    const renderer = renderers[name];
    const file = `report.${renderer.extension}`;
    store.writeFile(file, renderer.render(tables));
    return file;
  });
}
