import { describe, it } from 'vitest';
import { buildTables } from '../../../src/report/model.js';
import { renderers, rendererNames } from '../../../src/report/renderer.js';
import { compareRuns } from '../../../src/report/compare.js';
import { explainedNextRun, explainedRun, GUP, interruptedRun, nextRun, wideRun } from './fixtures.js';
import { expectGolden } from './golden.js';

const report = buildTables(interruptedRun, { function: GUP });
const comparison = compareRuns(interruptedRun, nextRun, { function: GUP });

describe('golden files', () => {
  for (const name of rendererNames) {
    const renderer = renderers[name];
    it(`report.${renderer.extension} (${name})`, () => expectGolden(`report.${renderer.extension}`, renderer.render(report)));
    it(`compare.${renderer.extension} (${name})`, () => expectGolden(`compare.${renderer.extension}`, renderer.render(comparison)));
  }
  it('wide.txt: five long variant names, split into tables of at most 72 columns', () => {
    expectGolden('wide.txt', renderers.text.render(buildTables(wideRun, { function: GUP })));
  });
  it('wide.md', () => expectGolden('wide.md', renderers.markdown.render(buildTables(wideRun, { function: GUP }))));
  // kexp explain: buckets under the figures, and the bucket a variant (or the next run) changed.
  for (const name of ['text', 'markdown', 'json', 'html'] as const) {
    const renderer = renderers[name];
    it(`report-explain.${renderer.extension} (${name})`, () =>
      expectGolden(`report-explain.${renderer.extension}`, renderer.render(buildTables(explainedRun, { function: GUP }))));
  }
  for (const name of ['text', 'markdown', 'json'] as const) {
    const renderer = renderers[name];
    it(`compare-explain.${renderer.extension} (${name})`, () =>
      expectGolden(`compare-explain.${renderer.extension}`, renderer.render(compareRuns(explainedRun, explainedNextRun, { function: GUP }))));
  }
});
