/*
 * supervisor/sbfilter.c - the agent's seccomp filter: compiled once with
 * libseccomp in the supervisor, loaded by the agent with a user-notification
 * listener, and every denial answered (never allowed) and recorded here.
 *
 * Reading the filter: the tables below are the policy. Everything not
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
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bearssl.h>
#include <linux/filter.h>

#include "../common/jcanon.h"
#include "../common/tlog.h"

#define BPF_MAX_BYTES 65536L /* BPF_MAXINSNS (4096) instructions of 8 bytes, and room */

/* Allowed unconditionally (names libseccomp does not know are skipped). */
static const char *const allowed[] = {
	/* files and descriptors */
	"read",
	"write",
	"readv",
	"writev",
	"pread64",
	"pwrite64",
	"preadv",
	"pwritev",
	"preadv2",
	"pwritev2",
	"open",
	"openat",
	"openat2",
	"creat",
	"close",
	"close_range",
	"dup",
	"dup2",
	"dup3",
	"lseek",
	"fcntl",
	"flock",
	"fsync",
	"fdatasync",
	"sync",
	"syncfs",
	"sync_file_range",
	"truncate",
	"ftruncate",
	"fallocate",
	"fadvise64",
	"readahead",
	"sendfile",
	"splice",
	"tee",
	"vmsplice",
	"copy_file_range",
	"stat",
	"fstat",
	"lstat",
	"newfstatat",
	"statx",
	"statfs",
	"fstatfs",
	"access",
	"faccessat",
	"faccessat2",
	"getdents",
	"getdents64",
	"getcwd",
	"chdir",
	"fchdir",
	"rename",
	"renameat",
	"renameat2",
	"mkdir",
	"mkdirat",
	"rmdir",
	"link",
	"linkat",
	"unlink",
	"unlinkat",
	"symlink",
	"symlinkat",
	"readlink",
	"readlinkat",
	"chmod",
	"fchmod",
	"fchmodat",
	"chown",
	"fchown",
	"lchown",
	"fchownat",
	"umask",
	"utime",
	"utimes",
	"utimensat",
	"futimesat",
	"mknod",
	"mknodat",
	"getxattr",
	"lgetxattr",
	"fgetxattr",
	"listxattr",
	"llistxattr",
	"flistxattr",
	"setxattr",
	"lsetxattr",
	"fsetxattr",
	"removexattr",
	"lremovexattr",
	"fremovexattr",
	"pipe",
	"pipe2",
	"memfd_create",
	"inotify_init",
	"inotify_init1",
	"inotify_add_watch",
	"inotify_rm_watch",
	"eventfd",
	"eventfd2",
	"signalfd",
	"signalfd4",
	"timerfd_create",
	"timerfd_settime",
	"timerfd_gettime",
	"poll",
	"ppoll",
	"select",
	"pselect6",
	"epoll_create",
	"epoll_create1",
	"epoll_ctl",
	"epoll_wait",
	"epoll_pwait",
	"epoll_pwait2",
	"io_setup",
	"io_destroy",
	"io_getevents",
	"io_pgetevents",
	"io_submit",
	"io_cancel",
	/* memory */
	"brk",
	"mmap",
	"munmap",
	"mremap",
	"mprotect",
	"msync",
	"mincore",
	"madvise",
	"mlock",
	"mlock2",
	"munlock",
	"mlockall",
	"munlockall",
	"pkey_alloc",
	"pkey_free",
	"pkey_mprotect",
	"membarrier",
	/* processes, threads, signals */
	"fork",
	"vfork",
	"execve",
	"execveat",
	"exit",
	"exit_group",
	"wait4",
	"waitid",
	"kill",
	"tkill",
	"tgkill",
	"getpid",
	"gettid",
	"getppid",
	"getpgrp",
	"getpgid",
	"setpgid",
	"getsid",
	"setsid",
	"rt_sigaction",
	"rt_sigprocmask",
	"rt_sigreturn",
	"rt_sigsuspend",
	"rt_sigpending",
	"rt_sigtimedwait",
	"rt_sigqueueinfo",
	"rt_tgsigqueueinfo",
	"sigaltstack",
	"pause",
	"futex",
	"futex_waitv",
	"set_tid_address",
	"set_robust_list",
	"get_robust_list",
	"rseq",
	"restart_syscall",
	"arch_prctl",
	"prctl",
	"sched_yield",
	"sched_getaffinity",
	"sched_setaffinity",
	"sched_getparam",
	"sched_setparam",
	"sched_getscheduler",
	"sched_setscheduler",
	"sched_get_priority_max",
	"sched_get_priority_min",
	"sched_rr_get_interval",
	"sched_getattr",
	"sched_setattr",
	"getpriority",
	"setpriority",
	"getcpu",
	"pidfd_open",
	"pidfd_send_signal",
	"seccomp",
	"landlock_create_ruleset",
	"landlock_add_rule",
	"landlock_restrict_self",
	/* identity (a process without capabilities can only lower itself) */
	"getuid",
	"geteuid",
	"getgid",
	"getegid",
	"getresuid",
	"getresgid",
	"getgroups",
	"setuid",
	"setgid",
	"setreuid",
	"setregid",
	"setresuid",
	"setresgid",
	"setgroups",
	"setfsuid",
	"setfsgid",
	"capget",
	"capset",
	/* time (reading), limits, system information */
	"nanosleep",
	"clock_nanosleep",
	"clock_gettime",
	"clock_getres",
	"gettimeofday",
	"time",
	"getitimer",
	"setitimer",
	"alarm",
	"timer_create",
	"timer_settime",
	"timer_gettime",
	"timer_getoverrun",
	"timer_delete",
	"times",
	"getrlimit",
	"setrlimit",
	"prlimit64",
	"getrusage",
	"sysinfo",
	"uname",
	"getrandom",
	/* sockets (socket and socketpair themselves: by family, below) */
	"connect",
	"accept",
	"accept4",
	"bind",
	"listen",
	"shutdown",
	"sendto",
	"recvfrom",
	"sendmsg",
	"recvmsg",
	"sendmmsg",
	"recvmmsg",
	"getsockname",
	"getpeername",
	"setsockopt",
	"getsockopt",
	/* System V and POSIX IPC (the sandbox has its own ipc namespace) */
	"shmget",
	"shmat",
	"shmctl",
	"shmdt",
	"semget",
	"semop",
	"semtimedop",
	"semctl",
	"msgget",
	"msgsnd",
	"msgrcv",
	"msgctl",
	"mq_open",
	"mq_unlink",
	"mq_timedsend",
	"mq_timedreceive",
	"mq_notify",
	"mq_getsetattr",
};

