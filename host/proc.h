/*
 * host/proc.h - the launcher's child processes (QEMU, the namespace's
 * PID 1, the KVM probe): started so that they cannot outlive it, watched
 * through a pidfd, killed and reaped on every path.
 *
 * A child made by wd_child_fork():
 *   - gets SIGKILL when the launcher dies (PR_SET_PDEATHSIG), even of
 *     SIGKILL, and checks that the launcher was not already gone;
 *   - leads its own process group, so that the terminal's ^C reaches only
 *     the launcher (which then tears the child down itself) and a kill of
 *     the group takes every process the child made;
 *   - starts with every signal disposition at its default and nothing
 *     blocked (the launcher blocks the signals it reads from a signalfd).
 *
 * A child that fails before or at execve() tells the parent why through a
 * close-on-exec pipe (struct wd_launch); the parent sees either that
 * message or end-of-file, which means the exec succeeded. Linux 5.3 or
 * later (pidfd_open).
 */
#ifndef WARDEN_HOST_PROC_H
#define WARDEN_HOST_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../common/err.h"
#include "sigfd.h"

struct wd_child {
	pid_t pid;  /* 0: none, or reaped */
	int pidfd;  /* readable once the child has exited; -1 when none */
	int status; /* wait status, valid after it was reaped */
};

/* The failure report of a child that did not reach execve(). */
struct wd_launch {
	int rfd, wfd;
};

#define WD_CHILD_INIT                                                                              \
	{                                                                                          \
		.pid = 0, .pidfd = -1, .status = 0                                                 \
	}

/* A command line built argument by argument, in its own storage. */
#define WD_ARGV_MAX 64
#define WD_ARGV_BYTES 16384
struct wd_argv {
	char *v[WD_ARGV_MAX + 1]; /* NULL-terminated */
	size_t n;
	char buf[WD_ARGV_BYTES];
	size_t used;
	bool overflow; /* an argument did not fit: do not run it */
};

void wd_argv_init(struct wd_argv *a);
void wd_argv_add(struct wd_argv *a, const char *fmt, ...) WD_PRINTF(2, 3);

int wd_launch_open(struct wd_launch *l, struct wd_err *err);

/* In the child: send "<message>: <strerror(code)>" to the parent and _exit(127). */
__attribute__((noreturn)) void wd_launch_fail(struct wd_launch *l, int code, const char *fmt, ...)
	WD_PRINTF(3, 4);

/*
 * In the parent, after the fork: close the write end and wait for the
 * child's report. 0 when the child reached execve(), else -code with the
 * child's message in `err`. Closes the pipe either way.
 */
int wd_launch_result(struct wd_launch *l, struct wd_err *err);

/* Close both ends (a path that never forked). */
void wd_launch_close(struct wd_launch *l);

/*
 * fork(2) as described above. Returns the pid in the parent (with `c`
 * filled), 0 in the child, or a negative errno.
 */
pid_t wd_child_fork(struct wd_child *c, struct wd_err *err);

/* Reap without blocking: true when the child has ended (status in c->status). */
bool wd_child_reap(struct wd_child *c);

/*
 * Wait up to timeout_ms for the child to end. Returns 1 when it ended and
 * was reaped, 0 on timeout, -EINTR when `intr` (may be NULL) says stop.
 */
int wd_child_wait(struct wd_child *c, int timeout_ms, const struct wd_intr *intr);

/* SIGKILL to its process group, reap, close the pidfd. Idempotent. */
void wd_child_kill(struct wd_child *c);

/* "exited with status N" / "killed by signal N" for a wait status. */
void wd_wait_status_text(int status, char *buf, size_t size);

#endif
