/**
 * Kernel requirements: kexp's own fragments (kernels/fragments/*.config, the real files) against
 * .config texts written here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/core/errors.js';
import { checkKernelRequirements, formatRequirementProblems, requirementsOfFragments } from '../../../src/kernel/requirements.js';

const fragments = ['base', 'mm-syscalls', 'tracing', 'kvm-host', 'kvm-guest'].map((name) =>
  fileURLToPath(new URL(`../../../kernels/fragments/${name}.config`, import.meta.url)),
);
const requested = requirementsOfFragments(fragments);
const askedY = [...requested.values()].filter((a) => a.value === 'y').map((a) => a.symbol);

const dir = mkdtempSync(join(tmpdir(), 'kexp-requirements-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A .config with every =y symbol of the fragments at =y, then `changes` applied. */
function configWith(changes: Record<string, string | null> = {}): string {
  const lines = ['# Automatically generated file; DO NOT EDIT.', 'CONFIG_CC_VERSION_TEXT="gcc (Debian 12.2.0-14) 12.2.0"'];
  for (const symbol of askedY) {
    if (symbol in changes) continue;
    lines.push(`${symbol}=y`);
  }
  for (const [symbol, value] of Object.entries(changes)) {
    if (value === null) continue;
    lines.push(value === 'n' ? `# ${symbol} is not set` : `${symbol}=${value}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('checkKernelRequirements', () => {
  it('reads the fragments kexp builds with', () => {
    expect(askedY).toEqual(expect.arrayContaining(['CONFIG_SERIAL_8250_CONSOLE', 'CONFIG_FUNCTION_PROFILER', 'CONFIG_USERFAULTFD', 'CONFIG_KVM_AMD']));
    expect(requested.get('CONFIG_UNWINDER_GUESS')?.value).toBe('n');
  });

  it('finds nothing missing in a kernel that has every =y option', () => {
    expect(checkKernelRequirements(configWith(), requested, 'k.config')).toEqual([]);
  });

  it('reports =m, "is not set" and absent symbols, grouped by what they break, with where they were asked', () => {
    const problems = checkKernelRequirements(
      configWith({ CONFIG_SERIAL_8250_CONSOLE: 'n', CONFIG_HIST_TRIGGERS: 'm', CONFIG_USERFAULTFD: null, CONFIG_KVM_AMD: 'm', CONFIG_PRINTK_TIME: 'n' }),
      requested,
      'k.config',
    );
    expect(problems.map((p) => [p.symbol, p.got, p.group])).toEqual([
      ['CONFIG_SERIAL_8250_CONSOLE', 'n', 'boot'],
      ['CONFIG_PRINTK_TIME', 'n', 'other'],
      ['CONFIG_USERFAULTFD', undefined, 'workloads'],
      ['CONFIG_HIST_TRIGGERS', 'm', 'counting'],
      ['CONFIG_KVM_AMD', 'm', 'workloads'],
    ]);
    expect(problems[0]!.origin).toMatch(/\/kernels\/fragments\/base\.config:\d+$/);
    expect(problems[0]!.purpose).toMatch(/console=ttyS0/);
    expect(problems[1]!.purpose).toBeUndefined();
  });

  it('asks nothing of symbols a fragment turns off', () => {
    expect(checkKernelRequirements(configWith({ CONFIG_UNWINDER_GUESS: 'y' }), requested, 'k.config')).toEqual([]);
  });

  it('takes frame pointers for the ORC unwinder, and nothing else', () => {
    expect(checkKernelRequirements(configWith({ CONFIG_UNWINDER_ORC: 'n', CONFIG_UNWINDER_FRAME_POINTER: 'y' }), requested, 'k.config')).toEqual([]);
    const problems = checkKernelRequirements(configWith({ CONFIG_UNWINDER_ORC: 'n', CONFIG_UNWINDER_GUESS: 'y' }), requested, 'k.config');
    expect(problems.map((p) => p.symbol)).toEqual(['CONFIG_UNWINDER_ORC']);
  });

  it('rejects a text that is no .config, naming it', () => {
    expect(() => checkKernelRequirements('hello\n', requested, 'the .config embedded in x/bzImage')).toThrow(InputError);
    expect(() => checkKernelRequirements('hello\n', requested, 'the .config embedded in x/bzImage')).toThrow(
      /the \.config embedded in x\/bzImage is not a kernel \.config/,
    );
  });
});

describe('formatRequirementProblems', () => {
  it('names each missing symbol under what it breaks, and the fix', () => {
    const problems = checkKernelRequirements(
      configWith({ CONFIG_SERIAL_8250_CONSOLE: 'n', CONFIG_HIST_TRIGGERS: 'm', CONFIG_USERFAULTFD: null }),
      requested,
      'x',
    );
    const text = formatRequirementProblems(problems, 'the .config embedded in build/bzImage');
    expect(text).toMatch(/^the \.config embedded in build\/bzImage lacks 3 options kexp needs:/);
    const boot = text.indexOf('boot and console');
    const counting = text.indexOf('counting:');
    const workloads = text.indexOf('workloads:');
    expect(boot).toBeGreaterThan(0);
    expect(counting).toBeGreaterThan(boot);
    expect(workloads).toBeGreaterThan(counting);
    expect(text).not.toContain('other options');
    expect(text).toMatch(/CONFIG_SERIAL_8250_CONSOLE\s+is not set\s+console on the 8250 serial port/);
    expect(text).toMatch(/CONFIG_HIST_TRIGGERS\s+=m\s+hist triggers/);
    expect(text).toContain("=m is not enough: kexp's guest loads no modules");
    expect(text).toMatch(/CONFIG_USERFAULTFD\s+not in the \.config/);
    expect(text).toContain('scripts/config -e SERIAL_8250_CONSOLE -e HIST_TRIGGERS -e USERFAULTFD');
    expect(text).toContain('give the right .config with --config');
  });

  it('says so when nothing is missing', () => {
    expect(formatRequirementProblems([], 'k.config')).toBe('k.config has every option kexp needs');
  });
});

describe('requirementsOfFragments', () => {
  it('lets later fragments win', () => {
    const one = join(dir, 'one.config');
    const two = join(dir, 'two.config');
    writeFileSync(one, 'CONFIG_A=y\nCONFIG_B=y\n');
    writeFileSync(two, '# CONFIG_A is not set\n');
    const merged = requirementsOfFragments([one, two]);
    expect(merged.get('CONFIG_A')).toMatchObject({ value: 'n', origin: `${two}:1` });
    expect(merged.get('CONFIG_B')?.value).toBe('y');
  });

  it('names the file, and the line, of a fragment it cannot use', () => {
    const bad = join(dir, 'bad.config');
    writeFileSync(bad, 'CONFIG_A=y\nKVM=y\n');
    expect(() => requirementsOfFragments([bad])).toThrow(InputError);
    expect(() => requirementsOfFragments([bad])).toThrow(/bad\.config:2: expected CONFIG_NAME=value/);
    expect(() => requirementsOfFragments([join(dir, 'absent.config')])).toThrow(/absent\.config: cannot read the config fragment/);
  });
});
