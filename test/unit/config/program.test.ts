// A program entry checked as input (config/ at load time) and made into a run (image/plan.ts)
// take the same checks: the same entry is refused with the same message by both.
import { describe, expect, it } from 'vitest';
import { checkProgramEntry } from '../../../src/config/program.js';
import { programRun } from '../../../src/image/plan.js';

describe('checkProgramEntry', () => {
  const where = 'e.json: workloads.0';
  const entries = [
    { name: 'mm:madv_populate', args: [], program: 'kselftest' as const },
    { name: '/usr/bin/stress-ng', args: ['--vm-bytes', '{n}M'], program: 'command' as const },
    { name: 'kvm:demand_paging_test', args: ['-b', '{n}K'], sizes: [8, 16], program: 'kselftest' as const },
  ];

  it('accepts what programRun makes a run of', () => {
    for (const entry of entries) {
      expect(() => checkProgramEntry(entry, [64, 128], where)).not.toThrow();
      expect(programRun(entry, [64, 128], where).workload).toBe(entry.name);
    }
  });

  it('refuses what programRun refuses, with the same message', () => {
    const bad = [
      { name: 'no-colon', args: [], program: 'kselftest' as const },
      { name: 'kvm:demand_paging_test', args: ['-b', '{n}K'], sizes: [6], program: 'kselftest' as const },
      { name: '', args: [], program: 'command' as const },
    ];
    for (const entry of bad) {
      let message = '';
      try {
        programRun(entry, [64], where);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).not.toBe('');
      expect(() => checkProgramEntry(entry, [64], where)).toThrow(message);
    }
  });
});
