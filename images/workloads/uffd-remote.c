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
 * Build: gcc -static -O2 -Wall -Wextra -pthread -o uffd-remote uffd-remote.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef SYS_userfaultfd
#define SYS_userfaultfd 323 /* x86_64 */
#endif

#define WORKLOAD "uffd-remote"
#define MAGIC 0x6b65787000000000ULL
#define MAX_PAGES (1L << 20)

/* ---------- state shared with the handler and watchdog threads ----------- */
static long g_pages = -1;
static int g_write;
static long g_pagesize;
static char *g_region;
static int g_uffd = -1;
static int g_stopfd = -1;

static volatile int g_phase;          /* 0 = setup/populate, 1 = verification */
static volatile long g_faults;        /* faults served while g_phase == 0 */
static volatile long g_faults_after;  /* faults served while g_phase == 1 */
static volatile long g_verified;
static volatile int g_ret_known;      /* madvise returned */
static volatile long g_ret;
static volatile int g_errno;
static volatile int g_handler_failed; /* handler thread hit an error */
static char g_handler_err[256];
static char g_error[512];             /* first error, in words */
static volatile const char *g_stage = "setup";
static volatile pid_t g_child = -1;

/* ---------- lock-free, allocation-free JSON writer ----------------------- */
struct buf { char s[2048]; size_t n; };

static void b_str(struct buf *b, const char *s)
{
	while (*s && b->n < sizeof(b->s) - 1)
		b->s[b->n++] = *s++;
}
static void b_long(struct buf *b, long v)
{
	char t[24];
	int i = 0;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
	if (v < 0)
		b_str(b, "-");
	do { t[i++] = '0' + u % 10; u /= 10; } while (u);
	while (i--) {
		char c[2] = { t[i], 0 };
		b_str(b, c);
	}
}
static void b_jstr(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	if (!s) { b_str(b, "null"); return; }
	b_str(b, "\"");
	for (; *s; s++) {
		unsigned char c = *s;
		char e[7] = { 0 };
		if (c == '"' || c == '\\') { e[0] = '\\'; e[1] = c; }
		else if (c == '\n') { e[0] = '\\'; e[1] = 'n'; }
		else if (c < 0x20) {
			e[0] = '\\'; e[1] = 'u'; e[2] = '0'; e[3] = '0';
			e[4] = hex[c >> 4]; e[5] = hex[c & 15];
		} else e[0] = c;
		b_str(b, e);
	}
	b_str(b, "\"");
}
static const char *errno_name(int e)
{
	/* strerrorname_np only reads a static table: safe enough here */
	const char *n = e ? strerrorname_np(e) : NULL;
	return n;
}

/* Print the one result line.  Returns 1 if this call printed it, 0 if an
 * earlier call already did (main and the watchdog may race). */
static int g_emitted;
static int emit(int ok, const char *error)
{
	int expect = 0;
	if (!__atomic_compare_exchange_n(&g_emitted, &expect, 1, 0,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return 0;
	struct buf b = { .n = 0 };
	b_str(&b, "{\"workload\":\"" WORKLOAD "\",\"pages\":");
	if (g_pages >= 0) b_long(&b, g_pages); else b_str(&b, "null");
	b_str(&b, ",\"write\":");
	b_str(&b, g_write ? "true" : "false");
	b_str(&b, ",\"ret\":");
	if (g_ret_known) b_long(&b, g_ret); else b_str(&b, "null");
	b_str(&b, ",\"errno\":");
	if (g_ret_known) b_long(&b, g_errno); else b_str(&b, "null");
	b_str(&b, ",\"errnoName\":");
	b_jstr(&b, g_ret_known ? errno_name(g_errno) : NULL);
	b_str(&b, ",\"faults\":");
	b_long(&b, g_faults);
	b_str(&b, ",\"faultsAfter\":");
	b_long(&b, g_faults_after);
	b_str(&b, ",\"verified\":");
	b_long(&b, g_verified);
	b_str(&b, ",\"ok\":");
	b_str(&b, ok ? "true" : "false");
	b_str(&b, ",\"error\":");
	b_jstr(&b, error);
	b_str(&b, "}\n");
	size_t off = 0;
	while (off < b.n) {
		ssize_t w = write(1, b.s + off, b.n - off);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) break;
		off += w;
	}
	return 1;
}

static void set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_error(const char *fmt, ...)
{
	if (g_error[0])
		return; /* keep the first error */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g_error, sizeof(g_error), fmt, ap);
	va_end(ap);
	fprintf(stderr, WORKLOAD ": %s\n", g_error);
}

