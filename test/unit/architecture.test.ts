// The layers of src/ hold: no import cycle, and no stage imports a stage above it in the order of
// ARCHITECTURE.md (.dependency-cruiser-layers.cjs). A failure lists each offending import.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { cruise, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser';

interface Exception {
  from: string;
  to: string;
  reason: string;
}

interface Layers {
  layeredConfig(input: { base: string; order: string[]; exceptions?: Exception[] }): { forbidden: IForbiddenRuleType[]; options: Record<string, unknown> };
  ORDER: string[];
  EXCEPTIONS: Exception[];
}

const layers = createRequire(import.meta.url)('../../.dependency-cruiser-layers.cjs') as Layers;

/** Runs dependency-cruiser over `base` with the layered rules; returns the cruise and one readable line per violation. */
async function check(base: string, order: string[], exceptions: Exception[]): Promise<{ result: ICruiseResult; violations: string[] }> {
  const config = layers.layeredConfig({ base, order, exceptions });
  const { output } = await cruise([base], { ...config.options, ruleSet: { forbidden: config.forbidden }, validate: true });
  const result = output as ICruiseResult;
  const violations = result.summary.violations.map((v) => {
    const via = v.cycle ? ` (cycle: ${v.cycle.map((step) => step.name).join(' -> ')})` : '';
    return `${v.from} -> ${v.to}  [${v.rule.name}]${via}`;
  });
  return { result, violations: [...new Set(violations)].sort() };
}

/** The exceptions no import matches any more: they must leave the list. */
function staleExceptions(result: ICruiseResult, exceptions: Exception[]): Exception[] {
  return exceptions.filter((e) => !result.modules.some((m) => m.source === e.from && m.dependencies.some((d) => d.resolved.startsWith(e.to))));
}

describe('the layers of src/', () => {
  it('have no import cycle and no import that goes up the order', async () => {
    const { result, violations } = await check('src', layers.ORDER, layers.EXCEPTIONS);
    expect(result.summary.totalCruised).toBeGreaterThan(100);
    expect(violations, `imports that break ARCHITECTURE.md:\n${violations.join('\n')}`).toEqual([]);
  }, 60_000);

  it('list only exceptions that are still needed, each with its reason', async () => {
    for (const e of layers.EXCEPTIONS) expect(e.reason.trim(), `${e.from} -> ${e.to}`).not.toBe('');
    const { result } = await check('src', layers.ORDER, layers.EXCEPTIONS);
    expect(staleExceptions(result, layers.EXCEPTIONS)).toEqual([]);
  }, 60_000);

  it('name every stage of src/ exactly once', async () => {
    const { readdirSync } = await import('node:fs');
    const stages = readdirSync('src', { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    expect([...layers.ORDER].sort()).toEqual(stages);
  });
});

describe('the layer check', () => {
  const base = 'test/fixtures/layers/src';
  const order = ['low', 'mid', 'high'];
  const exception: Exception = { from: `${base}/mid/e.ts`, to: `${base}/high/`, reason: 'fixture: a listed exception' };

  it('reports a cycle and an upward import, from -> to with the rule, and lets a listed exception through', async () => {
    const { violations } = await check(base, order, [exception]);
    expect(violations).toEqual([
      `${base}/low/a.ts -> ${base}/mid/b.ts  [low-not-up]`,
      `${base}/mid/b.ts -> ${base}/mid/c.ts  [no-circular] (cycle: ${base}/mid/c.ts -> ${base}/mid/b.ts)`,
    ]);
  }, 60_000);

  it('reports the upward import once its exception is gone, and a stale exception', async () => {
    const { result, violations } = await check(base, order, []);
    expect(violations).toContain(`${base}/mid/e.ts -> ${base}/high/d.ts  [mid-not-up]`);
    const stale: Exception = { from: `${base}/high/d.ts`, to: `${base}/mid/`, reason: 'fixture: no such import' };
    expect(staleExceptions(result, [exception, stale])).toEqual([stale]);
  }, 60_000);
});
