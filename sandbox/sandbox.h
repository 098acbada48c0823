/*
 * sandbox/sandbox.h - the agent's sandbox: one configuration, the layers
 * it applies, and the processes that carry it.
 *
 * Used by the supervisor for the agent (spawn.c) and by the host command
 * `warden sandbox` for one command; runs as real root, before any untrusted
 * code, and fails closed: a layer that cannot be applied stops the spawn
 * before exec, with one error saying which layer and why.
 *
 * Processes. sup_spawn() clones the sandbox's init with new pid, mount,
 * net, ipc and uts namespaces (and clone3's CLONE_INTO_CGROUP when the
 * cgroup layer is on). That init, PID 1 of the new pid namespace, enters a
 * new cgroup namespace (always), builds the filesystem and pivots into it,
 * brings up loopback, forks the agent, takes its own name and command line
 * (SUP_SB_INIT_NAME, over the caller's), empties its own capabilities and
 * then only reaps, forwards signals to the agent's process group and, when
 * the agent ends, reports its wait status and exits, which kills whatever
 * the agent left in the namespace. The agent process applies rlimits,
 * securebits, the capability drop, uid/gid, no_new_privs, Landlock and
 * seccomp, in that order, then execs.
 *
 * No user namespace: the supervisor is real root in the guest, so nothing is
 * gained by mapping, and an unprivileged user namespace is the largest
 * kernel attack surface a sandboxed process could otherwise reach (it is
 * also off system-wide: user.max_user_namespaces=0). docs/sandbox.md.
 *
 * The layers a policy may turn off (each is recorded when it is): seccomp,
 * Landlock, cgroup limits. Namespaces, the private root, the identity, the
 * capability drop, no_new_privs and rlimits are always on.
 */
#ifndef WARDEN_SANDBOX_SANDBOX_H
#define WARDEN_SANDBOX_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "../common/err.h"
#include "ociseccomp.h"

#define SUP_SB_MAX_BINDS 16   /* read-only binds a policy may list */
#define SUP_SB_PATH_MAX 256   /* a bind path or the working directory, bytes */
#define SUP_SB_TMP_MIB 64     /* /tmp in the sandbox: default cap, MiB */
#define SUP_SB_WORK_MIB 256   /* working directory when the sandbox makes its own */
#define SUP_SB_NOFILE 1024    /* RLIMIT_NOFILE */
#define SUP_SB_NPROC 512      /* RLIMIT_NPROC (per uid) */
#define SUP_SB_FSIZE_MIB 1024 /* RLIMIT_FSIZE */
#define SUP_SB_PIDS_MAX 256   /* cgroup pids.max */
#define SUP_SB_CPU_PERIOD_US 100000U
#define SUP_SB_HOSTNAME "sandbox"
#define SUP_SB_INIT_NAME "sandbox-init" /* the sandbox's PID 1: comm and cmdline (< 16 bytes) */
#define SUP_SB_WEAKENED_BYTES 512       /* a {"weakened":...} record's data, bytes */
#define SUP_SB_SYSCALL_TABLE 512        /* x86_64 syscall numbers below this one */
#define SUP_SB_HARD_MAX 128             /* hard denials and argument filters (sbtables.c) */

/* Egress on (struct sup_sandbox.egress; docs/sandbox.md, "Egress"): the
 * proxies' listening sockets the sandbox makes in the agent's network
 * namespace, on 127.0.0.1, and hands to sup_spawn's caller (spawn.h). */
#define SUP_SB_PROXY_HTTP_PORT 3128  /* HTTP proxy (CONNECT and absolute-form) */
#define SUP_SB_PROXY_SOCKS_PORT 1080 /* SOCKS5 */
#define SUP_SB_PROXY_BACKLOG 1024    /* listen(2) backlog of each */

/* How a syscall the filter does not allow is answered (errno, recorded). */
struct sup_sb_errnos {
	uint16_t by_nr[SUP_SB_SYSCALL_TABLE]; /* 0: the default below; SUP_SB_EXEC: an exec */
	uint16_t dflt;                        /* unknown syscalls: ENOSYS */
};

