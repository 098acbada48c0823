/*
 * sandbox/spawn.c - the agent's processes: the sandbox's init (cloned
 * into new namespaces and the job's cgroup), the agent under it, their
 * reports to the supervisor, and exec (see spawn.h and sandbox.h for the
 * order and the conventions).
 */
#include "spawn.h"

#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "../common/fdpass.h"
#include "../common/log.h"
#include "../common/signals.h"
#include "sandbox_priv.h"
#include "workdir.h"

#define FD_SCAN_MAX 65536 /* without close_range(2): fds checked one by one */
#define PTY_SLAVE_MODE 0620

#define CLONE_INTO_CGROUP_FLAG 0x200000000ULL /* linux/sched.h, 5.7 */
#define REPORT_WHAT_BYTES 240
#define STAT_BYTES 2048 /* /proc/self/stat: 52 fields, a 15-byte comm */

/* What each fd handed to the parent is (the tag of its message). */
#define FD_PTY 'T'      /* the PTY master, from the init */
#define FD_LISTENER 'L' /* the seccomp listener, from the agent */
#define FD_HTTP 'H'     /* the HTTP proxy's listening socket, from the init */
#define FD_SOCKS 'S'    /* the SOCKS5 proxy's, from the init */
#define FD_AGENT 'A'    /* a pidfd of the agent, from the init */
/* The agent's seccomp listener is taken, not sent (offer_listener()): its
 * message is FD_LISTENER and the fd's number in the agent, no fd. */
#define OFFER_BYTES (1 + sizeof(int))

/* What the sandbox's init tells the supervisor, in this order: FAILED, or
 * EXECED and later STATUS (the agent's wait status, just before it exits). */
enum report_kind { REPORT_FAILED = 1, REPORT_EXECED, REPORT_STATUS };
struct report {
	int kind;
	int err;     /* FAILED: errno */
	int wstatus; /* STATUS */
	char what[REPORT_WHAT_BYTES];
};

/* clone3's argument, version 2 (with cgroup): kept here so that no kernel
 * header has to agree with the C library's sched.h. */
struct clone_args_v2 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
		set_tid_size, cgroup;
};

/* The child's ends, all >= 3 (fds 0-2 of the supervisor are always open). */
struct child_fds {
	int in, out, err; /* the agent's 0, 1, 2 (-1: inherited) */
	int tty;          /* the PTY slave, or -1 */
	int report;       /* write end of the report pipe (the init's) */
	int notify;       /* the agent's end of the listener socket pair */
	int work_mnt;     /* a detached clone of the working directory, or -1 */
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
	*fd = -1;
}

const char *sup_spawn_path(const struct wd_job *job)
{
	for (size_t i = 0; job->env != NULL && i < job->envc; i++)
		if (strncmp(job->env[i], "PATH=", 5) == 0)
			return job->env[i] + 5;
	return SUP_DEFAULT_PATH;
}

int sup_path_next(const char **cursor, const char *file, char *buf, size_t size)
{
	const char *p = *cursor;
	size_t n, flen = strlen(file);

	while (*p == ':')
		p++;
	if (*p == '\0') {
		*cursor = p;
		return 0;
	}
	n = strcspn(p, ":");
	*cursor = p + n;
	if (n + 1 + flen + 1 > size)
		return -ENAMETOOLONG;
	memcpy(buf, p, n);
	buf[n] = '/';
	memcpy(buf + n + 1, file, flen + 1);
	return 1;
}

/* ---- the sandbox's processes ----------------------------------------------- */

static void send_report(int fd, int kind, int e, int wstatus, const char *what)
{
	struct report r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.err = e;
	r.wstatus = wstatus;
	(void)snprintf(r.what, sizeof(r.what), "%s", what != NULL ? what : "");
	(void)!write(fd, &r, sizeof(r));
}

static void __attribute__((noreturn)) child_fail(int fd, const struct wd_err *err)
{
	send_report(fd, REPORT_FAILED, err->code != 0 ? err->code : EIO, 0, err->msg);
	_exit(SUP_EXIT_NOT_EXEC);
}

