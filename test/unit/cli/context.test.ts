import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createContext, workspace } from '../../../src/cli/context.js';

describe("a command's context", () => {
  it('hands the stage drivers its workspace whole, and nothing of the terminal', () => {
    const cache = mkdtempSync(join(tmpdir(), 'kexp-ctx-'));
    const signal = new AbortController().signal;
    const ctx = createContext('test', { cache, root: '.' }, signal);
    const ws = workspace(ctx);
    expect(Object.keys(ws).sort()).toEqual(['layout', 'logger', 'root', 'signal', 'store']);
    expect(ws).toMatchObject({ root: ctx.root, layout: ctx.layout, store: ctx.store, logger: ctx.logger, signal });
    // read when called: a layer that replaced ctx.root (own kernel, tree kernels) is what the stage sees
    ctx.root = join(cache, 'layers', 'l1');
    expect(workspace(ctx).root).toBe(ctx.root);
    expect(ws.root).not.toBe(ctx.root);
  });
});
