/** The collectors of function calls: the names experiments, plans and samples use. */

export const collectorNames = ['ftrace', 'kprobe', 'perf'] as const;
export type CollectorName = (typeof collectorNames)[number];

/** Where a count came from: a collector of function calls, or the in-kernel tracepoint counters. */
export type CountSource = CollectorName | 'tracepoint';
