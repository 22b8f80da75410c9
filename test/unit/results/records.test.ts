/**
 * Run records from disk through the checked reader: a truncated, random, mutated or crafted
 * manifest.json or cell.json is an InputError that names the file (exit 2), never another
 * exception; whatever the reader lets through, the report draws without an exception.
 *
 * The run is written by kexp's own code (RunStore.create, recordCell) from the repository's
 * experiments/default.json and samples parsed from real captured agent output
 * (test/fixtures/console/ok-6.12.results.jsonl, test/fixtures/guest/async-pf-6.12-full.results.jsonl)
 * by the real converter; one sample carries an explain group written by hand in the shape
 * src/explain/buckets.ts decodes, so that the mutations reach that path too.
 */
import { existsSync, mkdirSync, mkdtempSync as makeTemp, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/core/errors.js';
import { packageRoot } from '../../../src/core/paths.js';
import { toSampleRecord } from '../../../src/measure/figures.js';
import { parseAgentOutput, type AgentSample } from '../../../src/measure/samples.js';
import { buildTables } from '../../../src/report/model.js';
import { rendererNames, renderers } from '../../../src/report/renderer.js';
import { loadReportInput } from '../../../src/report/write.js';
import { RunStore, listRuns, type CellRecord, type RunManifest } from '../../../src/results/store.js';
import { expectInputError, keysOf, mutate, prefixes, prng, randomBytes, randomJson, writeCase } from './fuzz.js';
import type { SampleRecord } from '../../../src/records/index.js';

const temps: string[] = [];
function mkdtempSync(prefix: string): string {
  const dir = makeTemp(prefix);
  temps.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

const repo = packageRoot();
const experimentText = readFileSync(join(repo, 'experiments/default.json'), 'utf8');

function samplesOf(fixture: string): SampleRecord[] {
  return parseAgentOutput(readFileSync(join(repo, fixture), 'utf8'))
    .filter((m): m is AgentSample => m.type === 'sample')
    .map(toSampleRecord);
}

const uffd = samplesOf('test/fixtures/console/ok-6.12.results.jsonl');
const asyncPf = samplesOf('test/fixtures/guest/async-pf-6.12-full.results.jsonl');
const CELLS = ['6.12_baseline_r0', '6.12_early-break_r0'];

function cellRecord(id: string, variant: string, samples: SampleRecord[]): CellRecord {
  return {
    schema: 'kexp/cell@1',
    id,
    kernel: '6.12',
    variant,
    rep: 0,
    status: 'ok',
    accel: 'tcg',
    kernelKey: 'a'.repeat(64),
    imageKey: 'b'.repeat(64),
    seconds: 41.5,
    worker: 'local',
    traceable: { ftrace: { __get_user_pages: true, handle_userfault: true }, kprobe: { __get_user_pages: true, handle_userfault: true } },
    warnings: [],
    agentErrors: [],
    samples,
  };
}

/** A run of two finished cells, written by RunStore; returns its folder. */
function writeRun(resultsDir: string, id: string): RunStore {
  const manifest: RunManifest = {
    schema: 'kexp/run@1',
    id,
    experiment: 'default',
    experimentFile: join(repo, 'experiments/default.json'),
    state: 'running',
    startedAt: '2026-12-01T10:00:00.000Z',
    updatedAt: '',
    kexp: { version: '0.1.0', commit: null },
    host: { hostname: 'h', kernel: '6.1.0', cpus: 2, memoryMiB: 24000 },
    qemu: 'QEMU emulator version 7.2.22',
    accel: { accel: 'tcg', reason: 'asked for TCG' },
    artifacts: { kernels: { '6.12/baseline': { key: 'a'.repeat(64) } } },
    cells: Object.fromEntries(
      CELLS.map((c) => [c, { kernel: '6.12', variant: c.includes('early') ? 'early-break' : 'baseline', rep: 0, state: 'pending' as const }]),
    ),
    plannedCells: CELLS,
  };
  const store = RunStore.create(resultsDir, id, experimentText, manifest);
  const explained = {
    ...asyncPf[0]!,
    explain: {
      __get_user_pages: {
        mode: 'return' as const,
        groups: [
          {
            stack: ['async_pf_execute', 'get_user_pages_remote'],
            flags: 0x1000,
            flagNames: ['FOLL_TRIED'],
            pagesNull: true,
            nrPages: '1' as const,
            ret: 1,
            calls: 64,
          },
        ],
        dropped: 0,
        problems: [],
      },
    },
  };
  store.recordCell(cellRecord(CELLS[0]!, 'baseline', [...uffd, explained, ...asyncPf.slice(1)]));
  store.recordCell(cellRecord(CELLS[1]!, 'early-break', [...uffd, ...asyncPf]));
  const m = store.manifest();
  m.state = 'complete';
  store.writeManifest(m);
  return store;
}

/** The report, drawn in every format (or in text only, to keep a long loop fast): what the reader lets through must not throw. */
function drawAll(dir: string, formats: readonly (typeof rendererNames)[number][] = rendererNames): ReturnType<typeof loadReportInput> {
  const loaded = loadReportInput(dir);
  const tables = buildTables(loaded.input, { function: loaded.function });
  for (const name of formats) renderers[name].render(tables);
  return loaded;
}

function fresh(): { resultsDir: string; store: RunStore; manifestText: string; cellText: string } {
  const resultsDir = mkdtempSync(join(tmpdir(), 'kexp-records-'));
  const store = writeRun(resultsDir, 'default-20261201-100000');
  // Without the final newline: every strictly shorter prefix is then cut inside the JSON.
  return {
    resultsDir,
    store,
    manifestText: readFileSync(store.manifestFile, 'utf8').trimEnd(),
    cellText: readFileSync(join(store.cellDir(CELLS[1]!), 'cell.json'), 'utf8').trimEnd(),
  };
}

describe('run records: the checked reader', () => {
  it('reads the run kexp wrote, and reports it', () => {
    const { store } = fresh();
    const loaded = drawAll(store.dir);
    expect(loaded.damaged).toEqual([]);
    const gup = loaded.input.rows.filter((r) => r.function === '__get_user_pages');
    expect(new Set(gup.map((r) => r.variant))).toEqual(new Set(['baseline', 'early-break']));
    expect(gup.filter((r) => r.workload === 'uffd-populate').map((r) => [r.variant, r.status, r.per_page])).toEqual([
      ['baseline', 'ok', 2],
      ['early-break', 'ok', 2],
    ]);
    expect(gup.find((r) => r.variant === 'baseline' && r.workload === 'async-pf')?.explain?.buckets.length).toBe(1);
  });

  it('refuses every truncated prefix of a manifest, naming the file and saying what to do', { timeout: 60_000 }, () => {
    const { store, manifestText } = fresh();
    const cases = prefixes(manifestText);
    expect(cases.length).toBe(manifestText.length);
    for (const text of cases) {
      writeCase(store.manifestFile, text);
      expectInputError(() => store.manifest(), 'manifest.json', `prefix of ${text.length} characters`);
    }
    writeCase(store.manifestFile, manifestText.slice(0, 200));
    try {
      store.manifest();
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).message).toMatch(/manifest\.json: truncated or not JSON \(.+\); the run record is damaged$/);
      expect((error as InputError).hint).toMatch(/remove the folder .*default-20261201-100000 or restore it/);
    }
  });

  it('refuses random bytes and random JSON as a manifest; a mutated one is refused or reports without an exception', () => {
    const { store, manifestText } = fresh();
    const valid: unknown = JSON.parse(manifestText);
    const keys = keysOf(valid);
    const rand = prng(0x6b657870);
    for (let i = 0; i < 300; i++) {
      writeCase(store.manifestFile, randomBytes(rand, 1 + (i % 64)));
      expectInputError(() => store.manifest(), 'manifest.json', `random bytes, case ${i}`);
    }
    for (let i = 0; i < 300; i++) {
      const value = randomJson(rand, keys);
      writeCase(store.manifestFile, JSON.stringify(value));
      expectInputError(() => store.manifest(), 'manifest.json', `random JSON ${JSON.stringify(value).slice(0, 200)}`);
    }
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const value = mutate(rand, valid, keys);
      writeCase(store.manifestFile, JSON.stringify(value));
      const what = `mutation ${i}: ${JSON.stringify(value).slice(0, 300)}`;
      if (expectInputError(() => store.manifest(), 'manifest.json', what, true) === 'refused') refused++;
      else expectInputError(() => drawAll(store.dir, i % 10 === 0 ? rendererNames : ['text']), store.dir, what, true);
    }
    // Most single-field changes break the shape; the rest must still report.
    expect(refused).toBeGreaterThan(100);
  }, 60_000);

  it('refuses a truncated, null, random or mutated cell record, naming the cell', () => {
    const { store, cellText } = fresh();
    const file = join(store.cellDir(CELLS[1]!), 'cell.json');
    const valid: unknown = JSON.parse(cellText);
    const keys = keysOf(valid);
    const rand = prng(0x63656c6c);
    const damaged = [
      ...prefixes(cellText, 1500),
      'null',
      '[]',
      '"kexp/cell@1"',
      '{}',
      ...Array.from({ length: 200 }, (_, i) => randomBytes(rand, 1 + (i % 50)).toString('latin1')),
      ...Array.from({ length: 200 }, () => JSON.stringify(randomJson(rand, keys))),
    ];
    damaged.forEach((text, i) => {
      writeCase(file, text, 'latin1');
      expectInputError(
        () => store.cellRecords(),
        `cells/${CELLS[1]}/cell.json`,
        `cell record ${JSON.stringify(text.slice(0, 120))} (${text.length} characters)`,
      );
      // The report goes on without it and names it (drawn for some of the cases: the path is the same).
      if (i % 100 === 0) expect(drawAll(store.dir).damaged.map((d) => d.id)).toEqual([CELLS[1]]);
    });
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const value = mutate(rand, valid, keys);
      writeCase(file, JSON.stringify(value));
      const what = `mutation ${i}: ${JSON.stringify(value).slice(0, 300)}`;
      if (expectInputError(() => store.cellRecords(), `cells/${CELLS[1]}/cell.json`, what, true) === 'refused') refused++;
      expectInputError(() => drawAll(store.dir, i % 10 === 0 ? rendererNames : ['text']), store.dir, what, true);
    }
    expect(refused).toBeGreaterThan(100);
  }, 60_000);

  it('reports the other cells of a run with one damaged cell record, and names the damaged one under the tables', () => {
    const { store } = fresh();
    writeCase(join(store.cellDir(CELLS[1]!), 'cell.json'), 'null');
    const loaded = loadReportInput(store.dir);
    expect(loaded.damaged.map((d) => d.problem.message)).toEqual([
      expect.stringMatching(
        /cells\/6\.12_early-break_r0\/cell\.json: not a valid cell record: \(top level\): .*; the record of cell 6\.12_early-break_r0 is damaged$/,
      ),
    ]);
    expect(new Set(loaded.input.rows.map((r) => r.variant))).toEqual(new Set(['baseline']));
    const text = renderers.text.render(buildTables(loaded.input, { function: loaded.function }));
    expect(text).toContain('cell 6.12_early-break_r0 is left out');
    expect(text).toMatch(/baseline/);
    // samples.jsonl keeps the readable cells; a resume knows which cell to run again.
    store.writeSamples();
    expect(
      new Set(
        readFileSync(join(store.dir, 'samples.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as { cell: string }).cell),
      ),
    ).toEqual(new Set([CELLS[0]]));
    expect(store.damagedCells()).toEqual([CELLS[1]]);
  });

  it('a cell record in the wrong folder (its id says another cell) is damaged', () => {
    const { store, cellText } = fresh();
    writeCase(join(store.cellDir(CELLS[1]!), 'cell.json'), cellText.replace(`"id": "${CELLS[1]}"`, `"id": "${CELLS[0]}"`));
    expect(() => store.cellRecords()).toThrow(/id: says "6\.12_baseline_r0", but the record is in the folder of cell "6\.12_early-break_r0"/);
  });

  it('refuses a damaged experiment.json inside a run folder, naming it', () => {
    const { store } = fresh();
    writeCase(join(store.dir, 'experiment.json'), experimentText.slice(0, 100));
    expectInputError(() => loadReportInput(store.dir), 'experiment.json', 'truncated experiment.json');
    writeCase(join(store.dir, 'experiment.json'), '{"name": 3}');
    expect(() => loadReportInput(store.dir)).toThrow(/experiment\.json: invalid\n\s+name/);
  });
});

