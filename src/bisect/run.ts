/**
 * Driving a bisection for real: each step builds a revision (a git commit of a kernel tree, or a
 * prefix of a patch series on a recipe's kernel), boots it with the workload, and judges the
 * predicate. Builds are incremental: every commit of one repository is built in the same working
 * copy and build folder, every prefix of a series in its kernel's tree. The record is written after
 * every step, so an interrupted bisection resumes where it stopped.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CancelledError, InputError, isKexpError } from '../core/errors.js';
import { capture } from '../core/proc.js';
import { hashJson } from '../core/hash.js';
import { writeJsonAtomic } from '../store/store.js';
import { loadRecipe, type KernelRecipe } from '../config/recipe.js';
import { loadSeries, loadVariant } from '../config/variants.js';
import { buildKernelFrom, type BuildProgress } from '../kernel/build.js';
import { runBootCell } from '../experiment/cell.js';
import { type Workspace, workspaceOf } from '../store/workspace.js';
import { workloadLabel } from '../measure/samples.js';
import { bisect, type Step, type Verdict } from './search.js';
import {
  bisectRecordFile,
  readBisectRecord,
  type BisectRecord,
  type BisectRequest,
  type BisectRevision,
  type BisectSource,
  type BisectStep,
} from './record.js';
import { judge, parsePredicate, type Judgement } from './predicate.js';
import { keptSourceFiles } from '../explain/source.js';

export type { BisectRecord, BisectRequest, BisectRevision, BisectSource, BisectStep } from './record.js';

export interface BisectEnv extends Workspace {
  resultsDir: string;
  onProgress?: (text: string) => void;
  /** Called once the record exists (results/<id>/bisect.json), before the first step: what a caller keeps to resume it. */
  onRecord?: (id: string) => void;
}

async function listRevisions(source: BisectSource): Promise<BisectRevision[]> {
  if (source.mode === 'git') {
    const repo = resolve(source.repo);
    const rev = async (r: string): Promise<string> =>
      capture('git', ['-C', repo, 'rev-parse', '--verify', '--quiet', `${r}^{commit}`]).catch(() => {
        throw new InputError(`"${r}" is not a commit in ${repo}`);
      });
    const good = await rev(source.good);
    const bad = await rev(source.bad);
    const between = (await capture('git', ['-C', repo, 'rev-list', '--reverse', '--ancestry-path', `${good}..${bad}`])).split('\n').filter(Boolean);
    if (between.length === 0) throw new InputError(`--bad ${source.bad} is not a descendant of --good ${source.good}`);
    const commits = [good, ...between];
    const subjects = await Promise.all(commits.map((c) => capture('git', ['-C', repo, 'log', '-1', '--format=%s', c])));
    return commits.map((c, index) => ({ index, id: c, label: `${c.slice(0, 12)} ${subjects[index]}` }));
  }
  const dir = resolve(source.dir);
  const patches = seriesPatchesOf(source.dir);
  if (patches.length === 0) throw new InputError(`--series: ${dir} holds no NNNN-*.patch files`);
  return [{ index: 0, id: '0', label: '(no patch)' }, ...patches.map((p, i) => ({ index: i + 1, id: String(i + 1), label: p.name }))];
}

function seriesPatchesOf(given: string): ReturnType<typeof loadSeries>['patches'] {
  const dir = resolve(given);
  if (!existsSync(dir)) throw new InputError(`--series: no such folder ${dir}`);
  return loadSeries(resolve(dir, '..'), 'series', basename(dir)).patches;
}

function recipeFor(base: KernelRecipe, source: BisectSource, revision: BisectRevision): KernelRecipe {
  if (source.mode === 'git') return { ...base, source: { type: 'git', path: resolve(source.repo), ref: revision.id } };
  return base;
}

export function newBisectId(request: BisectRequest, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '')
    .replace('T', '-');
  return `bisect-${request.source.mode}-${stamp}-${hashJson(request).slice(0, 6)}`;
}

/** The request a bisection was started with (what --resume continues). */
export function loadBisectRequest(resultsDir: string, id: string): BisectRequest {
  const file = bisectRecordFile(resultsDir, id);
  if (!existsSync(file)) throw new InputError(`no bisection "${id}" in ${resultsDir}`, listBisections(resultsDir).slice(-5).join(', ') || undefined);
  return readBisectRecord(file).request;
}

