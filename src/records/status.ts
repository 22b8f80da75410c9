/** The one status a sample, a cell, a boot and a figure can have, and the one test for a finding. */

/** Every status, in the order reports list them. */
export const statuses = ['ok', 'failed', 'crashed', 'hung', 'skipped'] as const;
export type Status = (typeof statuses)[number];

/** How a boot (one VM run of a cell) ended: it is never skipped as a whole. */
export const bootStatuses = ['ok', 'failed', 'crashed', 'hung'] as const satisfies readonly Status[];
export type BootStatus = (typeof bootStatuses)[number];

/** A sample's status: the workload's own verdict, or how the VM stopped before it reported. */
export type SampleStatus = Status;

/** A test's result in a program's TAP output (a kselftest, or a program run as it is). */
export const testStatuses = ['pass', 'fail', 'skip', 'xfail', 'error'] as const;
export type TestStatus = (typeof testStatuses)[number];

/** The VM stopped (a panic or oops, or a hang): a sample with this status never reported. */
export function isStopped(status: Status): status is 'crashed' | 'hung' {
  return status === 'crashed' || status === 'hung';
}

/** A status that something went wrong (failed, crashed, hung); ok and skipped are not. */
export function isFailure(status: Status): status is 'failed' | 'crashed' | 'hung' {
  return status === 'failed' || isStopped(status);
}

/**
 * Whether a cell's outcome (a boot, a run's cell record) is a finding, the exit status 1 of kexp
 * run and kexp boot: the boot did not end ok, or any of its samples failed, crashed or hung.
 */
export function isFinding(outcome: { status: Status; samples: readonly { status: Status }[] }): boolean {
  return outcome.status !== 'ok' || outcome.samples.some((s) => isFailure(s.status));
}
