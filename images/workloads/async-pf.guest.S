/*
 * async-pf.guest.S — the nested guest of the async-pf workload (64-bit code).
 *
 * Assembled into the async-pf binary as a position-independent blob between
 * async_pf_guest_start and async_pf_guest_end (.rodata); the monitor
 * (async-pf.c) copies it to guest physical ASYNC_PF_CODE_GPA in memslot 0 and
 * enters it at offset 0 in long mode (CPL 0, identity-mapped 2 MiB pages,
 * RFLAGS.IF = 1, no interrupt shadow) with:
 *   rsi = guest physical address of the data region (memslot 1, N pages)
 *   rcx = N (pages)
 *   rdi = guest physical address of the results array (memslot 0, N words)
 *   rsp = top of the stack (memslot 0)
 *
 * For page p it reads ONE 8-byte word, w = p % 512, of the page (the first
 * touch of that guest page: a nested page fault in the KVM of the L1 guest),
 * stores the value into results[p] for the monitor to check, counts it as
 * verified if it equals 0x6b657870_00000000 | (p * 512 + w), and folds it into
 * the checksum  c = (c ^ value) * 0x100000001b3  (FNV-1a over 64-bit words,
 * starting from 0xcbf29ce484222325: order-sensitive, swapped pages change it).  Interrupts stay enabled throughout (KVM only takes its async page
 * fault path when it could deliver an interrupt: kvm_can_do_async_pf()).
 * Then it reports with `out %al, $ASYNC_PF_PORT_DONE` (a KVM_EXIT_IO the
 * monitor stops at; `hlt` would not exit to user space with an in-kernel
 * irqchip) and the monitor reads:
 *   rax = checksum, rbx = pages touched, r8 = pages verified by the guest.
 *
 * Any exception or interrupt lands in one of 256 stubs (16 bytes apart from
 * async_pf_guest_vectors, the IDT built by the monitor points at them), which
 * report with `out %al, $ASYNC_PF_PORT_TRAP`: r13 = vector, r14 = first stack
 * word after the vector (the error code for vectors that push one, else the
 * RIP), r15 = the next one (RIP, or CS).
 * After either report the guest disables interrupts and halts for good.
 */

#define ASYNC_PF_PORT_DONE 0x10
#define ASYNC_PF_PORT_TRAP 0x11

	.section .rodata
	.balign 4096
	.globl async_pf_guest_start
	.globl async_pf_guest_end
	.globl async_pf_guest_vectors_offset
	.code64

async_pf_guest_start:
	movabs	$0xcbf29ce484222325, %rax	/* checksum: FNV-1a offset basis */
	movabs	$0x100000001b3, %r13		/* FNV prime */
	xor	%ebx, %ebx			/* p: pages touched */
	xor	%r8d, %r8d			/* verified */
	movabs	$0x6b65787000000000, %r9	/* "kexp" magic */
	test	%rcx, %rcx
	jz	2f
1:
	mov	%rbx, %rdx
	and	$511, %edx			/* w = p % 512 */
	mov	%rbx, %r10
	shl	$12, %r10
	add	%rsi, %r10			/* page p */
	mov	(%r10,%rdx,8), %r11		/* the touch */
	mov	%r11, (%rdi,%rbx,8)		/* results[p] */
	mov	%rbx, %r12
	shl	$9, %r12
	add	%rdx, %r12
	or	%r9, %r12			/* expected value */
	cmp	%r12, %r11
	jne	3f
	inc	%r8
3:
	xor	%r11, %rax
	imul	%r13, %rax
	inc	%rbx
	cmp	%rcx, %rbx
	jb	1b
2:
	out	%al, $ASYNC_PF_PORT_DONE
4:
	cli
	hlt
	jmp	4b

async_pf_guest_trap:
	pop	%r13				/* vector */
	mov	(%rsp), %r14
	mov	8(%rsp), %r15
	out	%al, $ASYNC_PF_PORT_TRAP
5:
	cli
	hlt
	jmp	5b

	.balign 16
async_pf_guest_vectors:
	vec = 0
	.rept 256
	.balign 16
	pushq	$vec
	jmp	async_pf_guest_trap
	vec = vec + 1
	.endr
async_pf_guest_end:

	.balign 8
async_pf_guest_vectors_offset:
	.quad	async_pf_guest_vectors - async_pf_guest_start

	.section .note.GNU-stack,"",@progbits
