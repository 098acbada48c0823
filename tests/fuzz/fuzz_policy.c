/*
 * tests/fuzz/fuzz_policy.c - the policy (policy/policy.c: its sandbox
 * section, read by sandbox/sandbox.c with the Docker/OCI profile it may
 * carry, and its audit section; and the seccomp filter sandbox/sbfilter.c
 * compiles from it) on arbitrary bytes.
 *
 * Beyond "no crash, no undefined behaviour, no leak": a refusal has a code
 * and a message, owns nothing and leaves the defaults (nothing half-read);
 * an accepted policy respects every bound the sandbox and the audit log rely
 * on (absolute plain bind paths, non-root ids, non-zero counts, the budget
 * within its bounds); and whatever the profile says, its compiled filter
 * sends the calls the sandbox refuses to the listener (run in user space,
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

#include "../../policy/policy.h"
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

static int same_audit(const struct wd_policy_audit *a, const struct wd_policy_audit *b)
{
	return a->checkpoint_every == b->checkpoint_every && a->checkpoint_ms == b->checkpoint_ms &&
	       a->memory_bytes == b->memory_bytes && a->spill_bytes == b->spill_bytes &&
	       a->max_records == b->max_records && a->max_bytes == b->max_bytes &&
	       a->exec == b->exec;
}

static int audit_in_bounds(const struct wd_policy_audit *a)
{
	return a->checkpoint_every >= 1 && a->checkpoint_every <= WD_POLICY_CHECKPOINT_EVERY_MAX &&
	       a->checkpoint_ms >= 1 && a->checkpoint_ms <= WD_POLICY_CHECKPOINT_MS_MAX &&
	       a->memory_bytes >= WD_POLICY_MEMORY_BYTES_MIN &&
	       a->memory_bytes <= WD_POLICY_MEMORY_BYTES_MAX &&
	       a->spill_bytes <= WD_POLICY_SPILL_BYTES_MAX &&
	       a->max_records >= WD_POLICY_BUDGET_RECORDS_MIN &&
	       a->max_records <= WD_POLICY_BUDGET_RECORDS_MAX &&
	       a->max_bytes >= WD_POLICY_BUDGET_BYTES_MIN &&
	       a->max_bytes <= WD_POLICY_BUDGET_BYTES_MAX;
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
	struct wd_policy_audit defaults;
	struct wd_policy pol;
	const struct sup_sandbox *sb = &pol.sandbox;
	struct wd_err err;
	char buf[SUP_SB_WEAKENED_BYTES];
	size_t i = 0;

	wd_err_clear(&err);
	wd_policy_audit_defaults(&defaults);
	if (wd_policy_read((const char *)data, size, &pol, &err) < 0) {
		if (err.code <= 0 || err.msg[0] == '\0' || sb->has_profile ||
		    !same_audit(&pol.audit, &defaults))
			abort();
		return 0;
	}
	if (!audit_in_bounds(&pol.audit) || sb->exec_audit_off == pol.audit.exec)
		abort();
	if (sb->uid == 0 || sb->gid == 0 || sb->nofile == 0 || sb->nproc == 0 || sb->tmp_mib == 0 ||
	    sb->pids_max == 0 || sb->n_ro_binds > SUP_SB_MAX_BINDS)
		abort();
	for (size_t b = 0; b < sb->n_ro_binds; b++)
		if (!plain_path(sb->ro_binds[b]))
			abort();
	while (sup_sandbox_weakened(sb, &i, buf, sizeof(buf)) != NULL)
		if (i > 6 + SUP_SB_HARD_MAX)
			abort();
	if (sb->has_profile && !sb->seccomp_off)
		check_filter(sb);
	wd_policy_free(&pol);
	return 0;
}
