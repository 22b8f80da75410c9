/** gen_init_cpio's file list, as data. Pure. */

export type CpioEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; from: string; mode?: number }
  | { type: 'slink'; path: string; target: string }
  | { type: 'nod'; path: string; mode: number; dev: 'c' | 'b'; major: number; minor: number };

const octal = (mode: number): string => mode.toString(8);

export function cpioList(entries: CpioEntry[]): string {
  const lines = entries.map((e) => {
    for (const part of [e.path, 'from' in e ? e.from : '', 'target' in e ? e.target : '']) {
      if (/\s/.test(part)) throw new Error(`gen_init_cpio cannot carry white space in paths: "${part}"`);
    }
    switch (e.type) {
      case 'dir':
        return `dir ${e.path} ${octal(e.mode ?? 0o755)} 0 0`;
      case 'file':
        return `file ${e.path} ${e.from} ${octal(e.mode ?? 0o755)} 0 0`;
      case 'slink':
        return `slink ${e.path} ${e.target} 777 0 0`;
      case 'nod':
        return `nod ${e.path} ${octal(e.mode)} 0 0 ${e.dev} ${e.major} ${e.minor}`;
      default:
        throw new Error(`unknown cpio entry type in ${JSON.stringify(e)}`);
    }
  });
  return `${lines.join('\n')}\n`;
}

/** The guest's skeleton: mount points, the console node the kernel opens before devtmpfs. */
export function skeleton(): CpioEntry[] {
  return [
    ...['/bin', '/sbin', '/dev', '/proc', '/sys', '/tmp', '/etc', '/root', '/usr', '/usr/bin', '/usr/sbin', '/lib', '/lib64', '/var'].map((path) => ({
      type: 'dir' as const,
      path,
    })),
    { type: 'nod', path: '/dev/console', mode: 0o600, dev: 'c', major: 5, minor: 1 },
    { type: 'nod', path: '/dev/null', mode: 0o666, dev: 'c', major: 1, minor: 3 },
  ];
}

/** /bin/busybox plus one link per applet, except names a workload or the agent provides. */
export function busyboxEntries(busybox: string, applets: string[], taken: Set<string>): CpioEntry[] {
  const entries: CpioEntry[] = [{ type: 'file', path: '/bin/busybox', from: busybox }];
  for (const applet of [...new Set(applets)].sort()) {
    if (!/^[\w.[-]+$/.test(applet) || applet === 'busybox' || taken.has(applet)) continue;
    entries.push({ type: 'slink', path: `/bin/${applet}`, target: 'busybox' });
  }
  return entries;
}
