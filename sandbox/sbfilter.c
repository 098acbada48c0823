/*
 * sandbox/sbfilter.c - the agent's seccomp filter: compiled once with
 * libseccomp in the supervisor, loaded by the agent with a user-notification
 * listener (sbnotify.c answers and describes every notification).
 *
 * Reading the filter: the tables in sbtables.c are the policy. Everything not
 * allowed goes to the listener, whose answer is an errno: EPERM for the
 * named denials and the argument filters, ENOSYS for the rest (unknown or
 * newer syscalls), so a program probing a new syscall falls back as it
 * would on an older kernel. x32 and i386 calls (a different ABI under the
 * same process) go to the listener too and get ENOSYS. clone3 is answered
 * ENOSYS by the filter itself, without a record: C libraries probe it on
 * every thread or fork and fall back to clone, whose flags the filter can
 * see (clone3's are behind a pointer).
 *
 * Debugging a denial: the record names the syscall and its arguments;
 * nothing here ever turns a notification into success, and a debugging aid
 * that did would be an escape.
 */
#include "sandbox_priv.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/filter.h>

#define BPF_MAX_BYTES 65536L /* BPF_MAXINSNS (4096) instructions of 8 bytes, and room */

static int nr_of(const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	return nr >= 0 && nr < SUP_SB_SYSCALL_TABLE ? nr : -1;
}

/* True when the filter's own rules decide this syscall, not a profile's. */
static bool hard(const struct sup_sandbox *sb, const char *name)
{
	return sup_sb_is_hard(name) && !sup_sb_waived(sb, name);
}

static int rule(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned n,
		const struct scmp_arg_cmp *cmp, const char *name, struct wd_err *err)
{
	int rc = seccomp_rule_add_exact_array(ctx, action, nr, n, cmp);

	if (rc < 0)
		return wd_err_sys(err, -rc, "seccomp: rule for %s", name);
	return 0;
}

/*
 * ioctl allowed unless the low 32 bits of its request (the kernel reads an
 * `unsigned int cmd`, so the high bits must not matter) are one of `deny`:
 * the complement of a set of 32-bit values as a union of masked equalities,
 * one for each branch of the binary trie of the denied values that leads to
 * none of them (at most 32 rules per denied value).
 */
static int allow_low32_except(scmp_filter_ctx ctx, int nr, unsigned argi, const uint32_t *deny,
			      size_t n, int bit, uint32_t prefix, struct wd_err *err)
{
	uint32_t mask = ~0U << bit; /* bits bit..31 */

	for (uint32_t b = 0; b < 2; b++) {
		uint32_t want = prefix | (b << bit);
		bool reaches = false;

		for (size_t i = 0; i < n; i++)
			if ((deny[i] & mask) == want)
				reaches = true;
		if (!reaches) {
			struct scmp_arg_cmp c = SCMP_CMP(argi, SCMP_CMP_MASKED_EQ, mask, want);

			if (rule(ctx, SCMP_ACT_ALLOW, nr, 1, &c, "ioctl", err) < 0)
				return -1;
		} else if (bit > 0 &&
			   allow_low32_except(ctx, nr, argi, deny, n, bit - 1, want, err) < 0) {
			return -1;
		}
	}
	return 0;
}

static int arg_rules(scmp_filter_ctx ctx, const struct sup_sandbox *sb, struct sup_sb_errnos *e,
		     struct wd_err *err)
{
	int nr;

