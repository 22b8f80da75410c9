/*
 * kexp-workload.h — code the kexp guest workloads share (uffd-populate,
 * uffd-remote, async-pf).  Each workload is compiled alone,
 *     gcc -static -O2 -Wall -Wextra -pthread -I images/workloads/include ...
 * so everything here is static; what a workload does not use is marked unused.
 *
 * Before including it a workload defines
 *     WORKLOAD        its name as a string literal ("uffd-populate"),
 * and afterwards it defines
 *     static int emit(int ok, const char *error);
 * which prints its one JSON result line unless one was printed already
 * (kexp_claim_line()), returning 1 if this call printed it.  The uffd
 * workloads use emit_uffd_line() for that; the watchdog and the usage errors
 * call emit().
 *
 * What is here:
 *   - the state shared with the fault handler and watchdog threads (g_*),
 *   - a lock-free, allocation-free JSON writer (struct buf, b_*), so that the
 *     watchdog can print while other threads are stuck anywhere,
 *   - errno_name(), set_error() (keeps the first error, in words),
 *   - the watchdog thread (--timeout, default 20 s),
 *   - argument parsing of --pages N [--write] [--timeout S] and usage errors
 *     (exit 2, a line is still printed),
 *   - the page pattern: 8-byte word w of page p holds
 *         0x6b657870_00000000 | (p * words_per_page + w)   ("kexp" | word index),
 *   - the userfaultfd region (UFFDIO_API, UFFDIO_REGISTER_MODE_MISSING) and its
 *     handler thread (UFFDIO_COPY of the pattern, faults counted by phase),
 *   - the verification of the region from the faulting process's side.
 */
#ifndef KEXP_WORKLOAD_H
#define KEXP_WORKLOAD_H

#ifndef WORKLOAD
#error "define WORKLOAD (the workload's name) before including kexp-workload.h"
#endif

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
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_userfaultfd
#define SYS_userfaultfd 323 /* x86_64 */
#endif

#define MAGIC 0x6b65787000000000ULL
#define MAX_PAGES (1L << 20)

#define KEXP_UNUSED __attribute__((unused))

/* ---------- state shared with the handler and watchdog threads ----------- */
static long g_pages = -1;             /* --pages; -1 until read */
static KEXP_UNUSED int g_write;       /* --write (uffd-populate only) */
static long g_pagesize;               /* set by the workload before any page work */
static unsigned g_timeout = 20;       /* --timeout */
static char *g_region;                /* the userfaultfd-registered region */
static int g_uffd = -1;
static int g_stopfd = -1;             /* eventfd: stops the handler thread */

static volatile int g_phase;          /* 0 = setup/the run, 1 = verification */
static volatile long g_faults;        /* faults served while g_phase == 0 */
static volatile long g_faults_after;  /* faults served while g_phase == 1 */
static volatile long g_verified;
static volatile int g_ret_known;      /* the measured call returned */
static volatile long g_ret;
static volatile int g_errno;
static volatile int g_handler_failed; /* handler thread hit an error */
static char g_handler_err[256];
static char g_error[512];             /* first error, in words */
static volatile const char *g_stage = "setup";
static volatile pid_t g_child = -1;   /* killed by the watchdog if > 0 */

static int emit(int ok, const char *error); /* defined by the workload */

/* ---------- lock-free, allocation-free JSON writer ----------------------- */
struct buf { char s[2048]; size_t n; };

static void b_str(struct buf *b, const char *s)
{
	while (*s && b->n < sizeof(b->s) - 1)
		b->s[b->n++] = *s++;
}
static void b_ulong(struct buf *b, uint64_t u)
{
	char t[24];
	int i = 0;
	do { t[i++] = '0' + u % 10; u /= 10; } while (u);
	while (i--) {
		char c[2] = { t[i], 0 };
		b_str(b, c);
	}
}
static void b_long(struct buf *b, long v)
{
	if (v < 0)
		b_str(b, "-");
	b_ulong(b, v < 0 ? -(unsigned long)v : (unsigned long)v);
}
/* a 64-bit value as a JSON string "0x%016x" */
static KEXP_UNUSED void b_hex(struct buf *b, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char t[21] = "\"0x";
	for (int i = 0; i < 16; i++)
		t[3 + i] = hex[(v >> (60 - 4 * i)) & 15];
	t[19] = '"';
	t[20] = 0;
	b_str(b, t);
}
/* a JSON string, or null for NULL */
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
	return e ? strerrorname_np(e) : NULL;
}

