/**
 * No QEMU outlives its worker, even one killed with SIGKILL (no exit handler runs then). Every
 * program a worker starts inherits a marker in its environment; a small watcher process, in a
 * session of its own, holds a pipe from the worker and, when the pipe closes (the worker exited,
 * however it died), kills every process whose environment carries that marker.
 */
import { spawn } from 'node:child_process';

export const MARKER_VARIABLE = 'KEXP_WORKER_PID';

const watcher = `
const fs = require('node:fs');
const marker = process.argv[1];
const reap = () => {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (fs.readFileSync('/proc/' + entry + '/environ', 'latin1').split('\\0').includes(marker)) process.kill(Number(entry), 'SIGKILL');
    } catch {}
  }
  process.exit(0);
};
process.stdin.on('end', reap);
process.stdin.on('error', reap);
process.stdin.resume();
`;

/** Marks this process's future children and starts their watcher; returns the marker ("VAR=value"). */
export function startReaper(): string {
  const marker = `${MARKER_VARIABLE}=${process.pid}`;
  const child = spawn(process.execPath, ['-e', watcher, marker], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    env: { PATH: process.env.PATH ?? '' },
  });
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  process.env[MARKER_VARIABLE] = String(process.pid);
  return marker;
}
