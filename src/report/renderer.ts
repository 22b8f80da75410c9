/**
 * Renderers: one interface over one table model, chosen by name (as vitest's reporters are).
 * Each draws a run's report or a comparison of two runs; none computes anything the model does
 * not already hold.
 */
import { InputError } from '../core/errors.js';
import type { Comparison } from '../results/compare.js';
import type { ReportTables } from './model.js';
import { csvRenderer } from './render/csv.js';
import { htmlRenderer } from './render/html.js';
import { jsonRenderer } from './render/json.js';
import { markdownRenderer } from './render/markdown.js';
import { textRenderer } from './render/text.js';

export const rendererNames = ['text', 'markdown', 'csv', 'json', 'html'] as const;
export type RendererName = (typeof rendererNames)[number];

/** What a renderer draws: one run's tables, or two runs compared. */
export type Renderable = ReportTables | Comparison;

export interface Renderer {
  name: RendererName;
  /** File name extension, without the dot. */
  extension: string;
  mediaType: string;
  render(view: Renderable): string;
}

export const renderers: Readonly<Record<RendererName, Renderer>> = {
  text: textRenderer,
  markdown: markdownRenderer,
  csv: csvRenderer,
  json: jsonRenderer,
  html: htmlRenderer,
};

export function isRendererName(name: string): name is RendererName {
  return (rendererNames as readonly string[]).includes(name);
}

export function getRenderer(name: string): Renderer {
  if (isRendererName(name)) return renderers[name];
  throw new InputError(`unknown report format "${name}"`, `use one of: ${rendererNames.join(', ')}`);
}
