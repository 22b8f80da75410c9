/** A redis-server of one's own for the fleet tests and bench:scale: a free port, a temporary folder, no persistence. */
import { createServer } from 'node:net';
import { execa, type ResultPromise } from 'execa';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface LocalRedis {
  port: number;
  /** redis://[:password@]127.0.0.1:<port> */
  url: string;
  process: ResultPromise;
  /** Stops it (SIGTERM, or SIGKILL for a server that dies) and waits for its exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Start redis-server in `dir` (on `port`, else a free one) and wait until it answers PING (5 s at most). */
export async function startRedis(dir: string, password?: string, onPort?: number): Promise<LocalRedis> {
  const port = onPort ?? (await freePort());
  const auth = password ? ['--requirepass', password] : [];
  const child = execa('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...auth], {
    reject: false,
    stdout: 'ignore',
    stderr: 'ignore',
  });
  const cliAuth = password ? ['-a', password, '--no-auth-warning'] : [];
  for (let i = 0; ; i++) {
    const ping = await execa('redis-cli', ['-p', String(port), ...cliAuth, 'ping'], { reject: false });
    if (ping.stdout.trim() === 'PONG') break;
    if (i > 50) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer on port ${port}: ${ping.stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    url: `redis://${password ? `:${password}@` : ''}127.0.0.1:${port}`,
    process: child,
    stop: async (signal = 'SIGTERM') => {
      child.kill(signal);
      await child;
    },
  };
}
