/*
 * egress/dial.h - the host's half of an egress stream (docs/egress.md, "The
 * host side"): it answers each EG_OPEN from the guest with an EG_REPLY and,
 * when the answer is CONNECTED, hands the dialed socket to the stream core
 * (egress/mux.h), which pipes the bytes.
 *
 * Run by the host launcher (`warden run`, host/relay.c) and by `warden
 * sandbox` (host/sandbox.c), never in the guest. Its input, the OPEN frame,
 * comes from the guest, which is not trusted: the guest's own check (the
 * supervisor's proxies) counts for nothing here. Per OPEN:
 *
 *   1. decode (vsock/msg.h, strict) and parse the host text again
 *      (wd_egress_target_parse); a bad one is a protocol error;
 *   2. wd_egress_check_request: refused -> REPLY DENIED; the name is never
 *      resolved (no DNS lookup of a name no rule allows: no exfiltration
 *      through the resolver);
 *   3. open streams (the mux counts them: pending and attached, its
 *      max_streams being limits.connections) at the limit -> REPLY LIMIT;
 *   4. resolve: a pinned name (`hosts`) is its address, a literal itself;
 *      any other name goes to getaddrinfo (AF_UNSPEC, SOCK_STREAM, no
 *      AI_ADDRCONFIG) on a resolver thread: at most WD_EG_RESOLVERS run at
 *      once, the rest wait their turn; the answer comes back to the event
 *      loop through an eventfd; at most WD_EG_MAX_ADDRS addresses are kept;
 *   5. wd_egress_check_addr on every address, each refusal noted with its
 *      reason ("127.0.0.1 is loopback"); none left -> REPLY ADDRESS;
 *   6. a non-blocking connect to the first allowed address, the next on
 *      failure, each attempt given an equal share of the time left; the
 *      socket address is built from the very address that was checked
 *      (nothing is resolved twice: no DNS rebinding between check and use);
 *   7. REPLY with the result, the rule, the dialed address, the resolved
 *      ones and a reason; CONNECTED -> the socket goes to the mux.
 *
 * Steps 4-6 together take at most limits.connect_timeout_s from the OPEN:
 * then REPLY TIMEOUT, the socket is closed, a lookup still running is left
 * to finish and its answer dropped.
 *
 * Everything is non-blocking and driven from the caller's poll(2) loop:
 * poll wd_eg_dial_fd() for POLLIN (one epoll fd: connecting sockets, the
 * resolver's eventfd and the mux's own epoll fd), call wd_eg_dial_run()
 * when it is readable, when wd_eg_dial_next_deadline() comes and after each
 * flush of the channel; hand every egress frame (wd_frame_is_egress) to
 * wd_eg_dial_frame().
 *
 * Stream ids (docs/protocol.md, "Streams") are the mux's to keep: an OPEN
 * must name an id above every id opened before (else a protocol error); a
 * frame for an id that was opened and has ended is dropped (it was in
 * flight); a frame for an id never opened is a protocol error; the guest
 * sends nothing but CLOSE on a stream before its REPLY, and that CLOSE
 * ends the dial (no REPLY follows).
 *
 * Records: each refusal (DENIED, LIMIT, RESOLVE, ADDRESS, and a CONNECTED
 * stream for which some address was refused) goes to the caller's record
 * callback as class `egress`, activity `refused` or `limit`, with a
 * canonical JSON object (docs/audit.md, the launcher's records); the host
 * writes it to launcher.jsonl (host/launchrec.h).
 *
 * Failure: functions return 0 or -errno with `err` filled; -EPROTO is the
 * guest's fault (the caller ends the job, fail closed); anything else is
 * the host's (out of memory, the channel full). Memory: one struct of
 * about 1 KiB per pending OPEN (at most limits.connections), freed when
 * the stream is answered.
 */
#ifndef WARDEN_EGRESS_DIAL_H
#define WARDEN_EGRESS_DIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/egress.h"
#include "../common/err.h"
#include "../vsock/conn.h"
#include "../vsock/frame.h"
#include "../vsock/msg.h"

#define WD_EG_RESOLVERS 16                    /* resolver threads running at once */
#define WD_EG_RESOLVER_STACK (256UL * 1024UL) /* bytes of stack per resolver thread */
#define WD_EG_DIAL_RECORD_MAX 3072            /* a record's data, bytes (launchrec.h) */

struct wd_eg_dial;
struct wd_eg_mux;

/* A record of the dial side (data: a canonical JSON object). */
struct wd_eg_dial_record {
	const char *activity; /* "refused" | "limit" */
	const char *outcome;  /* "denied" */
	const char *severity; /* "high" (a name the policy refuses: the guest's
				 check should have stopped it), "medium", "low" */
	const char *data;
};
typedef void wd_eg_dial_record_fn(void *ctx, const struct wd_eg_dial_record *r);

/*
 * A resolver in place of getaddrinfo (tests). Runs on a resolver thread:
 * it must touch only its arguments. Fills up to `max` addresses and
 * returns how many (0: the name does not resolve), or a negative errno.
 */
typedef int wd_eg_resolve_fn(void *ctx, const char *name, struct wd_egress_addr *out, size_t max);

struct wd_eg_dial_config {
	const struct wd_egress *rules; /* the job's policy.egress (present), kept by the caller */
	struct wd_conn *conn;          /* the channel, host side, keyed */
	struct wd_eg_mux *mux;         /* the stream core (max_streams = limits.connections): it
				  keeps the ids and takes the connected sockets */
	wd_eg_dial_record_fn *record;  /* NULL: records are dropped */
	void *record_ctx;
	wd_eg_resolve_fn *resolve; /* NULL: getaddrinfo */
	void *resolve_ctx;
};

/* Set up (an epoll fd, an eventfd; no thread yet). */
int wd_eg_dial_new(const struct wd_eg_dial_config *cfg, struct wd_eg_dial **out,
		   struct wd_err *err);

/* The fd to poll for POLLIN. */
int wd_eg_dial_fd(const struct wd_eg_dial *d);

/*
 * One egress frame from the guest (wd_frame_is_egress): OPEN starts a
 * dial, CLOSE of a pending stream cancels it, the rest goes to the mux.
 * 0, -EPROTO (the guest broke the protocol), or -errno.
 */
int wd_eg_dial_frame(struct wd_eg_dial *d, const struct wd_frame *f, struct wd_err *err);

/* Move everything that is ready: lookups done, connects finished,
 * deadlines passed, the mux's streams. 0 or -errno. */
int wd_eg_dial_run(struct wd_eg_dial *d, struct wd_err *err);

/* Milliseconds until run has work no fd announces (a dial's deadline, the
 * mux's), 0 now, -1 none: a poll(2) timeout. */
int wd_eg_dial_next_deadline(const struct wd_eg_dial *d);

/* Streams pending here (OPEN seen, REPLY not yet sent). */
size_t wd_eg_dial_pending(const struct wd_eg_dial *d);

/* The job ends: every pending dial is dropped without a REPLY (sockets
 * closed, lookups abandoned) and every stream of the mux is reset with
 * `reason` (WD_EG_CLOSE_JOB_END), with an EG_CLOSE each when `tell_peer`
 * (the channel still works). 0, or the mux's send error. */
int wd_eg_dial_close_all(struct wd_eg_dial *d, enum wd_eg_close reason, bool tell_peer,
			 struct wd_err *err);

/* Drop what is pending, then release everything but the mux (the
 * caller's); lookups still running finish on their own and free what they
 * hold. NULL is fine. */
void wd_eg_dial_free(struct wd_eg_dial *d);

#endif
