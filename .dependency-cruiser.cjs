// The import rules of src/ (ARCHITECTURE.md): no cycle, and no stage imports a stage above it.
// `npm run deps` runs it; test/unit/architecture.test.ts runs the same check in the unit suite.
// The order and the remaining exceptions live in .dependency-cruiser-layers.cjs.
'use strict';

const { layeredConfig, ORDER, EXCEPTIONS } = require('./.dependency-cruiser-layers.cjs');

module.exports = layeredConfig({ base: 'src', order: ORDER, exceptions: EXCEPTIONS });
