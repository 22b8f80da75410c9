/**
 * Fixed-width text layout for a mailing-list reply: wrapping, shortening, and tables that never
 * exceed the line width (long names wrap inside their column; columns that do not fit go to a
 * further table with the first column repeated). Pure.
 */

/** What a reply on a kernel mailing list is wrapped at. */
export const MAIL_WIDTH = 72;
const GAP = '  ';
/** The workload column wraps beyond this, so that variants keep the room. */
const FIRST_COLUMN_MAX = 26;
/** Variant names wrap (at '-', '_') beyond this, unless the column's cells are wider anyway. */
const HEADER_MAX = 12;

/**
 * Words onto lines of at most `width` columns; lines after the first start with `indent`.
 * A word longer than a line breaks after a '-', '_', '/', ',' or '.' where one fits, else anywhere.
 */
export function wrap(text: string, width: number, indent = ''): string[] {
  const words = text
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  const lines: string[] = [];
  let current = '';
  const room = (): number => Math.max(1, lines.length === 0 ? width : width - indent.length);
  const flush = (): void => {
    lines.push((lines.length === 0 ? '' : indent) + current);
    current = '';
  };
  for (const word of words) {
    let rest = word;
    while (rest.length > 0) {
      const sep = current === '' ? '' : ' ';
      if (current.length + sep.length + rest.length <= room()) {
        current += sep + rest;
        rest = '';
      } else if (current !== '') {
        flush();
      } else {
        const cut = softBreak(rest, room());
        current = rest.slice(0, cut);
        rest = rest.slice(cut);
        flush();
      }
    }
  }
  if (current !== '' || lines.length === 0) flush();
  return lines;
}

function softBreak(word: string, room: number): number {
  for (let i = Math.min(room, word.length) - 1; i > 0; i--) if ('-_/,.'.includes(word[i]!)) return i + 1;
  return room;
}

/** The first line of a text, cut at a word boundary to at most `max` characters with "...". */
export function shorten(text: string, max: number): string {
  const line = (text.split('\n').find((l) => l.trim() !== '') ?? '').replace(/\s+/g, ' ').trim();
  const more = text.trim().includes('\n');
  if (line.length <= max && !more) return line;
  const limit = Math.max(1, max - 3);
  if (line.length <= limit) return `${line}...`;
  const cut = line.lastIndexOf(' ', limit);
  return `${line.slice(0, cut > limit / 2 ? cut : limit).trimEnd()}...`;
}

export interface TextTable {
  firstHeader: string;
  headers: string[];
  rows: { first: string; cells: string[] }[];
}

/**
 * A table as lines no wider than `width`: first column left-aligned, the others right-aligned,
 * headers bottom-aligned over a rule of dashes. When the columns do not fit side by side, they
 * are split over several tables (separated by a blank line), each repeating the first column.
 */
export function layoutTable(table: TextTable, width = MAIL_WIDTH): string[] {
  const naturalFirst = Math.max(table.firstHeader.length, ...table.rows.map((r) => r.first.length));
  const firstWidth = Math.min(naturalFirst, FIRST_COLUMN_MAX, width - GAP.length - 1);
  const columnRoom = width - firstWidth - GAP.length;
  const columns = table.headers.map((header, j) => {
    const cells = table.rows.map((r) => r.cells[j] ?? '');
    const widestCell = Math.min(columnRoom, Math.max(0, ...cells.map((c) => c.length)));
    const headerLines = wrap(header, Math.min(columnRoom, Math.max(HEADER_MAX, widestCell)));
    const columnWidth = Math.max(widestCell, ...headerLines.map((l) => l.length));
    return { index: j, headerLines, width: columnWidth };
  });

  const chunks: (typeof columns)[] = [];
  let used = firstWidth;
  for (const column of columns) {
    const last = chunks[chunks.length - 1];
    if (last && used + GAP.length + column.width <= width) {
      last.push(column);
      used += GAP.length + column.width;
    } else {
      chunks.push([column]);
      used = firstWidth + GAP.length + column.width;
    }
  }
  if (chunks.length === 0) chunks.push([]);

  const out: string[] = [];
  for (const [n, chunk] of chunks.entries()) {
    if (n > 0) out.push('');
    const firstHeaderLines = wrap(table.firstHeader, firstWidth);
    const height = Math.max(firstHeaderLines.length, ...chunk.map((c) => c.headerLines.length));
    const bottom = (lines: string[], i: number): string => lines[i - (height - lines.length)] ?? '';
    for (let i = 0; i < height; i++) {
      out.push(
        joinLine(
          bottom(firstHeaderLines, i).padEnd(firstWidth),
          chunk.map((c) => bottom(c.headerLines, i).padStart(c.width)),
        ),
      );
    }
    out.push(
      joinLine(
        '-'.repeat(firstWidth),
        chunk.map((c) => '-'.repeat(c.width)),
      ),
    );
    for (const row of table.rows) {
      const firstLines = wrap(row.first, firstWidth, '  ');
      // A cell that fits is kept as it is: wrap() would trim the space that aligns it with a marked one.
      const cellLines = chunk.map((c) => {
        const cell = row.cells[c.index] ?? '';
        return cell.length <= c.width ? [cell] : wrap(cell, c.width);
      });
      const rowHeight = Math.max(firstLines.length, ...cellLines.map((l) => l.length));
      for (let i = 0; i < rowHeight; i++) {
        out.push(
          joinLine(
            (firstLines[i] ?? '').padEnd(firstWidth),
            chunk.map((c, k) => (cellLines[k]![i] ?? '').padStart(c.width)),
          ),
        );
      }
    }
  }
  return out;
}

function joinLine(first: string, cells: string[]): string {
  return [first, ...cells].join(GAP).trimEnd();
}

/**
 * Cells with a one-character marker ("2*", "2 → 1!") and without one, made to line up: in a
 * column where any cell is marked, the others get a trailing space, so right-aligned figures end
 * in the same column.
 */
export function alignMarkers(columns: { text: string; marked: boolean }[][]): string[][] {
  return columns.map((column) => {
    const anyMarked = column.some((c) => c.marked);
    return column.map((c) => (anyMarked && !c.marked ? `${c.text} ` : c.text));
  });
}
