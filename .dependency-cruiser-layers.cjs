// The stage order of src/ (see ARCHITECTURE.md) and the dependency-cruiser rules built from it.
//
// layeredConfig builds the rules for a layered source tree: no import cycle anywhere, and no
// import from a stage to a stage above it in `order` (bottom first). Each entry of `exceptions`
// ({ from, to, reason }: path prefixes relative to the cruised folder's parent) lets exactly those
// imports through; an exception that no longer matches anything is reported by
// test/unit/architecture.test.ts so the list only shrinks. Used by .dependency-cruiser.cjs and by
// the fixture that proves the check can fail (test/fixtures/layers/).
'use strict';

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function layeredConfig({ base, order, exceptions = [] }) {
  const stage = (name) => `^${escape(base)}/${escape(name)}/`;
  const forbidden = [
    {
      name: 'no-circular',
      comment: 'An import cycle: the stages would no longer form an order.',
      severity: 'error',
      from: { path: `^${escape(base)}/` },
      // Exceptions never excuse a cycle: they let an upward import through, nothing else.
      to: { circular: true },
    },
  ];
  order.forEach((name, index) => {
    const above = order.slice(index + 1);
    if (above.length === 0) return;
    const to = { path: `^${escape(base)}/(${above.map(escape).join('|')})/` };
    const mine = exceptions.filter((e) => e.from.startsWith(`${base}/${name}/`));
    const files = [...new Set(mine.map((e) => e.from))];
    const rule = (from, toPathNot) => ({
      name: `${name}-not-up`,
      comment: `${name}/ may import only stages below it: ${order.slice(0, index).join(', ') || '(none)'}`,
      severity: 'error',
      from,
      to: toPathNot.length > 0 ? { ...to, pathNot: toPathNot.join('|') } : to,
    });
    // Files with an exception get a rule of their own that lets exactly the listed targets through.
    forbidden.push(rule(files.length > 0 ? { path: stage(name), pathNot: files.map((f) => `^${escape(f)}$`).join('|') } : { path: stage(name) }, []));
    for (const file of files) {
      forbidden.push(
        rule(
          { path: `^${escape(file)}$` },
          mine.filter((e) => e.from === file).map((e) => `^${escape(e.to)}`),
        ),
      );
    }
  });
  return {
    forbidden,
    options: {
      doNotFollow: { path: 'node_modules' },
      exclude: { path: 'node_modules' },
      tsPreCompilationDeps: true,
      tsConfig: { fileName: 'tsconfig.json' },
      enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    },
  };
}

// The stages of src/, bottom first; keep in step with ARCHITECTURE.md.
const ORDER = ['core', 'records', 'store', 'config', 'doctor', 'kernel', 'kselftest', 'image', 'measure', 'vm', 'explain', 'results', 'report', 'experiment', 'fleet', 'bisect', 'cli'];

// Imports that still go up the order or close a cycle. Each is a debt with its reason: the goal is an empty list.
const EXCEPTIONS = [];

module.exports = { layeredConfig, ORDER, EXCEPTIONS };
