import type { z } from 'zod';
import { InputError } from '../core/errors.js';

/** Turn a schema failure into one message that names the file, each bad field, expected and found. */
export function describeSchemaError(file: string, error: z.ZodError, data: unknown): InputError {
  const lines = error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
    const found = valueAt(data, issue.path);
    const foundText = found === undefined ? 'nothing' : JSON.stringify(found)?.slice(0, 80);
    return `  ${path}: ${issue.message} (found ${foundText})`;
  });
  return new InputError(`${file}: invalid\n${lines.join('\n')}`);
}

/** The value at a schema issue's path in the data that failed (undefined where the path ends early). */
export function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let current = data;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** JSON text of a data file, parsed and validated: an error names the file and each bad field. */
export function parseJsonFile<S extends z.ZodType>(file: string, text: string, schema: S): z.output<S> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${file}: not valid JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw describeSchemaError(file, parsed.error, data);
  return parsed.data;
}
