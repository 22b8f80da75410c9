/**
 * Patches given on the command line (`--patch FILE|DIR`, `--variant NAME=PATH`), turned into the
 * ordered list of patches a variant applies. A FILE is one mail (git format-patch), an mbox of
 * several (git format-patch --stdout, a thread saved from lore) or a plain diff; a DIR is the
 * folder `git format-patch -o DIR` writes. Mails are read the way `git am` would read them:
 * split where git mailsplit splits, transfer encodings decoded, the cover letter dropped, the
 * series put in its [PATCH n/N] order and checked for gaps. Everything here but the reading of
 * the files is pure; every refusal is an InputError naming the file and the mail.
 */
import { lstatSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, normalize } from 'node:path';
import { InputError } from '../core/errors.js';
import { parsePatch } from './patch-file.js';
import { loadSeries, type PatchFile } from './variants.js';

/** A whole series as one mbox is a few MB even for a tree-wide change; anything far larger is not a patch. */
export const MAX_PATCH_INPUT_BYTES = 64 * 2 ** 20;

const VARIANT_NAME = /^[\w.-]+$/;

/**
 * `NAME=PATH` or `PATH`. The text is split at its first '=': a path that contains '=' must
 * therefore be given with a name in front of it (`fix=a=b.patch`).
 */
export function parseVariantArg(text: string): { name?: string; path: string } {
  const hint = "write NAME=PATH (e.g. early-break=fix.patch) or just PATH; a path that contains '=' needs a name in front of it";
  if (text.trim() === '') throw new InputError('variant "": no patch file or folder given', hint);
  const eq = text.indexOf('=');
  if (eq < 0) return { path: text };
  const name = text.slice(0, eq);
  const path = text.slice(eq + 1);
  if (!VARIANT_NAME.test(name)) {
    throw new InputError(`variant "${text}": "${name}" is not a variant name: a name may contain only letters, digits, '.', '-' and '_'`, hint);
  }
  // Names become folder names (results, cache keys): "." and ".." would be other folders.
  if (/^\.+$/.test(name)) {
    throw new InputError(`variant "${text}": "${name}" is not a variant name: a name must contain a letter, a digit, '-' or '_'`, hint);
  }
  if (path === '') throw new InputError(`variant "${text}": no patch file or folder after "${name}="`, hint);
  return { name, path };
}

/**
 * The name of a variant given without one: a folder's name, or a file's name without its
 * extension and its NNNN- order (fix.patch → "fix", 0001-mm-gup-stop-early.patch →
 * "mm-gup-stop-early"), cleaned to letters, digits, '.', '-' and '_' ("patch" if nothing is left).
 * Pure: `path` is a folder when `patches` (what readPatchInput returned for it) lie in it.
 * A path of "." has no name of its own here: resolve it first to get the folder's.
 */
