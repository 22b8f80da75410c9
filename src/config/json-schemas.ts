/** JSON Schemas of the data files, generated from the zod schemas so the two never drift. */
import { z } from 'zod';
import { recipeSchema } from './recipe.js';
import { experimentSchema } from './experiment.js';
import { workloadManifestSchema } from './workloads.js';

export function dataFileSchemas(): Record<string, unknown> {
  return {
    'kernel-recipe.schema.json': { $id: 'kexp/kernel-recipe.schema.json', title: 'kexp kernel recipe (kernels/<name>.json)', ...z.toJSONSchema(recipeSchema) },
    'experiment.schema.json': {
      $id: 'kexp/experiment.schema.json',
      title: 'kexp experiment (experiments/<name>.json)',
      ...z.toJSONSchema(experimentSchema, { io: 'input' }),
    },
    'workload.schema.json': {
      $id: 'kexp/workload.schema.json',
      title: 'kexp workload manifest (images/workloads/<name>.json)',
      ...z.toJSONSchema(workloadManifestSchema, { io: 'input' }),
    },
  };
}

export function renderSchema(schema: unknown): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