static unsigned g_timeout = 20;
/*
 * Watchdog.  Not alarm()/SIGALRM: a process-directed signal is usually queued
 * on the main thread, and while that thread sleeps in handle_userfault() on
 * behalf of madvise (a TASK_KILLABLE wait) a non-fatal signal is not handled
 * until the syscall returns, i.e. never if the handler is stuck.  Besides,
 * the tinyconfig guest has CONFIG_POSIX_TIMERS=n, where alarm() is ENOSYS.
 * A thread of its own that sleeps with clock_nanosleep (always present),
 * prints the failure line and calls _exit() (exit_group, which does kill
 * killable sleepers) always works.
 */
static void *watchdog(void *arg)
{
	(void)arg;
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += g_timeout;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
	struct buf m = { .n = 0 };
	b_str(&m, "timeout after ");
	b_long(&m, g_timeout);
	b_str(&m, " s during ");
	b_str(&m, (const char *)g_stage);
	if (g_error[0]) { b_str(&m, " (earlier: "); b_str(&m, g_error); b_str(&m, ")"); }
	m.s[m.n] = 0;
	if (g_child > 0)
		kill(g_child, SIGKILL);
	if (emit(0, m.s))
		_exit(1);
	return NULL; /* main printed its line first and is exiting */
}

static void start_watchdog(void)
{
	pthread_t t;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&t, NULL, watchdog, NULL) == 0)
		pthread_detach(t);
	else
		alarm(g_timeout); /* fallback (ENOSYS without CONFIG_POSIX_TIMERS):
				    * the default SIGALRM action kills us silently */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ---------- page content --------------------------------------------------- */
static inline uint64_t word_value(long page, long word)
{
	return MAGIC | (uint64_t)(page * (g_pagesize / 8) + word);
}
static void fill_page(uint64_t *p, long page)
{
	for (long w = 0; w < g_pagesize / 8; w++)
		p[w] = word_value(page, w);
}

/* ---------- fault handler thread ----------------------------------------- */
static void handler_fail(const char *what, int e)
{
	snprintf(g_handler_err, sizeof(g_handler_err), "fault handler: %s: %s",
		 what, errno_name(e) ? errno_name(e) : "?");
	g_handler_failed = 1;
}

static void *handler(void *arg)
{
	(void)arg;
	uint64_t *src = aligned_alloc(g_pagesize, g_pagesize);
	if (!src) { handler_fail("aligned_alloc", ENOMEM); return NULL; }
	struct pollfd pfd[2] = { { g_uffd, POLLIN, 0 }, { g_stopfd, POLLIN, 0 } };
	for (;;) {
		int n = poll(pfd, 2, -1);
		if (n < 0) {
			if (errno == EINTR) continue;
			handler_fail("poll", errno);
			break;
		}
		if (pfd[1].revents)
			break;
		if (pfd[0].revents & (POLLERR | POLLHUP)) {
			handler_fail("poll on uffd returned POLLERR/POLLHUP", EIO);
			break;
		}
		if (!(pfd[0].revents & POLLIN))
			continue;
		struct uffd_msg msg;
		ssize_t r = read(g_uffd, &msg, sizeof(msg));
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR) continue;
			handler_fail("read(uffd)", errno);
			break;
		}
		if (r != sizeof(msg)) { handler_fail("short read(uffd)", EIO); break; }
		if (msg.event != UFFD_EVENT_PAGEFAULT) {
			fprintf(stderr, WORKLOAD ": unexpected uffd event %u\n", msg.event);
			continue;
		}
		unsigned long addr = msg.arg.pagefault.address & ~(unsigned long)(g_pagesize - 1);
		long page = (long)(addr - (unsigned long)g_region) / g_pagesize;
		if (addr < (unsigned long)g_region || page >= g_pages) {
			handler_fail("fault outside the region", EFAULT);
			break;
		}
		/* The faulting thread sleeps until UFFDIO_COPY wakes it, so the
		 * phase read here (before the copy) is the phase of the fault. */
		int phase = __atomic_load_n(&g_phase, __ATOMIC_SEQ_CST);
		fill_page(src, page);
		struct uffdio_copy c = { .dst = addr, .src = (unsigned long)src,
					 .len = g_pagesize, .mode = 0 };
		for (;;) {
			if (ioctl(g_uffd, UFFDIO_COPY, &c) == 0) break;
			if (errno == EAGAIN) { c.copy = 0; continue; }
			if (errno == EEXIST) {
				/* already mapped (raced): just wake the faulter */
				struct uffdio_range wr = { addr, g_pagesize };
				ioctl(g_uffd, UFFDIO_WAKE, &wr);
				fprintf(stderr, WORKLOAD ": page %ld: UFFDIO_COPY EEXIST\n", page);
				break;
			}
			handler_fail("UFFDIO_COPY", errno);
			free(src);
			return NULL;
		}
		if (phase == 0)
			__atomic_add_fetch(&g_faults, 1, __ATOMIC_SEQ_CST);
		else
			__atomic_add_fetch(&g_faults_after, 1, __ATOMIC_SEQ_CST);
	}
	free(src);
	return NULL;
}