export function variantNameFor(path: string, patches: PatchFile[]): string {
  const given = normalize(path).replace(/(.)\/+$/, '$1');
  const isFolder = patches.length > 0 && patches.every((p) => dirname(normalize(p.path)) === given);
  let name = basename(given);
  if (!isFolder) name = name.replace(/\.(patch|diff|mbox|mbx|eml|mail|msg|txt)$/i, '').replace(/^\d{4}-/, '');
  const cleaned = name
    .replace(/[^\w.-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .slice(0, 64)
    .replace(/^[-.]+|[-.]+$/g, '');
  return cleaned === '' ? 'patch' : cleaned;
}

/**
 * The patches of FILE or DIR, in the order they apply.
 *
 * From a folder: its NNNN-*.patch/.diff files in name order, each keeping its name and path
 * (the folder is listed and checked by loadSeries: NNNN- names, regular files only); a cover
 * letter (0000-cover-letter.patch) is dropped.
 * From a file: one PatchFile per mail that carries a diff, named NNNN-<subject>.patch as git
 * format-patch names it (a plain diff is named after the file). `path` is the file itself when
 * it holds one mail, and `FILE#k` when it holds several, k being the mail's 1-based position in
 * the file (cover letter included): the same "mail k" the error messages name. So `path` is
 * where the patch came from, not always a file one can hand to git apply.
 * `content` is what git apply should get: the file's text as it is for a plain mail or diff,
 * but only that one mail of an mbox, with CRLF line ends made LF (as git mailsplit does), and
 * with a quoted-printable or base64 body (or a multipart mail's patch attachment) decoded.
 */
export function readPatchInput(path: string): PatchFile[] {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch {
    throw new InputError(
      `${path}: no such file or folder`,
      'give a patch file (git format-patch output, an mbox of mails, or a diff) or a folder of NNNN-*.patch files',
    );
  }
  if (stat.isDirectory()) return readPatchFolder(path);
  if (!stat.isFile()) {
    throw new InputError(`${path}: a patch must be a regular file or a folder, this is ${fileKind(path)}`, 'save the patch to a file and give that file');
  }
  return patchesFromText(path, readText(path, stat.size));
}

function readPatchFolder(dir: string): PatchFile[] {
  // loadSeries reads <variantDir>/<series>: the folder is its parent joined with its own name.
  const listed = loadSeries(dirname(dir), basename(dir), basename(dir)).patches;
  const fix = 'a patch folder holds NNNN-*.patch (or .diff) files, as `git format-patch -o DIR` writes them; or give one file with --patch FILE';
  if (listed.length === 0) throw new InputError(`${dir}: no .patch or .diff files in this folder`, fix);
  const patches: Array<{ file: PatchFile; mail: Mail }> = [];
  for (const entry of listed) {
    // loadSeries read the file as UTF-8 without complaint; read the bytes to refuse what is not text.
    const text = readText(entry.path, lstatSync(entry.path).size);
    const mails = parseMails(entry.path, text);
    const kept = selectMails(entry.path, mails, text, true);
    if (kept.length > 1) {
      throw new InputError(
        `${entry.path}: holds ${kept.length} patches (mails ${kept.map((m) => m.index).join(', ')}); a file in a patch folder holds one`,
        'split it with `git mailsplit`, or give the file alone with --patch FILE',
      );
    }
    if (kept.length === 1) patches.push({ file: { name: entry.name, path: entry.path, content: kept[0]!.content }, mail: kept[0]! });
  }
  if (patches.length === 0) throw new InputError(`${dir}: only a cover letter, no patch`, fix);
  checkSeries(
    dir,
    patches.map((p) => ({ ...p.mail, label: basename(p.file.path) })),
  );
  return patches.map((p) => p.file);
}

/** The patches of one file's text; `source` names the file in messages and paths. Pure. */
export function patchesFromText(source: string, text: string): PatchFile[] {
  const mails = parseMails(source, text);
  const kept = selectMails(source, mails, text, false);
  const ordered = checkSeries(
    source,
    kept.map((m) => ({ ...m, label: `mail ${m.index}` })),
  );
  const stem = variantNameFor(source, []);
  return ordered.map((mail, i) => ({
    name: `${String(i + 1).padStart(4, '0')}-${subjectSlug(mail.subject) || stem}.patch`,
    path: mails.length > 1 ? `${source}#${mail.index}` : source,
    content: mail.content,
  }));
}

// ---------------------------------------------------------------------------------------------
// Reading bytes as text

function readText(path: string, size: number): string {
  if (size > MAX_PATCH_INPUT_BYTES) {
    throw new InputError(
      `${path}: ${Math.round(size / 2 ** 20)} MiB is too large for a patch (at most ${MAX_PATCH_INPUT_BYTES / 2 ** 20} MiB)`,
      'give the patch series, not a whole mailing-list archive',
    );
  }
  return decodeFileBytes(path, readFileSync(path));
}

const compressed: Array<[number[], string, string]> = [
  [[0x1f, 0x8b], 'gzip', 'gunzip'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz', 'unxz'],
  [[0x28, 0xb5, 0x2f, 0xfd], 'zstd', 'unzstd'],
  [[0x42, 0x5a, 0x68], 'bzip2', 'bunzip2'],
];

/** A patch is UTF-8 (or ASCII) text; say what it is instead when it is not. */
function decodeFileBytes(path: string, bytes: Uint8Array): string {
  if (bytes.length === 0) {
    throw new InputError(`${path}: empty file, no patch in it`, 'give the output of git format-patch or git diff');
  }
  for (const [magic, kind, tool] of compressed) {
    if (magic.every((b, i) => bytes[i] === b)) {
      throw new InputError(
        `${path}: a ${kind}-compressed file, not a patch`,
        `uncompress it first (${tool} ${path}; lore's t.mbox.gz is one) and give the result`,
      );
    }
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    throw new InputError(`${path}: a binary file, not a patch (a NUL byte at offset ${nul})`, 'give the output of git format-patch or git diff (text)');
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (text.trim() === '') throw new InputError(`${path}: only blank lines, no patch in it`, 'give the output of git format-patch or git diff');
    return text;
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(
      `${path}: not UTF-8 text (invalid at ${firstInvalidUtf8(bytes)})`,
      'a patch file must be UTF-8 (or ASCII): save the mail as it is sent (git format-patch output, or the raw message from lore), or convert it with iconv',
    );
  }
}

function firstInvalidUtf8(bytes: Uint8Array): string {
  // In streaming mode a decoder throws only on bytes that cannot start or continue a character,
  // so "the first k bytes throw" is monotone in k: bisect for the smallest such k.
  const throwsWithin = (k: number): boolean => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, k), { stream: true });
      return false;
    } catch {
      return true;
    }
  };
  if (!throwsWithin(bytes.length)) return 'the end, a character cut short';
  let lo = 0;
  let hi = bytes.length;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (throwsWithin(mid)) hi = mid;
    else lo = mid;
  }
  return `byte ${hi - 1}`;
}

