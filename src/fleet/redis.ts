/**
 * Reaching Redis: the URL (redis:// or rediss://, with a user and password if any), a probe that
 * fails within seconds with a message naming the URL without its password, and the long-lived
 * connections BullMQ uses, which reconnect after a network blip instead of giving up, and say in
 * one line that Redis went away and in one more that it is back.
 */
import type { Redis } from 'ioredis';
import { EnvironmentError, InputError } from '../core/errors.js';
import { redactArg, redactSecrets } from '../core/redact.js';

/** ioredis (and BullMQ) are loaded only by the commands that use a fleet: they cost start-up time. */
async function redisClass(): Promise<typeof Redis> {
  return (await import('ioredis')).Redis;
}

const CONNECT_TIMEOUT_MS = 5000;

/** A long-lived connection retries after 0.5, 1, 2, 4 s, then every RETRY_MAX_MS. */
export const RETRY_MAX_MS = 5000;

export function retryDelay(attempt: number): number {
  return Math.min(500 * 2 ** Math.max(0, attempt - 1), RETRY_MAX_MS);
}

/** The URL with its password replaced by ***, for messages and records; one given without its scheme too. Pure. */
export function redactRedisUrl(url: string): string {
  return url.includes('://') ? redactArg(url) : redactArg(`x://${url}`).slice('x://'.length);
}

/** A Redis URL checked for its scheme and host. Pure. */
export function checkRedisUrl(url: string, where: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(`${where}: "${redactRedisUrl(url)}" is not a URL`, 'e.g. redis://host:6379, rediss://:password@host:6380/0');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new InputError(`${where}: ${redactRedisUrl(url)}: expected redis:// or rediss://`, 'e.g. redis://host:6379');
  if (!parsed.hostname) throw new InputError(`${where}: ${redactRedisUrl(url)}: no host`);
  return url;
}

function describeFailure(error: Error & { code?: string }): { what: string; hint: string } {
  const text = redactSecrets(error.message);
  if (/WRONGPASS|invalid password|invalid username-password/i.test(text))
    return { what: 'refused the password (WRONGPASS)', hint: 'check the password in the URL (redis://:PASSWORD@host:port or redis://USER:PASSWORD@host:port)' };
  if (/NOAUTH/i.test(text)) return { what: 'needs a password (NOAUTH)', hint: 'put it in the URL: redis://:PASSWORD@host:port' };
  if (error.code === 'ECONNREFUSED')
    return {
      what: 'refused the connection (nothing listens there)',
      hint: 'is redis-server running on that host and port, and bound to an address this machine reaches?',
    };
  if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') return { what: 'has a host name that does not resolve', hint: 'check the host name' };
  if (/certificate|CERT_|SSL|TLS/i.test(`${error.code ?? ''} ${text}`))
    return { what: `refused its TLS certificate (${text.split('\n')[0]})`, hint: 'for a private CA, trust it: NODE_EXTRA_CA_CERTS=/path/to/ca.pem' };
  if (error.code === 'ETIMEDOUT')
    return {
      what: `did not answer within ${CONNECT_TIMEOUT_MS / 1000} s`,
      hint: 'check the host, the port, a firewall, and rediss:// against a server without TLS (or the reverse)',
    };
  return { what: `failed: ${text.split('\n')[0]}`, hint: 'check the URL, and that it is a Redis server' };
}

/**
 * Connect once, authenticate, PING, disconnect. Any failure is an EnvironmentError naming the
 * URL (password redacted) within CONNECT_TIMEOUT_MS, never a hang or a retry loop.
 */
export async function probeRedis(url: string): Promise<void> {
  const Client = await redisClass();
  const client = new Client(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let last: (Error & { code?: string }) | undefined;
  client.on('error', (error: Error) => {
    last = error;
  });
  const deadline = new Promise<never>((_, reject) =>
    setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS + 1000).unref(),
  );
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

/** Errors that say the server cannot be reached at all (as opposed to refusing us). */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export interface Reachability {
  /** An error of the connection: the line to say, or nothing when it was said already. */
  error(error: Error & { code?: string }): string | undefined;
  /** The connection is ready: the line to say when Redis had been away. */
  ready(): string | undefined;
}

/**
 * What a long-lived connection says as its events come (pure): one line when Redis goes away
 * (one more only if the kind of failure changes), one when it is back; every retry in between
 * is silent.
 */
export function reachability(url: string, who = ''): Reachability {
  const at = `${who ? `${who}: ` : ''}Redis at ${redactRedisUrl(url)}`;
  let down: string | undefined;
  return {
    error(error) {
      const what = error.code && UNREACHABLE.has(error.code) ? `unreachable (${error.code})` : describeFailure(error).what;
      if (what === down) return undefined;
      down = what;
      return `${at} ${what}; retrying, ${RETRY_MAX_MS / 1000} s apart at most`;
    },
    ready() {
      if (down === undefined) return undefined;
      down = undefined;
      return `${at} reachable again`;
    },
  };
}

/**
 * A connection for BullMQ (a Queue or a Worker): no per-command retry limit (a Worker's blocking
 * reads need that), reconnecting with a growing pause up to RETRY_MAX_MS. `say` gets a line when
 * Redis goes away and one when it is back, prefixed with `who`.
 */
export async function connectRedis(url: string, say: (line: string) => void, who = ''): Promise<Redis> {
  const Client = await redisClass();
  const client = new Client(url, { connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: null, retryStrategy: retryDelay });
  const report = reachability(url, who);
  client.on('error', (error: Error & { code?: string }) => {
    const line = report.error(error);
    if (line) say(line);
  });
  client.on('ready', () => {
    const line = report.ready();
    if (line) say(line);
  });
  return client;
}
