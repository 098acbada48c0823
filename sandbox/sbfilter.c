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
 * Under a Docker/OCI profile, whatever its default and its groups, the
 * filter decides the names it owns: every call of a hard denial and of
 * clone3, the values an argument filter refuses, and, with the exec audit
 * on, every exec the profile would let run (to the listener, recorded,
 * then let run). An argument filter is two unions of single comparisons
 * on one argument, the values allowed and the values refused, which
 * together cover every 64-bit value exactly once. The refused half is
 * compiled to the listener under any default, and a profile's rules for
 * that syscall are narrowed to the allowed half, so the two never overlap:
 * no default and no order of evaluation lets a refused value through.
 * libseccomp does not settle conflicting rules by strictness (an
 * unconditional rule replaces the conditional rules of its syscall, a
 * conditional rule after an unconditional one is dropped without an error;
 * tests/unit/test_sandbox.c shows both), so rules that overlapped with
 * different actions would decide by the order they were added in.
 * What a profile asks that this cannot give is refused with the group
 * and the reason (owned_check(), watched_rules(), actions_available()).
 *
 * With egress on (sandbox.h: sup_sandbox.egress), connect, sendmsg,
 * sendmmsg and sendto with an address go to the listener too, whatever the
 * default, when the allowlist or the profile allows them: the listener
 * lets a call to this host go on and refuses, and records, any other
 * (sbnet.c). Off, the filter is exactly what it was without egress.
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
#define MAX_PIECES 96        /* comparisons in one half of an argument filter (personality: 65) */

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

/* ---- argument filters ------------------------------------------------------ */

/*
 * What the sandbox allows of one argument of one syscall, and what it
 * refuses: each half a union of single comparisons (libseccomp takes one
 * comparison per argument in a rule), the two together covering every
 * 64-bit value exactly once.
 */
struct argf {
	const char *name;
	unsigned arg;
	size_t n_allow, n_refuse;
	struct scmp_arg_cmp allow[MAX_PIECES], refuse[MAX_PIECES];
};

static int piece(struct scmp_arg_cmp *set, size_t *n, unsigned arg, enum scmp_compare op,
		 uint64_t a, uint64_t b)
{
	if (*n >= MAX_PIECES)
		return -E2BIG;
	set[(*n)++] = (struct scmp_arg_cmp){.arg = arg, .op = op, .datum_a = a, .datum_b = b};
	return 0;
}

/* Refused: lo..hi (hi below 2^64 - 1), as aligned blocks of masked equality. */
static int refuse_range(struct argf *f, uint64_t lo, uint64_t hi)
{
	for (;;) {
		uint64_t size = lo != 0 ? lo & (~lo + 1) : 1ULL << 63; /* lo's alignment */
		int rc;

		while (size - 1 > hi - lo)
			size >>= 1;
		rc = piece(f->refuse, &f->n_refuse, f->arg, SCMP_CMP_MASKED_EQ, ~(size - 1), lo);
		if (rc < 0 || hi - lo == size - 1)
			return rc;
		lo += size;
	}
}

/* Allowed: exactly the values `v` (ascending). Refused: the gaps between
 * them, and everything above the last. */
static int exact_values(struct argf *f, const uint64_t *v, size_t n)
{
	uint64_t lo = 0;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (i > 0 && v[i] <= v[i - 1])
			return -EINVAL;
		if ((rc = piece(f->allow, &f->n_allow, f->arg, SCMP_CMP_EQ, v[i], 0)) < 0 ||
		    (v[i] > lo && (rc = refuse_range(f, lo, v[i] - 1)) < 0))
			return rc;
		lo = v[i] + 1;
	}
	if (n == 0 || v[n - 1] == UINT64_MAX)
		return 0;
	return piece(f->refuse, &f->n_refuse, f->arg, SCMP_CMP_GT, v[n - 1], 0);
}

/* Allowed: none of `flags` set. Refused: any of them, one comparison each. */
static int flags_clear(struct argf *f, uint64_t flags)
{
	int rc = piece(f->allow, &f->n_allow, f->arg, SCMP_CMP_MASKED_EQ, flags, 0);

	for (uint64_t b = 1; rc == 0 && b != 0; b <<= 1)
		if ((flags & b) != 0)
			rc = piece(f->refuse, &f->n_refuse, f->arg, SCMP_CMP_MASKED_EQ, b, b);
	return rc;
}