static void __attribute__((noreturn)) child_fail_sys(int fd, const char *what, int e)
{
	struct wd_err err;

	(void)wd_err_sys(&err, e, "%s", what);
	child_fail(fd, &err);
}

/* Every fd above 2 closes at exec; the report pipe until then stays usable. */
static int cloexec_above_stdio(void)
{
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	if (errno != ENOSYS && errno != EINVAL)
		return -errno;
	for (int fd = 3; fd < FD_SCAN_MAX; fd++) {
		int flags = fcntl(fd, F_GETFD);

		if (flags >= 0 && (flags & FD_CLOEXEC) == 0 &&
		    fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
			return -errno;
	}
	return 0;
}

static void __attribute__((noreturn)) exec_failed(const char *name, int e)
{
	wd_error_sys(e, "agent: cannot run '%s'", name);
	_exit(e == ENOENT || e == ENOTDIR ? SUP_EXIT_NOT_FOUND : SUP_EXIT_NOT_EXEC);
}

static void __attribute__((noreturn)) exec_agent(const struct wd_job *job)
{
	static const char *const no_env[] = {NULL};
	/* execve's prototype predates const; it does not write through these. */
	union {
		const char *const *c;
		char *const *v;
	} argv = {.c = job->argv}, envp = {.c = job->env != NULL ? job->env : no_env};
	const char *file = job->argv[0], *cursor;
	char path[PATH_MAX];
	bool denied = false;
	int rc;

	if (strchr(file, '/') != NULL) {
		execve(file, argv.v, envp.v);
		exec_failed(file, errno);
	}
	cursor = sup_spawn_path(job);
	while ((rc = sup_path_next(&cursor, file, path, sizeof(path))) != 0) {
		if (rc < 0)
			continue;
		execve(path, argv.v, envp.v);
		/* As execvp(3): keep searching past what is absent or not allowed. */
		if (errno == EACCES)
			denied = true;
		else if (errno != ENOENT && errno != ENOTDIR)
			exec_failed(path, errno);
	}
	exec_failed(file, denied ? EACCES : ENOENT);
}

/* The agent's cwd: the job's, below the working directory, never through
 * a symlink or "..". */
static int enter_cwd(const struct sup_spawn *sp, struct wd_err *err)
{
	int top, cwd, rc;

	top = open(sp->sb->workdir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (top < 0)
		return wd_err_sys(err, errno, "working directory %s", sp->sb->workdir);
	rc = sup_workdir_open_dir(top, sp->job->cwd != NULL ? sp->job->cwd : "", &cwd, err);
	(void)close(top);
	if (rc < 0)
		return wd_err_ret(err);
	rc = fchdir(cwd);
	(void)close(cwd);
	return rc < 0 ? wd_err_sys(err, errno, "chdir to the job's cwd") : 0;
}

/*
 * The agent's seccomp listener reaches the supervisor by pidfd_getfd(2)
 * on the agent (whose pidfd the init handed over), not by SCM_RIGHTS:
 * with egress on, the filter sends every sendmsg to the listener, which
 * nobody could answer before the supervisor holds it. The agent says the
 * fd's number (a write, which no filter watches) and waits for the word
 * that it was taken (a read).
 */
static int offer_listener(int sock, int listener)
{
	char msg[OFFER_BYTES] = {FD_LISTENER}, ack;
	ssize_t n;

	memcpy(msg + 1, &listener, sizeof(listener));
	n = write(sock, msg, sizeof(msg));
	if (n != (ssize_t)sizeof(msg))
		return n < 0 ? -errno : -EIO;
	do
		n = read(sock, &ack, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : n < 0 ? -errno : -EPIPE;
}

/* The agent: the layers that are its own, then exec. Failures go to `fd`;
 * `named` says when the init has its own name (name_init). */
static void __attribute__((noreturn))
agent(const struct sup_spawn *sp, const struct child_fds *c, int fd, int named)
{
	struct wd_err err;
	sigset_t none;
	ssize_t n;
	char b;
	int rc;

	wd_err_clear(&err);
	/* Before anything it runs can read /proc/1/cmdline. */
	do
		n = read(named, &b, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		child_fail_sys(fd, "the sandbox's init did not take its name", EIO);
	(void)close(named);
	if (setsid() < 0)
		child_fail_sys(fd, "setsid", errno);
	if (c->tty >= 0 && ioctl(c->tty, TIOCSCTTY, 0) < 0)
		child_fail_sys(fd, "TIOCSCTTY", errno);
	if (c->in >= 0 && (dup2(c->in, STDIN_FILENO) < 0 || dup2(c->out, STDOUT_FILENO) < 0 ||
			   dup2(c->err, STDERR_FILENO) < 0))
		child_fail_sys(fd, "dup2", errno);
	if (sup_sb_drop(sp->sb, &err) < 0)
		child_fail(fd, &err);
	/* After the credential change, which clears it. */
	if (prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0UL, 0UL, 0UL) < 0)
		child_fail_sys(fd, "PR_SET_PDEATHSIG", errno);
	if (getppid() != 1)
		child_fail_sys(fd, "the sandbox's init is gone", ESRCH);
	if (enter_cwd(sp, &err) < 0)
		child_fail(fd, &err);
	if (!sp->sb->landlock_off) {
		rc = sup_sb_landlock(sp->sb, &err);
		if (rc == -EOPNOTSUPP)
			(void)wd_err_set(
				&err, EOPNOTSUPP,
				"landlock: this kernel has none; the policy can turn it off "
				"(\"sandbox\": {\"landlock\": false})");
		if (rc < 0)
			child_fail(fd, &err);
	}
	rc = cloexec_above_stdio();
	if (rc < 0)
		child_fail_sys(fd, "close-on-exec above fd 2", -rc);
	wd_signals_default();
	(void)sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		child_fail_sys(fd, "sigprocmask", errno);
	if (sp->filter != NULL) {
		int listener = sup_sb_filter_load(sp->filter);

		if (listener < 0)
			child_fail_sys(fd, "seccomp: load the filter", -listener);
		rc = offer_listener(c->notify, listener);
		if (rc < 0)
			child_fail_sys(fd, "seccomp: hand the listener over", -rc);
		(void)close(listener);
	}
	(void)close(c->notify);
	exec_agent(sp->job);
}

/*
 * The agent's terminal, from the sandbox's own devpts (so that its name,
 * /dev/pts/N, exists where the agent looks): opened by the sandbox's init
 * after the pivot; the master goes to the supervisor.
 */
static int open_pty(const struct sup_spawn *sp, int *master, int *slave, struct wd_err *err)
{
	struct winsize ws;

	*slave = -1;
	*master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
	if (*master < 0)
		return wd_err_sys(err, errno, "pty: open /dev/pts/ptmx");
	if (unlockpt(*master) < 0)
		return wd_err_sys(err, errno, "pty: unlock");
	/* The slave from the master itself: no path lookup in /dev/pts. */
	*slave = ioctl(*master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0)
		return wd_err_sys(err, errno, "pty: TIOCGPTPEER");
	if (fchown(*slave, sp->sb->uid, sp->sb->gid) < 0 || fchmod(*slave, PTY_SLAVE_MODE) < 0)
		return wd_err_sys(err, errno, "pty: give the terminal to the agent");
	memset(&ws, 0, sizeof(ws));
	ws.ws_row = sp->job->rows != 0 ? sp->job->rows : SUP_PTY_DEFAULT_ROWS;
	ws.ws_col = sp->job->cols != 0 ? sp->job->cols : SUP_PTY_DEFAULT_COLS;
	if (ioctl(*master, TIOCSWINSZ, &ws) < 0)
		return wd_err_sys(err, errno, "pty: TIOCSWINSZ");
	return 0;
}

/* Egress on: the proxies' listeners, made here in the agent's network
 * namespace (loopback up), handed over and closed before the agent is
 * forked, so it never holds them; bound first, no agent can take their
 * ports. */
static void hand_proxies(int sock, int report)
{
	static const struct {
		uint16_t port;
		char tag;
	} proxies[] = {{SUP_SB_PROXY_HTTP_PORT, FD_HTTP}, {SUP_SB_PROXY_SOCKS_PORT, FD_SOCKS}};
	struct wd_err err;

	wd_err_clear(&err);
	for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++) {
		int fd = sup_sb_proxy_listener(proxies[i].port, &err), rc;

		if (fd < 0)
			child_fail(report, &err);
		rc = wd_send_fd_tag(sock, fd, proxies[i].tag);
		(void)close(fd);
		if (rc < 0)
			child_fail_sys(report, "network: hand the proxy's listener over", -rc);
	}
}

/* The sandbox's init, reaping and forwarding until the agent ends. */
static void __attribute__((noreturn)) init_loop(pid_t child, int report)
{
	sigset_t all;

	(void)sigfillset(&all);
	for (;;) {
		int sig = sigwaitinfo(&all, NULL);

		if (sig == SIGCHLD) {
			int ws;
			pid_t pid;

			while ((pid = waitpid(-1, &ws, WNOHANG)) > 0)
				if (pid == child) {
					/* Our exit kills everything left in the namespace. */
					send_report(report, REPORT_STATUS, 0, ws, NULL);
					_exit(0);
				}
		} else if (sig > 0) {
			/* To the agent's process group (it leads one), as the host meant. */
			if (kill(-child, sig) < 0)
				(void)kill(child, sig);
		}
	}
}

static int close_except(int keep)
{
	if (keep > 3 && syscall(SYS_close_range, 3U, (unsigned)keep - 1, 0U) < 0)
		return -1;
	return (int)syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0U);
}

/* All `n` bytes of `buf` at address `at` of this process, or -errno. */
static int poke(int mem, const void *buf, size_t n, unsigned long at)
{
	ssize_t got = pwrite(mem, buf, n, (off_t)at);

	return got == (ssize_t)n ? 0 : got < 0 ? -errno : -EIO;
}

/*
 * The init is a copy of its caller (the supervisor, or `warden sandbox`),
 * and the agent may read /proc/1/comm and /proc/1/cmdline: they would show
 * the caller's program, its path (the host's, in local mode) and its
 * arguments (`warden sandbox --env KEY=VALUE ...`). The init takes a name
 * of its own and writes it over its copy of the caller's argument strings,
 * erasing them: the name, a NUL, zeros, and a last byte that is not NUL,
 * the setproctitle convention by which the kernel reads the area up to its
 * first NUL (proc_pid_cmdline(5)): the command line is the name alone.
 * PR_SET_MM would point the kernel elsewhere instead, but it needs
 * CAP_SYS_RESOURCE, which a container host may withhold; this needs
 * nothing. The area is the kernel's arg_start..arg_end (/proc/self/stat
 * fields 48 and 49), written through /proc/self/mem at those addresses
 * (numbers the kernel gave, never made into pointers here).
 * After the agent's fork (its argv may point into the area), before its
 * exec (it waits for the init's word).
 */
static int name_init(void)
{
	static const char zeros[4096], name[] = SUP_SB_INIT_NAME;
	unsigned long start = 0, end = 0;
	char stat[STAT_BYTES], *p;
	size_t len, n;
	ssize_t got;
	int fd, rc = 0;

	_Static_assert(sizeof(name) <= 16, "comm holds 15 bytes and a NUL");
	if (prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL) < 0)
		return -errno;
	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	got = read(fd, stat, sizeof(stat) - 1);
	(void)close(fd);
	if (got <= 0)
		return got < 0 ? -errno : -EIO;
	stat[got] = '\0';
	/* After the comm, which ends at the last ')': field 3 follows the
	 * first space, field 48 the 46th. */
	p = strrchr(stat, ')');
	for (int field = 3; p != NULL && field <= 48; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return -EIO;
	errno = 0;
	start = strtoul(p + 1, &p, 10);
	if (*p == ' ')
		end = strtoul(p + 1, &p, 10);
	if (errno != 0 || *p != ' ' || end <= start)
		return -EIO;
	len = end - start;
	fd = open("/proc/self/mem", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len && rc == 0; off += n) {
		n = len - off < sizeof(zeros) ? len - off : sizeof(zeros);
		rc = poke(fd, zeros, n, start + off);
	}
	if (rc == 0)
		rc = poke(fd, name, len < sizeof(name) ? len - 1 : sizeof(name), start);
	if (rc == 0 && len > sizeof(name))
		rc = poke(fd, " ", 1, end - 1);
	(void)close(fd);
	return rc;
}

static void __attribute__((noreturn)) sandbox_init(const struct sup_spawn *sp, struct child_fds *c)
{
	struct wd_err err;
	struct report r;
	sigset_t all;
	int exec_pipe[2], named[2], named_rc;
	pid_t child;
	ssize_t n;

	wd_err_clear(&err);
	if (sp->secrets != NULL)
		wd_chan_wipe(sp->secrets);
	if (prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0UL, 0UL, 0UL) < 0)
		child_fail_sys(c->report, "PR_SET_PDEATHSIG", errno);
	/* Always: with the cgroup layer off the init is in the caller's
	 * cgroup, whose path (the host's, in local mode) must not show. */
	if (unshare(CLONE_NEWCGROUP) < 0)
		child_fail_sys(c->report, "cgroup namespace", errno);
	if (setsid() < 0)
		child_fail_sys(c->report, "setsid", errno);
	if (sup_sb_net_uts(&err) < 0)
		child_fail(c->report, &err);
	if (sp->sb->egress)
		hand_proxies(c->notify, c->report);
	if (sup_sb_fs_enter(sp->sb, c->work_mnt, &err) < 0)
		child_fail(c->report, &err);
	/* Every mount the agent could run a file from, before the agent exists. */
	if (sp->exec != NULL && sup_sb_exec_mark_mounts(sp->exec, &err) < 0)
		child_fail(c->report, &err);
	if (sp->job->tty && !sp->inherit_stdio) {
		int master, rc;

		if (open_pty(sp, &master, &c->tty, &err) < 0)
			child_fail(c->report, &err);
		rc = wd_send_fd_tag(c->notify, master, FD_PTY);
		if (rc < 0)
			child_fail_sys(c->report, "pty: hand the master over", -rc);
		(void)close(master);
		c->in = c->out = c->err = c->tty;
	}
	(void)sigfillset(&all);
	if (sigprocmask(SIG_BLOCK, &all, NULL) < 0 || pipe2(exec_pipe, O_CLOEXEC) < 0 ||
	    pipe2(named, O_CLOEXEC) < 0)
		child_fail_sys(c->report, "init: signals and pipe", errno);
	child = fork();
	if (child < 0)
		child_fail_sys(c->report, "init: fork the agent", errno);
	if (child == 0) {
		(void)close(exec_pipe[0]);
		(void)close(named[1]);
		agent(sp, c, exec_pipe[1], named[0]);
	}
	(void)close(exec_pipe[1]);
	(void)close(named[0]);
	if (sp->filter != NULL) { /* for the supervisor to take its listener */
		int pidfd = (int)syscall(SYS_pidfd_open, child, 0U), rc;

		rc = pidfd < 0 ? -errno : wd_send_fd_tag(c->notify, pidfd, FD_AGENT);
		if (pidfd >= 0)
			(void)close(pidfd);
		if (rc < 0) {
			(void)kill(child, SIGKILL);
			child_fail_sys(c->report, "init: hand the agent's pidfd over", -rc);
		}
	}
	named_rc = name_init();
	if (named_rc < 0 || write(named[1], "", 1) != 1) {
		(void)kill(child, SIGKILL);
		child_fail_sys(c->report, "init: its own name and command line",
			       named_rc < 0 ? -named_rc : errno);
	}
	(void)close(named[1]);
	if (sup_sb_drop_init(&err) < 0) {
		(void)kill(child, SIGKILL);
		child_fail(c->report, &err);
	}
	/* EOF: the agent's exec (or its exit); a report: it gave up. */
	do
		n = read(exec_pipe[0], &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	(void)close(exec_pipe[0]);
	if (n > 0) {
		(void)!write(c->report, &r, (size_t)n);
		(void)kill(child, SIGKILL);
		_exit(SUP_EXIT_NOT_EXEC);
	}
	/* Nothing of the supervisor's stays open here: only the report pipe. */
	if (close_except(c->report) < 0)
		child_fail_sys(c->report, "init: close the supervisor's fds", errno);
	send_report(c->report, REPORT_EXECED, 0, 0, NULL);
	init_loop(child, c->report);
}

/* ---- the parent ----------------------------------------------------------- */

static int open_pipes(int in[2], int out[2], int errp[2], struct wd_err *err)
{
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
		return wd_err_sys(err, errno, "stdio pipes");
	return 0;
}

static int set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ? -1 : 0;
}

