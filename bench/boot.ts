/**
 * npm run bench:boot — one boot that runs uffd-populate at two sizes and exits, measured as
 * `kexp boot` (whole command: node start, store lookups, QEMU, parsing) and as the plain QEMU
 * process kexp starts (its exact command line, read back from the boot folder), alternating,
 * in the same run. Prints medians and the ratio kexp / plain qemu (target: overhead < 10 %).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../src/core/paths.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const kernel = process.argv[2] ?? '6.12';
const root = packageRoot();
const kexpArgs = [join(root, 'bin/kexp.js'), 'boot', '--kernel', kernel, '--variant', 'baseline', '--workload', 'uffd-populate', '--pages', '64,128', '--json'];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

// Warm-up: builds or finds the kernel and the image, probes the accelerator.
const warm = await execa('node', kexpArgs, { env: { CI: '1' }, reject: false });
const first = JSON.parse(warm.stdout.split('\n').find((l) => l.startsWith('{'))!) as { status: string; consoleLog: string; accel: string };
if (first.status !== 'ok') throw new Error(`warm-up boot was ${first.status}`);
const qemu = JSON.parse(readFileSync(join(first.consoleLog, '..', 'qemu.json'), 'utf8')) as { args: string[] };

const kexpTimes: number[] = [];
const qemuTimes: number[] = [];
for (let i = 0; i < rounds; i++) {
  let start = process.hrtime.bigint();
  const result = await execa('node', kexpArgs, { env: { CI: '1' }, reject: false });
  kexpTimes.push(seconds(start));
  const status = (JSON.parse(result.stdout.split('\n').find((l) => l.startsWith('{'))!) as { status: string }).status;
  if (status !== 'ok') process.stderr.write(`round ${i}: kexp boot ${status}\n`);
  start = process.hrtime.bigint();
  await execa('qemu-system-x86_64', qemu.args, { reject: false, stdout: 'ignore', stderr: 'ignore' });
  qemuTimes.push(seconds(start));
  process.stderr.write(`round ${i + 1}/${rounds}: kexp ${kexpTimes.at(-1)!.toFixed(2)} s, plain qemu ${qemuTimes.at(-1)!.toFixed(2)} s\n`);
}
const k = median(kexpTimes);
const q = median(qemuTimes);
console.log(
  [
    `boot of ${kernel}/baseline, uffd-populate at 64 and 128 pages, accelerator ${first.accel}, ${rounds} rounds`,
    `kexp boot (whole command)  median ${k.toFixed(2)} s  [${kexpTimes.map((t) => t.toFixed(2)).join(' ')}]`,
    `plain qemu (same args)     median ${q.toFixed(2)} s  [${qemuTimes.map((t) => t.toFixed(2)).join(' ')}]`,
    `ratio kexp / plain qemu    ${(k / q).toFixed(3)}  (overhead ${((k / q - 1) * 100).toFixed(1)} %, target < 10 %)`,
  ].join('\n'),
);
