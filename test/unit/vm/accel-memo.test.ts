import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readProbeMemo } from '../../../src/vm/accel.js';

const scratch = mkdtempSync(join(tmpdir(), 'kexp-accel-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the KVM probe memo', () => {
  it('reads a verdict kexp wrote', () => {
    const file = join(scratch, 'kvm-probe.json');
    writeFileSync(file, JSON.stringify({ bootId: 'b', ok: false, reason: 'a probe boot under KVM did not reach userspace', at: '2026-12-06T00:00:00.000Z' }));
    expect(readProbeMemo(file)).toEqual({ bootId: 'b', ok: false, reason: 'a probe boot under KVM did not reach userspace' });
  });

  it('treats a memo it cannot read or make sense of as absent (the probe runs again)', () => {
    const file = join(scratch, 'kvm-probe-damaged.json');
    expect(readProbeMemo(join(scratch, 'missing.json'))).toBeUndefined();
    for (const damaged of [
      '{"bootId": "b", "ok": tr',
      'null',
      '[]',
      '"x"',
      '{"bootId": "b", "ok": "yes", "reason": "r"}',
      '{"bootId": 1, "ok": true, "reason": "r"}',
      '{"ok": true, "reason": "r"}',
      '',
    ]) {
      writeFileSync(file, damaged);
      expect(readProbeMemo(file), damaged).toBeUndefined();
    }
  });
});
