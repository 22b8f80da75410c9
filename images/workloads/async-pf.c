/*
 * async-pf — kexp workload: KVM async page faults on a userfaultfd-backed
 * guest memory region, through a minimal KVM monitor run against the (guest)
 * kernel's own /dev/kvm (nested virtualization).
 *
 * Usage: async-pf --pages N [--timeout SECONDS]
 *
 * The monitor creates a VM with an in-kernel irqchip (KVM_CREATE_IRQCHIP:
 * kvm_can_do_async_pf() wants the local APIC in the kernel) and one vCPU in
 * 64-bit long mode with interrupts enabled.  Guest physical memory:
 *   memslot 0 at 0:      page tables (identity map of the first 8 GiB with
 *                        2 MiB pages), GDT, IDT, the nested guest's code
 *                        (async-pf.guest.S, copied in at run time), a stack,
 *                        and a results array of N 8-byte words;
 *   memslot 1 at 4 GiB:  the data region, N pages of an anonymous private
 *                        mapping registered with userfaultfd
 *                        (UFFDIO_REGISTER_MODE_MISSING), never touched by the
 *                        monitor before the guest runs.
 * A handler thread resolves every missing-page fault with UFFDIO_COPY from a
 * page whose 8-byte word w of page p holds
 *     0x6b657870_00000000 | (p * 512 + w)                ("kexp" | word index)
 * The nested guest reads one word (w = p % 512) of every data page, once, in
 * order.  Each first touch is a nested page fault that KVM cannot resolve
 * without waiting (the page is missing and only the uffd handler can supply
 * it), so KVM hands it to its async page fault worker (async_pf_execute():
 * get_user_pages_remote(..., pages = NULL, &locked)) and halts the vCPU until
 * the page is there; the nested guest does not enable paravirtual async PF,
 * so the "page not present" notification is the artificial halt, never an
 * injected #PF.  The guest stores each value it read into the results array,
 * counts the right ones, keeps a checksum (FNV-1a over the 64-bit values read,
 * c = (c ^ value) * 0x100000001b3 from 0xcbf29ce484222325), and reports
 * with an `out` to port 0x10 (KVM_EXIT_IO).  The monitor then checks the
 * results array against the pattern, the checksum against the one computed
 * from the pattern, and reads every word of every data page itself: those
 * reads must not fault ("faultsAfter"), and their content must be right.
 *
 * Output: exactly one JSON line on stdout (diagnostics go to stderr):
 *   {"workload":"async-pf","pages":64,"ret":0,"errno":0,"errnoName":null,
 *    "faults":64,"faultsAfter":0,"touched":64,"verified":64,
 *    "checksum":"0x...","expectedChecksum":"0x...",
 *    "exits":{"io":1,"hlt":0,"mmio":0,"intr":0,"shutdown":0,"other":0},
 *    "kvmStats":{"pf_taken":..,...}|null,"ok":true,"skipped":false,"error":null}
 * ret/errno: the last KVM_RUN ioctl's return value and errno (null if KVM_RUN
 * never ran).  faults: uffd faults served while the nested guest ran;
 * faultsAfter: while the monitor read the pages afterwards.  touched: pages
 * the guest read (rbx at its report); verified: results-array entries equal
 * to the pattern (checked by the monitor, and equal to the guest's own count).
 * Checksums are hex strings (64-bit).  exits: KVM_RUN returns by exit reason
 * ("intr" = KVM_RUN returned EINTR or KVM_EXIT_INTR).  kvmStats: a few vCPU
 * counters from KVM_GET_STATS_FD after the run (null if unavailable).
 * ok is true iff touched == verified == faults == N, faultsAfter == 0, the
 * checksums match and nothing else went wrong.
 * Exit status: 0 ok, 1 ran but failed (including timeout), 2 usage error,
 * 3 skipped: no usable nested KVM (/dev/kvm missing, or KVM_CREATE_VM failed);
 * the line then has "skipped":true and "error":"no nested KVM: <reason>".
 *
 * Every run is bounded by a watchdog thread (--timeout, default 20 s), not
 * alarm() (ENOSYS with CONFIG_POSIX_TIMERS=n): on expiry it prints the
 * current state as a failure line and exits 1.
 *
 * The shared parts (JSON writer, watchdog, arguments, the userfaultfd handler,
 * verification) are in include/kexp-workload.h.
 *
 * Build: gcc -static -O2 -Wall -Wextra -pthread -I include -o async-pf async-pf.c async-pf.guest.S
 */
