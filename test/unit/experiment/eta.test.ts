import { describe, expect, it } from 'vitest';
import { estimateSecondsLeft } from '../../../src/experiment/eta.js';

describe('the ETA of a run', () => {
  it("after the first of 18 cells, counts the cell's own seconds, not the builds before it", () => {
    // As reported on main: after the first cell the progress line said "about 59m13s left" (the
    // cold builds counted as cell time); the other 17 cells then took 26 s, three at a time. A cell
    // of that run took 26 s x 3 / 17.
    const firstCell = (26 * 3) / 17;
    const eta = estimateSecondsLeft({ finishedCellSeconds: [firstCell], cellsLeft: 17, parallel: 3 })!;
    expect(eta).toBe(26);
  });

  it('uses the mean of the finished cells, spread over no more lanes than cells left', () => {
    expect(estimateSecondsLeft({ finishedCellSeconds: [4, 6, 5], cellsLeft: 6, parallel: 3 })).toBe(10);
    // two cells left, three at once: they run side by side, one cell's time
    expect(estimateSecondsLeft({ finishedCellSeconds: [5], cellsLeft: 2, parallel: 3 })).toBe(5);
    expect(estimateSecondsLeft({ finishedCellSeconds: [5], cellsLeft: 0, parallel: 3 })).toBe(0);
  });

  it('has no estimate until a cell has a duration (cells of a failed build record 0 s)', () => {
    expect(estimateSecondsLeft({ finishedCellSeconds: [], cellsLeft: 18, parallel: 3 })).toBeUndefined();
    expect(estimateSecondsLeft({ finishedCellSeconds: [0, 0], cellsLeft: 16, parallel: 3 })).toBeUndefined();
    expect(estimateSecondsLeft({ finishedCellSeconds: [0, 8], cellsLeft: 4, parallel: 0 })).toBe(32);
  });
});