/* by_nr's mark for execve and execveat when the policy allows them and
 * they are audited: what they ask is kept, then they go on
 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE) and the file the kernel opens is
 * recorded (sbexec.c). */
#define SUP_SB_EXEC 0xffffU
/* by_nr's mark for memfd_create when execs are audited: the listener makes
 * the memfd, marks it so that an exec of it is seen too, and hands it over
 * (SECCOMP_IOCTL_NOTIF_ADDFD). */
#define SUP_SB_MEMFD 0xfffeU
/* by_nr's mark for connect, sendto (with an address), sendmsg and sendmmsg
 * when egress is on: the address the agent names is read and checked
 * (sbnet.c); local ones go on, any other is refused and recorded. */
#define SUP_SB_NET 0xfffdU

struct sup_sandbox {
	/* identity */
	uid_t uid;
	gid_t gid;
	bool ids_from_policy; /* the policy named uid or gid */

	/* filesystem: the new root holds only these, /tmp, /proc and /dev */
	char ro_binds[SUP_SB_MAX_BINDS][SUP_SB_PATH_MAX]; /* absolute; same path inside */
	size_t n_ro_binds;
	bool binds_from_policy; /* the policy listed ro_binds (else the defaults) */
	/* The binds come from an image's root filesystem mounted here (the
	 * guest's verified rootfs, WARDEN_ROOTFS; sup_sandbox_image()): each
	 * bind path is resolved inside it, never against this process's own
	 * root. "" when they come from the root. */
	char image_root[SUP_SB_PATH_MAX];
	/* The binds come from the host's own filesystem (warden sandbox, local
	 * mode), not from an image: what is the host's own below them
	 * (/usr/local) is covered by an empty read-only tmpfs (sbfs.c). */
	bool binds_from_host;
	char workdir[SUP_SB_PATH_MAX]; /* absolute path inside the sandbox */
	uint64_t work_mib;             /* only when the sandbox mounts its own */
	uint64_t tmp_mib;

	/* rlimits; 0 = no limit set (except core, always 0) */
	uint64_t nofile, nproc, fsize_mib, as_mib, data_mib;

	/* cgroup v2 limits (on unless cgroup_off) */
	bool cgroup_off;
	uint64_t memory_mib; /* 0: what the machine has, less room for the supervisor */
	uint64_t pids_max;
	uint64_t cpu_quota_us; /* per SUP_SB_CPU_PERIOD_US; 0 = no limit */

	bool landlock_off;

	/* seccomp: the built-in allowlist, or a Docker/OCI profile */
	bool seccomp_off;
	bool has_profile;
	struct sup_sc_profile profile;         /* owned when has_profile */
	uint64_t waived[SUP_SB_HARD_MAX / 64]; /* hard denials waived, by sup_sb_hard_index() */
	bool exec_audit_off;                   /* policy audit.exec = false */

	/*
	 * Egress through the proxies: set by the caller from the policy (its
	 * `egress` section present; policy/policy.c). On, the sandbox's init
	 * makes the proxies' listeners in the agent's network namespace and
	 * hands them over (spawn.h: struct sup_agent), an empty read-only file
	 * covers the image's /etc/resolv.conf (sbfs.c), the filter sends
	 * connect, sendto with an address, sendmsg and sendmmsg to the listener
	 * (bypass records, sbnet.c), and sup_sb_agent_env() names the proxies in
	 * the agent's environment. Off: none of this, the sandbox as before.
	 */
	bool egress;
};

/* The defaults: every layer on, uid/gid 65534, /bin /lib /lib64 /usr where present. */
void sup_sandbox_defaults(struct sup_sandbox *sb);

