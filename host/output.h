/*
 * host/output.h - the agent's stdout and stderr, written to the launcher's
 * at the pace of whoever reads them.
 *
 * One DATA payload at a time is pending (copied out of the channel's
 * buffer). It is written in pieces of at most PIPE_BUF bytes, each only
 * after poll(2) said the fd is writable, so a slow reader never blocks the
 * launcher (signals and deadlines still act) and the launcher reads no more
 * of the channel meanwhile: that is the backpressure that reaches the
 * agent's pipe in the guest. A closed reader gives EPIPE (SIGPIPE is
 * blocked, host/sigfd.h), which ends the job (WD_END_OUTPUT_CLOSED).
 *
 * By default the bytes are the agent's, exactly. With --sanitize-output
 * each stream goes through common/safetext.h's stream form: control
 * characters and escape sequences become visible escapes, LF, tab and
 * CR LF pass; a character or CR LF split across two payloads is judged
 * whole (up to WD_SAFE_HELD bytes wait for the next payload or the end).
 */
#ifndef WARDEN_HOST_OUTPUT_H
#define WARDEN_HOST_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../common/safetext.h"
#include "session.h"

/* Take `len` bytes (at most WD_FRAME_MAX_PAYLOAD) for `fd` and write what
 * can be. Nothing may be pending (wd_output_pending). */
int wd_output_start(struct wd_session *s, int fd, const uint8_t *p, size_t len, struct wd_err *err);

/* The agent's stream `fd` ended: what the sanitizer held back, escaped as
 * it stands, is written (nothing without --sanitize-output). */
int wd_output_end(struct wd_session *s, int fd, struct wd_err *err);

/* Write what poll allows of the pending bytes. 0, or -EPIPE / -errno. */
int wd_output_push(struct wd_session *s, struct wd_err *err);

bool wd_output_pending(const struct wd_session *s);

#endif
