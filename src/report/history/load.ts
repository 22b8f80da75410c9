/**
 * The edge of the history: read every run of one experiment from the results folder into the
 * pure history model. Each run is read through the checked readers; a run whose record is damaged
 * is left out and named (a warning, not a failure: the rest of the history still shows), a cell
 * whose record is damaged is missing from its run, and a damaged nightly.json loses only the
 * bisections it held.
 */
import { readFileSync } from 'node:fs';
import { InputError, isKexpError } from '../../core/errors.js';
import { resolveExperimentFile } from '../../config/experiment.js';
import { artifactCommit, buildHistory, commitKey, type History, type HistoryRunInput, type SkippedRun } from './build.js';
import { readNightlyRecord } from '../../results/nightly.js';
import { listRuns } from '../../results/store.js';
import { loadReportInput } from '../write.js';

export interface LoadedHistory {
  history: History;
  /** One line per run left out, damaged cell record or damaged nightly.json. */
  warnings: string[];
}

export function loadHistory(resultsDir: string, experiment: string): LoadedHistory {
  const runs = listRuns(resultsDir).filter((r) => r.experiment === experiment);
  const inputs: HistoryRunInput[] = [];
  const skipped: SkippedRun[] = [];
  const warnings: string[] = [];
  let reportFunction: string | undefined;
  for (const run of runs) {
    if (run.state === 'damaged') {
      skipped.push({ run: run.id, problem: run.problem ?? 'the run record is damaged' });
      continue;
    }
    try {
      const loaded = loadReportInput(run.dir);
      const { manifest } = loaded;
      const nightly = readNightlyRecord(run.dir);
      if (nightly.problem) warnings.push(nightly.problem.message);
      const commits: Record<string, string | null> = {};
      for (const [key, artifact] of Object.entries(manifest.artifacts.kernels)) commits[key] = artifactCommit(artifact);
      // A kernel that did not build has no artifact: the commit its branch pointed at, if the nightly noted it.
      for (const cell of Object.values(manifest.cells)) {
        const key = commitKey(cell.kernel, cell.variant);
        commits[key] ??= nightly.record?.sources[cell.kernel]?.commit ?? null;
      }
      for (const cell of loaded.damaged) warnings.push(`${cell.problem.message}; the history shows it as missing`);
      inputs.push({ input: loaded.input, commits, counted: loaded.counted, ...(nightly.record ? { nightly: nightly.record } : {}) });
      reportFunction = loaded.function;
    } catch (error) {
      if (!isKexpError(error) || !(error instanceof InputError)) throw error;
      skipped.push({ run: run.id, problem: error.message.split('\n')[0]! });
    }
  }
  for (const s of skipped) warnings.unshift(`run ${s.run} is left out of the history: ${s.problem}`);
  const history = buildHistory(experiment, inputs, { ...(reportFunction ? { functions: [reportFunction] } : {}), skipped });
  return { history, warnings };
}

/**
 * Which experiment's history: a name as the runs record it, or an experiment file (its "name");
 * by default the experiment of the latest run.
 */
export function historyExperiment(root: string, resultsDir: string, given: string | undefined): string {
  const runs = listRuns(resultsDir);
  const names = [...new Set(runs.map((r) => r.experiment).filter((n) => n !== '?'))];
  if (given === undefined) {
    const last = [...runs].reverse().find((r) => r.state !== 'damaged') ?? runs[runs.length - 1];
    if (!last) throw new InputError(`no runs in ${resultsDir}`, 'kexp run or kexp nightly starts one');
    return last.experiment;
  }
  if (names.includes(given)) return given;
  let file: string | undefined;
  try {
    file = resolveExperimentFile(root, given);
  } catch {
    file = undefined;
  }
  const named = file ? experimentNameOf(file) : undefined;
  if (named !== undefined && names.includes(named)) return named;
  throw new InputError(
    `no runs of experiment "${named ?? given}" in ${resultsDir}`,
    names.length > 0 ? `experiments with runs: ${names.join(', ')}` : 'kexp run or kexp nightly starts one',
  );
}

function experimentNameOf(file: string): string | undefined {
  try {
    const name = (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}
