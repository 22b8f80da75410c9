/**
 * The edge of the report stage: read a run record, write its reports (report.txt, .md, .csv,
 * .json, .html) beside it. Everything it draws comes from the pure model and renderers.
 */
import { experimentSchema } from '../config/experiment.js';
import { reportInput } from '../results/figures.js';
import { RunStore } from '../results/store.js';
import type { ReportInput } from '../results/types.js';
import { buildTables } from './model.js';
import { rendererNames, renderers } from './renderer.js';

export interface LoadedRun {
  input: ReportInput;
  /** The function the experiment's report names (experiment.report.function). */
  function: string;
}

/** A run folder as report input. The experiment file was validated when the run started. */
export function loadReportInput(dir: string): LoadedRun {
  const store = new RunStore(dir);
  const experiment = experimentSchema.parse(JSON.parse(store.experimentText()));
  return { input: reportInput(store.manifest(), experiment, store.cellRecords()), function: experiment.report.function };
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