#define _GNU_SOURCE
#define WORKLOAD "async-pf"
#include "kexp-workload.h"

#include <linux/kvm.h>

#ifndef KVM_GET_STATS_FD
#define KVM_GET_STATS_FD _IO(KVMIO, 0xce)
#endif

#define PAGE 4096UL
#define WORDS (PAGE / 8)

/* guest physical layout (memslot 0 at 0, memslot 1 at DATA_GPA) */
#define PML4_GPA 0x1000UL
#define PDPT_GPA 0x2000UL
#define PD_GPA 0x3000UL		/* 8 page directories: 0x3000 .. 0xafff */
#define PD_COUNT 8		/* 8 GiB identity-mapped with 2 MiB pages */
#define GDT_GPA 0xb000UL
#define IDT_GPA 0xc000UL
#define CODE_GPA 0x10000UL
#define CODE_MAX 0x8000UL
#define STACK_TOP 0x20000UL
#define RESULTS_GPA 0x20000UL
#define DATA_GPA 0x100000000UL	/* 4 GiB: clear of the APIC/IOAPIC windows */
#define TSS_GPA 0xfffbd000UL	/* KVM_SET_TSS_ADDR (VMX only; harmless on SVM) */

#define PORT_DONE 0x10
#define PORT_TRAP 0x11

extern const unsigned char async_pf_guest_start[], async_pf_guest_end[];
extern const uint64_t async_pf_guest_vectors_offset;

/* ---------- state of this workload (the rest is in kexp-workload.h) ------- */
static volatile long g_touched;
static volatile int g_sum_known;
static uint64_t g_checksum, g_expected;
enum { X_IO, X_HLT, X_MMIO, X_INTR, X_SHUTDOWN, X_OTHER, X_N };
static const char *const exit_names[X_N] = { "io", "hlt", "mmio", "intr", "shutdown", "other" };
static volatile long g_exits[X_N];
static const char *const stat_names[] = {
	"pf_taken", "pf_fixed", "pf_spurious", "exits", "io_exits", "halt_exits",
	"halt_wakeup", "signal_exits", "irq_injections",
};
#define NSTATS (sizeof(stat_names) / sizeof(stat_names[0]))
static int g_stats_known;
static uint64_t g_stats[NSTATS];
static int g_stats_have[NSTATS];

/* Print the one result line.  Returns 1 if this call printed it, 0 if an
 * earlier call already did (main and the watchdog may race). */
static int emit_line(int ok, int skipped, const char *error)
{
	if (!kexp_claim_line())
		return 0;
	struct buf b = { .n = 0 };
	b_head(&b);
	b_run_fields(&b);
	b_str(&b, ",\"touched\":");
	b_long(&b, g_touched);
	b_str(&b, ",\"verified\":");
	b_long(&b, g_verified);
	b_str(&b, ",\"checksum\":");
	if (g_sum_known) b_hex(&b, g_checksum); else b_str(&b, "null");
	b_str(&b, ",\"expectedChecksum\":");
	if (g_pages >= 0) b_hex(&b, g_expected); else b_str(&b, "null");
	b_str(&b, ",\"exits\":{");
	for (int i = 0; i < X_N; i++) {
		if (i) b_str(&b, ",");
		b_jstr(&b, exit_names[i]);
		b_str(&b, ":");
		b_long(&b, g_exits[i]);
	}
	b_str(&b, "},\"kvmStats\":");
	if (g_stats_known) {
		int first = 1;
		b_str(&b, "{");
		for (size_t i = 0; i < NSTATS; i++) {
			if (!g_stats_have[i]) continue;
			if (!first) b_str(&b, ",");
			first = 0;
			b_jstr(&b, stat_names[i]);
			b_str(&b, ":");
			b_ulong(&b, g_stats[i]);
		}
		b_str(&b, "}");
	} else {
		b_str(&b, "null");
	}
	b_str(&b, ",\"ok\":");
	b_str(&b, ok ? "true" : "false");
	b_str(&b, ",\"skipped\":");
	b_str(&b, skipped ? "true" : "false");
	b_str(&b, ",\"error\":");
	b_jstr(&b, error);
	b_str(&b, "}\n");
	kexp_write_line(&b);
	return 1;
}
static int emit(int ok, const char *error)
{
	return emit_line(ok, 0, error);
}