/* ---------- the result line ----------------------------------------------- */
/* 1 for the first caller only: main and the watchdog may race to print. */
static int g_emitted;
static int kexp_claim_line(void)
{
	int expect = 0;
	return __atomic_compare_exchange_n(&g_emitted, &expect, 1, 0,
					   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
/* {"workload":"<WORKLOAD>","pages":N|null */
static void b_head(struct buf *b)
{
	b_str(b, "{\"workload\":\"" WORKLOAD "\",\"pages\":");
	if (g_pages >= 0) b_long(b, g_pages); else b_str(b, "null");
}
/* ,"ret":..,"errno":..,"errnoName":..,"faults":..,"faultsAfter":.. */
static void b_run_fields(struct buf *b)
{
	b_str(b, ",\"ret\":");
	if (g_ret_known) b_long(b, g_ret); else b_str(b, "null");
	b_str(b, ",\"errno\":");
	if (g_ret_known) b_long(b, g_errno); else b_str(b, "null");
	b_str(b, ",\"errnoName\":");
	b_jstr(b, g_ret_known ? errno_name(g_errno) : NULL);
	b_str(b, ",\"faults\":");
	b_long(b, g_faults);
	b_str(b, ",\"faultsAfter\":");
	b_long(b, g_faults_after);
}
/* write the whole buffer to stdout */
static void kexp_write_line(const struct buf *b)
{
	size_t off = 0;
	while (off < b->n) {
		ssize_t w = write(1, b->s + off, b->n - off);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) break;
		off += w;
	}
}
/* The line of uffd-populate and uffd-remote (one schema):
 *   {"workload":..,"pages":..,"write":..,"ret":..,"errno":..,"errnoName":..,
 *    "faults":..,"faultsAfter":..,"verified":..,"ok":..,"error":..} */
static KEXP_UNUSED int emit_uffd_line(int ok, const char *error)
{
	if (!kexp_claim_line())
		return 0;
	struct buf b = { .n = 0 };
	b_head(&b);
	b_str(&b, ",\"write\":");
	b_str(&b, g_write ? "true" : "false");
	b_run_fields(&b);
	b_str(&b, ",\"verified\":");
	b_long(&b, g_verified);
	b_str(&b, ",\"ok\":");
	b_str(&b, ok ? "true" : "false");
	b_str(&b, ",\"error\":");
	b_jstr(&b, error);
	b_str(&b, "}\n");
	kexp_write_line(&b);
	return 1;
}

/* g_error = the message (also on stderr), unless there is one already */
static void vset_error(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static void vset_error(const char *fmt, va_list ap)
{
	if (g_error[0])
		return; /* keep the first error */
	vsnprintf(g_error, sizeof(g_error), fmt, ap);
	fprintf(stderr, WORKLOAD ": %s\n", g_error);
}
static void set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset_error(fmt, ap);
	va_end(ap);
}

/* ---------- watchdog ------------------------------------------------------- */
/*
 * Not alarm()/SIGALRM: a process-directed signal is usually queued on the
 * main thread, and while that thread sleeps in handle_userfault() on behalf of
 * a kernel-mode (GUP) fault (a TASK_KILLABLE wait) a non-fatal signal is not
 * handled until the syscall returns, i.e. never if the handler is stuck.
 * Besides, the tinyconfig guest has CONFIG_POSIX_TIMERS=n, where alarm() is
 * ENOSYS.  A thread of its own that sleeps with clock_nanosleep (always
 * present), kills g_child if there is one, prints the failure line and calls
 * _exit() (exit_group, which does kill killable sleepers) always works.
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

/* ---------- arguments ------------------------------------------------------ */
static int g_accepts_write;

/* a usage error: message on stderr, the failure line on stdout, exit 2 */
static void usage(const char *msg) __attribute__((noreturn));
static void usage(const char *msg)
{
	fprintf(stderr, "%s\nusage: " WORKLOAD " --pages N%s [--timeout SECONDS]\n", msg,
		g_accepts_write ? " [--write]" : "");
	emit(0, msg);
	exit(2);
}

/* --pages N (1..1048576, required), --timeout S (1..3600), and --write if
 * accepts_write (sets g_write); anything else is a usage error. */
static void parse_args(int argc, char **argv, int accepts_write)
{
	g_accepts_write = accepts_write;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--pages") && i + 1 < argc) {
			char *end;
			errno = 0;
			long v = strtol(argv[++i], &end, 10);
			if (errno || *end || v < 1 || v > MAX_PAGES)
				usage("--pages wants an integer between 1 and 1048576");
			g_pages = v;
		} else if (accepts_write && !strcmp(argv[i], "--write")) {
			g_write = 1;
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
/* the first word of page p (of the pages at words) that does not hold the
 * pattern, its content in *found; -1 if the whole page does */
static long page_mismatch(const volatile uint64_t *words, long p, uint64_t *found)
{
	long wpp = g_pagesize / 8;
	for (long w = 0; w < wpp; w++) {
		uint64_t v = words[p * wpp + w];
		if (v != word_value(p, w)) {
			*found = v;
			return w;
		}
	}
	return -1;
}

/* ---------- the userfaultfd region ------------------------------------------ */
/* userfaultfd, UFFDIO_API, an anonymous private mapping of g_pages pages
 * (g_region) registered for missing-page faults.  0, or -1 after set_error. */
static int uffd_region_setup(void)
{
	size_t len = (size_t)g_pages * g_pagesize;
	g_uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (g_uffd < 0) {
		int e = errno;
		if (e == ENOSYS)
			set_error("userfaultfd: ENOSYS (kernel built without CONFIG_USERFAULTFD)");
		else
			set_error("userfaultfd: %s (%s)", errno_name(e), strerror(e));
		return -1;
	}
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	if (ioctl(g_uffd, UFFDIO_API, &api) < 0) {
		set_error("UFFDIO_API: %s", errno_name(errno));
		return -1;
	}
	g_region = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g_region == MAP_FAILED) {
		set_error("mmap of %ld pages: %s", g_pages, errno_name(errno));
		return -1;
	}
	struct uffdio_register reg = {
		.range = { .start = (unsigned long)g_region, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	if (ioctl(g_uffd, UFFDIO_REGISTER, &reg) < 0) {
		set_error("UFFDIO_REGISTER: %s", errno_name(errno));
		return -1;
	}
	if (!(reg.ioctls & (1ULL << _UFFDIO_COPY))) {
		set_error("UFFDIO_REGISTER: UFFDIO_COPY not available on the range");
		return -1;
	}
	return 0;
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

/* the stop eventfd and the handler thread.  0, or -1 after set_error. */
static int start_handler(pthread_t *th)
{
	g_stopfd = eventfd(0, EFD_CLOEXEC);
	if (g_stopfd < 0) {
		set_error("eventfd: %s", errno_name(errno));
		return -1;
	}
	int pe = pthread_create(th, NULL, handler, NULL);
	if (pe) {
		set_error("pthread_create: %s", errno_name(pe));
		return -1;
	}
	return 0;
}

/* stop and join the handler thread; its failure, if any, becomes an error */
static void stop_handler(pthread_t th)
{
	uint64_t one = 1;
	if (write(g_stopfd, &one, sizeof(one)) != sizeof(one))
		fprintf(stderr, WORKLOAD ": eventfd write failed\n");
	pthread_join(th, NULL);
	if (g_handler_failed)
		set_error("%s", g_handler_err);
}

/* ---------- verification ------------------------------------------------------ */
/* Enter phase 1 (faults now count as faultsAfter), then read every word of
 * every page of the region; the first mismatch of each page becomes an error
 * "<prefix>page P word W content mismatch: expected 0x.., found 0x..".
 * Pages that held the pattern are counted in *verified as they go (if not
 * NULL: a timeout line shows how far it got). */
static void verify_region(const char *stage, const char *prefix, volatile long *verified)
{
	__atomic_store_n(&g_phase, 1, __ATOMIC_SEQ_CST);
	g_stage = stage;
	const volatile uint64_t *words = (const volatile uint64_t *)g_region;
	for (long p = 0; p < g_pages; p++) {
		uint64_t found = 0;
		long bad = page_mismatch(words, p, &found);
		if (bad < 0) {
			if (verified)
				(*verified)++;
		} else {
			set_error("%spage %ld word %ld content mismatch: expected 0x%016llx, found 0x%016llx",
				  prefix, p, bad, (unsigned long long)word_value(p, bad),
				  (unsigned long long)found);
		}
	}
}

#endif /* KEXP_WORKLOAD_H */
