#!/usr/bin/env node
// The CLI is bundled into one file (dist/kexp.mjs) because loading execa, zod and the rest as
// hundreds of small modules costs more start-up time than a short VM boot can hide.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/kexp.mjs', import.meta.url);
const { main } = existsSync(bundle) ? await import(bundle.href) : await import('../dist/src/cli/main.js');
await main(process.argv);