static int read_report(int fd, struct report *r)
{
	size_t got = 0;

	while (got < sizeof(*r)) {
		ssize_t n = read(fd, (char *)r + got, sizeof(*r) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	r->what[sizeof(r->what) - 1] = '\0';
	return got == sizeof(*r) ? 0 : got == 0 ? -ENODATA : -EIO;
}

static int no_record(void *ctx, const struct sup_sb_denial *d)
{
	(void)ctx;
	(void)d;
	return 0;
}

static int no_exec_record(void *ctx, const struct sup_sb_exec_record *r)
{
	(void)ctx;
	(void)r;
	return 0;
}

/* The fds the sandbox's processes hand over; -1 until each came. */
struct handed {
	int master, listener, http, socks;
	int agent;          /* the agent's pidfd, to take its listener */
	bool listener_gone; /* taken, then closed by the drain: nothing is filtered */
};

static void handed_close(struct handed *h)
{
	close_fd(&h->master);
	close_fd(&h->listener);
	close_fd(&h->http);
	close_fd(&h->socks);
	close_fd(&h->agent);
}

/* One message from the sandbox: a tagged fd (returned), or the agent's
 * offer of its listener (*num set, -ENOMSG). -errno otherwise. */
static int recv_handed(int sock, char *tag, int *num)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char msg[OFFER_BYTES];
	struct iovec iov = {.iov_base = msg, .iov_len = sizeof(msg)};
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t n;
	int fd = -1;

	memset(&u, 0, sizeof(u));
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	cm = CMSG_FIRSTHDR(&mh);
	if (cm != NULL && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	*tag = n >= 1 ? msg[0] : 0;
	if (fd >= 0 && (n != 1 || (mh.msg_flags & MSG_CTRUNC) != 0)) {
		(void)close(fd);
		return -EPROTO;
	}
	if (fd >= 0)
		return fd;
	if (n == (ssize_t)OFFER_BYTES && msg[0] == FD_LISTENER) {
		memcpy(num, msg + 1, sizeof(*num));
		return -ENOMSG;
	}
	return -EPROTO;
}

/* The agent's listener, number `num` in the agent, taken; the agent is
 * told so and goes on to its exec. */
static int take_listener(int sock, struct handed *h, int num)
{
	char ack = 'K';
	int fd;

	if (h->agent < 0 || h->listener >= 0 || h->listener_gone)
		return -EPROTO;
	fd = (int)syscall(SYS_pidfd_getfd, h->agent, num, 0U); /* close-on-exec */
	if (fd < 0)
		return -errno;
	if (write(sock, &ack, 1) != 1) {
		int e = errno;

		(void)close(fd);
		return -e;
	}
	h->listener = fd;
	return 0;
}

/* What still has to come: the PTY master, the listener, the proxies'. */
static bool handed_missing(const struct sup_spawn *sp, bool tty, const struct handed *h)
{
	return (tty && h->master < 0) ||
	       (sp->filter != NULL && h->listener < 0 && !h->listener_gone) ||
	       (sp->sb->egress && (h->http < 0 || h->socks < 0));
}

/* Every fd waiting on `sock`, each to its slot by its tag (one without a
 * slot, or a second of a kind, is closed), and the agent's listener
 * taken. 0, or -errno when the listener could not be taken. */
static int take_fds(int sock, struct handed *h)
{
	for (;;) {
		char tag = 0;
		int num = -1, fd = recv_handed(sock, &tag, &num), *slot;

		if (fd == -ENOMSG) {
			int rc = take_listener(sock, h, num);

			if (rc < 0)
				return rc;
			continue;
		}
		if (fd == -EAGAIN || fd == -EWOULDBLOCK)
			return 0;
		if (fd < 0) /* a malformed message is dropped: what it lacks is said later */
			return 0;
		slot = tag == FD_PTY     ? &h->master
		       : tag == FD_HTTP  ? &h->http
		       : tag == FD_SOCKS ? &h->socks
		       : tag == FD_AGENT ? &h->agent
					 : NULL;
		if (slot == NULL || *slot >= 0)
			(void)close(fd);
		else
			*slot = fd;
	}
}

/*
 * Wait for the agent's exec, or why the sandbox gave up. Meanwhile take the
 * fds the init (terminal's master, proxies' listeners) and the agent (the
 * seccomp listener) hand over `sock`, and answer the agent's notifications:
 * with execs audited, its own execve waits for its record.
 */
static int await_exec(const struct sup_spawn *sp, int report, int sock, bool tty, struct handed *h,
		      pid_t pid, struct wd_err *err)
{
	struct report r;
	int rc;

	for (;;) {
		bool want_fd = handed_missing(sp, tty, h);
		struct pollfd p[4] = {
			{.fd = report, .events = POLLIN, .revents = 0},
			{.fd = want_fd ? sock : -1, .events = POLLIN, .revents = 0},
			{.fd = h->listener, .events = POLLIN, .revents = 0},
			{.fd = sp->exec != NULL ? sup_sb_exec_fd(sp->exec) : -1, .events = POLLIN}};

		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = wd_err_sys(err, errno, "sandbox: poll");
			break;
		}
		if (p[1].revents != 0 && (rc = take_fds(sock, h)) < 0) {
			rc = wd_err_sys(err, -rc, "seccomp: take the agent's listener");
			break;
		}
		if (p[2].revents != 0 &&
		    sup_sb_filter_drain(&h->listener, p[2].revents, &sp->filter->errnos, sp->exec,
					16, sp->record != NULL ? sp->record : no_record,
					sp->record_ctx) < 0) {
			rc = wd_err_set(err, EIO, "sandbox: a record of the agent's start failed");
			break;
		}
		if (p[3].revents != 0 &&
		    sup_sb_exec_serve(sp->exec, 16,
				      sp->record_exec != NULL ? sp->record_exec : no_exec_record,
				      sp->record_ctx) < 0) {
			rc = wd_err_set(err, EIO, "sandbox: the record of the agent's exec failed");
			break;
		}
		/* Closed by the drain: nothing is under the filter any more (an
		 * exec that failed, and the agent's exit). */
		if (p[2].fd >= 0 && h->listener < 0)
			h->listener_gone = true;
		if (p[0].revents == 0)
			continue;
		rc = read_report(report, &r);
		if (rc == 0 && r.kind == REPORT_EXECED)
			return 0;
		if (rc == -ENODATA)
			rc = wd_err_set(err, EIO,
					"sandbox: its init ended before the agent started");
		else if (rc < 0 || r.kind != REPORT_FAILED)
			rc = wd_err_set(err, EIO, "sandbox: a malformed report from its init");
		else
			rc = wd_err_set(err, r.err, "sandbox: %s", r.what);
		break;
	}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
	return rc;
}

int sup_agent_status(struct sup_agent *a, int init_wstatus)
{
	struct report r;

	if (a->status_fd >= 0 && read_report(a->status_fd, &r) == 0 && r.kind == REPORT_STATUS)
		return r.wstatus;
	return init_wstatus; /* the init itself was killed (the deadline, the end) */
}

static pid_t clone_sandbox(int cgroup_fd)
{
	struct clone_args_v2 ca;

	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;
	ca.exit_signal = SIGCHLD;
	if (cgroup_fd >= 0) {
		ca.flags |= CLONE_INTO_CGROUP_FLAG;
		ca.cgroup = (uint64_t)cgroup_fd;
	}
	/* No new stack: the child goes on from here, as after fork(). */
	return (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close_fd(&fds[i]);
}

int sup_spawn(const struct sup_spawn *sp, struct sup_agent *a, struct wd_err *err)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1}, report[2] = {-1, -1};
	int sock[2] = {-1, -1}, rc;
	bool tty = sp->job->tty && !sp->inherit_stdio;
	struct handed h = {-1, -1, -1, -1, -1, false};
	struct child_fds c = {.work_mnt = -1};
	pid_t pid;

	memset(a, 0, sizeof(*a));
	a->pid = -1;
	a->in = a->out = a->err = a->listener = a->status_fd = -1;
	a->proxy_http = a->proxy_socks = -1;
	if (pipe2(report, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) < 0) {
		rc = wd_err_sys(err, errno, "setup: pipe");
		goto fail;
	}
	rc = 0;
	if (!sp->inherit_stdio && !tty)
		rc = open_pipes(in, out, errp, err);
	if (rc < 0)
		goto fail;
	/* With a PTY, the sandbox's init opens it and sets these (open_pty). */
	c.tty = -1;
	c.in = sp->inherit_stdio || tty ? -1 : in[0];
	c.out = sp->inherit_stdio || tty ? -1 : out[1];
	c.err = sp->inherit_stdio || tty ? -1 : errp[1];
	c.report = report[1];
	c.notify = sock[1];
	c.work_mnt = -1;
	if (sp->workdir_fd >= 0 && (c.work_mnt = sup_sb_clone_workdir(sp->workdir_fd)) < 0) {
		rc = wd_err_sys(err, -c.work_mnt, "sandbox: clone the working directory");
		goto fail;
	}
	/* The parent's ends only: the child's are other open file descriptions. */
	if (!sp->inherit_stdio && !tty &&
	    (set_nonblock(in[1]) < 0 || set_nonblock(out[0]) < 0 || set_nonblock(errp[0]) < 0)) {
		rc = wd_err_sys(err, errno, "stdio: O_NONBLOCK");
		goto fail;
	}
	pid = clone_sandbox(sp->cgroup_fd);
	if (pid != 0 && c.work_mnt >= 0)
		close_fd(&c.work_mnt);
	if (pid < 0) {
		rc = wd_err_sys(err, errno, "sandbox: clone3 into new namespaces");
		goto fail;
	}
	if (pid == 0)
		sandbox_init(sp, &c);
	close_fd(&report[1]);
	close_fd(&sock[1]);
	close_fd(&in[0]);
	close_fd(&out[1]);
	close_fd(&errp[1]);
	rc = await_exec(sp, report[0], sock[0], tty, &h, pid, err);
	if (rc < 0)
		goto fail;
	rc = take_fds(sock[0], &h);
	if (rc < 0)
		rc = wd_err_sys(err, -rc, "seccomp: take the agent's listener");
	else if (tty && (h.master < 0 || set_nonblock(h.master) < 0))
		rc = wd_err_set(err, EPROTO, "sandbox: no terminal from its init");
	else if (sp->filter != NULL && h.listener < 0 && !h.listener_gone)
		rc = wd_err_set(err, EPROTO, "sandbox: no seccomp listener from the agent");
	else if (sp->sb->egress && (h.http < 0 || h.socks < 0))
		rc = wd_err_set(err, EPROTO, "sandbox: no proxy listeners from its init");
	if (rc < 0) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		goto fail;
	}
	if (set_nonblock(report[0]) < 0) {
		rc = wd_err_sys(err, errno, "sandbox: report pipe");
		goto fail;
	}
	a->pid = pid;
	a->tty = tty;
	a->in = sp->inherit_stdio ? -1 : tty ? h.master : in[1];
	a->out = sp->inherit_stdio ? -1 : tty ? h.master : out[0];
	a->err = sp->inherit_stdio || tty ? -1 : errp[0];
	a->listener = h.listener;
	a->proxy_http = h.http;
	a->proxy_socks = h.socks;
	a->status_fd = report[0];
	close_fd(&sock[0]);
	close_fd(&h.agent);
	return 0;
fail:
	if (c.work_mnt >= 0)
		close_fd(&c.work_mnt);
	close_all(report, 2);
	close_all(sock, 2);
	handed_close(&h);
	close_all(in, 2);
	close_all(out, 2);
	close_all(errp, 2);
	return rc;
}