/*
 * The binds come from the image root filesystem mounted at `root` (an
 * absolute path): sb->image_root is set, and unless the policy listed its
 * own ro_binds the defaults become every top-level directory or symlink of
 * the image but those in sup_sb_image_skipped (sorted by name; a name that
 * is not printable ASCII, which no bind can name, is left out too). More
 * than SUP_SB_MAX_BINDS of them is an error (E2BIG) naming the limit: the
 * policy must then list what to bind. The policy's own binds are resolved
 * inside the image when the sandbox is built (sbfs.c): RESOLVE_IN_ROOT,
 * symlinks and ".." kept inside it, no other filesystem crossed, a final
 * symlink kept as a symlink. docs/sandbox.md.
 */
int sup_sandbox_image(struct sup_sandbox *sb, const char *root, struct wd_err *err);
/* Top-level names of an image never bound by default: what the sandbox
 * makes itself (dev proc sys tmp), and what holds state, boot files or
 * people's data rather than programs. NULL-terminated. */
extern const char *const sup_sb_image_skipped[];

/* Release what the configuration owns (a parsed profile). */
void sup_sandbox_free(struct sup_sandbox *sb);

/*
 * Read the policy's "sandbox" section (its subtree; policy/policy.h parses
 * the document) into `sb`, which holds the defaults. Errors name the field
 * ("policy: sandbox.rlimits.nofile: ..."); on error what `sb` owns is
 * released. docs/policy.md.
 */
int sup_sandbox_policy(const cJSON *section, struct sup_sandbox *sb, struct wd_err *err);

/*
 * On a kernel the job shares with the host (local mode, `warden sandbox`),
 * the agent's uid and gid are the host's id `id`, leased for this job
 * alone (host/uidpool.h), whatever the default. A policy that names its
 * own uid or gid is refused (-EINVAL): the host's ids are the operator's
 * to hand out, not the job's to choose.
 */
int sup_sandbox_host_id(struct sup_sandbox *sb, uint32_t id, struct wd_err *err);

/* One line per layer a policy turned off or weakened, for the record; NULL
 * after the last. `i` starts at 0. */
const char *sup_sandbox_weakened(const struct sup_sandbox *sb, size_t *i, char *buf, size_t size);

/* The same line as a record's data: {"weakened":"..."} (canonical JSON);
 * `size` SUP_SB_WEAKENED_BYTES holds the longest. */
const char *sup_sandbox_weakened_record(const struct sup_sandbox *sb, size_t *i, char *buf,
					size_t size);

/* Landlock's ABI version, or 0 when the kernel has none (sbcred.c). */
int sup_sb_landlock_abi(void);

/* ---- seccomp (sbfilter.c) ---------------------------------------------- */

/* A compiled filter: classic BPF, ready for seccomp(2) in the agent. */
struct sup_sb_filter {
	void *prog; /* struct sock_filter[], heap */
	unsigned short len;
	struct sup_sb_errnos errnos;
};

/*
 * The configuration's filter (built-in or profile, hard denials on top,
 * x32/i386 to the listener). The built-in one (no profile) comes compiled
 * at build time when the program links it (sup_sb_filter_prebuilt()):
 * libseccomp's compile costs ~5 ms, more than the rest of a spawn.
 */
int sup_sb_filter_build(const struct sup_sandbox *sb, struct sup_sb_filter *f, struct wd_err *err);
/* The same, always compiled now with libseccomp. */
int sup_sb_filter_compile(const struct sup_sandbox *sb, struct sup_sb_filter *f,
			  struct wd_err *err);
/* True when this program carries the build-time filter. */
bool sup_sb_filter_prebuilt(void);
void sup_sb_filter_free(struct sup_sb_filter *f);

/* ---- the hard names (sbtables.c) ----------------------------------------- */

/* Denied with EPERM whatever a profile says, unless waived by name. */
extern const char *const sup_sb_hard_denied[];
extern const size_t sup_sb_n_hard_denied;
/* Allowed only for some arguments (socket, socketpair, clone, ioctl,
 * personality); clone3 answered ENOSYS. */
extern const char *const sup_sb_arg_filtered[];
extern const size_t sup_sb_n_arg_filtered;