static void usage(const char *msg)
{
	fprintf(stderr, "%s\nusage: " WORKLOAD " --pages N [--timeout SECONDS]\n", msg);
	emit(0, msg);
	exit(2);
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
		const uint64_t *words = (const uint64_t *)buf;
		long wpp = go.pagesize / 8;
		for (long p = 0; p < got; p++) {
			long bad = -1;
			for (long w = 0; w < wpp; w++)
				if (words[p * wpp + w] != word_value(p, w)) { bad = w; break; }
			if (bad < 0) {
				r.verified++;
			} else if (r.bad_page < 0) {
				r.bad_page = p;
				r.bad_word = bad;
				r.expected = word_value(p, bad);
				r.found = words[p * wpp + bad];
			}
		}
	}
	write_full(res_fd, &r, sizeof(r));
	_exit(0);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--pages") && i + 1 < argc) {
			char *end;
			errno = 0;
			long v = strtol(argv[++i], &end, 10);
			if (errno || *end || v < 1 || v > MAX_PAGES)
				usage("--pages wants an integer between 1 and 1048576");
			g_pages = v;
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 1 || v > 3600)
				usage("--timeout wants seconds between 1 and 3600");
			g_timeout = v;
		} else {
			char m[300];
			snprintf(m, sizeof(m), "unknown or incomplete argument: %s", argv[i]);
			usage(m);
		}
	}
	if (g_pages < 0)
		usage("--pages N is required");
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
	g_uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (g_uffd < 0) {
		int e = errno;
		if (e == ENOSYS)
			set_error("userfaultfd: ENOSYS (kernel built without CONFIG_USERFAULTFD)");
		else
			set_error("userfaultfd: %s (%s)", errno_name(e), strerror(e));
		goto out;
	}
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	if (ioctl(g_uffd, UFFDIO_API, &api) < 0) {
		set_error("UFFDIO_API: %s", errno_name(errno));
		goto out;
	}
	g_region = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g_region == MAP_FAILED) {
		set_error("mmap of %ld pages: %s", g_pages, errno_name(errno));
		goto out;
	}
	struct uffdio_register reg = {
		.range = { .start = (unsigned long)g_region, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	if (ioctl(g_uffd, UFFDIO_REGISTER, &reg) < 0) {
		set_error("UFFDIO_REGISTER: %s", errno_name(errno));
		goto out;
	}
	if (!(reg.ioctls & (1ULL << _UFFDIO_COPY))) {
		set_error("UFFDIO_REGISTER: UFFDIO_COPY not available on the range");
		goto out;
	}
	g_stopfd = eventfd(0, EFD_CLOEXEC);
	if (g_stopfd < 0) {
		set_error("eventfd: %s", errno_name(errno));
		goto out;
	}
	int pe = pthread_create(&th, NULL, handler, NULL);
	if (pe) {
		set_error("pthread_create: %s", errno_name(pe));
		goto out;
	}
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
	__atomic_store_n(&g_phase, 1, __ATOMIC_SEQ_CST);
	g_stage = "local verification";
	const volatile uint64_t *words = (const volatile uint64_t *)g_region;
	long wpp = g_pagesize / 8;
	for (long p = 0; p < g_pages; p++)
		for (long w = 0; w < wpp; w++) {
			uint64_t v = words[p * wpp + w];
			if (v != word_value(p, w)) {
				set_error("parent's page %ld word %ld content mismatch: expected 0x%016llx, found 0x%016llx",
					  p, w, (unsigned long long)word_value(p, w),
					  (unsigned long long)v);
				break;
			}
		}

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
	if (have_thread) {
		uint64_t one = 1;
		if (write(g_stopfd, &one, sizeof(one)) != sizeof(one))
			fprintf(stderr, WORKLOAD ": eventfd write failed\n");
		pthread_join(th, NULL);
	}
	if (g_handler_failed)
		set_error("%s", g_handler_err);
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
