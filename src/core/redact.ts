/**
 * Secrets out of text: every password in a URL's userinfo (scheme://user:PASSWORD@host) becomes
 * ***, in any string, whether or not the URL parses. Messages, logs and records go through here
 * before they are written, so a `--redis redis://:secret@host` never reaches a file or a terminal.
 * Pure.
 *
 * A URL's userinfo ends at its last '@' before the end of the URL, so a password may hold '/',
 * '@', ':' or '%' (a URL parser would stop at the first '/' and show the rest). Where a URL ends
 * is a guess in free text: at the closing quote of a quoted URL (a JSON string), else at
 * whitespace, a quote, '<', '>' or the next "scheme://". In a value known to be one URL or one
 * argument (redactArg), only the next "scheme://" ends it, so a raw space in a password is
 * covered there too.
 */

export const REDACTED = '***';

const SCHEME = /[A-Za-z][A-Za-z0-9+.-]*:\/\//g;
const TEXT_END = /[\s"'`<>]/;
const QUOTES = new Set(['"', "'", '`']);

/** Where a URL that starts at `from` ends in free text. */
function urlEnd(text: string, scheme: number, from: number, limit: number): number {
  const before = text[scheme - 1];
  const rest = text.slice(from, limit);
  if (before !== undefined && QUOTES.has(before)) {
    const close = rest.indexOf(before);
    return close < 0 ? limit : from + close;
  }
  const stop = TEXT_END.exec(rest);
  return stop ? from + stop.index : limit;
}

function redact(text: string, freeText: boolean): string {
  const starts = [...text.matchAll(SCHEME)].map((m) => ({ scheme: m.index, authority: m.index + m[0].length }));
  if (starts.length === 0) return text;
  let out = '';
  let done = 0;
  starts.forEach((start, i) => {
    if (start.authority < done) return;
    const next = starts[i + 1]?.scheme ?? text.length;
    const end = freeText ? urlEnd(text, start.scheme, start.authority, next) : next;
    const at = text.lastIndexOf('@', end - 1);
    if (at < start.authority) return;
    const userinfo = text.slice(start.authority, at);
    const colon = userinfo.indexOf(':');
    if (colon < 0) return; // a user without a password: nothing secret
    out += `${text.slice(done, start.authority)}${userinfo.slice(0, colon)}:${REDACTED}`;
    done = at;
  });
  return out + text.slice(done);
}

/** Any text (a message, a log line, a file's content): each URL password becomes ***. */
export function redactSecrets(text: string): string {
  return redact(text, true);
}

/** One value that is a URL or a command-line argument (`--redis=URL`) as a whole. */
export function redactArg(value: string): string {
  return redact(value, false);
}

/** A command line, each argument redacted as a whole. */
export function redactArgv(argv: readonly string[]): string[] {
  return argv.map(redactArg);
}

/**
 * A value about to be logged, with every string in it redacted (objects and arrays copied, an
 * Error turned into its type, message, code and stack). Deeper than `depth` levels, or seen
 * before (a cycle), a value is left out.
 */
export function redactValue(value: unknown, depth = 8, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value) || depth <= 0) return '[left out]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth - 1, seen));
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      type: value.name,
      message: redactSecrets(value.message),
      ...(code !== undefined ? { code } : {}),
      ...(value.stack ? { stack: redactSecrets(value.stack) } : {}),
    };
  }
  if (Buffer.isBuffer(value) || value instanceof Date || value instanceof URL) return redactValue(String(value), depth, seen);
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactValue(item, depth - 1, seen)]));
}