// ---------------------------------------------------------------------------------------------
// Mailbox → mails

interface Mail {
  /** 1-based position of the mail in its file. */
  index: number;
  /** Decoded, unfolded, undefined for a plain diff or a mail without one. */
  subject: string | undefined;
  /** [PATCH n/N], when the subject carries one. */
  number: { n: number; total: number } | undefined;
  kind: 'patch' | 'cover' | 'reply' | 'no-diff';
  /** What git apply gets for this mail. */
  content: string;
  /** For a mail without a usable diff: what was in it instead (a multipart mail's parts). */
  note?: string;
}

/** git mailsplit's test for an mbox "From " line: format-patch's sha, or a date "hh:mm:ss yyyy". */
function isFromLine(line: string): boolean {
  if (/^From [0-9a-f]{40} /.test(line)) return true;
  const m = /^From \S.*\d:\d\d:\d\d (\d{4})\b/.exec(line);
  return m !== null && Number(m[1]) > 1970 - 1;
}

/**
 * Split at the lines where git mailsplit splits (an mbox "From " line), and only at the start of
 * the file or after an empty line, where a new mail can begin.
 */
function splitMbox(text: string): string[][] {
  const lines = text.split('\n');
  const mails: string[][] = [];
  let current: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if ((i === 0 || lines[i - 1] === '') && isFromLine(line) && current.length > 0) {
      // The line break before the "From " line ends this mail's last (empty) line.
      mails.push([...current, '']);
      current = [];
    }
    current.push(line);
  }
  mails.push(current);
  return mails;
}

interface Header {
  /** Lower-case field name. */
  key: string;
  value: string;
  /** The field as written, with its continuation lines. */
  raw: string[];
}

interface MailParts {
  fromLine: string | undefined;
  headers: Header[];
  body: string;
}

const headerLine = /^([\x21-\x39\x3b-\x7e]+):[ \t]?(.*)$/;