/* A hard name's index (below SUP_SB_HARD_MAX), or -1: the names a policy
 * may waive. */
int sup_sb_hard_index(const char *name);
bool sup_sb_is_hard(const char *name);
const char *sup_sb_hard_name(size_t index);
bool sup_sb_waived(const struct sup_sandbox *sb, const char *name);

/* In the agent, after no_new_privs: install `f` with a user-notification
 * listener. Returns the listener fd or -errno. */
int sup_sb_filter_load(const struct sup_sb_filter *f);

/*
 * After poll(2) reported `revents` on *listener: answer what is pending, at
 * most `max`, calling `record` for each denial (a negative return stops
 * and is returned). An audited exec is handed to `x` (sup_sb_exec_expect)
 * and goes on; a memfd_create is made here, marked by `x`
 * (sup_sb_exec_watch) and installed in the caller, which gets its number;
 * with `x` NULL both are refused (EPERM) and recorded as denials. The receive blocks when nothing
 * is pending (on 6.1 even once every filtered process is gone), so it is
 * only called after POLLIN; on POLLHUP without POLLIN *listener is closed
 * and set to -1.
 */
#define SUP_SB_DENIALS_PER_ROUND 64 /* a caller's `max`: its loop, deadline and signals go on */
struct sup_sb_denial;
struct sup_sb_exec;
int sup_sb_filter_drain(int *listener, short revents, const struct sup_sb_errnos *e,
			struct sup_sb_exec *x, int max,
			int (*record)(void *ctx, const struct sup_sb_denial *d), void *ctx);

/* A network call refused for its address (egress on, sbnet.c): the
 * record's data, as text. */
#define SUP_SB_NET_FAMILY_MAX 16  /* "inet6", "vsock", or the number */
#define SUP_SB_NET_ADDRESS_MAX 64 /* an IPv6 address, "%" and a scope id */
struct sup_sb_bypass {
	char family[SUP_SB_NET_FAMILY_MAX];   /* "unreadable" when it could not be read */
	char address[SUP_SB_NET_ADDRESS_MAX]; /* "" when the family has none we show */
	uint32_t port;                        /* inet/inet6/vsock port, else 0 */
	bool has_port;
};

/* A denial the listener answered: what to record. */
struct sup_sb_denial {
	int nr;
	const char *name; /* libseccomp's name, or "?" */
	const char *abi;  /* "x86_64", "x32", "i386" */
	int err;          /* the errno the syscall got */
	pid_t pid;        /* in the supervisor's pid namespace when known, else 0 */
	uint64_t args[6];
	uint64_t id; /* the notification's, for the answer */
	bool exec;   /* an audited execve/execveat: it goes on (err 0) */
	bool memfd;  /* a memfd_create for the exec watcher (err EPERM without one) */
	/* A network call whose address is checked (by_nr SUP_SB_NET): it goes
	 * on when `net_local`; else it is refused with `err` and, when
	 * `net_bypass`, recorded as a network bypass with `bypass`. */
	bool net, net_local, net_bypass;
	struct sup_sb_bypass bypass;
};

/* ---- network calls, egress on (sbnet.c) ---------------------------------- */

/*
 * What one socket address the agent passed to connect(2) (`connect`) or
 * to a send call means, from `len` bytes at `sa` (the caller read at most
 * SUP_SB_NET_SOCKADDR_MAX of them; `len` is what the agent said). Returns
 * 0 when the call may go on as it is: AF_UNIX, AF_NETLINK, AF_INET and
 * AF_INET6 to this host (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104, and the
 * unspecified addresses, which Linux connects to the loopback), AF_UNSPEC
 * to connect (a disconnect), a length the kernel itself refuses no other
 * way. Else the errno to answer: ENETUNREACH for any other inet/inet6
 * address (AF_UNSPEC in a send call is read as AF_INET, as UDP does),
 * EAFNOSUPPORT for any other family, EINVAL for an inet address shorter
 * than its structure; `b` is filled for a record (not for EINVAL).
 */