/*
 * Compared on the low 32 bits only (the kernel reads an `unsigned int cmd`,
 * so the high bits must not matter). Refused: the values `deny`. Allowed:
 * the rest, as the branches of the binary trie of the denied values that
 * lead to none of them (at most 32 per denied value).
 */
static int low32_except(struct argf *f, const uint32_t *deny, size_t n, int bit, uint32_t prefix)
{
	uint32_t mask = ~0U << bit; /* bits bit..31 */
	int rc = 0;

	for (uint32_t b = 0; b < 2 && rc == 0; b++) {
		uint32_t want = prefix | (b << bit);
		bool reaches = false;

		for (size_t i = 0; i < n; i++)
			reaches |= (deny[i] & mask) == want;
		if (!reaches)
			rc = piece(f->allow, &f->n_allow, f->arg, SCMP_CMP_MASKED_EQ, mask, want);
		else if (bit > 0)
			rc = low32_except(f, deny, n, bit - 1, want);
		else
			rc = piece(f->refuse, &f->n_refuse, f->arg, SCMP_CMP_MASKED_EQ, mask, want);
	}
	return rc;
}

/* The argument filters of sbtables.c (sup_sb_arg_filtered, clone3 aside). */
enum { ARGF_SOCKET, ARGF_SOCKETPAIR, ARGF_CLONE, ARGF_IOCTL, ARGF_PERSONALITY, N_ARGF };

static int argf_build(int which, struct argf *f)
{
	uint64_t v[SUP_SB_N_SOCKET_FAMILIES + SUP_SB_N_PERSONALITIES];

	memset(f, 0, sizeof(*f));
	switch (which) {
	case ARGF_SOCKET:
		f->name = "socket";
		for (size_t i = 0; i < SUP_SB_N_SOCKET_FAMILIES; i++)
			v[i] = (uint64_t)sup_sb_socket_families[i];
		return exact_values(f, v, SUP_SB_N_SOCKET_FAMILIES);
	case ARGF_SOCKETPAIR:
		f->name = "socketpair";
		v[0] = AF_UNIX;
		return exact_values(f, v, 1);
	case ARGF_CLONE:
		f->name = "clone";
		return flags_clear(f, CLONE_NS_FLAGS);
	case ARGF_IOCTL:
		f->name = "ioctl";
		f->arg = 1;
		return low32_except(f, sup_sb_denied_ioctls, SUP_SB_N_DENIED_IOCTLS, 31, 0);
	default:
		f->name = "personality";
		for (size_t i = 0; i < SUP_SB_N_PERSONALITIES; i++)
			v[i] = sup_sb_personalities[i];
		return exact_values(f, v, SUP_SB_N_PERSONALITIES);
	}
}

/* One of the argument filters (not a hard denial, not clone3). */
static bool is_argf(const char *name)
{
	return sup_sb_hard_index(name) >= (int)sup_sb_n_hard_denied && strcmp(name, "clone3") != 0;
}

/* ---- a profile's rules ---------------------------------------------------- */