/** The header block of a mail (up to the first empty line), or undefined when `lines` is not a mail. */
function splitHeaders(lines: string[], requireMailFields: boolean): MailParts | undefined {
  let i = 0;
  const fromLine = lines[0] !== undefined && isFromLine(lines[0]) ? lines[0] : undefined;
  if (fromLine !== undefined) i = 1;
  const headers: Header[] = [];
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') break;
    const continued = /^[ \t]/.test(line);
    if (continued && headers.length > 0) {
      const last = headers[headers.length - 1]!;
      last.value += line;
      last.raw.push(line);
      continue;
    }
    const m = headerLine.exec(line);
    if (!m) return fromLine !== undefined && headers.length === 0 ? { fromLine, headers, body: lines.slice(1).join('\n') } : undefined;
    headers.push({ key: m[1]!.toLowerCase(), value: m[2]!, raw: [line] });
  }
  if (requireMailFields && fromLine === undefined && !headers.some((h) => h.key === 'subject' || h.key === 'from' || h.key === 'date')) return undefined;
  if (headers.length === 0 && fromLine === undefined) return undefined;
  return { fromLine, headers, body: lines.slice(i + 1).join('\n') };
}

function header(headers: Header[], key: string): string | undefined {
  return headers.find((h) => h.key === key)?.value.trim();
}

function parseMails(source: string, text: string): Mail[] {
  const unixText = text.replace(/\r\n/g, '\n');
  const firstLines = unixText.split('\n');
  const isMailbox = isFromLine(firstLines[0] ?? '') || splitHeaders(firstLines, true) !== undefined;
  if (!isMailbox) {
    // A plain diff: handed to git apply exactly as it was written.
    return [{ index: 1, subject: undefined, number: undefined, kind: hasDiff(text) ? 'patch' : 'no-diff', content: text }];
  }
  const chunks = splitMbox(unixText);
  const mboxrd = /^From mboxrd@z /.test(chunks[0]?.[0] ?? '');
  return chunks.map((chunkLines, i) => {
    // An mboxrd archive (lore) quotes body lines that start with "From " as ">From ".
    const lines = mboxrd ? chunkLines.map((l) => l.replace(/^>(>*From )/, '$1')) : chunkLines;
    return parseMail(source, i + 1, chunks.length, lines);
  });
}

function parseMail(source: string, index: number, count: number, lines: string[]): Mail {
  const where = count > 1 ? `${source}: mail ${index} of ${count}` : source;
  const parts = splitHeaders(lines, false);
  const raw = lines.join('\n');
  if (!parts) return { index, subject: undefined, number: undefined, kind: hasDiff(raw) ? 'patch' : 'no-diff', content: raw };
  const subject = decodeHeaderWords(header(parts.headers, 'subject') ?? '') || undefined;
  const number = seriesNumber(subject);
  const reply = subject !== undefined && /^\s*(re|aw)\s*:/i.test(subject);
  const labelled = subject ? `${where} ("${subject}")` : where;
  const decoded = decodeMailBody(labelled, parts, raw);
  let kind: Mail['kind'];
  if (number?.n === 0) kind = 'cover';
  else if (reply) kind = 'reply';
  else kind = decoded.hasDiff ? 'patch' : 'no-diff';
  return { index, subject, number, kind, content: decoded.content, ...(decoded.note ? { note: decoded.note } : {}) };
}

function hasDiff(text: string): boolean {
  return parsePatch(text).files.length > 0;
}

/** "[PATCH v2 3/7] mm: ..." → 3 of 7; only the bracketed prefixes count. */
function seriesNumber(subject: string | undefined): { n: number; total: number } | undefined {
  if (!subject) return undefined;
  const prefix = /^\s*(?:(?:re|aw)\s*:\s*)*((?:\[[^\]]*\]\s*)+)/i.exec(subject);
  if (!prefix) return undefined;
  const m = /\b(\d+)\/(\d+)\s*\]/.exec(prefix[1]!);
  return m ? { n: Number(m[1]), total: Number(m[2]) } : undefined;
}

