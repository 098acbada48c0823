/*
 * host/outfilter.h - `warden sandbox --sanitize-output`: the command's
 * stdout and stderr through common/safetext.h's stream form.
 *
 * The command inherits this process's stdio (host/sandbox.c), so its
 * output never passes through warden's own loop. Instead each of fds 1
 * and 2 is, while the command is started, a pipe to a child of this
 * process (a filter) that writes what it reads, sanitized, to the fd the
 * pipe replaced. Once the command has its copies, this process takes its
 * own fds back: its messages go straight out, and the filters see the end
 * of their pipe when the command's pid namespace is gone. The filters are
 * forked with the signals warden forwards still blocked, so a Ctrl-C on
 * the terminal does not stop them before the command's last words. A
 * reader that goes away kills a filter with SIGPIPE, and the command then
 * gets EPIPE, as it would writing to that reader itself.
 */
#ifndef WARDEN_HOST_OUTFILTER_H
#define WARDEN_HOST_OUTFILTER_H

#include <sys/types.h>

#include "../common/err.h"

#define WD_OUTFILTER_READ_BYTES 65536 /* one read of the command's output */

struct wd_outfilter {
	pid_t pid[2]; /* the filters of fd 1 and fd 2; -1: none */
	int saved[2]; /* this process's own fd 1 and 2 while the pipes stand in; -1: none */
};

/* Start both filters and put their pipes on fds 1 and 2. The caller calls
 * wd_outfilter_finish() in every case: after a failure it undoes what was
 * started. */
int wd_outfilter_start(struct wd_outfilter *f, struct wd_err *err);

/* The command has its fds: this process's own fds 1 and 2 back. */
void wd_outfilter_detach(struct wd_outfilter *f);

/* Detach if not done yet, and wait until the filters wrote everything. */
void wd_outfilter_finish(struct wd_outfilter *f);

#endif
