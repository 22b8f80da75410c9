import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dataFileSchemas, renderSchema } from '../../../src/config/json-schemas.js';

describe('schemas/', () => {
  it('holds the schemas the code validates with (regenerate with: kexp schemas)', () => {
    for (const [name, schema] of Object.entries(dataFileSchemas())) {
      expect(readFileSync(`schemas/${name}`, 'utf8')).toBe(renderSchema(schema));
    }
  });
});
