/**
 * Patches from the command line, read from real `git format-patch` output: a tiny repository is
 * made in a temporary folder, three changes are committed, and every patch kexp produces is
 * applied with `git apply` onto the commit it was made against; the tree at the end must be the
 * tree of the last commit. The encoded mails (quoted-printable, base64, multipart) are written
 * here by hand around those real patch bodies.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, InputError } from '../../../src/core/errors.js';
import { decodeQuotedPrintable, parseVariantArg, patchesFromText, readPatchInput, variantNameFor } from '../../../src/config/patch-input.js';
import { testGitEnv } from '../../helpers/scratch.js';
import type { PatchFile } from '../../../src/config/variants.js';

const gitEnv = {
  ...testGitEnv,
  GIT_AUTHOR_DATE: '2024-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2024-01-01T00:00:00Z',
};

function git(cwd: string, args: string[], input?: string): string {
  return execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

// A line long enough that quoted-printable must break it, with '=' and a non-ASCII comment in it.
const longLine = `static const char *why = "retry == prefault: the FOLL_TRIED call maps nothing, see the mail from Jörg"; /* x=1 */`;

let work: string;
let repo: string;
let base: string;
let tip: string;
/** git format-patch --stdout of the three commits. */
let mbox: string;
/** Its three mails, as git wrote them. */
let mails: string[];
/** git format-patch --cover-letter -o: 0000-cover-letter.patch and three patches. */
let folder: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'kexp-patch-input-'));
  repo = join(work, 'repo');
  mkdirSync(repo);
  git(repo, ['init', '-q']);
  writeFileSync(join(repo, 'gup.c'), 'int retries = 1;\nint pages = 2;\n');
  git(repo, ['add', 'gup.c']);
  git(repo, ['commit', '-q', '-m', 'base']);
  base = git(repo, ['rev-parse', 'HEAD']).trim();
  // Each change edits the line the one before it wrote: applied out of order, they fail.
  writeFileSync(join(repo, 'gup.c'), 'int retries = 0;\nint pages = 2;\n');
  git(repo, ['commit', '-q', '-a', '-m', 'mm/gup: stop early\n\nFrom the mail: a prefault needs no retry.\n\nSigned-off-by: Kexp Test <test@kexp.invalid>']);
  writeFileSync(join(repo, 'gup.c'), 'int retries = 0;\nint pages = 3;\n');
  git(repo, ['commit', '-q', '-a', '-m', 'mm/gup: count the page (v2) as done']);
  writeFileSync(join(repo, 'gup.c'), `int retries = 0;\nint pages = 3;\n${longLine}\n`);
  git(repo, ['commit', '-q', '-a', '-m', "mm: explain it for Jörg's test"]);
  tip = git(repo, ['rev-parse', 'HEAD']).trim();
  mbox = git(repo, ['format-patch', '--stdout', `${base}..${tip}`]);
  mails = mbox.split(/(?=^From [0-9a-f]{40} )/m);
  folder = join(work, 'gup-series');
  git(repo, ['format-patch', '-q', '--cover-letter', '-o', folder, `${base}..${tip}`]);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const path = join(work, name);
  writeFileSync(path, content);
  return path;
}

/** Applies the patches one by one onto `from` in a fresh worktree; returns the tree it ends with. */
function applyAll(patches: PatchFile[], from = base): string {
  const tree = mkdtempSync(join(work, 'apply-'));
  rmSync(tree, { recursive: true });
  git(repo, ['worktree', 'add', '-q', '--detach', tree, from]);
  for (const patch of patches) {
    git(tree, ['apply', '--check'], patch.content);
    git(tree, ['apply'], patch.content);
  }
  git(tree, ['add', '-A']);
  return git(tree, ['write-tree']).trim();
}

const tipTree = (): string => git(repo, ['rev-parse', `${tip}^{tree}`]).trim();
const commitTree = (n: number): string => git(repo, ['rev-parse', `${tip}~${3 - n}^{tree}`]).trim();

function refusal(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).exitCode).toBe(EXIT.usage);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}

/** A body as quoted-printable: '=' as =3D, bytes beyond ASCII as =XX, lines broken at 76 with '='. */
function quotedPrintable(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    let encoded = '';
    for (const byte of Buffer.from(line, 'utf8')) {
      encoded += byte === 0x3d || byte > 0x7e ? `=${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
    }
    // A trailing space would be eaten on the way: as =20 it survives.
    encoded = encoded.replace(/ $/, '=20');
    while (encoded.length > 76) {
      let cut = 75;
      // Never split an =XX in two.
      if (encoded[cut - 1] === '=') cut -= 1;
      else if (encoded[cut - 2] === '=') cut -= 2;
      out.push(`${encoded.slice(0, cut)}=`);
      encoded = encoded.slice(cut);
    }
    out.push(encoded);
  }
  return out.join('\n');
}

