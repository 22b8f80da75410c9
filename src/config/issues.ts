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

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let current = data;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
