/**
 * boot() reads the result channel as guest protocol 2: a channel of another protocol ends the
 * boot at once as failed, with a reason naming both protocol numbers. QEMU here is a stand-in
 * script on PATH that writes a channel to the file of its second serial port and then waits.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GuestPlan } from '../../../src/image/plan.js';
import { boot } from '../../../src/vm/boot.js';

let dir: string;
const oldPath = process.env.PATH;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kexp-boot-'));
  writeFileSync(
    join(dir, 'qemu-system-x86_64'),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
    '#!/bin/sh\nfor a in "$@"; do case $a in file:*) out=${a#file:} ;; esac; done\ncat "$FAKE_CHANNEL" > "$out"\nexec sleep 30\n',
  );
  chmodSync(join(dir, 'qemu-system-x86_64'), 0o755);
  process.env.PATH = `${dir}:${oldPath}`;
});
afterAll(() => {
  process.env.PATH = oldPath;
  rmSync(dir, { recursive: true, force: true });
});

const plan: GuestPlan = { runs: [{ workload: 'uffd-populate', args: [], sizes: [64, 128] }], repetitions: 1, collectors: ['ftrace'], functions: ['f'] };

async function bootWith(channel: string) {
  const file = join(dir, 'channel');
  writeFileSync(file, channel);
  process.env.FAKE_CHANNEL = file;
  return boot({
    kernel: '/nonexistent/bzImage',
    initrd: '/nonexistent/initrd',
    plan,
    accel: 'tcg',
    outDir: join(dir, `out-${Math.random()}`),
    timeoutMs: 20_000,
  });
}

describe('boot and the guest protocol', () => {
  it('a protocol 1 agent (a JSON hello) fails the boot at once, naming both protocols', async () => {
    const outcome = await bootWith('{"type":"hello","kernel":"6.12.0","traceable":{},"notes":[]}\n');
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toMatch(/protocol 1 .*this kexp reads protocol 2/);
    expect(outcome.agentErrors.join('\n')).toMatch(/protocol 1/);
    expect(outcome.samples.map((s) => s.status)).toEqual(['failed', 'failed']);
    expect(outcome.durationMs).toBeLessThan(15_000);
  }, 30_000);

  it('an unknown protocol number is named too', async () => {
    const outcome = await bootWith('@@kexp hello 7 begin\nkernel 6.12.0\n@@kexp hello 7 end\n');
    expect(outcome).toMatchObject({ status: 'failed' });
    expect(outcome.reason).toMatch(/speaks protocol 7, this kexp reads protocol 2/);
  }, 30_000);
});
