/** Explain's records for tests of its pure parts. */
import type { CallGroup } from '../../src/records/index.js';

/** A call group of __get_user_pages from async_pf_execute (FOLL_WRITE | FOLL_UNLOCKABLE, one page, no pages array); `over` sets what a test cares about. */
export const callGroup = (over: Partial<CallGroup>): CallGroup => ({
  stack: ['async_pf_execute', 'process_one_work', 'worker_thread'],
  flags: 0x200001,
  flagNames: ['FOLL_WRITE', 'FOLL_UNLOCKABLE'],
  pagesNull: true,
  nrPages: '1',
  ret: 0,
  calls: 0,
  ...over,
});
