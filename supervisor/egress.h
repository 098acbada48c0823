/*
 * supervisor/egress.h - the agent's egress proxies in the run loop
 * (agent.c): the proxy engine (egress/proxy.h) over the listeners the
 * sandbox made in the agent's network namespace (spawn.h: proxy_http,
 * proxy_socks), the job's channel and the audit log.
 *
 * Records are the agent's (actor "agent", its uid), within the audit
 * budget less its reserve (audit.h): while the audit queue is full the
 * proxies are not served (the agent's connections wait, as its other
 * audited actions do); once the budget is spent the engine is stopped
 * without further records and the budget ends the job (agent.c).
 * Frames for egress streams arriving after that, or after the job's end,
 * are dropped: they were in flight.
 */
#ifndef WARDEN_SUPERVISOR_EGRESS_H
#define WARDEN_SUPERVISOR_EGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/egress.h"
#include "../egress/proxy.h"
#include "channel.h"
#include "fail.h"

struct sup_egress {
	struct wd_eg_proxies *px; /* NULL: no egress, or stopped */
	bool on;                  /* the job has egress (frames for it are expected) */
	long uid;                 /* the agent's, for its records */
};

/* Start the proxies on the listeners (taken: set to -1) when `rules` is
 * present; otherwise nothing (e->on false) and the listeners stay. */
int sup_egress_start(struct sup_egress *e, const struct wd_egress *rules, struct sup_channel *ch,
		     int *http_fd, int *socks_fd, long uid, struct sup_fail *f);

/* The fd to poll (POLLIN), -1 none (or while the audit queue is full). */
int sup_egress_poll_fd(const struct sup_egress *e);

/* Milliseconds until the engine has work no fd announces; -1 none. */
int sup_egress_next_ms(const struct sup_egress *e);

/* After a poll and after each flush of the channel. */
int sup_egress_run(struct sup_egress *e, struct sup_fail *f);

/* A frame for an egress stream (wd_frame_is_egress). Without egress: a
 * protocol error. */
int sup_egress_frame(struct sup_egress *e, const struct wd_frame *fr, struct sup_fail *f);

/* The job's end: every stream closed (job-end) with its record, EG_CLOSE
 * sent when `tell_peer`; the engine freed. Safe to call twice. */
int sup_egress_end(struct sup_egress *e, bool tell_peer, struct sup_fail *f);

#endif
