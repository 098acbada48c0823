/*
 * host/relay.h - the running job: from the JOB sent to the guest's end
 * (the protocol's second half, session.h). One poll(2) loop moves stdin,
 * file uploads, stdout and stderr, forwards signals and the window size,
 * takes EXIT, sends SHUTDOWN and waits (bounded) for the guest to go.
 */
#ifndef WARDEN_HOST_RELAY_H
#define WARDEN_HOST_RELAY_H

#include "../common/err.h"
#include "session.h"

/*
 * Run until the job is over. Returns 0 with s->end == WD_END_EXIT (the
 * agent's status in s->exit), or -errno with s->end saying what ended it.
 */
int wd_relay_run(struct wd_session *s, struct wd_err *err);

#endif
