/** Phase timings for a record (seconds per named phase), kept even when a phase throws. */
export type Timings = Record<string, number>;

/** A timer that writes each phase's seconds into `timings`, in a `finally`, so a failed build's record still says how long it got. */
export function phaseTimer(timings: Timings): <T>(name: string, fn: () => Promise<T>) => Promise<T> {
  return async (name, fn) => {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      timings[name] = (Date.now() - t0) / 1000;
    }
  };
}