export async function runBisect(env: BisectEnv, request: BisectRequest, resumeId?: string): Promise<BisectRecord> {
  const predicate = parsePredicate(request.predicate);
  if (request.plan.runs.length !== 1) throw new InputError('--workload: a bisection measures one workload (with its options)');
  const workload = workloadLabel(request.plan.runs[0]!.workload, request.plan.runs[0]!.args);
  const base = loadRecipe(env.root, request.kernel);
  let record: BisectRecord;
  let dir: string;
  const seriesPatches = request.source.mode === 'series' ? seriesPatchesOf(request.source.dir) : [];
  const variantPatches = request.source.mode === 'git' && request.variant ? loadVariant(env.root, request.variant, base.series).patches : [];
  const save = (): void => writeJsonAtomic(join(dir, 'bisect.json'), record);
  if (resumeId) {
    dir = join(env.resultsDir, resumeId);
    const file = bisectRecordFile(env.resultsDir, resumeId);
    if (!existsSync(file)) throw new InputError(`no bisection "${resumeId}" in ${env.resultsDir}`);
    record = readBisectRecord(file);
    if (request.source.mode === 'series' && record.revisions.length !== seriesPatches.length + 1) {
      throw new InputError(
        `${file}: revisions: the record lists ${record.revisions.length - 1} patches, ${request.source.dir} now holds ${seriesPatches.length}`,
        'the series changed since the bisection started: start a new bisection',
      );
    }
    record.state = 'running';
    save();
  } else {
    // Everything that can fail before the first step fails before the record's folder exists.
    const id = newBisectId(request);
    dir = join(env.resultsDir, id);
    record = { schema: 'kexp/bisect@1', id, request, revisions: await listRevisions(request.source), steps: {}, state: 'running' };
    mkdirSync(dir, { recursive: true });
    try {
      save();
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }
  env.onRecord?.(record.id);
  const known = new Map<number, Verdict>(Object.entries(record.steps).map(([i, s]) => [Number(i), s.verdict]));
  try {
    const outcome = await bisect(
      record.revisions,
      async (revision) => {
        const started = Date.now();
        const stepNumber = Object.keys(record.steps).length + 1;
        const say = (what: string): void => env.onProgress?.(`step ${stepNumber}: ${revision.label}: ${what}`);
        let judgement: Judgement;
        let kernelKey: string | undefined;
        let observed: Pick<BisectStep, 'status' | 'figures'> = {};
        try {
          const series = {
            variant: request.source.mode === 'git' ? `bisect-${revision.id.slice(0, 12)}` : `bisect-${revision.id}-of-${record.revisions.length - 1}`,
            series: base.series,
            patches: request.source.mode === 'series' ? seriesPatches.slice(0, revision.index) : variantPatches,
          };
          const kernel = await buildKernelFrom(
            {
              ...workspaceOf(env),
              keepSources: keptSourceFiles,
              onProgress: (p: BuildProgress) => say(p.stage === 'compiling' ? `compiling, ${p.objects ?? 0} objects` : p.stage),
            },
            recipeFor(base, request.source, revision),
            series,
          );
          kernelKey = kernel.key;
          say('booting');
          const cell = await runBootCell(
            { kernel: base.name, variant: series.variant, plan: request.plan, accel: request.accel },
            {
              ...workspaceOf(env),
              outDir: join(dir, 'steps', String(revision.index)),
              kernel,
              kernelSource: { recipe: recipeFor(base, request.source, revision), series },
            },
          );
          judgement = judge(predicate, { status: cell.outcome.status, figures: cell.figures, samples: cell.outcome.samples }, workload);
          observed = {
            status: cell.outcome.status,
            figures: cell.figures
              .filter((f) => f.workload === workload)
              .map((f) => ({
                workload: f.workload,
                function: f.function,
                status: f.status,
                per_page: f.per_page,
                fixed: f.fixed,
                ...(f.reason ? { reason: f.reason } : {}),
              })),
          };
        } catch (error) {
          if (error instanceof CancelledError || env.signal.aborted || !isKexpError(error)) throw error;
          judgement = judge(predicate, { buildError: error.message }, workload);
        }
        record.steps[String(revision.index)] = { ...judgement, seconds: (Date.now() - started) / 1000, ...(kernelKey ? { kernelKey } : {}), ...observed };
        save();
        say(`${judgement.verdict} (${judgement.reason})`);
        return judgement.verdict;
      },
      known,
    );
    record.state = 'complete';
    record.result = { ...outcome.step, summary: summarise(outcome.step, record) };
    save();
    return record;
  } catch (error) {
    record.state = 'incomplete';
    save();
    throw error;
  }
}

function summarise(step: Exclude<Step, { kind: 'test' }>, record: BisectRecord): string {
  const label = (i: number): string => record.revisions[i]?.label ?? String(i);
  switch (step.kind) {
    case 'found':
      return `first bad: ${label(step.index)}`;
    case 'ambiguous':
      return `the first bad revision is one of (the others could not be tested): ${step.candidates.map(label).join('; ')}`;
    case 'error':
      return step.message;
  }
}

export function listBisections(resultsDir: string): string[] {
  if (!existsSync(resultsDir)) return [];
  return readdirSync(resultsDir)
    .filter((d) => d.startsWith('bisect-') && existsSync(join(resultsDir, d, 'bisect.json')))
    .sort();
}