/* set_error, print the failure line, exit 1 */
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset_error(fmt, ap);
	va_end(ap);
	if (!emit(0, g_error))
		pause();
	exit(1);
}

/* no usable nested KVM: print the skip line, exit 3 */
static void skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void skip(const char *fmt, ...)
{
	char why[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(g_error, sizeof(g_error), "no nested KVM: %s", why);
	fprintf(stderr, WORKLOAD ": %s\n", g_error);
	if (!emit_line(0, 1, g_error))
		pause();
	exit(3);
}

/* ---------- page content (word_value() is in kexp-workload.h) ------------- */
/* what the nested guest reads from page p, and its checksum over N pages */
static inline uint64_t touched_value(long p)
{
	return word_value(p, p % WORDS);
}
#define CHECKSUM_BASIS 0xcbf29ce484222325ULL
static uint64_t checksum_step(uint64_t c, uint64_t v)
{
	return (c ^ v) * 0x100000001b3ULL;
}

/* ---------- KVM helpers ---------------------------------------------------- */
static void set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->dpl = 0;
	s->s = 1;
	s->g = 1;
	s->l = code ? 1 : 0;
	s->db = code ? 0 : 1;
}

/* memslot 0: page tables, GDT, IDT, code, stack; results after STACK_TOP */
static void build_low_memory(unsigned char *mem)
{
	uint64_t *pml4 = (uint64_t *)(mem + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(mem + PDPT_GPA);
	pml4[0] = PDPT_GPA | 3;				/* present, writable */
	for (unsigned i = 0; i < PD_COUNT; i++) {
		uint64_t *pd = (uint64_t *)(mem + PD_GPA + i * PAGE);
		pdpt[i] = (PD_GPA + i * PAGE) | 3;
		for (unsigned j = 0; j < 512; j++)
			pd[j] = ((uint64_t)(i * 512 + j) << 21) | 0x83;	/* 2 MiB, rw, present */
	}
	uint64_t *gdt = (uint64_t *)(mem + GDT_GPA);
	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffULL;	/* 0x08: 64-bit code, DPL 0 */
	gdt[2] = 0x00cf92000000ffffULL;	/* 0x10: data */
	/* IDT: 256 64-bit interrupt gates to the guest's stubs, 16 bytes apart */
	uint64_t stubs = CODE_GPA + async_pf_guest_vectors_offset;
	uint32_t *idt = (uint32_t *)(mem + IDT_GPA);
	for (unsigned v = 0; v < 256; v++) {
		uint64_t off = stubs + 16 * v;
		idt[4 * v + 0] = (uint32_t)(off & 0xffff) | (0x08u << 16);
		idt[4 * v + 1] = (uint32_t)(off & 0xffff0000) | 0x8e00;	/* P, DPL 0, type 14 */
		idt[4 * v + 2] = (uint32_t)(off >> 32);
		idt[4 * v + 3] = 0;
	}
	memcpy(mem + CODE_GPA, async_pf_guest_start,
	       async_pf_guest_end - async_pf_guest_start);
}

/* a few vCPU counters from the binary stats interface (Linux >= 5.14) */
static void read_stats(int vcpu)
{
	int fd = ioctl(vcpu, KVM_GET_STATS_FD, NULL);
	if (fd < 0)
		return;
	struct kvm_stats_header h;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || h.num_desc > 4096 ||
	    h.name_size > 1024) {
		close(fd);
		return;
	}
	size_t dsz = sizeof(struct kvm_stats_desc) + h.name_size;
	char *descs = malloc(dsz * h.num_desc);
	if (!descs || pread(fd, descs, dsz * h.num_desc, h.desc_offset) != (ssize_t)(dsz * h.num_desc)) {
		free(descs);
		close(fd);
		return;
	}
	for (uint32_t i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc *d = (struct kvm_stats_desc *)(descs + i * dsz);
		for (size_t k = 0; k < NSTATS; k++) {
			if (strncmp(d->name, stat_names[k], h.name_size))
				continue;
			uint64_t v;
			if (pread(fd, &v, sizeof(v), h.data_offset + d->offset) == sizeof(v)) {
				g_stats[k] = v;
				g_stats_have[k] = 1;
			}
		}
	}
	free(descs);
	close(fd);
	g_stats_known = 1;
}

