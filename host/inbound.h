/*
 * host/inbound.h - what the guest may send while the job runs, and when
 * (docs/protocol.md, "A job, from boot to shutdown"):
 *
 *   STARTED      once, after every file was sent
 *   STDIN_ACK    on stream 1, after STARTED; never more than was sent,
 *                never less than before
 *   DATA         on stream 2 or 3, after STARTED, none after its stream's
 *                empty DATA
 *   EXIT         once, after STARTED and the end of both outputs; the
 *                guest's last frame
 *   ERROR        any time: the job fails with the guest's message
 *   EG_OPEN, EG_WINDOW, EG_CLOSE, DATA on an egress id
 *                only when the policy has an egress section, after
 *                STARTED, no OPEN after EXIT; judged by egdial.h
 *
 * Anything else (HELLO again, a frame after EXIT, a control message off
 * its stream, the types whose payloads are not defined yet) is a protocol
 * error: the session ends, WD_END_FAILED. Payloads are decoded by
 * vsock/msg.c, strictly.
 */
#ifndef WARDEN_HOST_INBOUND_H
#define WARDEN_HOST_INBOUND_H

#include "../common/err.h"
#include "../vsock/frame.h"
#include "session.h"

/* Act on one verified frame. 0, or -errno with s->end set. */
int wd_inbound_frame(struct wd_session *s, const struct wd_frame *f, struct wd_err *err);

#endif