/** The subject as git format-patch puts it in a file name: mm/gup: stop early → mm-gup-stop-early. */
function subjectSlug(subject: string | undefined): string {
  if (!subject) return '';
  return subject
    .replace(/^\s*(?:\[[^\]]*\]\s*)+/, '')
    .replace(/[^A-Za-z0-9._]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .slice(0, 52)
    .replace(/^[-.]+|[-.]+$/g, '');
}

// ---------------------------------------------------------------------------------------------
// Choosing and ordering the patches

/**
 * Drop cover letters and replies; refuse a file without any diff, and a mail without one that is
 * neither. A file of nothing but a cover letter is [] in a folder (0000-cover-letter.patch) and
 * an error on its own.
 */
function selectMails(source: string, mails: Mail[], text: string, inFolder: boolean): Mail[] {
  if (!mails.some((m) => m.kind === 'patch')) {
    const onlyCover = mails.every((m) => m.kind === 'cover');
    if (onlyCover && inFolder) return [];
    if (onlyCover) {
      throw new InputError(
        `${source}: only a cover letter ("${mails[0]!.subject}"), no patch found (no 'diff --git' or '--- a/' '+++ b/' hunks)`,
        "give the mails of the series (git format-patch --stdout, or the thread's mbox from lore), not only its [PATCH 0/N]",
      );
    }
    const notes = mails.flatMap((m) => (m.note ? [`mail ${m.index}: ${m.note}`] : []));
    throw new InputError(
      `${source}: no patch found (no 'diff --git' or '--- a/' '+++ b/' hunks)${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`,
      text.includes('\n> diff --git') || text.includes('\n>diff --git')
        ? 'the diff in it is quoted ("> "): this is a reply; save the patch mail itself (on lore: "raw" of the mail)'
        : 'give the output of git format-patch (a mail, or several with --stdout) or of git diff',
    );
  }
  for (const mail of mails) {
    if (mail.kind !== 'no-diff') continue;
    const what = mails.length > 1 ? `mail ${mail.index} of ${mails.length}` : 'the mail';
    throw new InputError(
      `${source}: ${what} (${mail.subject ? `Subject: ${mail.subject}` : 'no Subject'}) has no diff and is not a cover letter${mail.note ? `: ${mail.note}` : ''}`,
      'a cover letter is numbered 0/N ("[PATCH 0/3]") and is skipped; remove this mail from the file, or save the patch it should carry',
    );
  }
  return mails.filter((m) => m.kind === 'patch');
}

/**
 * When every patch is numbered n/N: one series, no number twice, none missing; they are put in
 * their numbered order (a saved thread may hold them out of order). Otherwise the given order.
 * A lone patch of a series (`--patch 0002-x.patch`) is a choice, not a gap.
 */
