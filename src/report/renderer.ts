/**
 * Renderers: one interface over one table model, chosen by name (as vitest's reporters are).
 * Each draws a run's report or a comparison of two runs; none computes anything the model does
 * not already hold.
 */
import { InputError } from '../core/errors.js';
import { csvRenderer } from './render/csv.js';
import { htmlRenderer } from './render/html.js';
import { jsonRenderer } from './render/json.js';
import { markdownRenderer } from './render/markdown.js';
import { textRenderer } from './render/text.js';
import { rendererNames, type Renderer, type RendererName } from './render/types.js';

export { rendererNames, type Renderable, type Renderer, type RendererName } from './render/types.js';

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
