/*
 * host/sigfd.h - the launcher's signals, read from a signalfd in its poll
 * loops, never handled asynchronously.
 *
 *   SIGINT, SIGTERM                 stop: tear the VM down, exit 128+N
 *   SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2
 *                                   forwarded to the agent (SIGNAL frames)
 *   SIGWINCH                        the terminal's new size, for a --tty job
 *   SIGPIPE                         blocked and dropped: a closed stdout is
 *                                   seen as EPIPE where it is written
 *
 * SIGINT and SIGTERM are set back to their default disposition first: a
 * launcher started in the background by a shell without job control
 * inherits them ignored, and must still be stoppable (and stop its VM).
 * SIGHUP inherited as ignored (nohup) stays ignored.
 */
#ifndef WARDEN_HOST_SIGFD_H
#define WARDEN_HOST_SIGFD_H

#include <stdbool.h>

#include "../common/err.h"

/*
 * How a long wait (a boot, a probe, a shutdown) notices SIGINT and SIGTERM:
 * it polls `fd` too, and when that is readable calls check(ctx), which
 * reads the pending signals and returns true when the launcher must stop.
 */
struct wd_intr {
	int fd;
	bool (*check)(void *ctx);
	void *ctx;
};

/* Block the signals above and open the signalfd (non-blocking, close-on-exec). */
int wd_sigfd_open(struct wd_err *err);

/* The next pending signal's number, or 0 when none is pending. */
int wd_sigfd_next(int fd);

/* Is `signo` one that is forwarded to the agent? */
bool wd_sigfd_forwarded(int signo);

#endif