function splitMail(mail: string): { headers: string; body: string } {
  const at = mail.indexOf('\n\n');
  return { headers: mail.slice(0, at), body: mail.slice(at + 2) };
}

/** The headers with this transfer encoding (git writes none for an ASCII mail, 8bit otherwise). */
function encoded(headers: string, encoding: string, charset = 'UTF-8'): string {
  const kept = headers.split('\n').filter((l) => !/^(MIME-Version|Content-Type|Content-Transfer-Encoding):/i.test(l));
  return [...kept, 'MIME-Version: 1.0', `Content-Type: text/plain; charset=${charset}`, `Content-Transfer-Encoding: ${encoding}`].join('\n');
}

describe('format-patch output', () => {
  it('splits an mbox (format-patch --stdout) into its mails, named as format-patch names them', () => {
    expect(mails).toHaveLength(3);
    const path = file('series.mbox', mbox);
    const patches = readPatchInput(path);
    expect(patches.map((p) => p.name)).toEqual(
      readdirSync(folder)
        .filter((n) => !n.startsWith('0000-'))
        .sort(),
    );
    expect(patches.map((p) => p.name)).toEqual([
      '0001-mm-gup-stop-early.patch',
      '0002-mm-gup-count-the-page-v2-as-done.patch',
      '0003-mm-explain-it-for-J-rg-s-test.patch',
    ]);
    expect(patches.map((p) => p.path)).toEqual([`${path}#1`, `${path}#2`, `${path}#3`]);
    // Each patch is its one mail, as written (the "From the mail" line did not split mail 1).
    expect(patches.map((p) => p.content)).toEqual(mails);
    expect(applyAll(patches)).toBe(tipTree());
    expect(variantNameFor(path, patches)).toBe('series');
  });

  it('reads a format-patch -o folder in order and drops its cover letter', () => {
    expect(readdirSync(folder)).toContain('0000-cover-letter.patch');
    const patches = readPatchInput(folder);
    expect(patches.map((p) => p.name)).toEqual([
      '0001-mm-gup-stop-early.patch',
      '0002-mm-gup-count-the-page-v2-as-done.patch',
      '0003-mm-explain-it-for-J-rg-s-test.patch',
    ]);
    expect(patches.map((p) => p.path)).toEqual(patches.map((p) => join(folder, p.name)));
    expect(patches.map((p) => p.content)).toEqual(patches.map((p) => readFileSync(p.path, 'utf8')));
    expect(applyAll(patches)).toBe(tipTree());
    expect(variantNameFor(folder, patches)).toBe('gup-series');
    expect(variantNameFor(`${folder}/`, readPatchInput(`${folder}/`))).toBe('gup-series');
  });

  it('drops the cover letter of an mbox written with --cover-letter --stdout', () => {
    const withCover = git(repo, ['format-patch', '--stdout', '--cover-letter', `${base}..${tip}`]);
    expect(withCover).toMatch(/^Subject: \[PATCH 0\/3\]/m);
    const path = file('with-cover.mbox', withCover);
    const patches = readPatchInput(path);
    expect(patches.map((p) => p.path)).toEqual([`${path}#2`, `${path}#3`, `${path}#4`]);
    expect(applyAll(patches)).toBe(tipTree());
  });

  it('takes one mail file as it is, and names the variant after it', () => {
    const path = join(folder, '0001-mm-gup-stop-early.patch');
    const patches = readPatchInput(path);
    expect(patches).toEqual([{ name: '0001-mm-gup-stop-early.patch', path, content: readFileSync(path, 'utf8') }]);
    expect(variantNameFor(path, patches)).toBe('mm-gup-stop-early');
    expect(applyAll(patches)).toBe(commitTree(1));
  });

  it('puts a shuffled [PATCH n/3] mbox back in order', () => {
    const path = file('shuffled.mbox', [mails[2]!, mails[0]!, mails[1]!].join(''));
    const patches = readPatchInput(path);
    expect(patches.map((p) => p.name)).toEqual([
      '0001-mm-gup-stop-early.patch',
      '0002-mm-gup-count-the-page-v2-as-done.patch',
      '0003-mm-explain-it-for-J-rg-s-test.patch',
    ]);
    expect(patches.map((p) => p.path)).toEqual([`${path}#2`, `${path}#3`, `${path}#1`]);
    expect(applyAll(patches)).toBe(tipTree());
  });

  it('keeps file order when the mails are not numbered', () => {
    const single = (mail: string): string => mail.replace(/^Subject: \[PATCH \d\/3\]/m, 'Subject: [PATCH]');
    const path = file('unnumbered.mbox', mails.map(single).join(''));
    const patches = readPatchInput(path);
    expect(patches.map((p) => p.name)).toEqual([
      '0001-mm-gup-stop-early.patch',
      '0002-mm-gup-count-the-page-v2-as-done.patch',
      '0003-mm-explain-it-for-J-rg-s-test.patch',
    ]);
    expect(applyAll(patches)).toBe(tipTree());
  });

  it('reads CRLF mails the way git mailsplit does (line ends made LF)', () => {
    const path = file('crlf.mbox', mbox.replace(/\n/g, '\r\n'));
    const patches = readPatchInput(path);
    expect(patches.map((p) => p.content)).toEqual(mails);
    expect(applyAll(patches)).toBe(tipTree());
  });

  it('takes a plain diff as one patch, named after the file, content untouched', () => {
    const diff = git(repo, ['diff', base, tip]);
    const path = file('fix.patch', diff);
    const patches = readPatchInput(path);
    expect(patches).toEqual([{ name: '0001-fix.patch', path, content: diff }]);
    expect(variantNameFor(path, patches)).toBe('fix');
    expect(applyAll(patches)).toBe(tipTree());
  });
});

