import { describe, expect, it } from 'vitest';
import { judge, parsePredicate } from '../../../src/bisect/predicate.js';
import type { Figure } from '../../../src/records/index.js';

const figure = (perPage: number | null, status: Figure['status'] = 'ok'): Figure => ({
  workload: 'async-pf',
  function: '__get_user_pages',
  status,
  per_page: perPage,
  fixed: perPage === null ? null : 3,
  residual: 0,
  collectors: {},
  flags: [],
  samples: 2,
});

describe('bisect predicates', () => {
  it('reads comparisons on figures and on the status', () => {
    expect(parsePredicate('__get_user_pages.per_page <= 2')).toMatchObject({
      kind: 'figure',
      target: '__get_user_pages',
      field: 'per_page',
      op: '<=',
      value: 2,
    });
    expect(parsePredicate('kvm/kvm_async_pf_ready.per_page==1')).toMatchObject({ target: 'kvm/kvm_async_pf_ready', op: '==', value: 1 });
    expect(parsePredicate('status != crashed')).toMatchObject({ kind: 'status', op: '!=', status: 'crashed' });
    expect(() => parsePredicate('gup <= 2')).toThrow(/cannot read "gup <= 2"/);
  });

  it('judges a step good, bad or skipped', () => {
    const p = parsePredicate('__get_user_pages.per_page <= 2');
    expect(judge(p, { status: 'ok', figures: [figure(2)] }, 'async-pf')).toEqual({ verdict: 'good', reason: '__get_user_pages.per_page = 2', value: 2 });
    expect(judge(p, { status: 'ok', figures: [figure(3)] }, 'async-pf').verdict).toBe('bad');
    expect(judge(p, { buildError: 'make bzImage failed\n...' }, 'async-pf')).toEqual({ verdict: 'skip', reason: 'does not build: make bzImage failed' });
    expect(judge(p, { status: 'crashed', figures: [] }, 'async-pf').verdict).toBe('skip');
    expect(judge(p, { status: 'ok', figures: [figure(null, 'failed')] }, 'async-pf').verdict).toBe('skip');
    expect(judge(p, { status: 'ok', figures: [figure(2)] }, 'uffd-remote').verdict).toBe('skip');
  });

  it('judges status predicates on crashes', () => {
    const p = parsePredicate('status != crashed');
    expect(judge(p, { status: 'crashed' }, 'x').verdict).toBe('bad');
    expect(judge(p, { status: 'ok' }, 'x').verdict).toBe('good');
    expect(judge(p, { buildError: 'x' }, 'x').verdict).toBe('skip');
  });
});
