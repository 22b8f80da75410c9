/**
 * The command line on damaged input, as a user meets it: the CLI bundled from the sources (esbuild,
 * as `npm run build` does, into node_modules/.cache so that it finds the project beside it and does
 * not touch dist/, which others may be rebuilding) and run as a child process with a time limit,
 * so that a hang fails the test instead of hanging it.
 */
import { cellRecord, runManifest, uffdSamples } from '../../helpers/records.js';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/core/paths.js';
import { RunStore } from '../../../src/results/store.js';

const repo = packageRoot();
const outDir = join(repo, 'node_modules/.cache/kexp-unit-cli');
const cli = join(outDir, 'kexp.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'kexp-cli-'));
const cache = join(scratch, 'cache');

beforeAll(async () => {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(repo, 'src/cli/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: join(outDir, 'main.mjs'),
    logLevel: 'error',
    banner: { js: "import { createRequire as __kexpRequire } from 'node:module'; const require = __kexpRequire(import.meta.url);" },
  });
  writeFileSync(cli, "import { main } from './main.mjs';\nawait main(process.argv);\n");
}, 60_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Outcome {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

async function kexp(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  const started = Date.now();
  const result = await execa('node', [cli, ...args], {
    reject: false,
    timeout: 20_000,
    killSignal: 'SIGKILL',
    env: { KEXP_CACHE: cache, ...env },
    stdin: 'ignore',
  });
  return {
    exitCode: result.exitCode,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    ms: Date.now() - started,
    timedOut: Boolean(result.timedOut),
  };
}

/** No stack trace: no "    at fn (file:line)" lines and no "internal error". */
function expectNoStack(outcome: Outcome): void {
  expect(outcome.stderr).not.toMatch(/^\s+at /m);
  expect(outcome.stderr).not.toContain('internal error');
}

const experimentText = readFileSync(join(repo, 'experiments/default.json'), 'utf8');

function writeRun(resultsDir: string, id: string): RunStore {
  const cells = ['6.12_baseline_r0', '6.12_early-break_r0'];
  const manifest = runManifest(id, Object.fromEntries(cells.map((c) => [c, { variant: c.includes('early') ? 'early-break' : 'baseline', rep: 0 }])), {
    experiment: 'default',
    experimentFile: 'experiments/default.json',
    startedAt: '2026-12-01T10:00:00.000Z',
    host: { hostname: 'h', kernel: '6.1.0', cpus: 2, memoryMiB: 24000 },
  });
  const store = RunStore.create(resultsDir, id, experimentText, manifest);
  for (const id of cells) {
    // The counts of test/fixtures/console/ok-6.12.results.jsonl.
    const record = cellRecord({
      id,
      variant: manifest.cells[id]!.variant,
      kernelKey: null,
      imageKey: null,
      seconds: 1,
      samples: uffdSamples((pages) => ({ ftrace: { __get_user_pages: 2 * pages + 3 } }), [64, 128], { ok: true }),
    });
    store.recordCell(record);
  }
  return store;
}

describe('kexp on a bad cache folder', () => {
  it('--cache /proc/kexp exits promptly with 2, naming --cache', async () => {
    const outcome = await kexp(['--cache', '/proc/kexp', 'runs']);
    expect(outcome.timedOut).toBe(false);
    expect(outcome.exitCode).toBe(2);
    expect(outcome.ms).toBeLessThan(15_000);
    expect(outcome.stderr).toMatch(/kexp: the cache folder \/proc\/kexp \(from --cache\) is under \/proc/);
    expect(outcome.stderr).toMatch(/→ give --cache a folder you can write/);
    expectNoStack(outcome);
  });

  it('$KEXP_CACHE=/proc/kexp is named as $KEXP_CACHE', async () => {
    const outcome = await kexp(['runs'], { KEXP_CACHE: '/proc/kexp' });
    expect(outcome.exitCode).toBe(2);
    expect(outcome.stderr).toContain('(from $KEXP_CACHE)');
  });

  it('--cache /etc/passwd (a file) exits 2 without a stack', async () => {
    const outcome = await kexp(['--cache', '/etc/passwd', 'runs']);
    expect(outcome.exitCode).toBe(2);
    expect(outcome.stderr).toContain('the cache folder /etc/passwd (from --cache) is a file, not a folder');
    expectNoStack(outcome);
  });
});

describe('kexp on damaged run records', () => {
  it('report of a run with a truncated manifest exits 2, naming the file, without a stack', async () => {
    const results = join(scratch, 'results-truncated');
    const store = writeRun(results, 'default-20261201-100000');
    writeFileSync(store.manifestFile, readFileSync(store.manifestFile, 'utf8').slice(0, 300));
    for (const args of [['report', 'default-20261201-100000'], ['report'], ['compare', 'default-20261201-100000', 'default-20261201-100000']]) {
      const outcome = await kexp([...args, '--results', results]);
      expect(outcome.exitCode, args.join(' ')).toBe(2);
      expect(outcome.stderr).toMatch(/default-20261201-100000\/manifest\.json: truncated or not JSON \(.+\); the run record is damaged/);
      expect(outcome.stderr).toMatch(/→ remove the folder .* or restore it/);
      expectNoStack(outcome);
    }
  });

  it('report of a run with a null cell record shows the other cells, names the damaged one, exits 2', async () => {
    const results = join(scratch, 'results-null-cell');
    const store = writeRun(results, 'default-20261201-110000');
    writeFileSync(join(store.cellDir('6.12_early-break_r0'), 'cell.json'), 'null');
    const outcome = await kexp(['report', store.dir]);
    expect(outcome.exitCode).toBe(2);
    expect(outcome.stdout).toMatch(/uffd-populate/);
    expect(outcome.stdout).toContain('cell 6.12_early-break_r0 is left out');
    expect(outcome.stderr).toMatch(
      /a cell record is damaged; the report shows the other cells:\n\s+.*cells\/6\.12_early-break_r0\/cell\.json: not a valid cell record/,
    );
    expectNoStack(outcome);
  });

  it('runs lists a damaged run as damaged, warns naming the file, and lists the rest', async () => {
    const results = join(scratch, 'results-list');
    writeRun(results, 'default-20261201-100000');
    const broken = writeRun(results, 'default-20261201-120000');
    writeFileSync(broken.manifestFile, '');
    const outcome = await kexp(['runs', '--results', results]);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.stdout).toMatch(/default-20261201-100000\s+default\s+complete|default-20261201-100000\s+default\s+running/);
    expect(outcome.stdout).toMatch(/default-20261201-120000\s+default\s+damaged/);
    expect(outcome.stderr).toMatch(/warning: .*default-20261201-120000\/manifest\.json: empty; the run record is damaged/);
  });

  it('bisect --resume of a corrupt record exits 2, naming bisect.json', async () => {
    const results = join(scratch, 'results-bisect');
    mkdirSync(join(results, 'bisect-series-x'), { recursive: true });
    writeFileSync(join(results, 'bisect-series-x/bisect.json'), '{"schema": "kexp/bisect@1", "id": "bisect-series-x", "req');
    const outcome = await kexp(['bisect', '--resume', 'bisect-series-x', '--results', results]);
    expect(outcome.exitCode).toBe(2);
    expect(outcome.stderr).toMatch(/bisect-series-x\/bisect\.json: truncated or not JSON/);
    expectNoStack(outcome);
  });
});

describe('kexp run given a folder', () => {
  it('exits 2 saying it is a folder, and points a run folder at --resume', async () => {
    const results = join(scratch, 'results-run-folder');
    const store = writeRun(results, 'default-20261201-130000');
    const plain = await kexp(['run', scratch]);
    expect(plain.exitCode).toBe(2);
    expect(plain.stderr).toContain('is a folder, not an experiment file');
    expectNoStack(plain);
    const run = await kexp(['run', store.dir]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`kexp run --resume ${store.dir}`);
  });
});