describe('a thread saved from lore (mboxrd, with replies)', () => {
  it('drops the cover letter and the replies, unquotes >From, orders the patches', () => {
    const coverMail = git(repo, ['format-patch', '--stdout', '--cover-letter', `${base}..${tip}`]).split(/(?=^From [0-9a-f]{40} )/m)[0]!;
    const asMboxrd = (mail: string): string =>
      mail
        .replace(/^From [0-9a-f]{40} .*$/m, 'From mboxrd@z Thu Jan  1 00:00:00 1970')
        .split('\n')
        .map((l, i) => (i > 0 && /^>*From /.test(l) ? `>${l}` : l))
        .join('\n');
    const reply = [
      'From mboxrd@z Thu Jan  1 00:00:00 1970',
      'From: Reviewer <r@kexp.invalid>',
      'Subject: Re: [PATCH 2/3] mm/gup: count the page (v2) as done',
      '',
      '> diff --git a/gup.c b/gup.c',
      '> -int pages = 2;',
      '',
      'Looks right to me.',
      '',
      '',
    ].join('\n');
    const thread = [asMboxrd(coverMail), asMboxrd(mails[1]!), reply, asMboxrd(mails[2]!), asMboxrd(mails[0]!)].join('');
    expect(thread).toContain('\n>From the mail: a prefault needs no retry.');
    const path = file('t.mbox', thread);
    const patches = readPatchInput(path);
    expect(patches.map((p) => p.path)).toEqual([`${path}#5`, `${path}#2`, `${path}#4`]);
    expect(patches[0]!.content).toContain('\nFrom the mail: a prefault needs no retry.');
    expect(applyAll(patches)).toBe(tipTree());
    expect(variantNameFor(path, patches)).toBe('t');
  });
});

