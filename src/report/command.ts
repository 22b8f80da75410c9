/**
 * What kexp report and compare decide before they render: which run a report is about (the one
 * named, else the latest), the function it shows (named, else the experiment's report.function,
 * and only one the run counts or plans), and which two runs' cells are compared. The commands
 * parse their flags and print what these return.
 */
import { InputError } from '../core/errors.js';
import { compareRuns, type Comparison } from './compare.js';
import { listRuns, RunStore, type DamagedCell } from '../results/store.js';
import { buildTables, type ReportTables } from './model.js';
import { loadReportInput } from './write.js';

/** The folder of the run named (id or folder), else of the latest run. */
export function pickRun(resultsDir: string, given: string | undefined): string {
  if (given) return RunStore.open(resultsDir, given).dir;
  const runs = listRuns(resultsDir);
  const last = runs[runs.length - 1];
  if (!last) throw new InputError(`no runs in ${resultsDir}`, 'kexp run starts one');
  return last.dir;
}

/** The last complete run of an experiment before `exceptId`, if any. */
export function lastCompleteRun(resultsDir: string, experiment: string, exceptId: string): string | undefined {
  const runs = listRuns(resultsDir).filter((r) => r.experiment === experiment && r.state === 'complete' && r.id !== exceptId);
  return runs[runs.length - 1]?.dir;
}

/** The comparison of two run folders, and the cells of either whose record is damaged (left out). */
export function compareDirs(dirA: string, dirB: string, fn?: string): { comparison: Comparison; damaged: DamagedCell[] } {
  const a = loadReportInput(dirA);
  const b = loadReportInput(dirB);
  return { comparison: compareRuns(a.input, b.input, { function: fn ?? b.function }), damaged: [...a.damaged, ...b.damaged] };
}

/**
 * The tables of one run folder for `fn` (default: its experiment's report.function), and its
 * damaged cells (left out of the tables). `checkFunction` is given what the run counted and what
 * its experiment plans, and refuses a function that is neither (the command's flag check).
 */
export function reportTables(
  dir: string,
  fn: string | undefined,
  checkFunction: (name: string, counted: string[], planned: string[]) => void,
): { tables: ReportTables; damaged: DamagedCell[] } {
  const loaded = loadReportInput(dir);
  if (fn !== undefined)
    checkFunction(
      fn,
      loaded.input.rows.map((r) => r.function),
      [loaded.function, ...loaded.counted],
    );
  return { tables: buildTables(loaded.input, { function: fn ?? loaded.function }), damaged: loaded.damaged };
}
