/**
 * What `kexp nightly --bisect` adds under a comparison: each bisection with the changes it is
 * about, the range, and the first bad commit (hash, subject, the bisect record), and each change
 * it did not bisect with the reason. Appended to the rendered comparison in each format, so the
 * comparison's own renderers stay as they are. Pure (the record paths are given).
 */
import type { NightlyBisection, NightlyRecord } from '../results/nightly.js';
import { escapeXml as escapeHtml } from './render/chart.js';
import { MAIL_WIDTH, wrap } from './render/layout.js';
import { bisectResultText, shortCommit } from './history/common.js';

export interface BisectionItem {
  /** "6.1 baseline, async-pf: __get_user_pages 3 → 2, 1a2b3c4d5e6f..9f8e7d6c5b4a" */
  head: string;
  /** The result, then where its record is. */
  details: string[];
  found: boolean;
}

export function bisectionHead(b: NightlyBisection): string {
  const changes = b.changes.map((c) => `${c.function} ${c.before} → ${c.after}`).join('; ');
  return `${b.kernel} ${b.variant}, ${b.workload}: ${changes}, ${shortCommit(b.good.commit)}..${shortCommit(b.bad.commit)}`;
}

export function bisectionItems(record: NightlyRecord, recordPath: (id: string) => string): BisectionItem[] {
  return record.bisections.map((b) => {
    const outcome = b.state === 'done' && b.result ? bisectResultText(b.result) : 'not finished: the next kexp nightly --bisect resumes it';
    const judged =
      b.changes.length > 1
        ? [`judged on ${b.changes[0]!.predicate}; the other changes were checked on the same two steps and share the result`]
        : [`judged on ${b.changes[0]!.predicate}`];
    return {
      head: bisectionHead(b),
      details: [outcome, ...judged, ...(b.bisectId ? [`record: ${recordPath(b.bisectId)}`] : [])],
      found: b.result?.kind === 'found',
    };
  });
}

export function notBisectedItems(record: NightlyRecord): string[] {
  return record.notes.map((n) => `${n.kernel} ${n.variant}, ${n.workload}, ${n.function}: ${n.text}`);
}

export function bisectionTextLines(record: NightlyRecord, recordPath: (id: string) => string): string[] {
  const items = bisectionItems(record, recordPath);
  const notes = notBisectedItems(record);
  const lines: string[] = [];
  if (items.length > 0) {
    lines.push('Bisections (kexp nightly --bisect):');
    for (const item of items) {
      lines.push(...wrap(`- ${item.head}`, MAIL_WIDTH, '    '));
      // A path is not broken over lines: a reader copies it.
      for (const detail of item.details) lines.push(...(detail.startsWith('record: ') ? [detail] : wrap(detail, MAIL_WIDTH - 4, '  ')).map((l) => `    ${l}`));
    }
  }
  if (notes.length > 0) {
    if (lines.length > 0) lines.push('');
    lines.push('Not bisected:');
    for (const note of notes) lines.push(...wrap(`- ${note}`, MAIL_WIDTH, '    '));
  }
  return lines;
}