/*
 * KVM on x86 cannot enter a guest while the kernel's tsc_khz is 0:
 * kvm_guest_time_update() then re-requests KVM_REQ_CLOCK_UPDATE and fails
 * before every entry, so KVM_RUN spins without ever running the guest.  That
 * happens when TSC calibration failed at boot (under TCG on a busy host:
 * "tsc: Unable to calibrate against PIT" / "Marking TSC unstable due to could
 * not calculate TSC khz"; cpu_khz is then 0 too, and /proc/cpuinfo says
 * "cpu MHz : 0.000").  Returns 1 in that case, 0 otherwise (or if unknown).
 */
static int no_tsc_khz(void)
{
	static char b[65536];
	int fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	size_t n = 0;
	ssize_t r;
	while (n < sizeof(b) - 1 && (r = read(fd, b + n, sizeof(b) - 1 - n)) > 0)
		n += r;
	close(fd);
	b[n] = 0;
	char *l = strstr(b, "cpu MHz");
	if (!l || !(l = strchr(l, ':')))
		return 0;
	for (l++; *l == ' ' || *l == '\t'; l++)
		;
	if (*l < '0' || *l > '9')
		return 0;
	for (; *l && *l != '\n'; l++)
		if (*l >= '1' && *l <= '9')
			return 0;
	return 1;
}