describe('transfer encodings', () => {
  it('decodes a hand-written quoted-printable body: =3D, =XX bytes of UTF-8, soft line breaks', () => {
    const bytes = decodeQuotedPrintable('here', 'x =3D 1;=\n /* J=C3=B6rg */ =  \nend\n');
    expect(new TextDecoder().decode(bytes)).toBe('x = 1; /* Jörg */ end\n');
  });

  it('decodes a quoted-printable mail of a real patch, which then applies', () => {
    const { headers, body } = splitMail(mails[2]!);
    const qp = quotedPrintable(body);
    // The test exercises what it claims to: '=' escapes, UTF-8 bytes and soft breaks are in it.
    expect(qp).toContain('=3D');
    expect(qp).toContain('=C3=B6');
    expect(qp).toMatch(/=\n/);
    expect(headers).toContain('Content-Transfer-Encoding: 8bit');
    const qpHeaders = encoded(headers, 'quoted-printable');
    const path = file('qp.patch', `${qpHeaders}\n\n${qp}`);
    const [patch, ...rest] = readPatchInput(path);
    expect(rest).toEqual([]);
    expect(patch!.name).toBe('0001-mm-explain-it-for-J-rg-s-test.patch');
    expect(patch!.path).toBe(path);
    expect(splitMail(patch!.content).body).toBe(body);
    expect(patch!.content).toMatch(/^Content-Transfer-Encoding: 8bit$/m);
    expect(patch!.content).not.toContain('quoted-printable');
    expect(applyAll([patch!], `${tip}~1`)).toBe(tipTree());
  });

  it('decodes a base64 mail of a real patch', () => {
    const { headers, body } = splitMail(mails[0]!);
    const base64 = Buffer.from(body).toString('base64').replace(/.{76}/g, '$&\n');
    const path = file('b64.patch', `${encoded(headers, 'base64')}\n\n${base64}\n`);
    const patches = readPatchInput(path);
    expect(patches.map((p) => p.name)).toEqual(['0001-mm-gup-stop-early.patch']);
    expect(splitMail(patches[0]!.content).body).toBe(body);
    expect(applyAll(patches)).toBe(commitTree(1));
  });

  it('takes the text/x-patch attachment of a multipart mail, with the message part before it', () => {
    const attached = Buffer.from(git(repo, ['diff', base, `${tip}~2`]))
      .toString('base64')
      .replace(/.{76}/g, '$&\n');
    const mail = [
      'From: Someone <s@kexp.invalid>',
      'Subject: [PATCH] mm/gup: stop early (attached)',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="=-=-=kexp"',
      '',
      'This is a multi-part message in MIME format.',
      '--=-=-=kexp',
      'Content-Type: text/html; charset=x-unheard-of',
      '',
      '<p>see attachment</p>',
      '--=-=-=kexp',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'A prefault needs no retry, says J=C3=B6rg.',
      '--=-=-=kexp',
      'Content-Type: text/x-patch; name="0001-stop.patch"',
      'Content-Disposition: attachment; filename="0001-stop.patch"',
      'Content-Transfer-Encoding: base64',
      '',
      attached,
      '--=-=-=kexp--',
      '',
    ].join('\n');
    const patches = readPatchInput(file('multipart.eml', mail));
    expect(patches.map((p) => p.name)).toEqual(['0001-mm-gup-stop-early-attached.patch']);
    expect(patches[0]!.content).toContain('A prefault needs no retry, says Jörg.\n');
    expect(patches[0]!.content).not.toContain('multipart');
    expect(applyAll(patches)).toBe(commitTree(1));
  });
});

