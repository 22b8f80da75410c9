import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderSchema } from '../../../src/config/json-schemas.js';
import { generatedSchemas } from '../../../src/cli/schemas.js';

describe('schemas/', () => {
  it('holds the schemas the code validates and prints with (regenerate with: kexp schemas)', () => {
    for (const [name, schema] of Object.entries(generatedSchemas())) {
      expect(readFileSync(`schemas/${name}`, 'utf8'), `schemas/${name}`).toBe(renderSchema(schema));
    }
  });

  it('holds no schema that is not generated from the code', () => {
    expect(
      readdirSync('schemas')
        .filter((f) => f.endsWith('.json'))
        .sort(),
    ).toEqual(Object.keys(generatedSchemas()).sort());
  });

  it('has a schema for each --json output of build, boot, image and doctor', () => {
    expect(Object.keys(generatedSchemas())).toEqual(
      expect.arrayContaining(['build.v1.schema.json', 'boot.v1.schema.json', 'image.v1.schema.json', 'doctor.v1.schema.json']),
    );
  });
});
