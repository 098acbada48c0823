/*
 * tests/fuzz/fuzz_policy.c - the policy's sandbox section
 * (sandbox/sandbox.c, with the Docker/OCI profile it may carry, and the
 * seccomp filter sandbox/sbfilter.c compiles from it) on arbitrary bytes.
 *
 * Beyond "no crash, no undefined behaviour, no leak": a refusal has a code
 * and a message and owns nothing; an accepted policy respects every bound
 * the sandbox relies on (absolute plain bind paths, non-root ids, non-zero
 * counts); and whatever the profile says, its compiled filter sends the
 * calls the sandbox refuses to the listener (run in user space,
 * tests/lib/bpfrun.h), the ones of a name the policy waived aside.
 */
#include <linux/personality.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "../../sandbox/sandbox.h"
#include "../lib/bpfrun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Absolute, no empty, "." or ".." component, shorter than the bound. */
static int plain_path(const char *p)
{
	size_t len = strlen(p);

	if (p[0] != '/' || len < 2 || len >= SUP_SB_PATH_MAX)
		return 0;
	for (const char *c = p; *c != '\0';) {
		size_t n;

		c++; /* the '/' */
		n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		c += n;
	}
	return 1;
}

/* Calls every filter must refuse through the listener, whatever the profile. */
static const struct {
	const char *name;
	uint64_t a0, a1;
} refused[] = {
	{"socket", AF_NETLINK, 0},
	{"socket", (1ULL << 32) | AF_INET, 0},
	{"socketpair", AF_INET, 0},
	{"clone", CLONE_NEWUSER | CLONE_NEWNET, 0},
	{"ioctl", 0, TIOCSTI},
	{"ioctl", 1, (1ULL << 32) | TIOCLINUX},
	{"personality", READ_IMPLIES_EXEC, 0},
	{"ptrace", 0, 0},
	{"unshare", 0, 0},
};

static void check_filter(const struct sup_sandbox *sb)
{
	struct sup_sb_filter f;
	struct wd_err err;

	if (sup_sb_filter_compile(sb, &f, &err) < 0) {
		if (err.code <= 0 || err.msg[0] == '\0' || f.prog != NULL)
			abort();
		return;
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const uint64_t args[6] = {refused[i].a0, refused[i].a1, 0, 0, 0, 0};
		uint32_t action;

		if (sup_sb_waived(sb, refused[i].name))
			continue;
		if (wd_bpf_run(f.prog, f.len, seccomp_syscall_resolve_name(refused[i].name), args,
			       &action) < 0 ||
		    action != SECCOMP_RET_USER_NOTIF)
			abort();
	}
	sup_sb_filter_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sup_sandbox sb;
	struct wd_err err;
	char buf[128];
	size_t i = 0;

	sup_sandbox_defaults(&sb);
	if (sup_sandbox_policy((const char *)data, size, &sb, &err) < 0) {
		if (err.code <= 0 || err.msg[0] == '\0' || sb.has_profile)
			abort();
		return 0;
	}
	if (sb.uid == 0 || sb.gid == 0 || sb.nofile == 0 || sb.nproc == 0 || sb.tmp_mib == 0 ||
	    sb.pids_max == 0 || sb.n_ro_binds > SUP_SB_MAX_BINDS)
		abort();
	for (size_t b = 0; b < sb.n_ro_binds; b++)
		if (!plain_path(sb.ro_binds[b]))
			abort();
	while (sup_sandbox_weakened(&sb, &i, buf, sizeof(buf)) != NULL)
		if (i > 6 + SUP_SB_HARD_MAX)
			abort();
	if (sb.has_profile && !sb.seccomp_off)
		check_filter(&sb);
	sup_sandbox_free(&sb);
	return 0;
}