describe('refusals', () => {
  const diffOnly = (): string => git(repo, ['diff', base, `${tip}~2`]);

  it('a series with a gap names the missing numbers', () => {
    const path = file('gap.mbox', [mails[0]!, mails[2]!].join(''));
    const error = refusal(() => readPatchInput(path));
    expect(error.message).toBe(`${path}: the series is incomplete: patch 2/3 is missing (it has 1/3, 3/3)`);
    expect(error.hint).toMatch(/whole series/);
    const folderGap = join(work, 'folder-gap');
    mkdirSync(folderGap);
    const files = readdirSync(folder).sort();
    for (const name of [files[0]!, files[1]!, files[3]!]) writeFileSync(join(folderGap, name), readFileSync(join(folder, name)));
    expect(refusal(() => readPatchInput(folderGap)).message).toBe(`${folderGap}: the series is incomplete: patch 2/3 is missing (it has 1/3, 3/3)`);
    writeFileSync(join(folderGap, '0005-later.patch'), mails[2]!.replace('[PATCH 3/3]', '[PATCH 5/5]'));
    expect(refusal(() => readPatchInput(folderGap)).message).toBe(`${folderGap}: patches of different series: ${files[1]} is 1/3, 0005-later.patch is 5/5`);
    // One patch of a series on its own is a choice, not a gap.
    expect(readPatchInput(join(folder, files[3]!)).map((p) => p.name)).toEqual(['0001-mm-explain-it-for-J-rg-s-test.patch']);
  });

  it('two versions of one patch, or two series, in one file', () => {
    const twice = file('twice.mbox', [mails[0]!, mails[1]!, mails[2]!, mails[1]!].join(''));
    expect(refusal(() => readPatchInput(twice)).message).toBe(`${twice}: two patches are 2/3 (mail 2 and mail 4)`);
    const mixed = file('mixed.mbox', [mails[0]!, mails[1]!.replace('[PATCH 2/3]', '[PATCH 2/5]'), mails[2]!].join(''));
    expect(refusal(() => readPatchInput(mixed)).message).toBe(`${mixed}: patches of different series: mail 1 is 1/3, mail 2 is 2/5`);
  });

  it('a mail without a diff that is not a cover letter names the file, the mail and its Subject', () => {
    const chatter = [
      'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001',
      'From: A <a@kexp.invalid>',
      'Subject: [PATCH 2/3] mm/gup: the diff got lost',
      '',
      'Only words here.',
      '',
      '',
    ].join('\n');
    const path = file('lost.mbox', [mails[0]!, chatter, mails[2]!].join(''));
    const error = refusal(() => readPatchInput(path));
    expect(error.message).toBe(`${path}: mail 2 of 3 (Subject: [PATCH 2/3] mm/gup: the diff got lost) has no diff and is not a cover letter`);
    expect(error.hint).toMatch(/0\/N/);
  });

  it('a file with no diff at all, and one with only a cover letter', () => {
    const path = file('words.txt', 'Please apply the fix we discussed.\n');
    const error = refusal(() => readPatchInput(path));
    expect(error.message).toBe(`${path}: no patch found (no 'diff --git' or '--- a/' '+++ b/' hunks)`);
    expect(error.hint).toMatch(/git format-patch/);
    const cover = join(folder, '0000-cover-letter.patch');
    expect(refusal(() => readPatchInput(cover)).message).toBe(
      `${cover}: only a cover letter ("[PATCH 0/3] *** SUBJECT HERE ***"), no patch found (no 'diff --git' or '--- a/' '+++ b/' hunks)`,
    );
    const quoted = file('reply.eml', 'From: R <r@kexp.invalid>\nSubject: Re: [PATCH] x\n\n> diff --git a/gup.c b/gup.c\n> -a\n');
    expect(refusal(() => readPatchInput(quoted)).hint).toMatch(/quoted/);
  });

  it('empty, blank, binary, compressed and non-UTF-8 files', () => {
    const cases: Array<[string, string | Buffer, string]> = [
      ['empty.patch', '', 'empty file, no patch in it'],
      ['blank.patch', '\n  \n\n', 'only blank lines, no patch in it'],
      ['nul.patch', Buffer.from('diff --git a/x b/x\0\n'), 'a binary file, not a patch (a NUL byte at offset 18)'],
      ['t.mbox.gz', execFileSync('gzip', ['-c'], { input: mbox }), 'a gzip-compressed file, not a patch'],
      [
        'latin1.patch',
        Buffer.concat([Buffer.from(diffOnly()), Buffer.from([0x4a, 0xf6, 0x72, 0x67, 0x0a])]),
        `not UTF-8 text (invalid at byte ${Buffer.byteLength(diffOnly()) + 1})`,
      ],
    ];
    for (const [name, content, message] of cases) {
      const path = file(name, content);
      const error = refusal(() => readPatchInput(path));
      expect(error.message).toBe(`${path}: ${message}`);
      expect(error.hint).toBeTruthy();
    }
  });

  it('a path that is missing, a named pipe, a folder without patches, a misnamed patch', () => {
    expect(refusal(() => readPatchInput(join(work, 'nope.patch'))).message).toBe(`${join(work, 'nope.patch')}: no such file or folder`);
    const fifo = join(work, 'pipe.patch');
    execFileSync('mkfifo', [fifo]);
    expect(refusal(() => readPatchInput(fifo)).message).toBe(`${fifo}: a patch must be a regular file or a folder, this is a named pipe`);
    const empty = join(work, 'empty-folder');
    mkdirSync(empty);
    writeFileSync(join(empty, 'README'), 'no patches here');
    const error = refusal(() => readPatchInput(empty));
    expect(error.message).toBe(`${empty}: no .patch or .diff files in this folder`);
    expect(error.hint).toMatch(/NNNN-\*\.patch/);
    const misnamed = join(work, 'misnamed');
    mkdirSync(misnamed);
    writeFileSync(join(misnamed, 'fix.patch'), diffOnly());
    expect(refusal(() => readPatchInput(misnamed)).message).toMatch(/patch file names must start with a 4-digit order/);
  });

  it('a folder file that holds several patches', () => {
    const dir = join(work, 'packed');
    mkdirSync(dir);
    writeFileSync(join(dir, '0001-all.patch'), mbox);
    expect(refusal(() => readPatchInput(dir)).message).toBe(
      `${join(dir, '0001-all.patch')}: holds 3 patches (mails 1, 2, 3); a file in a patch folder holds one`,
    );
  });

  it('encodings it cannot decode are refused, never passed on broken', () => {
    const { headers, body } = splitMail(mails[0]!);
    const make = (name: string, encoding: string, text: string, charset = 'UTF-8'): string => file(name, `${encoded(headers, encoding, charset)}\n\n${text}`);
    const where = (path: string): string => `${path} ("[PATCH 1/3] mm/gup: stop early")`;
    const brokenQp = make('broken-qp.patch', 'quoted-printable', `${body.split('\n').slice(0, 3).join('\n')}\nx =ZZ 1\n`);
    expect(refusal(() => readPatchInput(brokenQp)).message).toBe(
      `${where(brokenQp)}: broken quoted-printable at body line 4: "=ZZ" is neither "=XX" nor a soft line break`,
    );
    const brokenB64 = make('broken-b64.patch', 'base64', 'ZGlmZiAt*LWdpdA==\n');
    expect(refusal(() => readPatchInput(brokenB64)).message).toBe(`${where(brokenB64)}: broken base64 body ("*" at character 9)`);
    const uu = make('uu.patch', 'x-uuencode', body);
    expect(refusal(() => readPatchInput(uu)).message).toBe(
      `${where(uu)}: Content-Transfer-Encoding "x-uuencode" cannot be decoded (kexp reads quoted-printable and base64)`,
    );
    const charset = make('charset.patch', 'base64', Buffer.from(body).toString('base64'), 'x-klingon');
    expect(refusal(() => readPatchInput(charset)).message).toBe(`${where(charset)}: unknown charset "x-klingon"; kexp cannot decode the body`);
    const notUtf8 = make('not-utf8.patch', 'quoted-printable', `${quotedPrintable(body)}J=F6rg\n`);
    expect(refusal(() => readPatchInput(notUtf8)).message).toBe(`${where(notUtf8)}: the decoded body is not valid utf-8 text; kexp will not guess`);
    // Declared as Latin-1, the same bytes are text: decoded to UTF-8 and applied.
    const latin1 = make('latin1-qp.patch', 'quoted-printable', `${quotedPrintable(body)}J=F6rg\n`, 'ISO-8859-1');
    expect(readPatchInput(latin1)[0]!.content).toContain('\nJörg\n');
  });

  it('a multipart mail with two diff attachments, or none', () => {
    const part = (name: string): string[] => ['--b', `Content-Type: text/x-diff; name="${name}"`, '', git(repo, ['diff', base, `${tip}~2`])];
    const two = file(
      'two.eml',
      [
        'From: S <s@kexp.invalid>',
        'Subject: [PATCH] two',
        'Content-Type: multipart/mixed; boundary=b',
        '',
        ...part('a.diff'),
        ...part('b.diff'),
        '--b--',
        '',
      ].join('\n'),
    );
    expect(refusal(() => readPatchInput(two)).message).toBe(
      `${two} ("[PATCH] two"): 2 attachments hold a diff (text/x-diff "a.diff", text/x-diff "b.diff"); kexp takes one patch per mail`,
    );
    const none = file(
      'none.eml',
      [
        'From: S <s@kexp.invalid>',
        'Subject: [PATCH] none',
        'Content-Type: multipart/mixed; boundary=b',
        '',
        '--b',
        'Content-Type: application/octet-stream; name="fix.patch"',
        'Content-Transfer-Encoding: base64',
        '',
        'AAAA',
        '--b--',
        '',
      ].join('\n'),
    );
    expect(refusal(() => readPatchInput(none)).message).toBe(
      `${none}: no patch found (no 'diff --git' or '--- a/' '+++ b/' hunks); mail 1: a multipart mail with no diff in a text/plain, text/x-patch or text/x-diff part (parts: application/octet-stream "fix.patch")`,
    );
    const cut = file(
      'cut.eml',
      ['From: S <s@kexp.invalid>', 'Subject: [PATCH] cut', 'Content-Type: multipart/mixed; boundary=b', '', ...part('a.diff')].join('\n'),
    );
    expect(refusal(() => readPatchInput(cut)).message).toBe(`${cut} ("[PATCH] cut"): the multipart mail is cut short (no closing "--b--" line)`);
  });
});

