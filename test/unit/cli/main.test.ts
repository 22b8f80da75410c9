import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommanderError, type Command } from 'commander';
import { createProgram } from '../../../src/cli/main.js';
import { InputError } from '../../../src/core/errors.js';
import { kexpVersion } from '../../../src/core/version.js';

/** A program whose output is captured; every command fails fast on these arguments (nothing is built). */
function program(): { program: Command; out: string[] } {
  const out: string[] = [];
  const p = createProgram();
  const capture = { writeOut: (s: string) => out.push(s), writeErr: (s: string) => out.push(s) };
  p.configureOutput(capture);
  for (const c of p.commands) c.configureOutput(capture);
  return { program: p, out };
}

async function failure(args: string[]): Promise<unknown> {
  const cache = mkdtempSync(join(tmpdir(), 'kexp-cli-'));
  const { program: p } = program();
  try {
    await p.parseAsync(['node', 'kexp', '--cache', cache, ...args]);
  } catch (error) {
    // nothing slow started: no source tree, no build folder
    expect(existsSync(join(cache, 'work'))).toBe(false);
    return error;
  }
  throw new Error(`kexp ${args.join(' ')} did not fail`);
}

describe('-V is --variant, --version is the version', () => {
  it('kexp build -k nosuch -V early-break reaches build, which refuses the kernel', async () => {
    const error = await failure(['build', '-k', 'nosuch', '-V', 'early-break']);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe('--kernel: unknown kernel "nosuch"');
  });

  it('-V is read as the variant of build, boot and explain', async () => {
    for (const command of ['build', 'boot', 'explain']) {
      const error = await failure([command, '-k', '6.12', '-V', 'no-such-variant']);
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).message).toBe('--variant: unknown variant "no-such-variant"');
    }
  });

  it('--version prints the version; -V alone is not an option of kexp', async () => {
    const { program: p, out } = program();
    const version = await p.parseAsync(['node', 'kexp', '--version']).catch((e: unknown) => e);
    expect(version).toBeInstanceOf(CommanderError);
    expect((version as CommanderError).code).toBe('commander.version');
    expect(out.join('')).toBe(`${kexpVersion()}\n`);
    const { program: q } = program();
    const short = await q.parseAsync(['node', 'kexp', '-V']).catch((e: unknown) => e);
    expect((short as CommanderError).code).toBe('commander.unknownOption');
  });
});

describe('help texts', () => {
  it('build --help names the schema file that exists', () => {
    const build = createProgram().commands.find((c) => c.name() === 'build')!;
    const help = build.helpInformation();
    const named = /schemas\/([\w.]+\.schema\.json)/.exec(help)?.[1];
    expect(named).toBe('build.v1.schema.json');
    expect(readdirSync('schemas')).toContain(named);
  });
});
