/*
 * tests/lib/bpfrun.h - a seccomp filter run in user space, for the tests
 * that check what a compiled filter answers (tests/unit/test_sandbox.c,
 * tests/fuzz/fuzz_policy.c) without loading it.
 *
 * Interprets the classic BPF instructions libseccomp emits (32-bit loads
 * from seccomp_data, AND, the conditional and plain jumps, RET) over an
 * x86_64 call, as the kernel would. Any other instruction, a load outside
 * seccomp_data or a program that runs past its end is an error: the
 * caller's test fails rather than guess.
 */
#ifndef WARDEN_TESTS_LIB_BPFRUN_H
#define WARDEN_TESTS_LIB_BPFRUN_H

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The action `prog` (`len` instructions) gives x86_64 syscall `nr` with
 * `args` in *action (the whole return value). 0, or -1 for a program this
 * cannot run. */
static inline int wd_bpf_run(const void *prog, size_t len, int nr, const uint64_t args[6],
			     uint32_t *action)
{
	const struct sock_filter *p = prog;
	struct seccomp_data d;
	uint32_t a = 0;

	memset(&d, 0, sizeof(d));
	d.nr = nr;
	d.arch = AUDIT_ARCH_X86_64;
	memcpy(d.args, args, sizeof(d.args));
	for (size_t pc = 0; pc < len; pc++) {
		const struct sock_filter *i = &p[pc];

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (i->k > sizeof(d) - 4)
				return -1;
			memcpy(&a, (const char *)&d + i->k, 4);
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= i->k;
			break;
		case BPF_JMP | BPF_JA:
			pc += i->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += a > i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & i->k) != 0 ? i->jt : i->jf;
			break;
		case BPF_RET | BPF_K:
			*action = i->k;
			return 0;
		default:
			return -1;
		}
	}
	return -1;
}

#endif
