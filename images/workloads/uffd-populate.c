/*
 * uffd-populate — kexp workload: prefault a userfaultfd-backed region with
 * madvise(MADV_POPULATE_READ / MADV_POPULATE_WRITE).
 *
 * Usage: uffd-populate --pages N [--write] [--timeout SECONDS]
 *
 * An anonymous private region of N pages is registered with userfaultfd
 * (UFFDIO_REGISTER_MODE_MISSING).  A handler thread polls the uffd and
 * resolves every missing-page fault with UFFDIO_COPY from a page whose content
 * identifies it: 8-byte word w of page p holds
 *     0x6b657870_00000000 | (p * words_per_page + w)     ("kexp" | word index)
 * The main thread then calls madvise(MADV_POPULATE_READ or _WRITE) over the
 * whole region, and afterwards reads every word of every page.  Faults served
 * by the handler are counted separately for the populate phase ("faults") and
 * for the verification phase ("faultsAfter"): after a successful populate the
 * latter must be 0.  After a failed populate the handler keeps serving the
 * faults of the verification reads, so verification still completes.
 *
 * Output: exactly one JSON line on stdout (diagnostics go to stderr):
 *   {"workload":"uffd-populate","pages":64,"write":false,"ret":0,"errno":0,
 *    "errnoName":null,"faults":64,"faultsAfter":0,"verified":64,"ok":true,
 *    "error":null}
 * ret/errno are madvise's return value and errno (null if madvise never ran,
 * e.g. userfaultfd missing or timeout before it returned).  ok is true iff
 * ret == 0, faults == pages, faultsAfter == 0 and all pages verified.
 * Exit status: 0 ok, 1 ran but failed (including timeout), 2 usage error.
 *
 * Every run is bounded by a watchdog thread (--timeout, default 20 s): on
 * expiry the current state is printed as a failure JSON line and the process
 * exits 1.  The JSON writer takes no locks and allocates nothing, so the
 * watchdog can print while other threads are stuck anywhere.
 *
 * The shared parts (JSON writer, watchdog, arguments, the userfaultfd handler,
 * verification) are in include/kexp-workload.h.
 *
 * Build: gcc -static -O2 -Wall -Wextra -pthread -I include -o uffd-populate uffd-populate.c
 */
#define _GNU_SOURCE
#define WORKLOAD "uffd-populate"
#include "kexp-workload.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static int emit(int ok, const char *error)
{
	return emit_uffd_line(ok, error);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv, 1);

	start_watchdog();
	g_pagesize = sysconf(_SC_PAGESIZE);
	const int advice = g_write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ;
	const char *advname = g_write ? "MADV_POPULATE_WRITE" : "MADV_POPULATE_READ";
	size_t len = (size_t)g_pages * g_pagesize;
	pthread_t th;

	g_stage = "userfaultfd setup";
	if (uffd_region_setup() < 0 || start_handler(&th) < 0) {
		emit(0, g_error);
		return 1;
	}

	/* populate */
	g_stage = advname;
	errno = 0;
	long ret = madvise(g_region, len, advice);
	g_errno = ret < 0 ? errno : 0;
	g_ret = ret;
	g_ret_known = 1;
	if (ret != 0)
		set_error("madvise(%s) returned %ld errno %s", advname, ret,
			  errno_name(g_errno) ? errno_name(g_errno) : "0");

	/* verify: these reads fault into the handler only if populate left holes */
	verify_region("verification", "", &g_verified);

	g_stage = "handler shutdown";
	stop_handler(th);
	if (g_faults != g_pages)
		set_error("handler served %ld faults during %s, expected %ld",
			  g_faults, advname, g_pages);
	if (g_faults_after && ret == 0)
		set_error("%ld pages faulted again after a successful %s", g_faults_after, advname);

	int ok = ret == 0 && g_verified == g_pages && g_faults == g_pages &&
		 g_faults_after == 0 && !g_error[0];
	if (!emit(ok, ok ? NULL : g_error))
		pause(); /* the watchdog printed a timeout line and is exiting */
	return ok ? 0 : 1;
}
