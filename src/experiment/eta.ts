/**
 * How long the cells of a run still need (pure). The estimate comes from the cells' own
 * durations only: the builds before the first cell (minutes when cold) say nothing about how long
 * a boot takes, and counting them in made the first estimate of a run whose remaining 17 cells
 * took 26 s read "about 59m13s left".
 */
export interface EtaInput {
  /** The own duration (seconds) of every cell that ran to its end in this process. */
  finishedCellSeconds: number[];
  /** Cells not finished yet (running ones included). */
  cellsLeft: number;
  /** Cells run at once. */
  parallel: number;
}

/**
 * Seconds left: the mean duration of a finished cell times the cells left, spread over as many at
 * once as there are cells left to share them; undefined until one cell has a duration.
 */
export function estimateSecondsLeft({ finishedCellSeconds, cellsLeft, parallel }: EtaInput): number | undefined {
  const measured = finishedCellSeconds.filter((s) => Number.isFinite(s) && s > 0);
  if (measured.length === 0) return undefined;
  if (cellsLeft <= 0) return 0;
  const mean = measured.reduce((a, b) => a + b, 0) / measured.length;
  const lanes = Math.max(1, Math.min(Math.floor(parallel) || 1, cellsLeft));
  return Math.round((mean * cellsLeft) / lanes);
}