describe('run records: ids that become paths', () => {
  it('refuses a crafted manifest whose cell ids climb into another run', () => {
    const resultsDir = mkdtempSync(join(tmpdir(), 'kexp-records-'));
    const victim = writeRun(resultsDir, 'other-run');
    const crafted = writeRun(resultsDir, 'crafted');
    const m = JSON.parse(readFileSync(crafted.manifestFile, 'utf8')) as RunManifest;
    for (const evil of ['../../other-run/cells/6.12_baseline_r0', '..', '.', 'a/b', '']) {
      const cells = { [evil]: { ...m.cells[CELLS[0]!]!, state: 'done' } };
      writeCase(crafted.manifestFile, JSON.stringify({ ...m, cells, plannedCells: [evil] }));
      expectInputError(() => loadReportInput(crafted.dir), 'manifest.json', `cell id ${JSON.stringify(evil)}`);
      expect(() => crafted.manifest()).toThrow(/cells|plannedCells/);
    }
    expect(existsSync(join(victim.dir, 'cells', CELLS[0]!, 'cell.json'))).toBe(true);
  });

  it('refuses a cell id with a slash or .. when a cell is recorded or its folder is asked for', () => {
    const { store } = fresh();
    expect(() => store.cellDir('../x')).toThrow(InputError);
    expect(() => store.cellDir('..')).toThrow(InputError);
    expect(() => store.recordCell(cellRecord('../../escape', 'baseline', uffd))).toThrow(/not a plain name/);
    expect(() => store.writeCellFiles('../escape', { 'console.log': Buffer.from('x') })).toThrow(InputError);
    expect(existsSync(join(store.dir, '..', 'escape'))).toBe(false);
  });
});

