/*
 * supervisor/spawn.c - fork, the child's descent to the agent's
 * credentials, and exec (see spawn.h for the order and the conventions).
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "../common/log.h"
#include "../common/signals.h"

#define FD_SCAN_MAX 65536 /* without close_range(2): fds checked one by one */
#define PTY_SLAVE_MODE 0620

/* Why the child gave up before exec, sent to the parent. */
struct report {
	int err;
	char what[60];
};

/* The child's ends, all >= 3 (fds 0-2 of the supervisor are always open). */
struct child_fds {
	int in, out, err; /* the agent's 0, 1, 2 */
	int tty;          /* the PTY slave, or -1 */
	int report;       /* write end of the report pipe */
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

/* ---- the child ------------------------------------------------------------ */

static void __attribute__((noreturn)) child_fail(const struct child_fds *c, const char *what, int e)
{
	struct report r;

	memset(&r, 0, sizeof(r));
	r.err = e;
	(void)snprintf(r.what, sizeof(r.what), "%s", what);
	(void)!write(c->report, &r, sizeof(r));
	_exit(SUP_EXIT_NOT_EXEC);
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
	wd_error("agent: cannot run '%s': %s", name, strerror(e));
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

static void __attribute__((noreturn))
child(const struct sup_spawn *sp, const struct child_fds *c, pid_t parent)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	sigset_t none;
	int rc;

	if (sp->secrets != NULL)
		wd_chan_wipe(sp->secrets);
	if (setsid() < 0)
		child_fail(c, "setsid", errno);
	if (c->tty >= 0 && ioctl(c->tty, TIOCSCTTY, 0) < 0)
		child_fail(c, "TIOCSCTTY", errno);
	if (dup2(c->in, STDIN_FILENO) < 0 || dup2(c->out, STDOUT_FILENO) < 0 ||
	    dup2(c->err, STDERR_FILENO) < 0)
		child_fail(c, "dup2", errno);
	if (setgroups(0, NULL) < 0)
		child_fail(c, "setgroups", errno);
	if (setresgid(sp->gid, sp->gid, sp->gid) < 0)
		child_fail(c, "setresgid", errno);
	if (setresuid(sp->uid, sp->uid, sp->uid) < 0)
		child_fail(c, "setresuid", errno);
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != sp->uid ||
	    eu != sp->uid || su != sp->uid || rg != sp->gid || eg != sp->gid || sg != sp->gid)
		child_fail(c, "credentials not dropped", EPERM);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) < 0)
		child_fail(c, "PR_SET_NO_NEW_PRIVS", errno);
	/* After the credential change, which clears it. */
	if (prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0UL, 0UL, 0UL) < 0)
		child_fail(c, "PR_SET_PDEATHSIG", errno);
	if (getppid() != parent)
		child_fail(c, "the supervisor is gone", ESRCH);
	if (fchdir(sp->cwd_fd) < 0)
		child_fail(c, "chdir to the job's cwd", errno);
	rc = cloexec_above_stdio();
	if (rc < 0)
		child_fail(c, "close-on-exec above fd 2", -rc);
	wd_signals_default();
	(void)sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		child_fail(c, "sigprocmask", errno);
	exec_agent(sp->job);
}

/* ---- the parent ----------------------------------------------------------- */

static int open_pty(const struct sup_spawn *sp, int *master, int *slave, struct wd_err *err)
{
	struct winsize ws;

	*slave = -1;
	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0)
		return wd_err_sys(err, errno, "pty: posix_openpt");
	if (grantpt(*master) < 0 || unlockpt(*master) < 0)
		return wd_err_sys(err, errno, "pty: unlock");
	/* The slave from the master itself: no path lookup in /dev/pts. */
	*slave = ioctl(*master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0) {
		char name[64];

		if (ptsname_r(*master, name, sizeof(name)) != 0)
			return wd_err_sys(err, errno, "pty: ptsname");
		*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
		if (*slave < 0)
			return wd_err_sys(err, errno, "pty: open %s", name);
	}
	if (fchown(*slave, sp->uid, sp->gid) < 0 || fchmod(*slave, PTY_SLAVE_MODE) < 0)
		return wd_err_sys(err, errno, "pty: give the terminal to the agent");
	memset(&ws, 0, sizeof(ws));
	ws.ws_row = sp->job->rows != 0 ? sp->job->rows : SUP_PTY_DEFAULT_ROWS;
	ws.ws_col = sp->job->cols != 0 ? sp->job->cols : SUP_PTY_DEFAULT_COLS;
	if (ioctl(*master, TIOCSWINSZ, &ws) < 0)
		return wd_err_sys(err, errno, "pty: TIOCSWINSZ");
	return 0;
}

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

/* Wait for the child's exec: EOF on the report pipe, or why it gave up. */
static int await_exec(int fd, pid_t pid, struct wd_err *err)
{
	struct report r;
	size_t got = 0;

	while (got < sizeof(r)) {
		ssize_t n = read(fd, (char *)&r + got, sizeof(r) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got == 0)
		return 0;
	(void)waitpid(pid, NULL, 0);
	if (got < sizeof(r))
		return wd_err_set(err, EIO, "setup: a truncated report from the child");
	r.what[sizeof(r.what) - 1] = '\0';
	return wd_err_sys(err, r.err, "setup: %s", r.what);
}

int sup_spawn(const struct sup_spawn *sp, struct sup_agent *a, struct wd_err *err)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1}, report[2] = {-1, -1};
	int master = -1, slave = -1, rc;
	struct child_fds c;
	pid_t parent = getpid(), pid;

	memset(a, 0, sizeof(*a));
	a->pid = -1;
	a->in = a->out = a->err = -1;
	if (pipe2(report, O_CLOEXEC) < 0) {
		rc = wd_err_sys(err, errno, "setup: pipe");
		goto fail;
	}
	rc = sp->job->tty ? open_pty(sp, &master, &slave, err) : open_pipes(in, out, errp, err);
	if (rc < 0)
		goto fail;
	c.tty = slave;
	c.in = sp->job->tty ? slave : in[0];
	c.out = sp->job->tty ? slave : out[1];
	c.err = sp->job->tty ? slave : errp[1];
	c.report = report[1];
	/* The parent's ends only: the child's are other open file descriptions. */
	if (set_nonblock(sp->job->tty ? master : in[1]) < 0 ||
	    (!sp->job->tty && (set_nonblock(out[0]) < 0 || set_nonblock(errp[0]) < 0))) {
		rc = wd_err_sys(err, errno, "stdio: O_NONBLOCK");
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		rc = wd_err_sys(err, errno, "setup: fork");
		goto fail;
	}
	if (pid == 0)
		child(sp, &c, parent);
	close_fd(&report[1]);
	close_fd(&slave);
	close_fd(&in[0]);
	close_fd(&out[1]);
	close_fd(&errp[1]);
	rc = await_exec(report[0], pid, err);
	if (rc < 0)
		goto fail;
	a->pid = pid;
	a->tty = sp->job->tty;
	a->in = sp->job->tty ? master : in[1];
	a->out = sp->job->tty ? master : out[0];
	a->err = sp->job->tty ? -1 : errp[0];
	close_fd(&report[0]);
	return 0;
fail:
	close_fd(&report[0]);
	close_fd(&report[1]);
	close_fd(&master);
	close_fd(&slave);
	for (int i = 0; i < 2; i++) {
		close_fd(&in[i]);
		close_fd(&out[i]);
		close_fd(&errp[i]);
	}
	return rc;
}
