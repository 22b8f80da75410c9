/**
 * Reaching Redis: the URL (redis:// or rediss://, with a user and password if any), a probe that
 * fails within seconds with a message naming the URL without its password, and the long-lived
 * connections BullMQ uses, which reconnect after a network blip instead of giving up.
 */
import type { Redis } from 'ioredis';
import { EnvironmentError, InputError } from '../core/errors.js';

/** ioredis (and BullMQ) are loaded only by the commands that use a fleet: they cost start-up time. */
async function redisClass(): Promise<typeof Redis> {
  return (await import('ioredis')).Redis;
}

const CONNECT_TIMEOUT_MS = 5000;

/** The URL with its password replaced by ***, for messages and records. Pure. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/[^\s/@]*@/, '***@');
  }
}

/** A Redis URL checked for its scheme and host. Pure. */
export function checkRedisUrl(url: string, where: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(`${where}: "${redactRedisUrl(url)}" is not a URL`, 'e.g. redis://host:6379, rediss://:password@host:6380/0');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new InputError(`${where}: ${redactRedisUrl(url)}: expected redis:// or rediss://`, 'e.g. redis://host:6379');
  if (!parsed.hostname) throw new InputError(`${where}: ${redactRedisUrl(url)}: no host`);
  return url;
}

function describeFailure(error: Error & { code?: string }): { what: string; hint: string } {
  const text = error.message;
  if (/WRONGPASS|invalid password|invalid username-password/i.test(text)) return { what: 'refused the password (WRONGPASS)', hint: 'check the password in the URL (redis://:PASSWORD@host:port or redis://USER:PASSWORD@host:port)' };
  if (/NOAUTH/i.test(text)) return { what: 'needs a password (NOAUTH)', hint: 'put it in the URL: redis://:PASSWORD@host:port' };
  if (error.code === 'ECONNREFUSED') return { what: 'refused the connection (nothing listens there)', hint: 'is redis-server running on that host and port, and bound to an address this machine reaches?' };
  if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') return { what: 'has a host name that does not resolve', hint: 'check the host name' };
  if (/certificate|CERT_|SSL|TLS/i.test(`${error.code ?? ''} ${text}`)) return { what: `refused its TLS certificate (${text.split('\n')[0]})`, hint: 'for a private CA, trust it: NODE_EXTRA_CA_CERTS=/path/to/ca.pem' };
  if (error.code === 'ETIMEDOUT') return { what: `did not answer within ${CONNECT_TIMEOUT_MS / 1000} s`, hint: 'check the host, the port, a firewall, and rediss:// against a server without TLS (or the reverse)' };
  return { what: `failed: ${text.split('\n')[0]}`, hint: 'check the URL, and that it is a Redis server' };
}

/**
 * Connect once, authenticate, PING, disconnect. Any failure is an EnvironmentError naming the
 * URL (password redacted) within CONNECT_TIMEOUT_MS, never a hang or a retry loop.
 */
export async function probeRedis(url: string): Promise<void> {
  const Client = await redisClass();
  const client = new Client(url, { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let last: (Error & { code?: string }) | undefined;
  client.on('error', (error: Error) => {
    last = error;
  });
  const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS + 1000).unref());
  try {
    await Promise.race([client.connect().then(() => client.ping()), deadline]);
  } catch (error) {
    const cause = last ?? (error as Error & { code?: string });
    const { what, hint } = describeFailure(cause);
    throw new EnvironmentError(`Redis at ${redactRedisUrl(url)} ${what}`, hint);
  } finally {
    client.disconnect();
  }
}

/**
 * A connection for BullMQ (a Queue or a Worker): no per-command retry limit (a Worker's blocking
 * reads need that), reconnecting with a growing pause up to 5 s.
 */
export async function connectRedis(url: string, onError: (message: string) => void): Promise<Redis> {
  const Client = await redisClass();
  const client = new Client(url, { connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(times * 500, 5000) });
  let lastMessage = '';
  client.on('error', (error: Error & { code?: string }) => {
    const message = `Redis at ${redactRedisUrl(url)} ${describeFailure(error).what}`;
    if (message !== lastMessage) onError(message);
    lastMessage = message;
  });
  client.on('ready', () => {
    lastMessage = '';
  });
  return client;
}