#define SUP_SB_NET_SOCKADDR_MAX 128 /* sizeof(struct sockaddr_storage): the kernel's bound */
#define SUP_SB_NET_MMSG_MAX 1024    /* sendmmsg: messages checked, the kernel's UIO_MAXIOV */
int sup_sb_net_classify(bool connect, const void *sa, size_t len, struct sup_sb_bypass *b);

/*
 * For a received notification with d->net: read the address the call
 * names from the caller's memory (process_vm_readv, at most
 * SUP_SB_NET_SOCKADDR_MAX bytes per address, SUP_SB_NET_MMSG_MAX messages
 * of a sendmmsg), check that the notification is still pending
 * (SECCOMP_IOCTL_NOTIF_ID_VALID: else the pid may be another's, and the
 * call is left unanswered: the kernel has ended it), and set net_local, or
 * err and the bypass. An address that cannot be read is refused (EFAULT,
 * family "unreadable") and recorded. Returns 0, or -ENOENT when the
 * notification is gone.
 *
 * A record, not the wall: another thread of the caller may change the
 * address after it is read and before the kernel reads it again
 * (seccomp_unotify(2)); the network namespace, which has only the
 * loopback, is what keeps a call that goes on from leaving the sandbox.
 */
int sup_sb_net_check(int listener, struct sup_sb_denial *d);

/* The record a denial makes (docs/audit.md): "seccomp"/"deny"/"medium",
 * or for a network bypass "network"/"bypass"/"high". */
struct sup_sb_record_kind {
	const char *cls, *activity, *severity;
};
void sup_sb_denial_kind(const struct sup_sb_denial *d, struct sup_sb_record_kind *k);

/*
 * The agent's environment: `env` (envc entries "KEY=VALUE") with, when
 * sb->egress, the proxies named (SUP_SB_PROXY_ENV_N entries: HTTP_PROXY,
 * HTTPS_PROXY, ALL_PROXY, NO_PROXY, each also in lower case, and
 * NODE_USE_ENV_PROXY=1) in place of the job's own entries of those names.
 * `out` holds `size` pointers (envc + SUP_SB_PROXY_ENV_N + 1 always
 * suffice); the entries point into `env` or at static strings; NULL after
 * the last. Returns the count, or -E2BIG when `out` is too small.
 */
#define SUP_SB_PROXY_ENV_N 9
int sup_sb_agent_env(const struct sup_sandbox *sb, const char *const *env, size_t envc,
		     const char **out, size_t size);

/*
 * Answer one pending notification on `listener` with its errno, never with
 * success; fill `d`. Returns 1 when one was answered, 0 when there was none
 * (or the caller went away), -errno when the listener is unusable.
 */
int sup_sb_filter_answer(int listener, const struct sup_sb_errnos *e, struct sup_sb_denial *d);

/* The two halves: take one pending notification into `d` (1, 0 or -errno
 * as above) without answering it; answer it with d->err. Between them the
 * caller makes the record: the system call waits until it exists. */
int sup_sb_filter_receive(int listener, const struct sup_sb_errnos *e, struct sup_sb_denial *d);
void sup_sb_filter_respond(int listener, const struct sup_sb_denial *d);

/*
 * What an audited exec (d->exec) asked, as the "requested" object of its
 * record, canonical JSON: `syscall`, `path` (at most SUP_SB_EXEC_SHOWN
 * bytes of JSON, else cut: jcanon.h, wd_jw_str_bounded), `flags`
 * (execveat's), `argc`, `argv_sha256` (SHA-256 over each argument and its
 * NUL, as the agent's start record has it), read from the caller's memory
 * through /proc/PID/mem, at most SUP_SB_EXEC_ARGS arguments and
 * SUP_SB_EXEC_BYTES in all; what cannot be read is said (`unreadable`).
 * Past SUP_SB_EXEC_ARGS arguments the rest are only counted (up to
 * SUP_SB_EXEC_COUNT_MAX): `argc` is the count, the digest covers the first
 * SUP_SB_EXEC_ARGS, and `argv_truncated` says so.
 * It is what the memory held when the call was made: another thread of
 * the caller may change it before the kernel reads it (seccomp_unotify(2)),
 * so it is never taken for what ran (sbexec.c records that). At most
 * SUP_SB_EXEC_REQUEST_MAX bytes; returns the length or -ENOSPC.
 */
