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

describe('the shared flags are parsed alike by every command that takes them', () => {
  const refused = async (args: string[], message: RegExp): Promise<void> => {
    const error = await failure(args);
    expect(error, args.join(' ')).toBeInstanceOf(InputError);
    expect((error as InputError).exitCode).toBe(2);
    expect((error as InputError).message, args.join(' ')).toMatch(message);
  };

  it('--accel of boot, explain and bisect', async () => {
    const accel = /^--accel: expected auto, kvm or tcg, found "qemu"$/;
    await refused(['boot', '-k', '6.12', '--accel', 'qemu'], accel);
    await refused(['explain', '-k', '6.12', '--accel', 'qemu'], accel);
    await refused(['bisect', '--series', 'patches/early-break/6.1', '--predicate', 'status != crashed', '--accel', 'qemu'], accel);
  });

  it('--reps and --pages of boot and explain (and --pages of bisect)', async () => {
    for (const command of ['boot', 'explain']) {
      await refused([command, '-k', '6.12', '--reps', '0'], /^--reps: expected a whole number from 1 to 100, found "0"$/);
      await refused([command, '-k', '6.12', '--pages', '64,x'], /^--pages: expected page counts/);
    }
    await refused(['bisect', '--series', 'patches/early-break/6.1', '--predicate', 'status != crashed', '--pages', '0'], /^--pages: expected page counts/);
  });

  it('--format of report, compare and history, --notify of nightly', async () => {
    await refused(['report', '--format', 'pdf'], /^--format: unknown report format "pdf"$/);
    await refused(['compare', 'a', 'b', '--format', 'pdf'], /^--format: unknown report format "pdf"$/);
    await refused(['history', '--format', 'pdf'], /^--format: unknown history format "pdf"$/);
    await refused(['nightly', '--notify', ' '], /^--notify: the command is empty$/);
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