function checkSeries<M extends Mail & { label: string }>(source: string, mails: M[]): M[] {
  if (mails.length < 2 || !mails.every((m) => m.number !== undefined)) return mails;
  const numbered = mails as Array<M & { number: { n: number; total: number } }>;
  const total = numbered[0]!.number.total;
  const other = numbered.find((m) => m.number.total !== total);
  if (other) {
    throw new InputError(
      `${source}: patches of different series: ${numbered[0]!.label} is ${numbered[0]!.number.n}/${total}, ${other.label} is ${other.number.n}/${other.number.total}`,
      'keep one version of the series (one [PATCH n/N] numbering) in the input',
    );
  }
  const beyond = numbered.find((m) => m.number.n > total);
  if (beyond)
    throw new InputError(
      `${source}: ${beyond.label} is numbered ${beyond.number.n}/${total}, beyond the series' ${total}`,
      'fix the [PATCH n/N] numbering of its Subject',
    );
  const byNumber = new Map<number, M>();
  for (const mail of numbered) {
    const seen = byNumber.get(mail.number.n);
    if (seen) {
      throw new InputError(
        `${source}: two patches are ${mail.number.n}/${total} (${seen.label} and ${mail.label})`,
        'the input holds two versions of that patch (a resend, a v2?): keep one',
      );
    }
    byNumber.set(mail.number.n, mail);
  }
  const missing: number[] = [];
  for (let n = 1; n <= total; n++) if (!byNumber.has(n)) missing.push(n);
  if (missing.length > 0) {
    const list = missing.map((n) => `${n}/${total}`).join(', ');
    const have = [...byNumber.keys()]
      .sort((a, b) => a - b)
      .map((n) => `${n}/${total}`)
      .join(', ');
    throw new InputError(
      `${source}: the series is incomplete: ${missing.length === 1 ? `patch ${list} is` : `patches ${list} are`} missing (it has ${have})`,
      "save the whole series (git format-patch --stdout of all its commits, or the thread's mbox from lore)",
    );
  }
  return [...numbered].sort((a, b) => a.number.n - b.number.n);
}

// ---------------------------------------------------------------------------------------------
// MIME: transfer encodings, charsets, multipart

interface DecodedBody {
  content: string;
  hasDiff: boolean;
  note?: string;
}

interface MimeType {
  type: string;
  params: Map<string, string>;
}

