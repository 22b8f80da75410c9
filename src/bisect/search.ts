/**
 * The bisect search, as a pure function over an abstract test of a revision. Revisions are
 * ordered oldest first: the first is the known-good end, the last the known-bad end. Each step
 * says which revision to test next, or how the search ended: the first bad revision, a range of
 * skipped revisions that hides it, or answers that contradict each other.
 */

export type Verdict = 'good' | 'bad' | 'skip';

export type Step =
  | { kind: 'test'; index: number }
  | { kind: 'found'; index: number }
  /** Every revision between the last good and the first bad one was skipped. */
  | { kind: 'ambiguous'; candidates: number[] }
  | { kind: 'error'; message: string };

export function nextStep(count: number, verdicts: ReadonlyMap<number, Verdict>): Step {
  if (count < 2) return { kind: 'error', message: 'a bisection needs a good and a bad revision' };
  const last = count - 1;
  // The ends first: a "good" end that tests bad (or the reverse) would send the search astray.
  for (const [end, expected] of [
    [0, 'good'],
    [last, 'bad'],
  ] as const) {
    const verdict = verdicts.get(end);
    if (verdict === undefined) return { kind: 'test', index: end };
    if (verdict === 'skip')
      return { kind: 'error', message: `the ${expected} end (revision ${end}) cannot be tested (skipped): choose another ${expected} revision` };
    if (verdict !== expected)
      return { kind: 'error', message: `the ${expected} end (revision ${end}) tested ${verdict}: the predicate does not separate these revisions` };
  }
  const goods = [...verdicts].filter(([, v]) => v === 'good').map(([i]) => i);
  const bads = [...verdicts].filter(([, v]) => v === 'bad').map(([i]) => i);
  const lastGood = Math.max(...goods);
  const firstBad = Math.min(...bads);
  if (lastGood > firstBad) {
    return {
      kind: 'error',
      message: `inconsistent answers: revision ${lastGood} tested good after revision ${firstBad} tested bad (the behaviour flips back and forth, or the test is not deterministic)`,
    };
  }
  const open = [];
  for (let i = lastGood + 1; i < firstBad; i++) if (!verdicts.has(i)) open.push(i);
  if (open.length > 0) {
    // The untested revision nearest the middle of the remaining range, as git bisect does around skips.
    const middle = (lastGood + firstBad) / 2;
    const pick = open.reduce((best, i) => (Math.abs(i - middle) < Math.abs(best - middle) ? i : best));
    return { kind: 'test', index: pick };
  }
  if (firstBad - lastGood === 1) return { kind: 'found', index: firstBad };
  const candidates: number[] = [];
  for (let i = lastGood + 1; i <= firstBad; i++) candidates.push(i);
  return { kind: 'ambiguous', candidates };
}

export interface BisectResult<R> {
  step: Exclude<Step, { kind: 'test' }>;
  /** Every test made, in order. */
  trail: { revision: R; index: number; verdict: Verdict }[];
}

/** Drive the search with a real (or fake) test; `known` resumes an interrupted bisection. */
export async function bisect<R>(
  revisions: readonly R[],
  test: (revision: R, index: number) => Promise<Verdict>,
  known: ReadonlyMap<number, Verdict> = new Map(),
): Promise<BisectResult<R>> {
  const verdicts = new Map(known);
  const trail: BisectResult<R>['trail'] = [];
  for (;;) {
    const step = nextStep(revisions.length, verdicts);
    if (step.kind !== 'test') return { step, trail };
    const verdict = await test(revisions[step.index]!, step.index);
    verdicts.set(step.index, verdict);
    trail.push({ revision: revisions[step.index]!, index: step.index, verdict });
  }
}
