/*
 * uffd-remote — kexp workload: read a userfaultfd-backed region of another
 * process with process_vm_readv (the remote GUP path: pin_user_pages_remote
 * with a "locked" argument, so the fault may drop mmap_lock and retry).
 *
 * Usage: uffd-remote --pages N [--timeout SECONDS]
 *
 * The parent forks a reader child first (while it is still single-threaded),
 * then creates an anonymous private region of N pages, registers it with
 * userfaultfd (UFFDIO_REGISTER_MODE_MISSING) and starts a handler thread that
 * resolves each missing-page fault with UFFDIO_COPY from a page whose 8-byte
 * word w of page p holds 0x6b657870_00000000 | (p * words_per_page + w).
 * It then sends the region's address to the child through a pipe.  The child
 * reads the WHOLE region with ONE process_vm_readv call (one local and one
 * remote iovec, each N pages long; the kernel walks it in chunks of
 * PVM_MAX_KMALLOC_PAGES = 1024 pages on x86_64 with 4 KiB pages, so up to
 * 1024 pages are one pin_user_pages_remote() call), verifies every page of
 * what it got, and sends its result back through a second pipe.  The parent's
 * handler serves the faults the read causes inside the parent.  Afterwards the
 * parent reads its own region: that must not fault again ("faultsAfter").
 *
 * Output: exactly one JSON line on stdout, printed by the parent:
 *   {"workload":"uffd-remote","pages":64,"write":false,"ret":262144,"errno":0,
 *    "errnoName":null,"faults":64,"faultsAfter":0,"verified":64,"ok":true,
 *    "error":null}
 * ret is process_vm_readv's return value (bytes read, or -1), errno its errno;
 * verified counts the pages the child read with the right content; write is
 * always false (kept so both workloads share one schema).  ok is true iff
 * ret == N * pagesize, verified == N, faults == N and faultsAfter == 0.
 * Exit status: 0 ok, 1 ran but failed (including timeout), 2 usage error.
 *
 * Bounded: a watchdog thread in the parent (--timeout, default 20 s) kills
 * the child, prints a failure line and exits 1; the child dies with the
 * parent (PR_SET_PDEATHSIG = SIGKILL) and is killed by the parent's watchdog;
 * its own alarm() (default, fatal SIGALRM action) is a best effort only, as
 * alarm() is ENOSYS on kernels without CONFIG_POSIX_TIMERS.
 *
 * The shared parts (JSON writer, watchdog, arguments, the userfaultfd handler,
 * verification) are in include/kexp-workload.h.
 *
 * Build: gcc -static -O2 -Wall -Wextra -pthread -I include -o uffd-remote uffd-remote.c
 */
#define _GNU_SOURCE
#define WORKLOAD "uffd-remote"
#include "kexp-workload.h"

#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/wait.h>

static int emit(int ok, const char *error)
{
	return emit_uffd_line(ok, error);
}

/* parent -> child */
struct go_msg { uint64_t addr; int64_t pages; int64_t pagesize; };
/* child -> parent */
struct result_msg {
	int64_t ret;      /* process_vm_readv return value */
	int32_t err;      /* its errno */
	int32_t setup_err;/* errno of a failed child setup step, 0 if none */
	int64_t verified;
	int64_t bad_page; /* first mismatching page, -1 if none */
	int64_t bad_word;
	uint64_t expected, found;
};

static int read_full(int fd, void *p, size_t n)
{
	size_t off = 0;
	while (off < n) {
		ssize_t r = read(fd, (char *)p + off, n - off);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) return -1;
		off += r;
	}
	return 0;
}
static int write_full(int fd, const void *p, size_t n)
{
	size_t off = 0;
	while (off < n) {
		ssize_t r = write(fd, (const char *)p + off, n - off);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) return -1;
		off += r;
	}
	return 0;
}