function parseContentType(value: string | undefined): MimeType {
  if (!value) return { type: 'text/plain', params: new Map() };
  const type = value.split(';')[0]!.trim().toLowerCase() || 'text/plain';
  const params = new Map<string, string>();
  for (const m of value.matchAll(/;\s*([\w!#$%&'*+.^`|~-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)/g)) {
    const raw = m[2]!;
    params.set(m[1]!.toLowerCase(), raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw);
  }
  return { type, params };
}

function transferEncoding(headers: Header[]): string {
  return (header(headers, 'content-transfer-encoding') ?? '7bit').toLowerCase();
}

/**
 * The mail's text for git apply. A 7bit/8bit single-part mail is kept as written; anything
 * encoded is decoded and given plain headers (text/plain, UTF-8, 8bit) so that the text and what
 * the headers say of it agree.
 */
function decodeMailBody(where: string, parts: MailParts, raw: string): DecodedBody {
  const contentType = parseContentType(header(parts.headers, 'content-type'));
  if (contentType.type.startsWith('multipart/')) return decodeMultipart(where, parts, contentType);
  const encoding = transferEncoding(parts.headers);
  if (['7bit', '8bit', 'binary'].includes(encoding)) return { content: raw, hasDiff: hasDiff(parts.body) };
  const body = decodeTransfer(where, parts.body, encoding, contentType.params.get('charset'));
  return { content: plainMail(parts, body), hasDiff: hasDiff(body) };
}

function plainMail(parts: MailParts, body: string): string {
  const mime = new Set(['content-type', 'content-transfer-encoding', 'mime-version']);
  const lines = [
    ...(parts.fromLine !== undefined ? [parts.fromLine] : []),
    ...parts.headers.filter((h) => !mime.has(h.key)).flatMap((h) => h.raw),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: 8bit',
    '',
  ];
  return `${lines.join('\n')}\n${body}${body.endsWith('\n') ? '' : '\n'}`;
}

interface Leaf {
  type: string;
  filename: string | undefined;
  text: string;
}

const PATCH_TYPES = new Set(['text/plain', 'text/x-patch', 'text/x-diff']);

function decodeMultipart(where: string, parts: MailParts, contentType: MimeType): DecodedBody {
  const leaves: Leaf[] = [];
  collectLeaves(where, parts.body, contentType, leaves, 0);
  const withDiff = leaves.filter((l) => PATCH_TYPES.has(l.type) && hasDiff(l.text));
  const describe = (l: Leaf): string => `${l.type}${l.filename ? ` "${l.filename}"` : ''}`;
  if (withDiff.length > 1) {
    throw new InputError(
      `${where}: ${withDiff.length} attachments hold a diff (${withDiff.map(describe).join(', ')}); kexp takes one patch per mail`,
      'save each attachment as a NNNN-*.patch file in one folder and give the folder with --patch DIR',
    );
  }
  if (withDiff.length === 0) {
    return {
      content: parts.body,
      hasDiff: false,
      note: `a multipart mail with no diff in a text/plain, text/x-patch or text/x-diff part (parts: ${leaves.map(describe).join(', ') || 'none'})`,
    };
  }
  const patch = withDiff[0]!;
  const message = leaves.find((l) => l.type === 'text/plain' && l !== patch);
  const body = message ? `${message.text.replace(/\n*$/, '\n')}\n${patch.text}` : patch.text;
  return { content: plainMail(parts, body), hasDiff: true };
}

function collectLeaves(where: string, body: string, contentType: MimeType, leaves: Leaf[], depth: number): void {
  const boundary = contentType.params.get('boundary');
  if (!boundary)
    throw new InputError(
      `${where}: a ${contentType.type} mail without a boundary parameter; kexp cannot split it into its parts`,
      'save the patch attachment as a file and give that file',
    );
  if (depth > 8)
    throw new InputError(
      `${where}: multipart parts nested more than 8 deep; kexp cannot read this mail`,
      'save the patch attachment as a file and give that file',
    );
  const lines = body.split('\n');
  const open = `--${boundary}`;
  const close = `--${boundary}--`;
  let part: string[] | undefined;
  let closed = false;
  for (const line of lines) {
    const trimmed = line.replace(/[ \t]+$/, '');
    if (trimmed === open || trimmed === close) {
      if (part) addPart(where, part, leaves, depth);
      part = trimmed === close ? undefined : [];
      if (trimmed === close) {
        closed = true;
        break;
      }
      continue;
    }
    part?.push(line);
  }
  if (!closed) throw new InputError(`${where}: the multipart mail is cut short (no closing "${close}" line)`, 'save the whole mail (on lore: its "raw" link)');
}

function addPart(where: string, lines: string[], leaves: Leaf[], depth: number): void {
  const parts = lines[0] === '' ? { fromLine: undefined, headers: [], body: lines.slice(1).join('\n') } : splitHeaders(lines, false);
  if (!parts)
    throw new InputError(`${where}: a MIME part without a header block; kexp cannot read this mail`, 'save the patch attachment as a file and give that file');
  const contentType = parseContentType(header(parts.headers, 'content-type'));
  if (contentType.type.startsWith('multipart/')) {
    collectLeaves(where, parts.body, contentType, leaves, depth + 1);
    return;
  }
  const disposition = parseContentType(header(parts.headers, 'content-disposition'));
  const filename = disposition.params.get('filename') ?? contentType.params.get('name');
  const partWhere = `${where}, part ${contentType.type}${filename ? ` "${filename}"` : ''}`;
  // Only the parts that may hold the patch are decoded: an HTML alternative in an odd charset is no reason to refuse the mail.
  const text = PATCH_TYPES.has(contentType.type)
    ? decodeTransfer(partWhere, parts.body, transferEncoding(parts.headers), contentType.params.get('charset'))
    : '';
  leaves.push({ type: contentType.type, filename, text });
}

function decodeTransfer(where: string, body: string, encoding: string, charset: string | undefined): string {
  let bytes: Uint8Array;
  if (encoding === 'quoted-printable') bytes = decodeQuotedPrintable(where, body);
  else if (encoding === 'base64') bytes = decodeBase64(where, body);
  else if (['7bit', '8bit', 'binary'].includes(encoding)) return body;
  else {
    throw new InputError(
      `${where}: Content-Transfer-Encoding "${encoding}" cannot be decoded (kexp reads quoted-printable and base64)`,
      'save the patch as plain text (git format-patch output) and give that file',
    );
  }
  return decodeCharset(where, bytes, charset);
}

function decodeCharset(where: string, bytes: Uint8Array, charset: string | undefined): string {
  const label = (charset ?? 'utf-8').trim().toLowerCase();
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(label === 'us-ascii' ? 'utf-8' : label, { fatal: true });
  } catch {
    throw new InputError(`${where}: unknown charset "${charset}"; kexp cannot decode the body`, 'save the patch as UTF-8 text and give that file');
  }
  try {
    return decoder.decode(bytes);
  } catch {
    throw new InputError(
      `${where}: the decoded body is not valid ${label} text; kexp will not guess`,
      'save the patch as UTF-8 text (git format-patch output) and give that file',
    );
  }
}

const softBreak = /=[ \t]*(\r?\n|$)/y;

/** RFC 2045 quoted-printable: "=XX" is a byte, "=" at a line's end joins it to the next. */
export function decodeQuotedPrintable(where: string, body: string): Uint8Array {
  const out: number[] = [];
  const encoder = new TextEncoder();
  let line = 1;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '\n') line++;
    if (ch !== '=') {
      const code = ch.charCodeAt(0);
      if (code < 0x80) out.push(code);
      else {
        // Not allowed in quoted-printable, but an 8-bit mailer leaves them: keep them as UTF-8.
        const cp = body.codePointAt(i)!;
        const char = String.fromCodePoint(cp);
        out.push(...encoder.encode(char));
        i += char.length - 1;
      }
      continue;
    }
    softBreak.lastIndex = i;
    const soft = softBreak.exec(body);
    if (soft) {
      i += soft[0].length - 1;
      if (soft[1]) line++;
      continue;
    }
    const hex = body.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
      throw new InputError(
        `${where}: broken quoted-printable at body line ${line}: "=${hex.replace(/\n.*/s, '')}" is neither "=XX" nor a soft line break`,
        'the mail was damaged on the way; save the raw mail again (on lore: its "raw" link)',
      );
    }
    out.push(parseInt(hex, 16));
    i += 2;
  }
  return Uint8Array.from(out);
}

