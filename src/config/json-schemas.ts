/** JSON Schemas of the data files, generated from the zod schemas so the two never drift. */
import { z } from 'zod';
import { recipeSchema } from './recipe.js';

export function dataFileSchemas(): Record<string, unknown> {
  return {
    'kernel-recipe.schema.json': { $id: 'kexp/kernel-recipe.schema.json', title: 'kexp kernel recipe (kernels/<name>.json)', ...z.toJSONSchema(recipeSchema) },
  };
}

export function renderSchema(schema: unknown): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
