/**
 * perf stat's CSV output (`perf stat -x,`), as the agent passes it on: one line per event,
 * "value,unit,event,run-time,percent-running,...". Pure. A count perf could not take is a
 * problem named as such, never a zero.
 */

export interface PerfCounts {
  counts: Record<string, number>;
  problems: string[];
}

/**
 * @param lines what perf wrote (with -x,)
 * @param names perf event name → the name kexp reports (kexp:kexp_0 → __get_user_pages)
 */
export function parsePerfStat(lines: string[], names: Record<string, string>): PerfCounts {
  const counts: Record<string, number> = {};
  const problems: string[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(',');
    if (fields.length < 3) continue;
    const [value, , event] = fields as [string, string, string];
    const name = names[event] ?? event;
    if (/^\d+$/.test(value)) {
      const running = Number(fields[4]);
      if (fields[4] !== undefined && fields[4] !== '' && Number.isFinite(running) && running < 100) {
        problems.push(`${name}: perf counted only ${running}% of the time (multiplexed): the count is scaled, not exact`);
        continue;
      }
      counts[name] = Number(value);
    } else {
      problems.push(`${name}: perf says ${value}`);
    }
  }
  for (const [event, name] of Object.entries(names)) {
    if (!(name in counts) && !problems.some((p) => p.startsWith(`${name}:`))) problems.push(`${name}: no line from perf for ${event}`);
  }
  return { counts, problems };
}
