/**
 * `kexp nightly --bisect` at the edge: find the commits behind the two runs, check the branch was
 * not rewritten (the earlier commit must be an ancestor of the later one), bisect each planned
 * range with the bisect machinery (src/bisect/run.ts: every commit built incrementally in the
 * branch's one working copy, booted, judged), and keep the state in the run's nightly.json after
 * every change, so a bisection the nightly did not finish is resumed by the next one.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { CancelledError, InputError, isKexpError } from '../core/errors.js';
import { capture, run } from '../core/proc.js';
import { loadRecipe, type KernelRecipe } from '../config/recipe.js';
import { experimentSchema } from '../config/experiment.js';
import { parseJsonFile } from '../config/issues.js';
import { planRun } from '../experiment/plan.js';
import { workloadLabel } from '../measure/samples.js';
import { artifactCommit, commitKey } from '../report/history/build.js';
import { displayPath } from '../results/records.js';
import { listRuns, RunStore, type RunManifest } from '../results/store.js';
import {
  readNightlyRecord,
  writeNightlyRecord,
  type NightlyBisectResult,
  type NightlyBisection,
  type NightlyNote,
  type NightlyRecord,
  type NightlySource,
} from '../results/nightly.js';
import { groupChanges, predicateFor, sharesCulprit } from './nightly-plan.js';
import type { CellChange } from '../report/nightly-comparison.js';
import { bisectRecordFile } from './record.js';
import { loadBisectRequest, runBisect, type BisectEnv, type BisectRecord, type BisectRequest } from './run.js';

/** The local git tree a recipe follows, or undefined for a tarball or a package. */
export function gitRepoOf(recipe: KernelRecipe): string | undefined {
  if (recipe.source.type !== 'git') return undefined;
  const path = recipe.source.path;
  return isAbsolute(path) ? path : resolve(dirname(recipe.file), path);
}

/** Where each git-sourced kernel's ref points now; a kernel whose ref does not resolve is left out (its build says why). */
export async function resolveSources(root: string, kernels: readonly string[]): Promise<Record<string, NightlySource>> {
  const sources: Record<string, NightlySource> = {};
  for (const kernel of kernels) {
    let recipe: KernelRecipe;
    try {
      recipe = loadRecipe(root, kernel);
    } catch {
      continue;
    }
    const repo = gitRepoOf(recipe);
    if (!repo || recipe.source.type !== 'git') continue;
    try {
      const commit = await capture('git', ['-C', repo, 'rev-parse', '--verify', '--quiet', `${recipe.source.ref}^{commit}`]);
      if (/^[0-9a-f]{40,64}$/.test(commit)) sources[kernel] = { repo, ref: recipe.source.ref, commit };
    } catch {
      // not a commit there: the run's build fails and names it
    }
  }
  return sources;
}

/** The commit a run's kernel variant was built from (its artifact), else where its branch pointed. */
export function runCommit(manifest: RunManifest, nightly: NightlyRecord | undefined, kernel: string, variant: string): string | null {
  return artifactCommit(manifest.artifacts.kernels[commitKey(kernel, variant)]) ?? nightly?.sources[kernel]?.commit ?? null;
}

async function ancestry(repo: string, a: string, b: string): Promise<'ancestor' | 'not-ancestor' | 'unknown'> {
  try {
    const result = await run('git', ['-C', repo, 'merge-base', '--is-ancestor', a, b], { okExitCodes: [0, 1] });
    return result.exitCode === 0 ? 'ancestor' : 'not-ancestor';
  } catch (error) {
    if (!isKexpError(error)) throw error;
    return 'unknown';
  }
}

export interface NightlySide {
  id: string;
  manifest: RunManifest;
  nightly?: NightlyRecord;
}

/**
 * The bisections of the changes between two runs, and a note for each change that is not
 * bisected: a kernel that does not follow a git branch, no commit on record, one commit on both
 * sides, a branch that was rewritten, a change that no predicate captures.
 */
