import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../../../src/config/experiment.js';

const known = { kernels: ['6.12'], variants: ['baseline'], workloads: ['uffd-populate'] };
const text = (redis: string): string =>
  JSON.stringify({ name: 'x', kernels: ['6.12'], variants: ['baseline'], workloads: [{ name: 'uffd-populate' }], executor: { type: 'bullmq', redis } });

describe('an experiment file with a password in executor.redis', () => {
  it('is refused with a message that names the field and not the password', () => {
    for (const redis of [
      'redis://:se/cr@t:x%2F@lab1:6379',
      'redis://kexp:se/cr@t:x%2F@lab1:6379/0',
      'rediss://:hunter2@lab1:6380',
      `redis://:${'p'.repeat(120)}@lab1:6379`,
    ]) {
      let message = '';
      try {
        parseExperiment('exp.json', text(redis), known);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^exp\.json: executor\.redis: .*without a password/);
      expect(message).toContain(':***@lab1');
      expect(message).not.toMatch(/se\/cr|cr@t|x%2F|hunter2|ppp/);
    }
  });

  it('is accepted without a password', () => {
    expect(parseExperiment('exp.json', text('redis://lab1:6379'), known).executor?.redis).toBe('redis://lab1:6379');
    expect(parseExperiment('exp.json', text('redis://kexp@lab1:6379'), known).executor?.redis).toBe('redis://kexp@lab1:6379');
  });
});
