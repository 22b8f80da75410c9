import { describe, expect, it } from 'vitest';
import { describeProgress, elapsed } from '../../../src/cli/progress.js';

describe('progress lines', () => {
  it("a kernel build's stage, and while compiling the objects so far and the current one", () => {
    const started = Date.now() - 65_000;
    expect(elapsed(started)).toBe('1m05s');
    expect(describeProgress({ kernel: '6.12', variant: 'baseline', stage: 'configuring' }, started)).toBe('6.12/baseline: configuring [1m05s]');
    expect(describeProgress({ kernel: '6.12', variant: 'continue', stage: 'compiling', objects: 12, current: 'mm/gup.o' }, started)).toBe(
      '6.12/continue: compiling [1m05s, 12 objects, mm/gup.o]',
    );
    expect(describeProgress({ kernel: '6.1', variant: 'baseline', stage: 'compiling' }, Date.now())).toBe('6.1/baseline: compiling [0s, 0 objects]');
  });
});