/* Syscalls the filter allows only for some arguments; the rest EPERM. */
static const int socket_families[] = {AF_UNIX, AF_INET, AF_INET6};
static const unsigned long personalities[] = {
	0x0,        /* PER_LINUX */
	0x8,        /* PER_LINUX with UNAME26 off: glibc's probe */
	0xffffffff, /* query only */
};
static const uint32_t denied_ioctls[] = {0x5412 /* TIOCSTI */, 0x541C /* TIOCLINUX */};
#define CLONE_NS_FLAGS                                                                             \
	((uint64_t)(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |  \
		    CLONE_NEWPID | CLONE_NEWNET))

#define N(a) (sizeof(a) / sizeof((a)[0]))

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
		for (size_t i = 0; i < N(socket_families); i++) {
			struct scmp_arg_cmp c =
				SCMP_A0_64(SCMP_CMP_EQ, (uint64_t)socket_families[i]);

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
		if (allow_low32_except(ctx, nr, 1, denied_ioctls, N(denied_ioctls), 31, 0, err) < 0)
			return -1;
	}
	if ((nr = nr_of("personality")) >= 0 && !sup_sb_waived(sb, "personality")) {
		e->by_nr[nr] = EPERM;
		for (size_t i = 0; i < N(personalities); i++) {
			struct scmp_arg_cmp c = SCMP_A0_64(SCMP_CMP_EQ, personalities[i]);

			if (rule(ctx, SCMP_ACT_ALLOW, nr, 1, &c, "personality", err) < 0)
				return -1;
		}
	}
	if ((nr = nr_of("clone3")) >= 0 && !sup_sb_waived(sb, "clone3") &&
	    rule(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0, NULL, "clone3", err) < 0)
		return -1;
	return 0;
}

