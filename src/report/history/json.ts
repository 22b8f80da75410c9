/**
 * The history as JSON, for scripts: the model as it is (runs oldest first, one series per cell
 * with its points and steps), under a versioned schema tag. A point's cell has perPage null
 * whenever its status is not ok. Pure.
 */
import type { History } from './build.js';

export const HISTORY_SCHEMA = 'kexp/history@1';

export function renderHistoryJson(history: History): string {
  const { kind: _kind, ...rest } = history;
  return `${JSON.stringify({ schema: HISTORY_SCHEMA, ...rest }, null, 2)}\n`;
}
