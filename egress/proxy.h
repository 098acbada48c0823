/*
 * egress/proxy.h - the guest's egress proxies: the engine behind the HTTP
 * proxy (127.0.0.1:3128) and the SOCKS5 proxy (127.0.0.1:1080) that the
 * sandbox listens on inside the agent's network namespace (docs/egress.md).
 *
 * Who runs it: warden-supervisor in the guest (root, trusted), and `warden
 * sandbox` on the host; both give it the two listening sockets, the
 * policy's rules and the channel, and poll wd_eg_proxy_fd() in their own
 * poll(2) loop. Who feeds it: the agent (hostile: every byte of a request
 * head, a SOCKS5 handshake and a forwarded HTTP message is bounded and
 * parsed by egress/http.h and egress/socks5.h), and the host's side of the
 * channel (EG_REPLY, EG_WINDOW, EG_CLOSE, DATA on egress ids).
 *
 * What it does, per client: accept; read the head or handshake without
 * blocking (WD_EG_HTTP_HEAD_MAX; the whole head within
 * WD_EG_HEAD_TIMEOUT_MS, so a client that sends a byte a second is dropped
 * in time and never delays another: one epoll, nothing blocks); check the
 * rules (common/egress.h: wd_egress_check_request); answer a denial (403
 * with X-Warden-Deny, SOCKS5 0x02) or send EG_OPEN and, on EG_REPLY,
 * answer the agent (200 / SOCKS5 success, or 403/502/503/504 / SOCKS5
 * 0x02/0x04/0x05/0x06/0x01) and hand the socket, with the bytes it already
 * sent past its head, to the stream core (egress/mux.h). Absolute-form
 * `http://` requests are forwarded as HTTP/1.1 through a relay (relay.c:
 * head rewritten, body and response framing tracked, keep-alive reusing
 * the stream while the host:port stays the same).
 *
 * Bounds: limits.connections open streams (the mux's table; beyond:
 * 503 / SOCKS5 0x01 and a limit/egress-connections record), at most
 * WD_EG_HANDSHAKE_MAX clients in their handshake (reading a head, no
 * stream yet). At that bound the listeners are still read: each new
 * client takes the slot of the one that has waited longest for its head,
 * which is answered 408 / SOCKS5 0x01 and closed, with a
 * limit/egress-connections record ("what": "handshakes"). So a new client
 * is never held behind slow ones: under a flood, slow clients lose their
 * slots to each other. A client answered in its handshake (refused or
 * evicted) gives up its slot and its input buffer at once and lingers
 * WD_EG_LINGER_MS at most. WD_EG_ACCEPT_BURST accepts per listener and
 * run; accepting pauses only when accept(2) fails (out of fds), until a
 * client goes. Memory: handshakes take at most WD_EG_HANDSHAKE_MAX x
 * (EG_IN_BYTES + a client's 1.3 KiB), about 17.3 MiB; per client and per
 * stream: docs/egress.md, "Memory".
 *
 * Records go through the caller's callback (network/connect, refused,
 * close; limit/egress-connections, egress-idle: docs/audit.md). A record
 * that cannot be written is fatal: the engine's calls return its error,
 * and the caller fails the job (fail closed).
 *
 * Failure: a protocol error from the host (a REPLY for a stream never
 * opened or already answered, a bad payload, the mux's errors) and a
 * failed send on the channel are returned (-errno, `err` set); the caller
 * fails the channel and frees the engine. A client's own errors only end
 * that client. Single-threaded; not reentrant.
 */
#ifndef WARDEN_EGRESS_PROXY_H
#define WARDEN_EGRESS_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/egress.h"
#include "../common/err.h"
#include "../vsock/conn.h"
#include "../vsock/frame.h"

#define WD_EG_HEAD_TIMEOUT_MS                                                                      \
	30000 /* a client's head or SOCKS5 handshake, whole, and a
				       kept-alive client's wait for its next request */
#define WD_EG_HANDSHAKE_MAX                                                                        \
	1024 /* clients reading their head (16 KiB buffer each);
				       beyond, the oldest is evicted */
#define WD_EG_LINGER_MS                                                                            \
	2000 /* after a refusal: the client's last bytes are read
				       and dropped this long, so that it gets the answer
				       rather than a reset */