describe('run records: listing and creating', () => {
  it('lists a damaged run as "damaged" with the file and the problem, and still lists the rest', () => {
    const resultsDir = mkdtempSync(join(tmpdir(), 'kexp-records-'));
    writeRun(resultsDir, 'default-20261201-100000');
    const broken = writeRun(resultsDir, 'default-20261202-100000');
    writeCase(broken.manifestFile, readFileSync(broken.manifestFile, 'utf8').slice(0, 50));
    mkdirSync(join(resultsDir, 'bisect-series-x'));
    const runs = listRuns(resultsDir);
    // A damaged run sorts by its manifest's modification time (now), after the one started on 1 December.
    expect(runs.map((r) => [r.id, r.state])).toEqual([
      ['default-20261201-100000', 'complete'],
      ['default-20261202-100000', 'damaged'],
    ]);
    const damaged = runs.find((r) => r.state === 'damaged')!;
    expect(damaged.experiment).toBe('default');
    expect(damaged.problem).toMatch(/default-20261202-100000\/manifest\.json: truncated or not JSON/);
  });

  it('creates a run folder whole or not at all', () => {
    const resultsDir = mkdtempSync(join(tmpdir(), 'kexp-records-'));
    const manifest = { schema: 'kexp/run@1', id: 'x-1', cells: {}, plannedCells: [], size: 1n } as unknown as RunManifest;
    expect(() => RunStore.create(resultsDir, 'x-1', '{}', manifest)).toThrow(/BigInt/);
    expect(readdirSync(resultsDir)).toEqual([]);
    expect(() => RunStore.create(resultsDir, '../x', '{}', manifest)).toThrow(InputError);
  });
});
