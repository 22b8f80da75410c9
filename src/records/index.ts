/**
 * The records every stage hands on: statuses (and the one test for a finding), collector names,
 * samples, figures and explain's call groups and buckets. Plain types and small pure functions;
 * imports nothing but core/ (see ARCHITECTURE.md).
 */
export * from './collectors.js';
export * from './explain.js';
export * from './figure.js';
export * from './sample.js';
export * from './status.js';
