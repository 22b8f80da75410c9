/**
 * Patch files, read as data: which files a patch touches and its hunks. Pure: no files, no
 * processes. Why `git apply` refused one is kernel/patch.ts.
 */

export interface Hunk {
  /** 1-based position among the file's hunks. */
  index: number;
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** The @@ line as written, including the function context after it. */
  header: string;
  /** 1-based line of the @@ header in the patch file. */
  patchLine: number;
}

export interface FilePatch {
  oldPath: string | null;
  newPath: string | null;
  hunks: Hunk[];
}

export interface ParsedPatch {
  /** The mail header and explanation before the first diff. */
  description: string;
  subject: string | undefined;
  files: FilePatch[];
  /** The diff itself, without the mail header: what determines the patched tree. */
  diff: string;
}

const hunkHeader = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

function stripPrefix(path: string): string | null {
  const clean = path.split('\t')[0]!.trim();
  if (clean === '/dev/null') return null;
  return clean.replace(/^[ab]\//, '');
}

export function parsePatch(text: string): ParsedPatch {
  const lines = text.split('\n');
  const files: FilePatch[] = [];
  let current: FilePatch | undefined;
  let diffStart = -1;
  let subject: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (diffStart < 0 && subject === undefined && line.startsWith('Subject: ')) {
      subject = line.slice('Subject: '.length).replace(/^\[PATCH[^\]]*\]\s*/, '');
    }
    if (line.startsWith('diff --git ')) {
      if (diffStart < 0) diffStart = i;
      const m = /^diff --git a\/(.+) b\/(.+)$/.exec(line);
      current = { oldPath: m ? m[1]! : null, newPath: m ? m[2]! : null, hunks: [] };
      files.push(current);
      continue;
    }
    if (line.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) {
      if (diffStart < 0) diffStart = i;
      const oldPath = stripPrefix(line.slice(4));
      const newPath = stripPrefix(lines[i + 1]!.slice(4));
      if (!current || current.hunks.length > 0 || (current.oldPath === null && current.newPath === null)) {
        current = { oldPath, newPath, hunks: [] };
        files.push(current);
      } else {
        current.oldPath = oldPath;
        current.newPath = newPath;
      }
      i++;
      continue;
    }
    const m = hunkHeader.exec(line);
    if (m && current) {
      current.hunks.push({
        index: current.hunks.length + 1,
        oldStart: Number(m[1]),
        oldLines: m[2] === undefined ? 1 : Number(m[2]),
        newStart: Number(m[3]),
        newLines: m[4] === undefined ? 1 : Number(m[4]),
        header: line,
        patchLine: i + 1,
      });
    }
  }
  const description = diffStart < 0 ? text : lines.slice(0, diffStart).join('\n');
  const diff = diffStart < 0 ? '' : stripSignature(lines.slice(diffStart)).join('\n');
  return { description, subject, files, diff };
}

/** format-patch ends with "-- " and a version line; it is not part of the change. */
function stripSignature(lines: string[]): string[] {
  const sig = lines.lastIndexOf('-- ');
  return sig >= 0 ? lines.slice(0, sig) : lines;
}

export function touchedFiles(patch: ParsedPatch): string[] {
  const paths = new Set<string>();
  for (const file of patch.files) {
    if (file.oldPath) paths.add(file.oldPath);
    if (file.newPath) paths.add(file.newPath);
  }
  return [...paths];
}