function decodeBase64(where: string, body: string): Uint8Array {
  const compact = body.replace(/[\s]+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
    const bad = compact.search(/[^A-Za-z0-9+/=]/);
    throw new InputError(
      `${where}: broken base64 body${bad >= 0 ? ` ("${compact[bad]}" at character ${bad + 1})` : ''}`,
      'the mail was damaged on the way; save the raw mail again (on lore: its "raw" link)',
    );
  }
  return Uint8Array.from(Buffer.from(compact, 'base64'));
}

/** RFC 2047 encoded words in a header ("=?UTF-8?q?mm=2Fgup=3A?="), for the subject. */
function decodeHeaderWords(value: string): string {
  return value
    .replace(/(=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[bBqQ]\?)/g, '$1')
    .replace(/=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g, (word, charset: string, kind: string, text: string) => {
      let bytes: Uint8Array;
      if (kind.toLowerCase() === 'b') bytes = Uint8Array.from(Buffer.from(text, 'base64'));
      else {
        const out: number[] = [];
        for (let i = 0; i < text.length; i++) {
          const hex = text.slice(i + 1, i + 3);
          if (text[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
            out.push(parseInt(hex, 16));
            i += 2;
          } else out.push(text[i] === '_' ? 0x20 : text.charCodeAt(i) & 0xff);
        }
        bytes = Uint8Array.from(out);
      }
      try {
        return new TextDecoder(charset.split('*')[0]!.toLowerCase()).decode(bytes);
      } catch {
        return word;
      }
    })
    .replace(/\s+/g, ' ')
    .trim();
}

function fileKind(path: string): string {
  const stat = lstatSync(path);
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isSocket()) return 'a socket';
  if (stat.isSymbolicLink()) return 'a symbolic link to something that is not a file';
  return 'a device file';
}