describe('variant names', () => {
  it('parses NAME=PATH and PATH', () => {
    expect(parseVariantArg('fix.patch')).toEqual({ path: 'fix.patch' });
    expect(parseVariantArg('early-break=patches/fix.patch')).toEqual({ name: 'early-break', path: 'patches/fix.patch' });
    expect(parseVariantArg('v2.1_x=a=b.patch')).toEqual({ name: 'v2.1_x', path: 'a=b.patch' });
  });

  it('refuses a name with other characters, only dots, or nothing after "="', () => {
    const bad = refusal(() => parseVariantArg('dir/a=b.patch'));
    expect(bad.message).toBe(`variant "dir/a=b.patch": "dir/a" is not a variant name: a name may contain only letters, digits, '.', '-' and '_'`);
    expect(bad.hint).toMatch(/needs a name in front/);
    expect(refusal(() => parseVariantArg('=fix.patch')).message).toMatch(/"" is not a variant name/);
    expect(refusal(() => parseVariantArg('..=fix.patch')).message).toMatch(/a name must contain a letter/);
    expect(refusal(() => parseVariantArg('fix=')).message).toBe('variant "fix=": no patch file or folder after "fix="');
    expect(refusal(() => parseVariantArg('')).message).toBe('variant "": no patch file or folder given');
  });

  it('names a variant after its file or folder, cleaned', () => {
    const one = (path: string): PatchFile[] => [{ name: '0001-x.patch', path, content: '' }];
    expect(variantNameFor('fix.patch', one('fix.patch'))).toBe('fix');
    expect(variantNameFor('/a/0001-mm-gup-stop-early.patch', one('/a/0001-mm-gup-stop-early.patch'))).toBe('mm-gup-stop-early');
    expect(variantNameFor('my fix (v2).diff', one('my fix (v2).diff#1'))).toBe('my-fix-v2');
    expect(variantNameFor('/x/my series', one('/x/my series/0001-a.patch'))).toBe('my-series');
    expect(variantNameFor('./v1.2', one('v1.2/0001-a.patch'))).toBe('v1.2');
    // A file that looks like a folder name keeps its extension off; a folder keeps its dots.
    expect(variantNameFor('/x/fix.patch', one('/x/fix.patch/0001-a.patch'))).toBe('fix.patch');
    expect(variantNameFor('---.patch', one('---.patch'))).toBe('patch');
    expect(variantNameFor('.', one('0001-a.patch'))).toBe('patch');
    expect(variantNameFor('Jörg.patch', one('Jörg.patch'))).toBe('J-rg');
  });

  it('names the patches of a plain text from their subject or the file', () => {
    const diff = ['--- a/gup.c', '+++ b/gup.c', '@@ -1 +1 @@', '-a', '+b', ''].join('\n');
    expect(patchesFromText('/p/0007-quick.diff', diff).map((p) => p.name)).toEqual(['0001-quick.patch']);
    const mail = `From: A <a@kexp.invalid>\nSubject: [RFC PATCH v3] =?UTF-8?q?mm/gup:=20J=C3=B6rg?=\n =?UTF-8?q?=27s_idea?=\n\n${diff}`;
    expect(patchesFromText('/p/x.eml', mail).map((p) => p.name)).toEqual(['0001-mm-gup-J-rg-s-idea.patch']);
    expect(basename(patchesFromText('/p/x.eml', mail)[0]!.path)).toBe('x.eml');
  });
});