/* The reader.  Never prints to stdout. */
static void child_main(pid_t parent, int go_fd, int res_fd)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	alarm(g_timeout + 5);
	struct go_msg go;
	if (read_full(go_fd, &go, sizeof(go)) < 0)
		_exit(0); /* the parent failed its setup and closed the pipe */
	struct result_msg r = { .ret = -1, .bad_page = -1 };
	size_t len = (size_t)go.pages * go.pagesize;
	char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED) {
		r.setup_err = errno;
	} else {
		/* one call over the whole range */
		struct iovec local = { buf, len };
		struct iovec remote = { (void *)(uintptr_t)go.addr, len };
		errno = 0;
		r.ret = process_vm_readv(parent, &local, 1, &remote, 1, 0);
		r.err = r.ret < 0 ? errno : 0;
		long got = r.ret > 0 ? r.ret / go.pagesize : 0;
		for (long p = 0; p < got; p++) {
			uint64_t found = 0;
			long bad = page_mismatch((const uint64_t *)buf, p, &found);
			if (bad < 0) {
				r.verified++;
			} else if (r.bad_page < 0) {
				r.bad_page = p;
				r.bad_word = bad;
				r.expected = word_value(p, bad);
				r.found = found;
			}
		}
	}
	write_full(res_fd, &r, sizeof(r));
	_exit(0);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv, 0);
	g_pagesize = sysconf(_SC_PAGESIZE);
	size_t len = (size_t)g_pages * g_pagesize;

	/* fork the reader while still single-threaded */
	int go_pipe[2], res_pipe[2];
	if (pipe2(go_pipe, O_CLOEXEC) < 0 || pipe2(res_pipe, O_CLOEXEC) < 0) {
		set_error("pipe: %s", errno_name(errno));
		emit(0, g_error);
		return 1;
	}
	pid_t parent = getpid();
	fflush(NULL);
	pid_t child = fork();
	if (child < 0) {
		set_error("fork: %s", errno_name(errno));
		emit(0, g_error);
		return 1;
	}
	if (child == 0) {
		close(go_pipe[1]);
		close(res_pipe[0]);
		child_main(parent, go_pipe[0], res_pipe[1]);
	}
	g_child = child;
	close(go_pipe[0]);
	close(res_pipe[1]);
	start_watchdog();

	pthread_t th;
	int have_thread = 0;
	struct result_msg r = { .ret = -1, .bad_page = -1 };

	g_stage = "userfaultfd setup";
	if (uffd_region_setup() < 0 || start_handler(&th) < 0)
		goto out;
	have_thread = 1;

	g_stage = "process_vm_readv";
	struct go_msg go = { (uintptr_t)g_region, g_pages, g_pagesize };
	if (write_full(go_pipe[1], &go, sizeof(go)) < 0) {
		set_error("could not hand the region to the reader: %s", errno_name(errno));
		goto out;
	}
	if (read_full(res_pipe[0], &r, sizeof(r)) < 0) {
		set_error("the reader process died without a result");
		goto out;
	}
	g_ret = r.ret;
	g_errno = r.err;
	g_ret_known = !r.setup_err;
	g_verified = r.verified;
	if (r.setup_err)
		set_error("reader: mmap of its %ld-page buffer failed: %s", g_pages,
			  errno_name(r.setup_err));
	else if (r.ret < 0)
		set_error("process_vm_readv returned -1 errno %s",
			  errno_name(r.err) ? errno_name(r.err) : "?");
	else if ((size_t)r.ret != len)
		set_error("process_vm_readv returned %lld bytes, expected %zu",
			  (long long)r.ret, len);
	if (r.bad_page >= 0)
		set_error("page %lld word %lld content mismatch: expected 0x%016llx, found 0x%016llx",
			  (long long)r.bad_page, (long long)r.bad_word,
			  (unsigned long long)r.expected, (unsigned long long)r.found);

	/* The parent's own view: every page must be mapped by now. */
	verify_region("local verification", "parent's ", NULL);

out:
	close(go_pipe[1]); /* a child still waiting for the region exits */
	g_stage = "reader exit";
	int status = 0;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	g_child = -1;
	if (WIFSIGNALED(status))
		set_error("the reader process was killed by signal %d", WTERMSIG(status));
	g_stage = "handler shutdown";
	if (have_thread)
		stop_handler(th);
	if (!g_error[0] && g_faults != g_pages)
		set_error("handler served %ld faults during process_vm_readv, expected %ld",
			  g_faults, g_pages);
	if (!g_error[0] && g_faults_after)
		set_error("%ld pages faulted again in the parent after process_vm_readv",
			  g_faults_after);

	int ok = !g_error[0] && g_ret_known && (size_t)g_ret == len &&
		 g_verified == g_pages && g_faults == g_pages && g_faults_after == 0;
	if (!emit(ok, ok ? NULL : (g_error[0] ? g_error : "failed")))
		pause(); /* the watchdog printed a timeout line and is exiting */
	return ok ? 0 : 1;
}
