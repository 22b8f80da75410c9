import { describe, expect, it } from 'vitest';
import { classifyBoot } from '../../../src/vm/boot.js';

const tail = Array.from({ length: 30 }, (_, i) => `console line ${i}`);
const fatal = { title: 'Kernel panic - not syncing: Fatal exception', excerpt: ['BUG: kernel NULL pointer dereference', 'Kernel panic'] };

describe('classifyBoot: how a boot ended', () => {
  it('ok only when the agent finished and nothing else happened', () => {
    expect(classifyBoot({ done: true, consoleTail: tail })).toEqual({ status: 'ok' });
  });

  it('a VM that stopped before the agent finished is crashed, with the last 20 console lines', () => {
    const outcome = classifyBoot({ done: false, consoleTail: tail });
    expect(outcome.status).toBe('crashed');
    expect(outcome.reason).toBe('the VM stopped before the agent finished its plan');
    expect(outcome.excerpt).toEqual(tail.slice(-20));
  });

  it("QEMU's own failure names its last lines", () => {
    const outcome = classifyBoot({ done: false, consoleTail: tail, qemuTail: ['a', 'b', 'qemu-system-x86_64: -kernel bzImage: No such file'] });
    expect(outcome).toEqual({
      status: 'failed',
      reason: 'qemu-system-x86_64 failed: a / b / qemu-system-x86_64: -kernel bzImage: No such file',
      excerpt: ['a', 'b', 'qemu-system-x86_64: -kernel bzImage: No such file'],
    });
  });

  it("kexp's own stop (the watchdog) wins over QEMU's exit status and an unfinished plan", () => {
    const ending = { status: 'hung' as const, reason: 'no progress on the result channel for 60 s' };
    expect(classifyBoot({ done: false, consoleTail: tail, qemuTail: ['killed'], ending })).toEqual(ending);
  });

  it('a crash on the console wins over the stop it caused', () => {
    const ending = { status: 'crashed' as const, reason: 'stopped after a panic' };
    expect(classifyBoot({ done: false, consoleTail: tail, ending, fatal })).toEqual({ status: 'crashed', reason: fatal.title, excerpt: fatal.excerpt });
  });

  it('another guest protocol wins over everything: the boot failed, with the reason naming it', () => {
    const outcome = classifyBoot({ done: true, consoleTail: tail, fatal, protocolError: 'the guest agent speaks protocol 1; this kexp speaks 2' });
    expect(outcome).toEqual({ status: 'failed', reason: 'the guest agent speaks protocol 1; this kexp speaks 2' });
  });
});