/* execve and execveat, when allowed, go to the listener to be recorded. */
static bool exec_audited(const struct sup_sandbox *sb, const char *name)
{
	return !sb->exec_audit_off &&
	       (strcmp(name, "execve") == 0 || strcmp(name, "execveat") == 0);
}

static int builtin_rules(scmp_filter_ctx ctx, const struct sup_sandbox *sb, struct sup_sb_errnos *e,
			 struct wd_err *err)
{
	for (size_t i = 0; i < N(allowed); i++) {
		int nr = nr_of(allowed[i]);
		bool exec = exec_audited(sb, allowed[i]);

		if (nr < 0)
			continue;
		/* The default goes to the listener already: an exec needs no rule. */
		if (exec) {
			e->by_nr[nr] = SUP_SB_EXEC;
			continue;
		}
		if (rule(ctx, SCMP_ACT_ALLOW, nr, 0, NULL, allowed[i], err) < 0)
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
			int nr = nr_of(name);

			/* Unknown to this libseccomp or this ABI: nothing to filter. */
			if (nr < 0 || hard(sb, name))
				continue;
			if (action == SCMP_ACT_ALLOW && exec_audited(sb, name)) {
				e->by_nr[nr] = SUP_SB_EXEC;
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

static const char *abi_name(uint32_t arch, int nr)
{
	if (arch == SCMP_ARCH_X86)
		return "i386";
	if (arch == SCMP_ARCH_X86_64 && (nr & 0x40000000) != 0)
		return "x32";
	return arch == SCMP_ARCH_X86_64 ? "x86_64" : "other";
}

/* A system call's name, resolved by libseccomp once per number (the
 * resolution is a table walk and an allocation: too slow per denial). */
static const char *syscall_name(const char *abi, int nr)
{
	static char names[2][SUP_SB_SYSCALL_TABLE][SUP_SC_NAME_MAX + 1];
	static char other[SUP_SC_NAME_MAX + 1];
	bool i386 = strcmp(abi, "i386") == 0;
	int n = nr & ~0x40000000;
	char *slot = n >= 0 && n < SUP_SB_SYSCALL_TABLE ? names[i386][n] : other;
	char *resolved;

	if (slot != other && slot[0] != '\0')
		return slot;
	resolved = seccomp_syscall_resolve_num_arch(i386 ? SCMP_ARCH_X86 : SCMP_ARCH_X86_64, n);
	(void)snprintf(slot, SUP_SC_NAME_MAX + 1, "%s", resolved != NULL ? resolved : "?");
	free(resolved);
	return slot;
}

int sup_sb_filter_receive(int listener, const struct sup_sb_errnos *e, struct sup_sb_denial *d)
{
	/* One request and one response, reused: the kernel's sizes never change. */
	static struct seccomp_notif *req;
	static struct seccomp_notif_resp *resp;
	int rc;

	memset(d, 0, sizeof(*d));
	if (req == NULL && seccomp_notify_alloc(&req, &resp) < 0)
		return -ENOMEM;
	memset(req, 0, sizeof(*req)); /* the kernel refuses a request that is not zeroed */
	rc = seccomp_notify_receive(listener, req);
	if (rc < 0) /* ENOENT: the caller died before we read it; EINTR: again later. */
		return rc == -ENOENT || rc == -EINTR ? 0 : rc;
	d->nr = req->data.nr;
	d->abi = abi_name(req->data.arch, d->nr);
	d->pid = (pid_t)req->pid;
	d->id = req->id;
	memcpy(d->args, req->data.args, sizeof(d->args));
	d->err = ENOSYS;
	if (strcmp(d->abi, "x86_64") == 0)
		d->err = d->nr >= 0 && d->nr < SUP_SB_SYSCALL_TABLE && e->by_nr[d->nr] != 0
				 ? e->by_nr[d->nr]
				 : e->dflt;
	d->exec = d->err == SUP_SB_EXEC;
	if (d->exec)
		d->err = 0;
	d->name = syscall_name(d->abi, d->nr);
	return 1;
}

int sup_sb_filter_answer(int listener, const struct sup_sb_errnos *e, struct sup_sb_denial *d)
{
	int rc = sup_sb_filter_receive(listener, e, d);

	if (rc > 0)
		sup_sb_filter_respond(listener, d);
	return rc;
}

void sup_sb_filter_respond(int listener, const struct sup_sb_denial *d)
{
	static struct seccomp_notif_resp resp;

	resp.id = d->id;
	resp.val = 0;
	/* An audited exec goes on as the filter would have let it without the
	 * audit; everything else fails with its errno, never 0. */
	resp.error = d->exec ? 0 : -(d->err != 0 ? d->err : ENOSYS);
	resp.flags = d->exec ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0;
	(void)seccomp_notify_respond(listener, &resp); /* ENOENT: it died meanwhile */
}

int sup_sb_filter_drain(int *listener, short revents, const struct sup_sb_errnos *e, int max,
			int (*record)(void *ctx, const struct sup_sb_denial *d), void *ctx)
{
	for (int i = 0; i < max && (revents & POLLIN); i++) {
		struct pollfd p = {.fd = *listener, .events = POLLIN, .revents = 0};
		struct sup_sb_denial d;
		int rc = sup_sb_filter_receive(*listener, e, &d);

		if (rc < 0) {
			revents = POLLHUP;
			break;
		}
		/* The record first: the caller waits until it exists. */
		if (rc > 0 && record(ctx, &d) < 0)
			return -1;
		if (rc > 0)
			sup_sb_filter_respond(*listener, &d);
		revents = poll(&p, 1, 0) > 0 ? p.revents : 0;
	}
	/* Every process under the filter is gone. */
	if ((revents & (POLLHUP | POLLERR)) && !(revents & POLLIN)) {
		(void)close(*listener);
		*listener = -1;
	}
	return 0;
}

static const char *errno_name(int e)
{
	switch (e) {
	case EPERM:
		return "EPERM";
	case ENOSYS:
		return "ENOSYS";
	case EACCES:
		return "EACCES";
	case EAFNOSUPPORT:
		return "EAFNOSUPPORT";
	case EINVAL:
		return "EINVAL";
	default:
		return "other";
	}
}

/* "0x" and lower-case hex without leading zeros, by hand (every denial). */
static void hex_arg(uint64_t v, char out[20])
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0;

	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v != 0);
	out[0] = '0';
	out[1] = 'x';
	for (size_t i = 0; i < n; i++)
		out[2 + i] = tmp[n - 1 - i];
	out[2 + n] = '\0';
}

int sup_sb_denial_json(const struct sup_sb_denial *d, const struct sup_sb_denial_count *c,
		       char *out, size_t size)
{
	struct wd_jw w;
	char arg[6][20];

	wd_jw_init(&w, out, size);
	wd_jw_str(&w, "abi", d->abi);
	wd_jw_array(&w, "args"); /* hex strings: a 64-bit value is over JSON's exact 2^53 */
	for (size_t i = 0; i < 6; i++) {
		hex_arg(d->args[i], arg[i]);
		wd_jw_str(&w, NULL, arg[i]);
	}
	wd_jw_close(&w);
	wd_jw_uint(&w, "count", c != NULL ? c->count : 1);
	wd_jw_str(&w, "errno", errno_name(d->err));
	if (c != NULL) {
		wd_jw_uint(&w, "first_time", c->first_ms);
		wd_jw_uint(&w, "last_time", c->last_ms);
	}
	wd_jw_uint(&w, "nr", (uint64_t)(d->nr < 0 ? 0 : d->nr));
	wd_jw_str(&w, "syscall", d->name != NULL ? d->name : "?");
	return wd_jw_end(&w) < 0 ? -ENOSPC : (int)w.len;
}

/* ---- audited execs ------------------------------------------------------------ */

/* A NUL-terminated string of the caller's at `addr`, at most `size` - 1
 * bytes, read page by page (the next page may not be mapped). Its length,
 * or -1. */
static ssize_t read_string(int mem, uint64_t addr, char *out, size_t size)
{
	size_t got = 0;

	while (got + 1 < size) {
		size_t room = 4096 - (size_t)((addr + got) % 4096), want = size - 1 - got;
		ssize_t n = pread(mem, out + got, room < want ? room : want, (off_t)(addr + got));
		char *nul;

		if (n <= 0)
			return -1;
		nul = memchr(out + got, '\0', (size_t)n);
		if (nul != NULL)
			return nul - out;
		got += (size_t)n;
	}
	out[size - 1] = '\0';
	return (ssize_t)(size - 1); /* cut: the digest says so by its count */
}

int sup_sb_exec_json(int listener, const struct sup_sb_denial *d, char *out, size_t size)
{
	static char path[4096], arg[65536];
	bool at = d->nr == SCMP_SYS(execveat);
	uint64_t argv = d->args[at ? 2 : 1], total = 0;
	char file[40], digest[2 * WD_HASH_BYTES + 1];
	uint8_t h[WD_HASH_BYTES];
	br_sha256_context c;
	struct wd_jw w;
	uint64_t argc = 0;
	bool unreadable = false;
	int mem;

	(void)snprintf(file, sizeof(file), "/proc/%d/mem", (int)d->pid);
	mem = d->pid > 0 ? open(file, O_RDONLY | O_CLOEXEC) : -1;
	path[0] = '\0';
	br_sha256_init(&c);
	if (mem < 0 || read_string(mem, d->args[at ? 1 : 0], path, sizeof(path)) < 0)
		unreadable = true;
	while (!unreadable && argv != 0 && argc < SUP_SB_EXEC_ARGS) {
		uint64_t p;
		ssize_t n;

		if (pread(mem, &p, sizeof(p), (off_t)(argv + argc * sizeof(p))) !=
		    (ssize_t)sizeof(p)) {
			unreadable = true;
			break;
		}
		if (p == 0)
			break;
		n = read_string(mem, p, arg, sizeof(arg));
		if (n < 0 || (total += (uint64_t)n + 1) > SUP_SB_EXEC_BYTES) {
			unreadable = true;
			break;
		}
		br_sha256_update(&c, arg, (size_t)n + 1);
		argc++;
	}
	if (mem >= 0)
		(void)close(mem);
	/* The notification must still be pending, else pid may be another's. */
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &d->id) < 0)
		unreadable = true;
	br_sha256_out(&c, h);
	wd_hex(h, sizeof(h), digest);
	wd_jw_init(&w, out, size);
	wd_jw_uint(&w, "argc", argc);
	wd_jw_str(&w, "argv_sha256", digest);
	wd_jw_str(&w, "path", path);
	wd_jw_str(&w, "syscall", at ? "execveat" : "execve");
	if (unreadable)
		wd_jw_bool(&w, "unreadable", true);
	return wd_jw_end(&w) < 0 ? -ENOSPC : (int)w.len;
}
