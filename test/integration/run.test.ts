/**
 * kexp run for real: the default experiment narrowed to 6.12 and uffd-populate, end to end into a
 * fresh results folder; then an interrupted run and its resume.
 */
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import type { RunManifest, CellRecord } from '../../src/results/store.js';
import { kexp, kexpChild } from '../helpers/kexp.js';

async function qemuCount(): Promise<number> {
  const r = await execa('pgrep', ['-c', '-f', '^qemu-system-x86_64 '], { reject: false });
  return Number(r.stdout.trim() || '0');
}

function manifestOf(dir: string): RunManifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as RunManifest;
}

describe('kexp run, default experiment narrowed to 6.12 baseline and continue with uffd-populate', () => {
  it('leaves a complete record with samples, reports in every format and exit code 0', async () => {
    const results = mkdtempSync(join(tmpdir(), 'kexp-results-'));
    const r = await kexp(['run', '--only', 'kernel=6.12,variant=baseline+continue,workload=uffd-populate', '--results', results, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { run: string; dir: string; state: string; findings: boolean };
    expect(out.state).toBe('complete');
    const m = manifestOf(out.dir);
    expect(m.plannedCells).toHaveLength(6);
    expect(Object.values(m.cells).every((c) => c.state === 'done' && c.status === 'ok')).toBe(true);
    expect(m.kexp.version).toBeTruthy();
    expect(m.qemu).toMatch(/QEMU emulator version/);
    expect(m.accel?.reason).toBeTruthy();
    expect(Object.keys(m.artifacts.kernels).sort()).toEqual(['6.12/baseline', '6.12/continue']);
    for (const a of Object.values(m.artifacts.kernels)) expect(a.key).toMatch(/^[0-9a-f]{64}$/);
    for (const id of m.plannedCells) {
      for (const f of ['console.log', 'channel.txt', 'cell.json', 'qemu.json']) expect(existsSync(join(out.dir, 'cells', id, f)), `${id}/${f}`).toBe(true);
    }
    const samples = readFileSync(join(out.dir, 'samples.jsonl'), 'utf8').trim().split('\n');
    expect(samples).toHaveLength(6 * 4);
    for (const ext of ['txt', 'md', 'csv', 'json', 'html']) expect(existsSync(join(out.dir, `report.${ext}`)), ext).toBe(true);
    const text = readFileSync(join(out.dir, 'report.txt'), 'utf8');
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(72);
    console.log(text);
    const report = JSON.parse(readFileSync(join(out.dir, 'report.json'), 'utf8')) as unknown;
    expect(JSON.stringify(report)).toContain('uffd-populate --write');
    const listed = await kexp(['runs', '--results', results, '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: out.run, state: 'complete', cellsDone: 6, cellsPlanned: 6 })]);
  });
});

describe('kexp run, interrupted and resumed', () => {
  it('keeps every finished cell after SIGINT, leaves no QEMU, and --resume completes the rest', async () => {
    const results = mkdtempSync(join(tmpdir(), 'kexp-results-'));
    const before = await qemuCount();
    const child = kexpChild(['run', '--only', 'kernel=6.12,workload=uffd-populate', '--jobs', '1', '--results', results]);
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (/runs 2\/9 done/.test(seen)) resolve();
      });
      child.on('exit', () => reject(new Error(`kexp run ended before two cells were done:\n${seen}`)));
    });
    child.kill('SIGINT');
    const stopped = await child;
    expect(stopped.exitCode).toBe(130);
    expect(await qemuCount()).toBe(before);
    const listed = JSON.parse((await kexp(['runs', '--results', results, '--json'])).stdout) as { id: string; dir: string; state: string; cellsDone: number }[];
    expect(listed).toHaveLength(1);
    const run = listed[0]!;
    expect(run.state).toBe('incomplete');
    expect(run.cellsDone).toBeGreaterThanOrEqual(2);
    expect(existsSync(join(run.dir, 'report.txt'))).toBe(true);
    const done = Object.entries(manifestOf(run.dir).cells)
      .filter(([, c]) => c.state === 'done')
      .map(([id]) => id);
    const stamps = Object.fromEntries(done.map((id) => [id, statSync(join(run.dir, 'cells', id, 'cell.json')).mtimeMs]));
    const kept = Object.fromEntries(done.map((id) => [id, JSON.parse(readFileSync(join(run.dir, 'cells', id, 'cell.json'), 'utf8')) as CellRecord]));

    const resumed = await kexp(['run', '--resume', run.id, '--results', results, '--json']);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const m = manifestOf(run.dir);
    expect(m.state).toBe('complete');
    expect(Object.values(m.cells).every((c) => c.state === 'done')).toBe(true);
    for (const id of done) {
      expect(statSync(join(run.dir, 'cells', id, 'cell.json')).mtimeMs).toBe(stamps[id]);
      expect((JSON.parse(readFileSync(join(run.dir, 'cells', id, 'cell.json'), 'utf8')) as CellRecord).samples).toEqual(kept[id]!.samples);
    }
    expect(readFileSync(join(run.dir, 'samples.jsonl'), 'utf8').trim().split('\n')).toHaveLength(9 * 4);
  });
});