/** The rendered comparison in `format` with the nightly's bisections added (unchanged when there are none, and for CSV). */
export function appendBisections(format: string, rendered: string, record: NightlyRecord | undefined, recordPath: (id: string) => string): string {
  if (!record || (record.bisections.length === 0 && record.notes.length === 0)) return rendered;
  switch (format) {
    case 'text':
      return `${rendered.replace(/\n*$/, '\n')}\n${bisectionTextLines(record, recordPath).join('\n')}\n`;
    case 'markdown': {
      const items = bisectionItems(record, recordPath).map((i) => `- **${i.head}**${i.details.map((d) => `  \n  ${d}`).join('')}`);
      const notes = notBisectedItems(record).map((n) => `- ${n}`);
      const parts = [
        ...(items.length > 0 ? ['## Bisections (kexp nightly --bisect)', '', ...items, ''] : []),
        ...(notes.length > 0 ? ['## Not bisected', '', ...notes, ''] : []),
      ];
      return `${rendered.replace(/\n*$/, '\n')}\n${parts.join('\n')}`;
    }
    case 'json': {
      const data = JSON.parse(rendered) as Record<string, unknown>;
      return `${JSON.stringify({ ...data, bisections: record.bisections, notBisected: record.notes }, null, 2)}\n`;
    }
    case 'html': {
      const items = bisectionItems(record, recordPath).map(
        (i) =>
          `<li><strong>${escapeHtml(i.head)}</strong>${i.details.map((d, k) => `<br>${k === 0 && i.found ? `<span style="color:#0b5d1e;font-weight:600">${escapeHtml(d)}</span>` : escapeHtml(d)}`).join('')}</li>`,
      );
      const notes = notBisectedItems(record).map((n) => `<li>${escapeHtml(n)}</li>`);
      const section = [
        '<section class="bisections">',
        ...(items.length > 0 ? ['<h2>Bisections (kexp nightly --bisect)</h2>', '<ul>', ...items, '</ul>'] : []),
        ...(notes.length > 0 ? ['<h2>Not bisected</h2>', '<ul>', ...notes, '</ul>'] : []),
        '</section>',
      ].join('\n');
      const at = rendered.lastIndexOf('<footer>') >= 0 ? rendered.lastIndexOf('<footer>') : rendered.lastIndexOf('</body>');
      return at >= 0 ? `${rendered.slice(0, at)}${section}\n${rendered.slice(at)}` : `${rendered}${section}\n`;
    }
    default:
      return rendered;
  }
}

export interface NightlySummaryInput {
  experiment: string;
  run: string;
  previous: string | null;
  /** The comparison's summary line and its changed cells, as the comparison words them. */
  summary: string | null;
  changes: string[];
  /** Changes of the functions the comparison does not show. */
  otherChanges: string[];
  findings: boolean;
  record: NightlyRecord;
  /** Bisections of earlier runs this nightly finished. */
  resumed: NightlyRecord[];
  files: { comparison: string | null; history: string };
  recordPath: (id: string) => string;
}

/**
 * What --notify hands to its command on standard input: a Subject line (so sendmail can take it
 * as it is), then what changed, what the bisections found, and where the files are.
 */
export function notifySummary(input: NightlySummaryInput): string {
  const found = [input.record, ...input.resumed].flatMap((r) => r.bisections).flatMap((b) => (b.result?.kind === 'found' ? [b.result] : []));
  const count = input.changes.length + input.otherChanges.length;
  const what = count > 0 ? `${count} ${count === 1 ? 'change' : 'changes'}` : input.findings ? 'failures' : 'no change';
  const culprit = found[0] ? `, first bad commit ${shortCommit(found[0].commit)} ${found[0].subject}` : '';
  const lines = [`Subject: kexp nightly ${input.experiment}: ${what}${culprit}`, ''];
  lines.push(`kexp nightly: run ${input.run}${input.previous ? `, compared with run ${input.previous}` : ' (no earlier run to compare with)'}.`);
  if (input.summary) lines.push(input.summary);
  for (const change of input.changes) lines.push(`  ${change}`);
  if (input.otherChanges.length > 0) {
    lines.push('Other counted functions that changed:');
    for (const change of input.otherChanges) lines.push(`  ${change}`);
  }
  if (input.findings) lines.push('Some samples of this run failed, crashed or hung (see its report).');
  const bisections = bisectionTextLines(input.record, input.recordPath);
  if (bisections.length > 0) lines.push('', ...bisections);
  for (const earlier of input.resumed) lines.push('', `Resumed from the nightly of run ${earlier.run}:`, ...bisectionTextLines(earlier, input.recordPath));
  lines.push('');
  if (input.files.comparison) lines.push(`Comparison: ${input.files.comparison}`);
  lines.push(`History: ${input.files.history}`);
  return `${lines.join('\n')}\n`;
}