#define WD_EG_REPLY_GRACE_MS                                                                       \
	5000                     /* EG_REPLY may come this long after
				       limits.connect_timeout_s; then 504 */
#define WD_EG_ACCEPT_BURST 64    /* accepts per listener and run (fairness) */
#define WD_EG_EVENTS_PER_RUN 128 /* epoll events taken per run */

/*
 * A record for the audit log: class, activity, outcome, severity and
 * `data` (one canonical JSON object, common/jcanon.h). 0, or -errno with
 * `err` set (the engine then stops: its calls return that error).
 */
typedef int (*wd_eg_record_fn)(void *ctx, const char *cls, const char *activity,
			       const char *outcome, const char *severity, const char *data,
			       struct wd_err *err);

struct wd_eg_proxy_config {
	int http_fd;                   /* listening TCP socket of the HTTP proxy; -1 none. Taken. */
	int socks_fd;                  /* ... of the SOCKS5 proxy; -1 none. Taken. */
	const struct wd_egress *rules; /* present; must outlive the engine */
	struct wd_conn *conn;          /* the channel (keyed); must outlive the engine */
	wd_eg_record_fn record;        /* required */
	void *record_ctx;
	/* 0: the defaults above. Tests shorten them. */
	uint64_t head_timeout_ms;
	unsigned handshake_max;
};

struct wd_eg_proxies;

/*
 * An engine over cfg's listeners (made non-blocking and close-on-exec),
 * with its own stream table (egress/mux.h: limits.connections streams,
 * idle_timeout_s). The listeners are the engine's from this call on, even
 * when it fails. -EINVAL for a bad config, -errno from epoll or memory.
 */
int wd_eg_proxy_new(struct wd_eg_proxies **out, const struct wd_eg_proxy_config *cfg,
		    struct wd_err *err);

/* Close every socket and free everything, without records or frames
 * (wd_eg_proxy_end first for those). NULL is fine. */
void wd_eg_proxy_free(struct wd_eg_proxies *p);

/* The fd to poll for POLLIN (an epoll fd over the listeners, the clients
 * and the stream core). */
int wd_eg_proxy_fd(const struct wd_eg_proxies *p);

/*
 * Do what is ready: accept, read heads, answer, relay, expire deadlines,
 * run the stream core. Call it when wd_eg_proxy_fd() is readable, when
 * wd_eg_proxy_next_deadline() has come, and after every flush of the
 * channel (the stream core reads sockets only while the channel's queue
 * is under WD_CONN_HIGH_WATER). 0, or -errno (see above).
 */
int wd_eg_proxy_run(struct wd_eg_proxies *p, struct wd_err *err);

/* Milliseconds until run has work no fd announces: 0 now, -1 none. */
int wd_eg_proxy_next_deadline(const struct wd_eg_proxies *p);

/*
 * A frame from the host for an egress stream (wd_frame_is_egress(): an
 * EG_REPLY, EG_WINDOW, EG_CLOSE, or DATA on an egress id). 0 when taken
 * or dropped (a frame in flight for a stream that has ended), -errno for
 * a protocol error (err set).
 */
int wd_eg_proxy_frame(struct wd_eg_proxies *p, const struct wd_frame *f, struct wd_err *err);

/*
 * The job's end: the listeners closed, every client closed, every open
 * stream reset with reason job-end and its network/close record written;
 * EG_CLOSE is sent for each only when `tell_peer` (the channel still
 * works). Idempotent. 0, or the first record's or send's error.
 */
int wd_eg_proxy_end(struct wd_eg_proxies *p, bool tell_peer, struct wd_err *err);

/* Counters for tests and benchmarks. */
struct wd_eg_proxy_stats {
	unsigned clients;    /* accepted sockets the engine itself holds */
	unsigned handshakes; /* of those, in their handshake (holding a slot) */
	unsigned streams;    /* open streams (waiting for REPLY, or attached) */
	unsigned relays;     /* forwarding http:// clients */
	uint64_t accepted, refused_limit, denied, opened;
};
void wd_eg_proxy_stats(const struct wd_eg_proxies *p, struct wd_eg_proxy_stats *st);

#endif
