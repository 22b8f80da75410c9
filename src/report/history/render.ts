/** The history's renderers, chosen by name (kexp history --format, the nightly's history.*). */
import type { History } from './build.js';
import { renderHistoryHtml } from './html.js';
import { renderHistoryJson } from './json.js';
import { renderHistoryText } from './text.js';

export const historyFormats = ['text', 'json', 'html'] as const;
export type HistoryFormat = (typeof historyFormats)[number];

const renderers: Record<HistoryFormat, { extension: string; render: (history: History) => string }> = {
  text: { extension: 'txt', render: renderHistoryText },
  json: { extension: 'json', render: renderHistoryJson },
  html: { extension: 'html', render: renderHistoryHtml },
};

export function renderHistory(format: HistoryFormat, history: History): string {
  return renderers[format].render(history);
}

export function historyExtension(format: HistoryFormat): string {
  return renderers[format].extension;
}