static int has_error_code(long v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

int main(int argc, char **argv)
{
	parse_args(argc, argv, 0);
	g_pagesize = PAGE;
	g_expected = CHECKSUM_BASIS;
	for (long p = 0; p < g_pages; p++)
		g_expected = checksum_step(g_expected, touched_value(p));

	start_watchdog();
	if (sysconf(_SC_PAGESIZE) != (long)PAGE)
		fail("page size %ld, this workload assumes 4096", sysconf(_SC_PAGESIZE));
	size_t code_len = async_pf_guest_end - async_pf_guest_start;
	if (code_len > CODE_MAX)
		fail("nested guest code is %zu bytes, more than %lu", code_len, CODE_MAX);

	/* ---- KVM: is there a usable one? */
	g_stage = "KVM setup";
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		skip("/dev/kvm: %s (%s)", errno_name(errno), strerror(errno));
	int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION)
		skip("KVM_GET_API_VERSION returned %d, expected %d", api, KVM_API_VERSION);
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		skip("KVM_CREATE_VM: %s (%s)", errno_name(errno), strerror(errno));

	if (ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0)
		fail("KVM_CAP_IRQCHIP not available");
	if (ioctl(vm, KVM_SET_TSS_ADDR, TSS_GPA) < 0)
		fail("KVM_SET_TSS_ADDR: %s", errno_name(errno));
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		fail("KVM_CREATE_IRQCHIP: %s", errno_name(errno));

	if (no_tsc_khz())
		fail("the kernel has no TSC frequency (tsc_khz = 0: /proc/cpuinfo says cpu MHz 0.000, "
		     "TSC calibration failed at boot), so KVM cannot enter a guest "
		     "(kvm_guest_time_update() fails before every entry); boot with tsc_early_khz=<kHz>");

	/* ---- memslot 0: low memory */
	size_t results_len = ((size_t)g_pages * 8 + PAGE - 1) & ~(PAGE - 1);
	size_t low_len = RESULTS_GPA + results_len;
	unsigned char *low = mmap(NULL, low_len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (low == MAP_FAILED)
		fail("mmap of low memory (%zu bytes): %s", low_len, errno_name(errno));
	memset(low, 0, low_len);	/* populate: only memslot 1 may fault */
	build_low_memory(low);
	struct kvm_userspace_memory_region r0 = {
		.slot = 0, .flags = 0, .guest_phys_addr = 0,
		.memory_size = low_len, .userspace_addr = (unsigned long)low,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r0) < 0)
		fail("KVM_SET_USER_MEMORY_REGION slot 0: %s", errno_name(errno));

	/* ---- memslot 1: the userfaultfd data region */
	g_stage = "userfaultfd setup";
	size_t len = (size_t)g_pages * PAGE;
	if (uffd_region_setup() < 0)
		fail("%s", g_error);
	struct kvm_userspace_memory_region r1 = {
		.slot = 1, .flags = 0, .guest_phys_addr = DATA_GPA,
		.memory_size = len, .userspace_addr = (unsigned long)g_region,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r1) < 0)
		fail("KVM_SET_USER_MEMORY_REGION slot 1: %s", errno_name(errno));

	/* ---- the vCPU */
	g_stage = "vCPU setup";
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		fail("KVM_CREATE_VCPU: %s", errno_name(errno));
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run))
		fail("KVM_GET_VCPU_MMAP_SIZE: %d (%s)", run_size, errno_name(errno));
	struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		fail("mmap of kvm_run: %s", errno_name(errno));

	/* CPUID: what KVM supports (long mode, PAE: KVM checks CR4/EFER against it) */
	struct kvm_cpuid2 *cpuid = NULL;
	for (unsigned nent = 64; ; nent *= 2) {
		free(cpuid);
		cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(struct kvm_cpuid_entry2));
		if (!cpuid)
			fail("calloc for CPUID");
		cpuid->nent = nent;
		if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			break;
		if (errno != E2BIG || nent >= 4096)
			fail("KVM_GET_SUPPORTED_CPUID: %s", errno_name(errno));
	}
	if (ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0)
		fail("KVM_SET_CPUID2: %s", errno_name(errno));
	free(cpuid);

	struct kvm_sregs sregs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		fail("KVM_GET_SREGS: %s", errno_name(errno));
	set_seg(&sregs.cs, 0x08, 11, 1);
	set_seg(&sregs.ds, 0x10, 3, 0);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	memset(&sregs.tr, 0, sizeof(sregs.tr));
	sregs.tr.limit = 0x67;
	sregs.tr.type = 11;		/* busy 64-bit TSS */
	sregs.tr.present = 1;
	memset(&sregs.ldt, 0, sizeof(sregs.ldt));
	sregs.ldt.type = 2;
	sregs.ldt.present = 1;
	sregs.gdt.base = GDT_GPA;
	sregs.gdt.limit = 3 * 8 - 1;
	sregs.idt.base = IDT_GPA;
	sregs.idt.limit = 256 * 16 - 1;
	sregs.cr0 = 0x80000033;		/* PG | NE | ET | MP | PE */
	sregs.cr3 = PML4_GPA;
	sregs.cr4 = 0x20;		/* PAE */
	sregs.efer = 0x500;		/* LMA | LME */
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		fail("KVM_SET_SREGS (long mode): %s", errno_name(errno));

	struct kvm_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rsp = STACK_TOP;
	regs.rflags = 0x202;		/* IF: async page faults need interrupts on */
	regs.rsi = DATA_GPA;
	regs.rcx = g_pages;
	regs.rdi = RESULTS_GPA;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		fail("KVM_SET_REGS: %s", errno_name(errno));

	/* ---- the fault handler */
	pthread_t th;
	if (start_handler(&th) < 0)
		fail("%s", g_error);

	/* ---- run the nested guest */
	g_stage = "KVM_RUN";
	int done = 0;
	long runs = 0;
	const long max_runs = 4 * g_pages + 1000;
	while (!done && !g_error[0]) {
		if (++runs > max_runs) {
			set_error("nested guest made %ld KVM_RUN returns without reporting", max_runs);
			break;
		}
		long r = ioctl(vcpu, KVM_RUN, 0);
		g_errno = r < 0 ? errno : 0;
		g_ret = r;
		g_ret_known = 1;
		if (r < 0) {
			if (g_errno == EINTR || g_errno == EAGAIN) {
				g_exits[X_INTR]++;
				continue;
			}
			set_error("KVM_RUN: %s", errno_name(g_errno));
			break;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			g_exits[X_IO]++;
			if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == PORT_DONE) {
				done = 1;
			} else if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == PORT_TRAP) {
				struct kvm_regs t;
				if (ioctl(vcpu, KVM_GET_REGS, &t) < 0)
					set_error("nested guest trapped; KVM_GET_REGS: %s", errno_name(errno));
				else if (has_error_code(t.r13))
					set_error("nested guest took vector %llu (error code 0x%llx) at rip 0x%llx",
						  t.r13, t.r14, t.r15);
				else
					set_error("nested guest took vector %llu at rip 0x%llx", t.r13, t.r14);
			} else {
				set_error("nested guest: unexpected I/O %s port 0x%x",
					  run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", run->io.port);
			}
			break;
		case KVM_EXIT_HLT:
			g_exits[X_HLT]++;
			set_error("nested guest halted (KVM_EXIT_HLT) before reporting");
			break;
		case KVM_EXIT_MMIO:
			g_exits[X_MMIO]++;
			set_error("nested guest: MMIO %s at 0x%llx (outside the memslots)",
				  run->mmio.is_write ? "write" : "read", run->mmio.phys_addr);
			break;
		case KVM_EXIT_INTR:
			g_exits[X_INTR]++;
			break;
		case KVM_EXIT_SHUTDOWN:
			g_exits[X_SHUTDOWN]++;
			set_error("nested guest shut down (triple fault)");
			break;
		case KVM_EXIT_FAIL_ENTRY:
			g_exits[X_OTHER]++;
			set_error("KVM_EXIT_FAIL_ENTRY: hardware entry failure reason 0x%llx",
				  run->fail_entry.hardware_entry_failure_reason);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			g_exits[X_OTHER]++;
			set_error("KVM_EXIT_INTERNAL_ERROR: suberror %u", run->internal.suberror);
			break;
		default:
			g_exits[X_OTHER]++;
			set_error("unexpected KVM exit reason %u", run->exit_reason);
			break;
		}
	}
	read_stats(vcpu);
	if (done) {
		struct kvm_regs t;
		if (ioctl(vcpu, KVM_GET_REGS, &t) < 0) {
			set_error("KVM_GET_REGS after the report: %s", errno_name(errno));
		} else {
			g_checksum = t.rax;
			g_sum_known = 1;
			g_touched = t.rbx;
			const volatile uint64_t *res = (const volatile uint64_t *)(low + RESULTS_GPA);
			long verified = 0;
			for (long p = 0; p < g_pages && p < g_touched; p++) {
				uint64_t v = res[p];
				if (v == touched_value(p))
					verified++;
				else
					set_error("nested guest read 0x%016llx from page %ld word %ld, expected 0x%016llx",
						  (unsigned long long)v, p, p % (long)WORDS,
						  (unsigned long long)touched_value(p));
			}
			g_verified = verified;
			if ((long)t.r8 != verified)
				set_error("nested guest counted %llu verified pages, the monitor %ld",
					  t.r8, verified);
			if (g_touched != g_pages)
				set_error("nested guest touched %ld pages, expected %ld", g_touched, g_pages);
			if (g_checksum != g_expected)
				set_error("checksum 0x%016llx, expected 0x%016llx",
					  (unsigned long long)g_checksum, (unsigned long long)g_expected);
		}
	}

	/* ---- verify the whole region from the monitor's side */
	verify_region("verification", "", NULL);

	g_stage = "handler shutdown";
	stop_handler(th);
	if (done && g_faults != g_pages)
		set_error("handler served %ld faults while the nested guest ran, expected %ld",
			  g_faults, g_pages);
	if (g_faults_after)
		set_error("%ld pages faulted again when the monitor read them afterwards", g_faults_after);
	if (!done)
		set_error("nested guest did not report");

	int ok = done && g_touched == g_pages && g_verified == g_pages && g_faults == g_pages &&
		 g_faults_after == 0 && g_checksum == g_expected && !g_error[0];
	if (!emit(ok, ok ? NULL : g_error))
		pause();
	return ok ? 0 : 1;
}