static const enum scmp_compare ops[] = {
	[SUP_SC_CMP_NE] = SCMP_CMP_NE,
	[SUP_SC_CMP_LT] = SCMP_CMP_LT,
	[SUP_SC_CMP_LE] = SCMP_CMP_LE,
	[SUP_SC_CMP_EQ] = SCMP_CMP_EQ,
	[SUP_SC_CMP_GE] = SCMP_CMP_GE,
	[SUP_SC_CMP_GT] = SCMP_CMP_GT,
	[SUP_SC_CMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

/* One rule: comparisons on distinct arguments, all of which must hold. */
struct prule {
	unsigned n;
	struct scmp_arg_cmp c[SUP_SC_MAX_ARGS];
};

/* A group's rules as runc makes them: conditions on distinct arguments are
 * one rule (all must hold); several on the same argument one rule each (any
 * may hold). Returns how many (one, with no condition, for a plain group). */
static size_t group_split(const struct sup_sc_group *g, struct prule r[SUP_SC_MAX_ARGS])
{
	bool same_index = false;

	r[0].n = (unsigned)g->n_args;
	for (size_t i = 0; i < g->n_args; i++) {
		const struct sup_sc_arg *a = &g->args[i];

		r[0].c[i] = (struct scmp_arg_cmp){.arg = a->index,
						  .op = ops[a->op],
						  .datum_a = a->value,
						  .datum_b = a->value_two};
		for (size_t j = 0; j < i; j++)
			same_index |= g->args[j].index == a->index;
	}
	if (!same_index)
		return 1;
	for (size_t i = g->n_args; i-- > 0;) {
		r[i].c[0] = r[0].c[i];
		r[i].n = 1;
	}
	return g->n_args;
}

static bool holds(const struct scmp_arg_cmp *c, uint64_t x)
{
	switch (c->op) {
	case SCMP_CMP_NE:
		return x != c->datum_a;
	case SCMP_CMP_LT:
		return x < c->datum_a;
	case SCMP_CMP_LE:
		return x <= c->datum_a;
	case SCMP_CMP_EQ:
		return x == c->datum_a;
	case SCMP_CMP_GE:
		return x >= c->datum_a;
	case SCMP_CMP_GT:
		return x > c->datum_a;
	case SCMP_CMP_MASKED_EQ: /* libseccomp masks the datum too */
		return (x & c->datum_a) == (c->datum_b & c->datum_a);
	default:
		return false;
	}
}

/* How a profile's comparison `p` meets `leaf`, one comparison of an allowed
 * half (a value, or a masked equality): flags, 0 when only in part. */
enum { MEETS_NONE = 1, LEAF_IN_P = 2, P_IN_LEAF = 4 };

static int meets(const struct scmp_arg_cmp *p, const struct scmp_arg_cmp *leaf)
{
	uint64_t m = leaf->datum_a, d = leaf->datum_b, hi = d | ~m, a = p->datum_a;

	if (leaf->op == SCMP_CMP_EQ) { /* the one value leaf->datum_a */
		uint64_t v = leaf->datum_a;
		bool only = (p->op == SCMP_CMP_EQ && a == v) ||
			    (p->op == SCMP_CMP_MASKED_EQ && a == UINT64_MAX && p->datum_b == v);

		return !holds(p, v) ? MEETS_NONE : only ? LEAF_IN_P | P_IN_LEAF : LEAF_IN_P;
	}
	/* The leaf: the values x with (x & m) == d, from d up to d | ~m. */
	switch (p->op) {
	case SCMP_CMP_EQ:
		return (a & m) == d ? P_IN_LEAF : MEETS_NONE;
	case SCMP_CMP_NE:
		return (a & m) != d ? LEAF_IN_P : 0;
	case SCMP_CMP_MASKED_EQ: {
		uint64_t b = p->datum_b & a; /* as libseccomp compiles it */
		int r = 0;

		if (((b ^ d) & a & m) != 0)
			return MEETS_NONE;
		if ((a & ~m) == 0 && (d & a) == b)
			r |= LEAF_IN_P;
		if ((m & ~a) == 0 && (b & m) == d)
			r |= P_IN_LEAF;
		return r;
	}
	case SCMP_CMP_LT:
		return hi < a ? LEAF_IN_P : d >= a ? MEETS_NONE : 0;
	case SCMP_CMP_LE:
		return hi <= a ? LEAF_IN_P : d > a ? MEETS_NONE : 0;
	case SCMP_CMP_GT:
		return d > a ? LEAF_IN_P : hi <= a ? MEETS_NONE : 0;
	case SCMP_CMP_GE:
		return d >= a ? LEAF_IN_P : hi < a ? MEETS_NONE : 0;
	default:
		return 0;
	}
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

static bool allowing(enum sup_sc_action a)
{
	return a == SUP_SC_ACT_ALLOW || a == SUP_SC_ACT_LOG;
}

/* A group's errno as the listener gives it. */
static uint16_t group_errno(const struct sup_sc_group *g)
{
	return (uint16_t)(g->has_errno_ret ? g->errno_ret : EPERM);
}

static bool names(const struct sup_sc_group *g, const char *name)
{
	for (size_t i = 0; i < g->n_names; i++)
		if (strcmp(g->names[i], name) == 0)
			return true;
	return false;
}

/*
 * What a group may say of a syscall the sandbox answers itself, `own` being
 * its errno there: allowing is narrowed to what the sandbox allows; an errno
 * other than `own` cannot be given (the listener answers one errno per
 * syscall), and a kill or a trap cannot be honoured where the sandbox
 * refuses (`reaches`): its answer there is a recorded errno.
 */
static int owned_check(const struct sup_sc_group *g, const char *name, int own, bool reaches,
		       struct wd_err *err)
{
	const char *own_name = own == ENOSYS ? "ENOSYS" : "EPERM";

	if (g->action == SUP_SC_ACT_ERRNO && group_errno(g) != own)
		return wd_err_set(
			err, EINVAL,
			"seccomp: profile syscalls[%zu] (%s): errnoRet %u cannot be "
			"honoured: the sandbox answers %s itself, with %s (waive %s to let "
			"the profile decide)",
			g->source_index, name, (unsigned)group_errno(g), name, own_name, name);
	if (!allowing(g->action) && g->action != SUP_SC_ACT_ERRNO && reaches)
		return wd_err_set(
			err, EINVAL,
			"seccomp: profile syscalls[%zu] (%s): %s cannot be honoured: the "
			"sandbox refuses these calls itself, with a recorded %s (waive %s "
			"to let the profile decide)",
			g->source_index, name, sup_sc_action_name(g->action), own_name, name);
	return 0;
}

/* A group's rules for an argument-filtered syscall, narrowed to the values
 * the sandbox allows (the refused ones have rules of their own). */
static int narrowed_rules(scmp_filter_ctx ctx, const struct argf *f, const struct sup_sc_group *g,
			  int nr, uint32_t dflt, struct wd_err *err)
{
	struct prule r[SUP_SC_MAX_ARGS];
	size_t n = group_split(g, r);
	uint32_t action = profile_action(g->action);
	int rc;

	for (size_t i = 0; i < n; i++) {
		const struct scmp_arg_cmp *p = NULL;
		unsigned at = r[i].n;
		bool within = false;

		for (unsigned j = 0; j < r[i].n; j++)
			if (r[i].c[j].arg == f->arg) {
				p = &r[i].c[j];
				at = j;
			}
		for (size_t k = 0; p != NULL && k < f->n_allow; k++)
			within |= (meets(p, &f->allow[k]) & P_IN_LEAF) != 0;
		if ((rc = owned_check(g, f->name, EPERM, !within, err)) < 0)
			return rc;
		for (size_t k = 0; k < f->n_allow; k++) {
			int m = p != NULL ? meets(p, &f->allow[k]) : LEAF_IN_P;
			struct prule x = r[i];

			if ((m & MEETS_NONE) != 0)
				continue;
			if ((m & LEAF_IN_P) != 0) {
				x.c[at] = f->allow[k];
				x.n = at == r[i].n ? r[i].n + 1 : r[i].n;
			} else if ((m & P_IN_LEAF) == 0) {
				return wd_err_set(
					err, EINVAL,
					"seccomp: profile syscalls[%zu] (%s): its condition on "
					"argument %u meets the values the sandbox allows only "
					"in part, which one rule cannot say (waive %s to let "
					"the profile decide)",
					g->source_index, f->name, f->arg, f->name);
			}
			if (action != dflt &&
			    (rc = rule(ctx, action, nr, x.n, x.c, f->name, err)) < 0)
				return rc;
		}
	}
	return 0;
}

/*
 * The argument filters, whatever the default: the refused values to the
 * listener (EPERM), the allowed ones as the profile says (the built-in
 * allowlist: allowed). clone3 is answered ENOSYS by the filter.
 */
static int arg_rules(scmp_filter_ctx ctx, const struct sup_sandbox *sb, uint32_t dflt,
		     struct sup_sb_errnos *e, struct wd_err *err)
{
	struct argf f;
	int nr, rc;

	for (int w = 0; w < N_ARGF; w++) {
		if ((rc = argf_build(w, &f)) < 0)
			return wd_err_set(err, -rc, "seccomp: the %s filter's table", f.name);
		if ((nr = nr_of(f.name)) < 0 || sup_sb_waived(sb, f.name))
			continue;
		e->by_nr[nr] = EPERM;
		for (size_t i = 0; dflt != SCMP_ACT_NOTIFY && i < f.n_refuse; i++)
			if ((rc = rule(ctx, SCMP_ACT_NOTIFY, nr, 1, &f.refuse[i], f.name, err)) < 0)
				return rc;
		for (size_t i = 0; !sb->has_profile && dflt != SCMP_ACT_ALLOW && i < f.n_allow; i++)
			if ((rc = rule(ctx, SCMP_ACT_ALLOW, nr, 1, &f.allow[i], f.name, err)) < 0)
				return rc;
		for (size_t gi = 0; sb->has_profile && gi < sb->profile.n_groups; gi++)
			if (names(&sb->profile.groups[gi], f.name) &&
			    (rc = narrowed_rules(ctx, &f, &sb->profile.groups[gi], nr, dflt, err)) <
				    0)
				return rc;
	}
	if ((nr = nr_of("clone3")) >= 0 && !sup_sb_waived(sb, "clone3") &&
	    (rc = rule(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0, NULL, "clone3", err)) < 0)
		return rc;
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

/* When egress is on, the calls that name where bytes go: to the listener,
 * which reads the address (sbnet.c). sendto without one (send(2), most of
 * a TCP stream's calls) is left to the filter, which sees that argument. */
static const char *const net_calls[] = {"connect", "sendto", "sendmsg", "sendmmsg"};
#define SENDTO_ADDR_ARG 4

static uint16_t net_mark(const struct sup_sandbox *sb, const char *name)
{
	for (size_t i = 0; sb->egress && i < sizeof(net_calls) / sizeof(net_calls[0]); i++)
		if (strcmp(name, net_calls[i]) == 0)
			return SUP_SB_NET;
	return 0;
}

/* The listener's mark for a call it must see even when allowed, or 0. */
static uint16_t watch_mark(const struct sup_sandbox *sb, const char *name)
{
	uint16_t m = audit_mark(sb, name);

	return m != 0 ? m : net_mark(sb, name);
}

/* sendto with an address (to the listener) and without one (`allow`). */
static int sendto_rules(scmp_filter_ctx ctx, int nr, uint32_t allow, uint32_t dflt,
			struct wd_err *err)
{
	struct scmp_arg_cmp none = {.arg = SENDTO_ADDR_ARG, .op = SCMP_CMP_EQ, .datum_a = 0};
	struct scmp_arg_cmp some = {.arg = SENDTO_ADDR_ARG, .op = SCMP_CMP_NE, .datum_a = 0};
	int rc = 0;

	if (allow != dflt)
		rc = rule(ctx, allow, nr, 1, &none, "sendto", err);
	if (rc == 0 && dflt != SCMP_ACT_NOTIFY)
		rc = rule(ctx, SCMP_ACT_NOTIFY, nr, 1, &some, "sendto", err);
	return rc;
}

static int builtin_rules(scmp_filter_ctx ctx, const struct sup_sandbox *sb, struct sup_sb_errnos *e,
			 struct wd_err *err)
{
	for (size_t i = 0; i < sup_sb_n_allowed; i++) {
		int nr = nr_of(sup_sb_allowed[i]), rc;
		uint16_t mark = watch_mark(sb, sup_sb_allowed[i]);

		if (nr < 0)
			continue;
		if (mark == SUP_SB_NET && strcmp(sup_sb_allowed[i], "sendto") == 0) {
			e->by_nr[nr] = mark;
			if ((rc = sendto_rules(ctx, nr, SCMP_ACT_ALLOW, SCMP_ACT_NOTIFY, err)) < 0)
				return rc;
			continue;
		}
		/* The default goes to the listener already: it needs no rule. */
		if (mark != 0) {
			e->by_nr[nr] = mark;
			continue;
		}
		if ((rc = rule(ctx, SCMP_ACT_ALLOW, nr, 0, NULL, sup_sb_allowed[i], err)) < 0)
			return rc;
	}
	return 0;
}

/* The profile's first group naming `call` (libseccomp keeps the first
 * unconditional rule of a syscall), or NULL: its default decides. A group
 * with conditions is refused: the audit decides per syscall. */
static int exec_group(const struct sup_sc_profile *p, const char *call, bool net,
		      const struct sup_sc_group **first, struct wd_err *err)
{
	*first = NULL;
	for (size_t gi = 0; gi < p->n_groups; gi++) {
		const struct sup_sc_group *g = &p->groups[gi];

		if (!names(g, call))
			continue;
		if (g->n_args > 0)
			return wd_err_set(
				err, EINVAL,
				"seccomp: profile syscalls[%zu] (%s): argument conditions "
				"cannot be compiled with %s on (the supervisor sees every "
				"such call the profile lets run): drop them, or %s",
				g->source_index, call, net ? "egress" : "the exec audit",
				net ? "the policy's egress section" : "set audit.exec = false");
		if (*first == NULL)
			*first = g;
	}
	return 0;
}

/*
 * The calls the listener watches under a profile: execve, execveat and
 * memfd_create when audited, connect, sendto, sendmsg and sendmmsg when
 * egress is on. The profile's verdict stands, and every call it would let
 * run goes to the listener (an exec recorded and let run, a memfd made
 * there, a network call's address checked; sendto only with an address).
 */
static int watched_rules(scmp_filter_ctx ctx, const struct sup_sandbox *sb, uint32_t dflt,
			 struct sup_sb_errnos *e, struct wd_err *err)
{
	static const char *const calls[] = {"execve", "execveat", "memfd_create", "connect",
					    "sendto", "sendmsg",  "sendmmsg"};

	for (size_t c = 0; c < sizeof(calls) / sizeof(calls[0]); c++) {
		const struct sup_sc_group *first;
		enum sup_sc_action verdict;
		uint16_t mark = watch_mark(sb, calls[c]);
		uint32_t action;
		int nr = nr_of(calls[c]), rc;

		if (nr < 0 || mark == 0)
			continue;
		if ((rc = exec_group(&sb->profile, calls[c], mark == SUP_SB_NET, &first, err)) < 0)
			return rc;
		verdict = first != NULL ? first->action : sb->profile.default_action;
		action = allowing(verdict) ? SCMP_ACT_NOTIFY : profile_action(verdict);
		if (allowing(verdict))
			e->by_nr[nr] = mark;
		else if (first != NULL && action == SCMP_ACT_NOTIFY)
			e->by_nr[nr] = group_errno(first);
		if (allowing(verdict) && mark == SUP_SB_NET && strcmp(calls[c], "sendto") == 0) {
			if ((rc = sendto_rules(ctx, nr, profile_action(verdict), dflt, err)) < 0)
				return rc;
			continue;
		}
		if (action != dflt && (rc = rule(ctx, action, nr, 0, NULL, calls[c], err)) < 0)
			return rc;
	}
	return 0;
}

/* The profile's groups, but for the names the sandbox decides itself. */
static int profile_rules(scmp_filter_ctx ctx, const struct sup_sandbox *sb, uint32_t dflt,
			 struct sup_sb_errnos *e, struct wd_err *err)
{
	const struct sup_sc_profile *p = &sb->profile;

	for (size_t gi = 0; gi < p->n_groups; gi++) {
		const struct sup_sc_group *g = &p->groups[gi];
		uint32_t action = profile_action(g->action);
		struct prule r[SUP_SC_MAX_ARGS];
		size_t n = group_split(g, r);

		for (size_t ni = 0; ni < g->n_names; ni++) {
			const char *name = g->names[ni];
			int nr = nr_of(name), rc;

			/* Unknown to this libseccomp or this ABI: nothing to filter. */
			if (nr < 0 || watch_mark(sb, name) != 0 ||
			    (hard(sb, name) && is_argf(name)))
				continue;
			if (hard(sb, name)) { /* a hard denial, or clone3 */
				rc = owned_check(g, name,
						 strcmp(name, "clone3") == 0 ? ENOSYS : EPERM, true,
						 err);
				if (rc < 0)
					return rc;
				continue;
			}
			if (action == SCMP_ACT_NOTIFY)
				e->by_nr[nr] = group_errno(g);
			for (size_t i = 0; action != dflt && i < n; i++)
				if ((rc = rule(ctx, action, nr, r[i].n, r[i].c, name, err)) < 0)
					return rc;
		}
	}
	return watched_rules(ctx, sb, dflt, e, err);
}

/* The hard denials: every call to the listener, EPERM, whatever the default. */
static int hard_rules(scmp_filter_ctx ctx, const struct sup_sandbox *sb, uint32_t dflt,
		      struct sup_sb_errnos *e, struct wd_err *err)
{
	for (size_t i = 0; i < sup_sb_n_hard_denied; i++) {
		int nr = nr_of(sup_sb_hard_denied[i]), rc;

		if (nr < 0 || sup_sb_waived(sb, sup_sb_hard_denied[i]))
			continue;
		e->by_nr[nr] = EPERM;
		if (dflt != SCMP_ACT_NOTIFY &&
		    (rc = rule(ctx, SCMP_ACT_NOTIFY, nr, 0, NULL, sup_sb_hard_denied[i], err)) < 0)
			return rc;
	}
	return 0;
}

/* Every action the profile names is one this kernel has (an older kernel
 * lacks SCMP_ACT_LOG and SCMP_ACT_KILL_PROCESS, for example). */
static int actions_available(const struct sup_sc_profile *p, struct wd_err *err)
{
	uint32_t a = profile_action(p->default_action);

	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0U, &a) < 0)
		return wd_err_set(err, EOPNOTSUPP,
				  "seccomp: the profile's defaultAction %s: this kernel does not "
				  "have that action",
				  sup_sc_action_name(p->default_action));
	for (size_t gi = 0; gi < p->n_groups; gi++) {
		a = profile_action(p->groups[gi].action);
		if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0U, &a) < 0)
			return wd_err_set(err, EOPNOTSUPP,
					  "seccomp: profile syscalls[%zu]: %s: this kernel does "
					  "not have that action",
					  p->groups[gi].source_index,
					  sup_sc_action_name(p->groups[gi].action));
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
 * these tables and this libseccomp (build/gen/sbfilter_builtin.c), egress
 * off and on. Weak: the generator itself links without them and compiles
 * at run time.
 */
extern const unsigned short sup_sb_builtin_len __attribute__((weak));
extern const struct sock_filter sup_sb_builtin_prog[] __attribute__((weak));
extern const uint16_t sup_sb_builtin_errnos[SUP_SB_SYSCALL_TABLE] __attribute__((weak));
extern const uint16_t sup_sb_builtin_dflt __attribute__((weak));
extern const unsigned short sup_sb_builtin_egress_len __attribute__((weak));
extern const struct sock_filter sup_sb_builtin_egress_prog[] __attribute__((weak));
extern const uint16_t sup_sb_builtin_egress_errnos[SUP_SB_SYSCALL_TABLE] __attribute__((weak));
extern const uint16_t sup_sb_builtin_egress_dflt __attribute__((weak));

bool sup_sb_filter_prebuilt(void)
{
	/* One generated object defines all of them, or none is linked. */
	return &sup_sb_builtin_len != NULL && &sup_sb_builtin_dflt != NULL &&
	       &sup_sb_builtin_egress_len != NULL && &sup_sb_builtin_egress_dflt != NULL;
}

int sup_sb_filter_build(const struct sup_sandbox *sb, struct sup_sb_filter *f, struct wd_err *err)
{
	unsigned short len;
	size_t bytes;

	if (sb->has_profile || sb->exec_audit_off || !sup_sb_filter_prebuilt())
		return sup_sb_filter_compile(sb, f, err);
	memset(f, 0, sizeof(*f));
	len = sb->egress ? sup_sb_builtin_egress_len : sup_sb_builtin_len;
	bytes = (size_t)len * sizeof(struct sock_filter);
	f->prog = malloc(bytes);
	if (f->prog == NULL)
		return wd_err_set(err, ENOMEM, "seccomp: filter buffer");
	memcpy(f->prog, sb->egress ? sup_sb_builtin_egress_prog : sup_sb_builtin_prog, bytes);
	f->len = len;
	memcpy(f->errnos.by_nr, sb->egress ? sup_sb_builtin_egress_errnos : sup_sb_builtin_errnos,
	       sizeof(f->errnos.by_nr));
	f->errnos.dflt = sb->egress ? sup_sb_builtin_egress_dflt : sup_sb_builtin_dflt;
	return 0;
}

int sup_sb_filter_compile(const struct sup_sandbox *sb, struct sup_sb_filter *f, struct wd_err *err)
{
	scmp_filter_ctx ctx;
	uint32_t dflt;
	int rc;

	memset(f, 0, sizeof(*f));
	if (sb->has_profile && (rc = actions_available(&sb->profile, err)) < 0)
		return rc;
	dflt = default_action(sb, &f->errnos);
	ctx = seccomp_init(dflt);
	if (ctx == NULL)
		return wd_err_set(err, EINVAL, "seccomp: libseccomp cannot start a filter");
	/* x32 calls (x86_64 with bit 30) and i386 calls: to the listener. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_NOTIFY) < 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0) {
		rc = wd_err_set(err, EINVAL, "seccomp: filter attributes");
		goto out;
	}
	if ((rc = hard_rules(ctx, sb, dflt, &f->errnos, err)) < 0 ||
	    (rc = arg_rules(ctx, sb, dflt, &f->errnos, err)) < 0 ||
	    (rc = sb->has_profile ? profile_rules(ctx, sb, dflt, &f->errnos, err)
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