export async function planNightlyBisections(
  root: string,
  previous: NightlySide,
  current: NightlySide,
  changes: readonly CellChange[],
): Promise<{ bisections: NightlyBisection[]; notes: NightlyNote[] }> {
  const notes: NightlyNote[] = [];
  const note = (change: CellChange, text: string): void => {
    notes.push({ kernel: change.kernel, variant: change.variant, workload: change.workload, function: change.function, text });
  };
  const checked = new Map<string, Awaited<ReturnType<typeof ancestry>>>();
  const ranges = new Map<string, { good: string; bad: string }>();
  const bisectable: { change: CellChange; kind: 'figure' | 'status'; predicate: string }[] = [];
  for (const change of changes) {
    let recipe: KernelRecipe;
    try {
      recipe = loadRecipe(root, change.kernel);
    } catch (error) {
      note(change, `its recipe cannot be read: ${(error as Error).message.split('\n')[0]}`);
      continue;
    }
    const repo = gitRepoOf(recipe);
    if (!repo) {
      note(change, `kernel ${change.kernel} is built from a ${recipe.source.type}, not a git branch: there is no commit range to bisect`);
      continue;
    }
    const good = runCommit(previous.manifest, previous.nightly, change.kernel, change.variant);
    const bad = runCommit(current.manifest, current.nightly, change.kernel, change.variant);
    if (!good || !bad) {
      note(change, `no commit on record for ${change.kernel} ${change.variant} in run ${good ? current.id : previous.id}`);
      continue;
    }
    if (good === bad) {
      note(
        change,
        `both runs built commit ${good.slice(0, 12)}: the change did not come from the kernel's history (a variant, the config, the compiler, kexp or the host changed)`,
      );
      continue;
    }
    const key = `${repo}\u0000${good}\u0000${bad}`;
    if (!checked.has(key)) checked.set(key, await ancestry(repo, good, bad));
    const relation = checked.get(key)!;
    if (relation !== 'ancestor') {
      note(
        change,
        relation === 'not-ancestor'
          ? `the branch was rewritten: ${good.slice(0, 12)} (run ${previous.id}) is not an ancestor of ${bad.slice(0, 12)} (run ${current.id}), so there is no range to bisect`
          : `commit ${good.slice(0, 12)} or ${bad.slice(0, 12)} is not in ${repo} any more (the branch was rewritten): there is no range to bisect`,
      );
      continue;
    }
    const bootStatuses = Object.values(current.manifest.cells)
      .filter((c) => c.kernel === change.kernel && c.variant === change.variant && c.state === 'done')
      .map((c) => c.status ?? 'failed');
    const predicate = predicateFor(change, bootStatuses);
    if ('note' in predicate) {
      note(change, predicate.note);
      continue;
    }
    ranges.set(commitKey(change.kernel, change.variant), { good, bad });
    bisectable.push({ change, ...predicate });
  }
  const bisections = groupChanges(bisectable).map((group): NightlyBisection => {
    const range = ranges.get(commitKey(group.kernel, group.variant))!;
    return { ...group, good: { run: previous.id, commit: range.good }, bad: { run: current.id, commit: range.bad }, state: 'pending' };
  });
  return { bisections, notes };
}

/** The request of an entry's bisection: the run's own experiment decides the workload's plan. */
function requestFor(root: string, runDir: string, entry: NightlyBisection): BisectRequest {
  const store = new RunStore(runDir);
  const experiment = parseJsonFile(displayPath(store.experimentFile), store.experimentText(), experimentSchema);
  const cell = planRun(experiment, { kernel: [entry.kernel], variant: [entry.variant] }).cells[0];
  const runs = cell?.spec.plan.runs.filter((r) => workloadLabel(r.workload, r.args) === entry.workload) ?? [];
  if (!cell || runs.length !== 1)
    throw new InputError(`the experiment of ${displayPath(runDir)} has no cell ${entry.kernel} ${entry.variant} with workload ${entry.workload}`);
  const repo = gitRepoOf(loadRecipe(root, entry.kernel));
  if (!repo) throw new InputError(`kernel ${entry.kernel} no longer follows a git branch`);
  return {
    source: { mode: 'git', repo, good: entry.good.commit, bad: entry.bad.commit },
    kernel: entry.kernel,
    plan: { ...cell.spec.plan, runs },
    predicate: entry.changes[0]!.predicate,
    accel: experiment.accel,
    variant: entry.variant,
  };
}

