/*
 * host/sbstdio.h - the stdio of `warden sandbox`'s command when warden's
 * own is a terminal (host/sandbox.c).
 *
 * A terminal handed to the command would be the operator's: what the
 * command changes on it stays after the command ends (O_NONBLOCK on the
 * open file, which the operator's shell then reads as EAGAIN; termios;
 * the window size), and every tty ioctl of the operator's terminal would
 * be the command's to try. So, as `docker run` without -t does, when any
 * of fds 0-2 is a terminal the command gets three pipes instead
 * (spawn.h), and warden copies: its stdin into the command's, the
 * command's stdout and stderr out to its own. warden never changes its
 * own descriptors' flags or the terminal's settings: it reads only what
 * poll says is there and writes at most WD_SB_STDIO_CHUNK bytes to what
 * poll says has room (on a pipe that never blocks). When nothing is a
 * terminal the command gets warden's own fds, as before.
 *
 * The copy of stdin ends at its end of file, when the command closes its
 * stdin, and when the command exits (what it did not read is dropped).
 * The outputs are copied to their end of file, which comes when every
 * process of the sandbox is gone. When warden's own output fails (its
 * reader is gone: EPIPE, SIGPIPE being ignored here) the command's pipe
 * is closed too, so that the command sees EPIPE as it would have itself.
 */
#ifndef WARDEN_HOST_SBSTDIO_H
#define WARDEN_HOST_SBSTDIO_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include "../sandbox/spawn.h"

#define WD_SB_STDIO_CHUNK 4096 /* bytes per copy: PIPE_BUF, one write after POLLOUT */
#define WD_SB_STDIO_POLLS 3    /* pollfds it may add to a round */

struct wd_sb_copy {
	int from, to;  /* -1 once closed or given up */
	bool own_from; /* `from` is the command's pipe (ours to close), not our fd 0 */
	char buf[WD_SB_STDIO_CHUNK];
	size_t off, len;
};

struct wd_sb_stdio {
	struct wd_sb_copy c[3]; /* stdin, stdout, stderr */
	struct pollfd *p[3];    /* this round's entry of each copy; NULL none */
};

/* Is any of fds 0-2 a terminal? Then the command gets pipes (spawn.h). */
bool wd_sb_stdio_wanted(void);

/* Take the spawned command's pipes (a->in, a->out, a->err; owned from now). */
void wd_sb_stdio_init(struct wd_sb_stdio *s, struct sup_agent *a);

/* Add this round's pollfds at p; returns how many (at most WD_SB_STDIO_POLLS). */
size_t wd_sb_stdio_poll(struct wd_sb_stdio *s, struct pollfd *p);

/* Copy what the round's poll allowed. `exited`: the command is gone, stdin stops. */
void wd_sb_stdio_run(struct wd_sb_stdio *s, bool exited);

/* Is some output of the command still to be copied? */
bool wd_sb_stdio_open(const struct wd_sb_stdio *s);

/* Close everything left. */
void wd_sb_stdio_close(struct wd_sb_stdio *s);

#endif