	if ((nr = nr_of("socket")) >= 0 && !sup_sb_waived(sb, "socket")) {
		e->by_nr[nr] = EPERM;
		for (size_t i = 0; i < SUP_SB_N_SOCKET_FAMILIES; i++) {
			struct scmp_arg_cmp c =
				SCMP_A0_64(SCMP_CMP_EQ, (uint64_t)sup_sb_socket_families[i]);

			if (rule(ctx, SCMP_ACT_ALLOW, nr, 1, &c, "socket", err) < 0)
				return -1;
		}
	}
	if ((nr = nr_of("socketpair")) >= 0 && !sup_sb_waived(sb, "socketpair")) {
		struct scmp_arg_cmp c = SCMP_A0_64(SCMP_CMP_EQ, AF_UNIX);

		e->by_nr[nr] = EPERM;
		if (rule(ctx, SCMP_ACT_ALLOW, nr, 1, &c, "socketpair", err) < 0)
			return -1;
	}
	if ((nr = nr_of("clone")) >= 0 && !sup_sb_waived(sb, "clone")) {
		struct scmp_arg_cmp c = SCMP_A0_64(SCMP_CMP_MASKED_EQ, CLONE_NS_FLAGS, 0);

		e->by_nr[nr] = EPERM;
		if (rule(ctx, SCMP_ACT_ALLOW, nr, 1, &c, "clone", err) < 0)
			return -1;
	}
	if ((nr = nr_of("ioctl")) >= 0 && !sup_sb_waived(sb, "ioctl")) {
		e->by_nr[nr] = EPERM;
		if (allow_low32_except(ctx, nr, 1, sup_sb_denied_ioctls, SUP_SB_N_DENIED_IOCTLS, 31,
				       0, err) < 0)
			return -1;
	}
	if ((nr = nr_of("personality")) >= 0 && !sup_sb_waived(sb, "personality")) {
		e->by_nr[nr] = EPERM;
		for (size_t i = 0; i < SUP_SB_N_PERSONALITIES; i++) {
			struct scmp_arg_cmp c = SCMP_A0_64(SCMP_CMP_EQ, sup_sb_personalities[i]);

			if (rule(ctx, SCMP_ACT_ALLOW, nr, 1, &c, "personality", err) < 0)
				return -1;
		}
	}
	if ((nr = nr_of("clone3")) >= 0 && !sup_sb_waived(sb, "clone3") &&
	    rule(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0, NULL, "clone3", err) < 0)
		return -1;
	return 0;
}

/* When execs are audited, an allowed execve or execveat goes to the
 * listener (what it asks is kept, then it goes on: sbexec.c records the
 * file), and so does memfd_create (made there, so that an exec of it is
 * seen too). The mark for by_nr, or 0. */
static uint16_t audit_mark(const struct sup_sandbox *sb, const char *name)
{
	if (sb->exec_audit_off)
		return 0;
	if (strcmp(name, "execve") == 0 || strcmp(name, "execveat") == 0)
		return SUP_SB_EXEC;
	return strcmp(name, "memfd_create") == 0 ? SUP_SB_MEMFD : 0;
}

static int builtin_rules(scmp_filter_ctx ctx, const struct sup_sandbox *sb, struct sup_sb_errnos *e,
			 struct wd_err *err)
{
	for (size_t i = 0; i < sup_sb_n_allowed; i++) {
		int nr = nr_of(sup_sb_allowed[i]);
		uint16_t mark = audit_mark(sb, sup_sb_allowed[i]);

		if (nr < 0)
			continue;
		/* The default goes to the listener already: it needs no rule. */
		if (mark != 0) {
			e->by_nr[nr] = mark;
			continue;
		}
		if (rule(ctx, SCMP_ACT_ALLOW, nr, 0, NULL, sup_sb_allowed[i], err) < 0)
			return -1;
	}
	return 0;
}

static uint32_t profile_action(enum sup_sc_action a)
{
	switch (a) {
	case SUP_SC_ACT_ALLOW:
		return SCMP_ACT_ALLOW;
	case SUP_SC_ACT_KILL:
	case SUP_SC_ACT_KILL_THREAD:
		return SCMP_ACT_KILL_THREAD;
	case SUP_SC_ACT_KILL_PROCESS:
		return SCMP_ACT_KILL_PROCESS;
	case SUP_SC_ACT_TRAP:
		return SCMP_ACT_TRAP;
	case SUP_SC_ACT_LOG:
		return SCMP_ACT_LOG;
	case SUP_SC_ACT_ERRNO:
	default:
		return SCMP_ACT_NOTIFY; /* answered with its errno, and recorded */
	}
}