#define SUP_SB_EXEC_ARGS 4096
#define SUP_SB_EXEC_BYTES (1U << 20)
/* arguments counted at most: the kernel refuses (E2BIG) an exec whose argv
 * pointers alone pass its 6 MiB cap on arguments, 786432 of them */
#define SUP_SB_EXEC_COUNT_MAX (1U << 20)
#define SUP_SB_EXEC_SHOWN 512        /* JSON bytes of a path shown before it is cut */
#define SUP_SB_EXEC_REQUEST_MAX 1024 /* the path, cut or not, and the rest (sbnotify.c checks) */
int sup_sb_exec_json(int listener, const struct sup_sb_denial *d, char *out, size_t size);

/* Identical denials counted as one record (coalesce.h): how many, and
 * the first and last one's wall-clock time (ms since the epoch). */
struct sup_sb_denial_count {
	uint64_t count;
	uint64_t first_ms, last_ms;
};

/* ---- audited execs: what ran (sbexec.c) -------------------------------- */

/*
 * The exec watcher. Every exec of the agent is recorded with the file the
 * kernel opened to run, not the path the caller passed: a fanotify group
 * (FAN_CLASS_CONTENT) with FAN_OPEN_EXEC_PERM marks on every mount of the
 * sandbox that allows exec, and on every memfd the agent makes, gets the
 * very file, as an fd, before the exec goes on. The supervisor reads it
 * (SHA-256, size, device and inode: the "file" of the record, verified),
 * adds what the caller asked (the "requested" object above, kept from the
 * seccomp notification of the same thread) and only then lets the exec
 * proceed. An ELF interpreter or a script's interpreter, opened by the
 * kernel for the same exec, is a record of its own ("interpreter": true).
 *
 * The content cannot change under the digest: before it is read the file
 * gets a read lease (F_SETLEASE), which the kernel refuses while anyone
 * has it open for writing and which any later open for writing must break
 * first; a file that is open for writing is refused, as the kernel itself
 * would refuse the exec (ETXTBSY). While the lease holds, the digest stays
 * cached (by device and inode, with size, mtime and ctime checked too), so
 * running the same program again costs no read; a writer breaks the lease
 * (SIGIO, taken through a signalfd: this process blocks SIGIO) and the
 * entry goes. A filesystem without leases is accepted only on a read-only
 * mount.
 *
 * Refused, with a record (outcome denied, data "refused"): a file larger
 * than SUP_SB_EXEC_FILE_MAX, open for writing, unreadable, or opened by a
 * thread with no exec call pending. A refused exec fails with EPERM.
 *
 * Limits: SUP_SB_EXEC_PENDING exec calls between their notification and
 * their file (the oldest give way: such an exec is then refused);
 * SUP_SB_EXEC_CACHE digests; SUP_SB_EXEC_FILE_MAX bytes read for one file
 * (the longest the watcher holds the caller's loop). If the supervisor
 * dies, the kernel lets a pending exec go on: PID 1 kills the job then.
 */
#define SUP_SB_EXEC_PENDING 256
#define SUP_SB_EXEC_CACHE 256
#define SUP_SB_EXEC_FILE_MAX (1ULL << 30) /* 1 GiB */
#define SUP_SB_EXEC_RECORD_MAX 2048       /* an exec record's data, at most */
#define SUP_SB_MOUNTINFO_MAX (1U << 20)   /* the sandbox's mount table, bytes */

/* Open the watcher (root: CAP_SYS_ADMIN). Refused, naming the policy
 * setting, when the kernel has no fanotify permission events. */
