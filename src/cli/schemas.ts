import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { dataFileSchemas, renderSchema } from '../config/json-schemas.js';
import { packageRoot } from '../core/paths.js';
import { jsonOutputSchemas } from '../report/render/json.js';
import { action, type Registrar } from './action.js';
import { cliJsonSchemas } from './json-output.js';

/** Every file of schemas/, by name: the data files', then each --json output's, all from zod schemas. */
export function generatedSchemas(): Record<string, unknown> {
  return { ...dataFileSchemas(), ...jsonOutputSchemas(), ...cliJsonSchemas() };
}

export const registerSchemas: Registrar = (program: Command) => {
  program
    .command('schemas', { hidden: true })
    .description('regenerate schemas/ for the data files and the --json outputs from the code (for kexp developers)')
    .action(
      action('schemas', async (ctx) => {
        for (const [name, schema] of Object.entries(generatedSchemas())) {
          writeFileSync(join(packageRoot(), 'schemas', name), renderSchema(schema));
          ctx.err(`wrote schemas/${name}`);
        }
        return 0;
      }),
    );
};
