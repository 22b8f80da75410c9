/**
 * The mail's question, measured for real: all three variants of 6.1 and 6.12 with async-pf (KVM
 * async page faults in a nested guest whose memory is a userfaultfd region) and uffd-remote (the
 * pages != NULL control) at 64 and 128 pages, under QEMU with -cpu max (SVM with nested paging).
 */
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureHost } from '../../src/doctor/probe.js';
import type { Figure, SampleRecord } from '../../src/records/index.js';
import { kexp, repoRoot } from '../helpers/kexp.js';

const hostHasPerf = existsSync('/usr/bin/perf');

interface BootJson {
  notes: string[];
  status: string;
  reason: string | null;
  samples: SampleRecord[];
  figures: Figure[];
  traceable: Record<string, Record<string, boolean>> | null;
}

const kernels = ['6.1', '6.12'];
const variants = ['baseline', 'early-break', 'continue'];
const results = new Map<string, BootJson>();
const key = (kernel: string, variant: string): string => `${kernel}/${variant}`;

function perPage(r: BootJson, workload: string, fn: string): string {
  const f = r.figures.find((x) => x.workload === workload && x.function === fn);
  if (!f) return 'absent';
  return f.status === 'ok' ? `${f.per_page}/page + ${f.fixed}` : `${f.status}${f.reason ? ` (${f.reason})` : ''}`;
}

describe('async page faults and the uffd-remote control, 6.1 and 6.12, three variants', () => {
  beforeAll(async () => {
    await ensureHost(repoRoot);
    const lines: string[] = [];
    for (const kernel of kernels) {
      for (const variant of variants) {
        const r = await kexp([
          'boot',
          '--kernel',
          kernel,
          '--variant',
          variant,
          '--workload',
          'async-pf,uffd-remote',
          '--pages',
          '64,128',
          '--functions',
          '__get_user_pages,handle_userfault',
          '--collect',
          'ftrace,kprobe,perf',
          '--json',
        ]);
        const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
        if (!line) throw new Error(`kexp boot ${kernel}/${variant} printed no JSON:\n${r.stderr}`);
        const json = JSON.parse(line) as BootJson;
        results.set(key(kernel, variant), json);
        const events = json.figures
          .filter((f) => f.function.includes('/') && f.workload === 'async-pf')
          .map((f) => `${f.function.split('/')[1]} ${f.status === 'ok' ? `${f.per_page}/page` : f.status}`);
        lines.push(
          `${kernel} ${variant.padEnd(11)} ${json.status}: async-pf __get_user_pages ${perPage(json, 'async-pf', '__get_user_pages')}; handle_userfault ${perPage(json, 'async-pf', 'handle_userfault')}; uffd-remote __get_user_pages ${perPage(json, 'uffd-remote', '__get_user_pages')}; ${events.join(', ')}`,
        );
      }
    }
    console.log(`figures:\n${lines.join('\n')}`);
  });

  it('runs every boot to the end', () => {
    for (const [name, r] of results) expect(r.status, `${name}: ${r.reason}`).toBe('ok');
  });

  it('exercises the async page fault path in every async-pf sample, and verifies the data', () => {
    for (const [name, r] of results) {
      for (const s of r.samples.filter((x) => x.workload === 'async-pf')) {
        expect(s.status, `${name} ${s.pages}: ${s.reason}`).toBe('ok');
        const tracepoints = s.counts.tracepoint ?? {};
        expect(
          Object.values(tracepoints).some((n) => n > 0),
          `${name}: ${JSON.stringify(tracepoints)}`,
        ).toBe(true);
        const result = s.result as { verified: number; faults: number } | null;
        expect(result?.verified).toBe(s.pages);
        expect(result?.faults).toBe(s.pages);
      }
    }
  });

  it('verifies the data of the uffd-remote control', () => {
    for (const r of results.values()) {
      for (const s of r.samples.filter((x) => x.workload === 'uffd-remote')) {
        expect(s.status, s.reason).toBe('ok');
        expect((s.result as unknown as { verified: number }).verified).toBe(s.pages);
      }
    }
  });

  it('has ftrace, kprobe and perf agree on every count of every sample (perf also on the tracepoints)', () => {
    for (const [name, r] of results) {
      for (const s of r.samples) {
        for (const fn of ['__get_user_pages', 'handle_userfault']) {
          expect(s.counts.kprobe?.[fn], `${name} ${s.workload}@${s.pages} ${fn}`).toBe(s.counts.ftrace?.[fn]);
          if (hostHasPerf) expect(s.counts.perf?.[fn], `${name} ${s.workload}@${s.pages} ${fn} (perf)`).toBe(s.counts.ftrace?.[fn]);
        }
        if (hostHasPerf) for (const [event, n] of Object.entries(s.counts.tracepoint ?? {})) expect(s.counts.perf?.[event], `${name} ${event} (perf)`).toBe(n);
      }
      for (const f of r.figures.filter((x) => x.status === 'ok')) expect(f.flags.filter((x) => x.startsWith('collectors disagree'))).toEqual([]);
      // Without Debian's perf on the host the collector is unavailable, and said to be.
      if (!hostHasPerf) expect(r.notes.join('\n')).toContain('perf collector unavailable');
    }
  });

  it('keeps the pages != NULL control where it is across variants, or says that it moved', () => {
    for (const kernel of kernels) {
      const figures = variants.map((v) => results.get(key(kernel, v))!.figures.find((f) => f.workload === 'uffd-remote' && f.function === '__get_user_pages')!);
      const values = new Set(figures.map((f) => f.per_page));
      if (values.size > 1)
        console.log(`${kernel}: the uffd-remote control moved across variants: ${figures.map((f, i) => `${variants[i]} ${f.per_page}`).join(', ')}`);
      expect(figures.every((f) => f.status === 'ok')).toBe(true);
    }
  });
});
