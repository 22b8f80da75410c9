/**
 * dieWithKexp: a child (QEMU) started through util-linux's setpriv with the parent-death signal
 * set, so it dies with kexp even when kexp is killed outright. The command is built by a pure
 * function; whether it really kills the child is checked here with real processes (an
 * intermediate node process in kexp's place, SIGKILLed), and end to end with the built CLI and
 * the fake QEMU in test/integration/orphans.test.ts.
 */
import { execa } from 'execa';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { dieWithParent, findOnPath, ProcessError, run } from '../../../src/core/proc.js';

const dir = mkdtempSync(join(tmpdir(), 'kexp-proc-die-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A folder holding one executable script, `name`, and (optionally) a non-executable file. */
function binDir(name: string, script = '#!/bin/sh\nexit 0\n'): string {
  const bin = join(dir, `bin-${name}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(bin);
  writeFileSync(join(bin, name), script);
  chmodSync(join(bin, name), 0o755);
  writeFileSync(join(bin, 'not-executable'), 'data\n');
  mkdirSync(join(bin, 'a-folder'));
  return bin;
}

/** Running and not a zombie (a killed child waits, as a zombie, for init to reap it). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('findOnPath', () => {
  it('finds the first executable file of that name, and nothing that is not one', () => {
    const first = binDir('prog');
    const second = binDir('prog');
    expect(findOnPath('prog', `${join(dir, 'missing')}:${first}:${second}`)).toBe(join(first, 'prog'));
    expect(findOnPath('not-executable', first)).toBeUndefined();
    expect(findOnPath('a-folder', first)).toBeUndefined();
    expect(findOnPath('prog', undefined)).toBeUndefined();
  });
});

describe('dieWithParent', () => {
  const setpriv = findOnPath('setpriv', process.env.PATH);

  it('wraps the program in setpriv --pdeathsig KILL, keeping its name and arguments as given', () => {
    // util-linux is essential on Debian: setpriv is there on every host kexp supports.
    expect(setpriv).toBeDefined();
    const wrapped = dieWithParent('sh', ['-c', 'echo "a b"'], process.env.PATH, true);
    expect(wrapped).toEqual({ file: setpriv, args: ['--pdeathsig', 'KILL', '--', 'sh', '-c', 'echo "a b"'] });
    expect(dieWithParent('/bin/sh', [], process.env.PATH, true)).toEqual({ file: setpriv, args: ['--pdeathsig', 'KILL', '--', '/bin/sh'] });
  });

  it('says why when it cannot: no setpriv on PATH, a program not on PATH, a worker thread', () => {
    const onlyProg = binDir('prog');
    const noSetpriv = dieWithParent('prog', [], onlyProg, true);
    expect('skipped' in noSetpriv && noSetpriv.skipped).toMatch(/setpriv \(Debian package util-linux\) is not on PATH/);
    const missing = dieWithParent('no-such-program-kexp', [], process.env.PATH, true);
    expect('skipped' in missing && missing.skipped).toBe('no-such-program-kexp is not on PATH');
    const thread = dieWithParent('sh', [], process.env.PATH, false);
    expect('skipped' in thread && thread.skipped).toMatch(/worker thread/);
  });

  it('the command it builds dies with the process that started it, even one killed with SIGKILL', async () => {
    const wrapped = dieWithParent('sleep', ['300'], process.env.PATH, true);
    if (!('file' in wrapped)) throw new Error(`not wrapped: ${wrapped.skipped}`);
    // A node process in kexp's place: starts the child as run() does (its own process group),
    // prints its pid and waits.
    const starter = `
      const { spawn } = require('node:child_process');
      const [file, ...args] = JSON.parse(process.argv[1]);
      const child = spawn(file, args, { detached: true, stdio: 'ignore' });
      console.log(child.pid);
      setInterval(() => {}, 1000);`;
    const parent = execa(process.execPath, ['-e', starter, JSON.stringify([wrapped.file, ...wrapped.args])], { reject: false, buffer: false });
    const pid = await new Promise<number>((resolvePid, rejectPid) => {
      parent.stdout?.once('data', (chunk: Buffer) => resolvePid(Number(chunk.toString().trim())));
      parent.once('exit', () => rejectPid(new Error('the starter exited before printing a pid')));
    });
    try {
      // setpriv has exec'd sleep: same pid.
      const deadline = Date.now() + 5000;
      while (!readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('sleep\0')) {
        if (Date.now() > deadline) throw new Error('the child never became sleep');
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(running(pid)).toBe(true);
      parent.kill('SIGKILL');
      await parent;
      const gone = Date.now() + 2000;
      while (running(pid) && Date.now() < gone) await new Promise((r) => setTimeout(r, 20));
      expect(running(pid)).toBe(false);
    } finally {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    }
  });
});

describe('run with dieWithKexp', () => {
  it('changes nothing else: output, exit codes, and a missing program still fails to start', async () => {
    const ok = await run('sh', ['-c', 'echo out; echo err >&2; exit 3'], { dieWithKexp: true, capture: true, okExitCodes: [3] });
    expect(ok.exitCode).toBe(3);
    expect(ok.stdout).toBe('out');
    expect(ok.tail).toEqual(expect.arrayContaining(['out', 'err']));
    // The program is the child itself (setpriv execs it): its parent is this process.
    const ppid = await run('sh', ['-c', 'echo $PPID'], { dieWithKexp: true, capture: true });
    expect(Number(ppid.stdout)).toBe(process.pid);
    const failed = await run('sh', ['-c', 'exit 4'], { dieWithKexp: true }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ProcessError);
    expect((failed as ProcessError).message).toMatch(/^sh failed with exit code 4/);
    const missing = await run('no-such-program-kexp', [], { dieWithKexp: true }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ProcessError);
    expect((missing as ProcessError).message).toMatch(/^no-such-program-kexp could not start/);
  });

  it('without setpriv on PATH the program still runs, and the log says what is missing', async () => {
    const bin = binDir('prog', '#!/bin/sh\necho ran\n');
    const logged: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => logged.push(line) });
    const result = await run(join(bin, 'prog'), [], { dieWithKexp: true, env: { PATH: bin }, capture: true, logger });
    expect(result.stdout).toBe('ran');
    const warning = logged.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => l.level === 40);
    expect(warning?.msg).toMatch(/^not killed with kexp: setpriv \(Debian package util-linux\) is not on PATH/);
  });

  it('a timeout still kills the program (its process group is the program itself)', async () => {
    const started = Date.now();
    const timedOut = await run('sleep', ['300'], { dieWithKexp: true, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(ProcessError);
    expect((timedOut as ProcessError).message).toMatch(/^sleep timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
