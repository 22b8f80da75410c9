import { describe, expect, it } from 'vitest';
import { bootStatuses, isFailure, isFinding, isStopped, statuses, type Status } from '../../../src/records/index.js';

describe('the one status', () => {
  it('a boot is never skipped as a whole; every boot status is a status', () => {
    expect(bootStatuses).not.toContain('skipped');
    for (const s of bootStatuses) expect(statuses).toContain(s);
  });

  it('stopped: crashed and hung; failure: those and failed', () => {
    expect(statuses.filter(isStopped)).toEqual(['crashed', 'hung']);
    expect(statuses.filter(isFailure)).toEqual(['failed', 'crashed', 'hung']);
  });
});

describe('isFinding', () => {
  const cell = (status: Status, samples: Status[]) => ({ status, samples: samples.map((s) => ({ status: s })) });

  it('a boot that ended ok with only ok or skipped samples is not a finding', () => {
    expect(isFinding(cell('ok', []))).toBe(false);
    expect(isFinding(cell('ok', ['ok', 'skipped', 'ok']))).toBe(false);
  });

  it('a boot that did not end ok, or any failed, crashed or hung sample, is', () => {
    expect(isFinding(cell('crashed', []))).toBe(true);
    expect(isFinding(cell('failed', ['ok']))).toBe(true);
    for (const s of ['failed', 'crashed', 'hung'] as const) expect(isFinding(cell('ok', ['ok', s]))).toBe(true);
  });
});