int sup_sb_exec_open(struct sup_sb_exec **x, struct wd_err *err);
void sup_sb_exec_close(struct sup_sb_exec *x);

/* What the caller polls (POLLIN) for sup_sb_exec_serve(). */
int sup_sb_exec_fd(const struct sup_sb_exec *x);

/*
 * In the sandbox's init, once its root is entered and before the agent
 * exists: mark every mount of its namespace that is not noexec (read
 * from /proc/self/mountinfo, at most SUP_SB_MOUNTINFO_MAX bytes), then
 * close this process's copies of the watcher's fds. A mount that cannot
 * be marked fails the sandbox. The agent cannot mount.
 */
int sup_sb_exec_mark_mounts(const struct sup_sb_exec *x, struct wd_err *err);

/* From the listener, before an audited exec (d->exec) goes on: keep what
 * it asked until the kernel opens its file. */
void sup_sb_exec_expect(struct sup_sb_exec *x, int listener, const struct sup_sb_denial *d);

/* An exec the watcher saw: what to record. */
struct sup_sb_exec_record {
	pid_t pid;        /* the thread, in this process's pid namespace */
	bool allowed;     /* false: refused (EPERM), data says why */
	const char *data; /* canonical JSON, at most SUP_SB_EXEC_RECORD_MAX bytes */
};

/*
 * After poll(2) reported POLLIN on sup_sb_exec_fd(): take lease breaks,
 * and at most `max` opened files, each recorded through `record` before
 * the exec may go on. A negative return of `record` refuses that exec and
 * every other one taken with it, and is returned; -errno when the group
 * is unusable.
 */
int sup_sb_exec_serve(struct sup_sb_exec *x, int max,
		      int (*record)(void *ctx, const struct sup_sb_exec_record *r), void *ctx);

/* A denial as a record's data, canonical JSON: abi, args (hex strings),
 * count, errno, nr, syscall; with `c`, c->count and first_time, last_time
 * (c NULL: this one call, count 1). A network bypass (d->net_bypass) has
 * address, count, errno, family, port, syscall (and the times) instead:
 * sup_sb_denial_kind() names its class. Its length or -ENOSPC. */
int sup_sb_denial_json(const struct sup_sb_denial *d, const struct sup_sb_denial_count *c,
		       char *out, size_t size);

/* ---- cgroup (cgroup.c) ------------------------------------------------- */

struct sup_cgroup {
	int dirfd; /* the job's cgroup directory, -1 when none */
	char path[SUP_SB_PATH_MAX];
};

/* Create the job's cgroup under this process's own and set its limits
 * (memory.max: the policy's, else what the machine has less 64 MiB). */
int sup_cgroup_create(const struct sup_sandbox *sb, struct sup_cgroup *cg, struct wd_err *err);
/* cgroup.kill: every process in it, now. */
void sup_cgroup_kill(const struct sup_cgroup *cg);
/* True when the kernel OOM-killed a process of the job. */
bool sup_cgroup_oom(const struct sup_cgroup *cg);
/* Kill what is left, wait for it to empty and remove it. */
void sup_cgroup_destroy(struct sup_cgroup *cg);

/* ---- a job's layers, made ready (sbprepare.c) ------------------------------ */

/* What a spawn needs beyond the configuration. */
struct sup_sb_ready {
	struct sup_sb_filter filter; /* len 0 when seccomp is off */
	struct sup_cgroup cg;        /* dirfd -1 when cgroup is off */
	struct sup_sb_exec *exec;    /* NULL when execs are not audited */
};

/*
 * Before anything runs: Landlock present unless the policy turned it off
 * (else a refusal naming the setting), the seccomp filter built, the exec
 * watcher open when execs are audited, the job's cgroup made. On failure
 * nothing is left over.
 */
int sup_sandbox_prepare(const struct sup_sandbox *sb, struct sup_sb_ready *r, struct wd_err *err);
/* The cgroup killed and removed, the watcher closed, the filter freed. */
void sup_sandbox_release(struct sup_sb_ready *r);

#endif