export function resultOf(record: BisectRecord): NightlyBisectResult {
  const steps = Object.keys(record.steps).length;
  const result = record.result;
  const revision = (i: number): { commit: string; subject: string } => {
    const r = record.revisions[i]!;
    return { commit: r.id, subject: r.label.replace(/^[0-9a-f]+ /, '') };
  };
  if (!result) return { kind: 'error', summary: 'the bisection ended without a result', steps };
  if (result.kind === 'found') return { kind: 'found', ...revision(result.index), summary: result.summary, steps };
  if (result.kind === 'ambiguous') return { kind: 'ambiguous', candidates: result.candidates.map(revision), summary: result.summary, steps };
  return { kind: 'error', summary: result.summary, steps };
}

/**
 * Run every bisection of a run's nightly record that is not done, in order, saving the record
 * (nightly.json) before and after each. After one finds a commit, the other changes of its entry
 * are judged on the same two steps; those that do not share it become an entry of their own, run
 * next. A bisection that cannot run (the tree moved, the record is damaged) ends as an error; a
 * cancel is left as it is (state running), for the next nightly to resume.
 */
export async function settleBisections(env: BisectEnv, runDir: string, record: NightlyRecord, onSaved?: () => void): Promise<void> {
  const save = (): void => {
    writeNightlyRecord(runDir, record);
    onSaved?.();
  };
  for (let i = 0; i < record.bisections.length; i++) {
    const entry = record.bisections[i]!;
    if (entry.state === 'done') continue;
    let bisection: BisectRecord | undefined;
    try {
      const resumable = entry.bisectId !== undefined && existsSync(bisectRecordFile(env.resultsDir, entry.bisectId));
      const request = resumable ? loadBisectRequest(env.resultsDir, entry.bisectId!) : requestFor(env.root, runDir, entry);
      entry.state = 'running';
      save();
      const say = env.onProgress;
      bisection = await runBisect(
        {
          ...env,
          onProgress: (text) => say?.(`bisecting ${entry.kernel} ${entry.variant} ${entry.workload}: ${text}`),
          onRecord: (id) => {
            entry.bisectId = id;
            save();
          },
        },
        request,
        resumable ? entry.bisectId : undefined,
      );
      entry.result = resultOf(bisection);
    } catch (error) {
      if (error instanceof CancelledError || env.signal.aborted || !isKexpError(error)) throw error;
      entry.result = { kind: 'error', summary: (error as Error).message.split('\n')[0]!, steps: bisection ? Object.keys(bisection.steps).length : 0 };
    }
    entry.state = 'done';
    const [judged, ...others] = entry.changes;
    const found = entry.result.kind === 'found' && bisection?.result?.kind === 'found' ? bisection.result.index : undefined;
    const stay = [judged!];
    const leave: NightlyBisection['changes'] = [];
    for (const change of others) {
      const shares =
        found !== undefined
          ? sharesCulprit(change, judged!.predicate, bisection!.steps[String(found - 1)], bisection!.steps[String(found)], entry.workload)
          : change.predicate === judged!.predicate;
      (shares ? stay : leave).push(change);
    }
    entry.changes = stay;
    if (leave.length > 0) {
      record.bisections.splice(i + 1, 0, {
        kernel: entry.kernel,
        variant: entry.variant,
        workload: entry.workload,
        good: { ...entry.good },
        bad: { ...entry.bad },
        changes: leave,
        state: 'pending',
      });
    }
    save();
  }
}

/** Runs of this experiment (other than `except`) whose nightly left a bisection unfinished. */
export function unfinishedBisections(resultsDir: string, experiment: string, except: string): { dir: string; record: NightlyRecord }[] {
  const found: { dir: string; record: NightlyRecord }[] = [];
  for (const r of listRuns(resultsDir)) {
    if (r.experiment !== experiment || r.id === except || r.state === 'damaged') continue;
    const { record } = readNightlyRecord(r.dir);
    if (record?.bisections.some((b) => b.state !== 'done')) found.push({ dir: r.dir, record });
  }
  return found;
}
