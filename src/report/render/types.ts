/** The one interface every renderer implements (the registry of them is report/renderer.ts). */
import type { Comparison } from '../compare.js';
import type { ReportTables } from '../model.js';

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