static const enum scmp_compare ops[] = {
	[SUP_SC_CMP_NE] = SCMP_CMP_NE,
	[SUP_SC_CMP_LT] = SCMP_CMP_LT,
	[SUP_SC_CMP_LE] = SCMP_CMP_LE,
	[SUP_SC_CMP_EQ] = SCMP_CMP_EQ,
	[SUP_SC_CMP_GE] = SCMP_CMP_GE,
	[SUP_SC_CMP_GT] = SCMP_CMP_GT,
	[SUP_SC_CMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

/* As runc: conditions on distinct arguments are one rule (all must hold);
 * several on the same argument are one rule each (any may hold). */
static int group_rules(scmp_filter_ctx ctx, const struct sup_sc_group *g, int nr, uint32_t action,
		       const char *name, struct wd_err *err)
{
	struct scmp_arg_cmp c[SUP_SC_MAX_ARGS];
	bool same_index = false;

	for (size_t i = 0; i < g->n_args; i++) {
		const struct sup_sc_arg *a = &g->args[i];

		c[i] = (struct scmp_arg_cmp){.arg = a->index,
					     .op = ops[a->op],
					     .datum_a = a->value,
					     .datum_b = a->value_two};
		for (size_t j = 0; j < i; j++)
			if (g->args[j].index == a->index)
				same_index = true;
	}
	if (!same_index)
		return rule(ctx, action, nr, (unsigned)g->n_args, c, name, err);
	for (size_t i = 0; i < g->n_args; i++)
		if (rule(ctx, action, nr, 1, &c[i], name, err) < 0)
			return -1;
	return 0;
}

static int profile_rules(scmp_filter_ctx ctx, const struct sup_sandbox *sb, uint32_t dflt,
			 struct sup_sb_errnos *e, struct wd_err *err)
{
	const struct sup_sc_profile *p = &sb->profile;

	for (size_t gi = 0; gi < p->n_groups; gi++) {
		const struct sup_sc_group *g = &p->groups[gi];

		for (size_t ni = 0; ni < g->n_names; ni++) {
			const char *name = g->names[ni];
			uint32_t action = profile_action(g->action);
			uint16_t mark = audit_mark(sb, name);
			int nr = nr_of(name);

			/* Unknown to this libseccomp or this ABI: nothing to filter. */
			if (nr < 0 || hard(sb, name))
				continue;
			if (action == SCMP_ACT_ALLOW && mark != 0) {
				e->by_nr[nr] = mark;
				action = SCMP_ACT_NOTIFY;
			} else if (action == SCMP_ACT_NOTIFY)
				e->by_nr[nr] = (uint16_t)(g->has_errno_ret ? g->errno_ret : EPERM);
			if (action == dflt)
				continue; /* libseccomp refuses a rule that is the default */
			if (group_rules(ctx, g, nr, action, name, err) < 0)
				return -1;
		}
	}
	return 0;
}

/* The filter as classic BPF, through a memfd (libseccomp 2.5 exports to an fd). */
static int export(scmp_filter_ctx ctx, struct sup_sb_filter *f, struct wd_err *err)
{
	int fd = memfd_create("warden-seccomp", MFD_CLOEXEC), rc;
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return wd_err_sys(err, errno, "seccomp: memfd");
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0) {
		(void)close(fd);
		return wd_err_sys(err, -rc, "seccomp: export the filter");
	}
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > BPF_MAX_BYTES ||
	    st.st_size % (off_t)sizeof(struct sock_filter) != 0) {
		(void)close(fd);
		return wd_err_set(err, E2BIG, "seccomp: the filter has an unusable size");
	}
	f->prog = malloc((size_t)st.st_size);
	if (f->prog == NULL) {
		(void)close(fd);
		return wd_err_set(err, ENOMEM, "seccomp: filter buffer");
	}
	n = pread(fd, f->prog, (size_t)st.st_size, 0);
	(void)close(fd);
	if (n != st.st_size)
		return wd_err_set(err, EIO, "seccomp: read the exported filter");
	f->len = (unsigned short)((size_t)st.st_size / sizeof(struct sock_filter));
	return 0;
}

