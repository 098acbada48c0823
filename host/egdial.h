/*
 * host/egdial.h - the host's egress for one job: the stream core
 * (egress/mux.h) and the dial engine (egress/dial.h) on the job's channel,
 * set up when the job's policy has an `egress` section, and their records
 * written where the launcher writes its own (docs/egress.md, "The host
 * side").
 *
 * Used by `warden run` (host/session.c sets it up after the handshake,
 * host/inbound.c hands it the egress frames, host/relay.c polls it) and
 * `warden sandbox` (host/sandbox.c, on its in-process channel). The rules
 * are the caller's (the job's policy, read once) and must outlive this.
 *
 * Records (class `egress`): through `record` when given (warden sandbox's
 * --records), else to --audit-dir/launcher.jsonl (host/launchrec.h) with
 * the guest log's origin; without either, one warning line on stderr. A
 * record that cannot be written ends the job: wd_egdial_frame and
 * wd_egdial_run return its error (fail closed).
 */
#ifndef WARDEN_HOST_EGDIAL_H
#define WARDEN_HOST_EGDIAL_H

#include <stdbool.h>

#include "../common/egress.h"
#include "../common/err.h"
#include "../egress/dial.h"
#include "../egress/mux.h"
#include "../vsock/conn.h"

/* A record's sink other than launcher.jsonl: class, activity, outcome,
 * severity, data (a canonical JSON object). */
typedef void wd_egdial_record_fn(void *ctx, const char *cls, const char *activity,
				 const char *outcome, const char *severity, const char *data);

struct wd_egdial {
	struct wd_eg_mux *mux;
	struct wd_eg_dial *dial;
	const char *audit_dir; /* NULL: none */
	const char *origin;    /* the guest log's origin ("" unknown); the caller's */
	wd_egdial_record_fn *record;
	void *record_ctx;
	unsigned records_lost; /* records that could not be written: the job ends */
	struct wd_err lost;    /* why the first one could not */
};

/* Set up on `conn` (keyed, host side) for `rules` (present). 0 or -errno. */
int wd_egdial_start(struct wd_egdial *h, const struct wd_egress *rules, struct wd_conn *conn,
		    struct wd_err *err);

/* An egress frame from the guest (wd_frame_is_egress). -EPROTO: the guest
 * broke the protocol (the job ends). */
int wd_egdial_frame(struct wd_egdial *h, const struct wd_frame *f, struct wd_err *err);

/* The fd to poll (POLLIN), the work when it is readable or the deadline
 * came, the poll timeout (ms, -1 none). */
int wd_egdial_fd(const struct wd_egdial *h);
int wd_egdial_run(struct wd_egdial *h, struct wd_err *err);
int wd_egdial_timeout_ms(const struct wd_egdial *h);

/* The job is over: every stream closed (JOB_END), an EG_CLOSE each when
 * `tell_peer`. Idempotent. */
void wd_egdial_end(struct wd_egdial *h, bool tell_peer);

/* wd_egdial_end(false), then free. A zeroed struct is fine. */
void wd_egdial_free(struct wd_egdial *h);

#endif
