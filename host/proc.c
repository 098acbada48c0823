/* host/proc.c - see proc.h. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/signals.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2) /* linux/close_range.h, Linux 5.11 */
#endif

/* One report, written in a single write(2) (below PIPE_BUF: never split). */
struct launch_report {
	int code;
	char msg[256];
};

void wd_argv_init(struct wd_argv *a)
{
	a->n = 0;
	a->used = 0;
	a->overflow = false;
	a->v[0] = NULL;
}

void wd_argv_add(struct wd_argv *a, const char *fmt, ...)
{
	size_t room = sizeof(a->buf) - a->used;
	va_list ap;
	int n;

	if (a->overflow || a->n == WD_ARGV_MAX) {
		a->overflow = true;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(a->buf + a->used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		a->overflow = true;
		return;
	}
	a->v[a->n++] = a->buf + a->used;
	a->v[a->n] = NULL;
	a->used += (size_t)n + 1;
}

int wd_launch_open(struct wd_launch *l, struct wd_err *err)
{
	int fds[2];

	l->rfd = l->wfd = -1;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return wd_err_sys(err, errno, "pipe");
	l->rfd = fds[0];
	l->wfd = fds[1];
	return 0;
}

void wd_launch_fail(struct wd_launch *l, int code, const char *fmt, ...)
{
	struct launch_report r;
	char what[WD_ERR_MSG_BYTES];
	struct wd_err e;
	va_list ap;

	memset(&r, 0, sizeof(r));
	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	r.code = -wd_err_sys(&e, code > 0 ? code : EIO, "%s", what);
	memcpy(r.msg, e.msg, sizeof(r.msg) - 1); /* cut, NUL-terminated by the memset */
	(void)!write(l->wfd, &r, sizeof(r));
	_exit(127);
}

int wd_launch_result(struct wd_launch *l, struct wd_err *err)
{
	struct launch_report r;
	ssize_t n;

	if (l->wfd >= 0)
		(void)close(l->wfd);
	l->wfd = -1;
	do
		n = read(l->rfd, &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	(void)close(l->rfd);
	l->rfd = -1;
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof(r))
		return wd_err_set(err, EIO, "child process: unreadable start report");
	r.msg[sizeof(r.msg) - 1] = '\0';
	return wd_err_set(err, r.code, "%s", r.msg);
}

void wd_launch_close(struct wd_launch *l)
{
	if (l->rfd >= 0)
		(void)close(l->rfd);
	if (l->wfd >= 0)
		(void)close(l->wfd);
	l->rfd = l->wfd = -1;
}

static void child_setup(pid_t parent)
{
	sigset_t none;

	/* The launcher's death, however it dies, kills the child. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	(void)setpgid(0, 0);
	/* Whatever the launcher inherited without close-on-exec stops here. */
	(void)syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
	wd_signals_default();
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

pid_t wd_child_fork(struct wd_child *c, struct wd_err *err)
{
	pid_t parent = getpid(), pid;

	c->pid = 0;
	c->pidfd = -1;
	c->status = 0;
	pid = fork();
	if (pid < 0)
		return wd_err_sys(err, errno, "fork");
	if (pid == 0) {
		child_setup(parent);
		return 0;
	}
	/* Also from here, so that a kill of the group cannot race the child's own call. */
	(void)setpgid(pid, pid);
	c->pid = pid;
	c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (c->pidfd < 0) {
		int e = errno;

		wd_child_kill(c);
		return wd_err_sys(err, e, "pidfd_open (Linux 5.3 or later is needed)");
	}
	(void)fcntl(c->pidfd, F_SETFD, FD_CLOEXEC);
	return pid;
}

bool wd_child_reap(struct wd_child *c)
{
	int status;
	pid_t r;

	if (c->pid <= 0)
		return true;
	do
		r = waitpid(c->pid, &status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return false;
	c->status = r == c->pid ? status : 0;
	c->pid = 0;
	if (c->pidfd >= 0)
		(void)close(c->pidfd);
	c->pidfd = -1;
	return true;
}

int wd_child_wait(struct wd_child *c, int timeout_ms, const struct wd_intr *intr)
{
	uint64_t deadline = wd_mono_ns() + (uint64_t)timeout_ms * WD_NS_PER_MS;

	for (;;) {
		struct pollfd pfd[2] = {
			{.fd = c->pidfd, .events = POLLIN, .revents = 0},
			{.fd = intr != NULL ? intr->fd : -1, .events = POLLIN, .revents = 0}};
		uint64_t now = wd_mono_ns();
		int left;

		if (wd_child_reap(c))
			return 1;
		if (now >= deadline)
			return 0;
		left = (int)((deadline - now + WD_NS_PER_MS - 1) / WD_NS_PER_MS);
		if (poll(pfd, 2, left) < 0 && errno != EINTR)
			return -errno;
		if (intr != NULL && (pfd[1].revents & POLLIN) != 0 && intr->check(intr->ctx))
			return -EINTR;
	}
}

void wd_child_kill(struct wd_child *c)
{
	int status = 0;

	if (c->pid > 0) {
		/* The group first (whatever the child started), then the child itself in
		 * case it left the group. It is not reaped yet, so neither id can be reused. */
		(void)kill(-c->pid, SIGKILL);
		(void)kill(c->pid, SIGKILL);
		while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
			;
		c->status = status;
		c->pid = 0;
	}
	if (c->pidfd >= 0)
		(void)close(c->pidfd);
	c->pidfd = -1;
}

void wd_wait_status_text(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		(void)snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		(void)snprintf(buf, size, "was killed by signal %d (%s)", WTERMSIG(status),
			       strsignal(WTERMSIG(status)));
	else
		(void)snprintf(buf, size, "ended with wait status %#x", (unsigned)status);
}