static uint32_t default_action(const struct sup_sandbox *sb, struct sup_sb_errnos *e)
{
	if (!sb->has_profile) {
		e->dflt = ENOSYS;
		return SCMP_ACT_NOTIFY;
	}
	e->dflt = (uint16_t)(sb->profile.has_default_errno_ret ? sb->profile.default_errno_ret
							       : EPERM);
	return profile_action(sb->profile.default_action);
}

/*
 * The built-in filter as tools/mkfilter.c compiled it at build time, with
 * these tables and this libseccomp (build/gen/sbfilter_builtin.c). Weak:
 * the generator itself links without them and compiles at run time.
 */
extern const unsigned short sup_sb_builtin_len __attribute__((weak));
extern const struct sock_filter sup_sb_builtin_prog[] __attribute__((weak));
extern const uint16_t sup_sb_builtin_errnos[SUP_SB_SYSCALL_TABLE] __attribute__((weak));
extern const uint16_t sup_sb_builtin_dflt __attribute__((weak));

bool sup_sb_filter_prebuilt(void)
{
	/* One generated object defines all four, or none is linked. */
	return &sup_sb_builtin_len != NULL && &sup_sb_builtin_dflt != NULL;
}

int sup_sb_filter_build(const struct sup_sandbox *sb, struct sup_sb_filter *f, struct wd_err *err)
{
	size_t bytes;

	if (sb->has_profile || sb->exec_audit_off || !sup_sb_filter_prebuilt())
		return sup_sb_filter_compile(sb, f, err);
	memset(f, 0, sizeof(*f));
	bytes = (size_t)sup_sb_builtin_len * sizeof(struct sock_filter);
	f->prog = malloc(bytes);
	if (f->prog == NULL)
		return wd_err_set(err, ENOMEM, "seccomp: filter buffer");
	memcpy(f->prog, sup_sb_builtin_prog, bytes);
	f->len = sup_sb_builtin_len;
	memcpy(f->errnos.by_nr, sup_sb_builtin_errnos, sizeof(f->errnos.by_nr));
	f->errnos.dflt = sup_sb_builtin_dflt;
	return 0;
}

int sup_sb_filter_compile(const struct sup_sandbox *sb, struct sup_sb_filter *f, struct wd_err *err)
{
	scmp_filter_ctx ctx;
	uint32_t dflt;
	int rc = -1;

	memset(f, 0, sizeof(*f));
	dflt = default_action(sb, &f->errnos);
	ctx = seccomp_init(dflt);
	if (ctx == NULL)
		return wd_err_set(err, EINVAL, "seccomp: libseccomp cannot start a filter");
	/* x32 calls (x86_64 with bit 30) and i386 calls: to the listener. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_NOTIFY) < 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0) {
		(void)wd_err_set(err, EINVAL, "seccomp: filter attributes");
		goto out;
	}
	for (size_t i = 0; i < sup_sb_n_hard_denied; i++) {
		int nr = nr_of(sup_sb_hard_denied[i]);

		if (nr < 0 || sup_sb_waived(sb, sup_sb_hard_denied[i]))
			continue;
		f->errnos.by_nr[nr] = EPERM;
		if (dflt != SCMP_ACT_NOTIFY &&
		    rule(ctx, SCMP_ACT_NOTIFY, nr, 0, NULL, sup_sb_hard_denied[i], err) < 0)
			goto out;
	}
	if (arg_rules(ctx, sb, &f->errnos, err) < 0)
		goto out;
	if ((sb->has_profile ? profile_rules(ctx, sb, dflt, &f->errnos, err)
			     : builtin_rules(ctx, sb, &f->errnos, err)) < 0)
		goto out;
	rc = export(ctx, f, err);
out:
	seccomp_release(ctx);
	if (rc < 0)
		sup_sb_filter_free(f);
	return rc;
}

void sup_sb_filter_free(struct sup_sb_filter *f)
{
	free(f->prog);
	f->prog = NULL;
	f->len = 0;
}

int sup_sb_filter_load(const struct sup_sb_filter *f)
{
	struct sock_fprog prog = {.len = f->len, .filter = f->prog};
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
			  &prog);

	return fd < 0 ? -errno : (int)fd;
}
