/*
 * host/sbegress.h - egress for `warden sandbox`: both halves of the
 * streams in this one process, over an in-process channel, so that the
 * command reaches the network exactly as an agent in a microVM does, by
 * the same code (docs/egress.md).
 *
 *   the command ── 127.0.0.1:3128 / :1080 (listeners made in its network
 *   namespace by the sandbox) ── proxy engine (egress/proxy.h, the
 *   supervisor's half) ══ socketpair, two keyed wd_conn ══ dial engine
 *   (host/egdial.h: egress/dial.h and the stream core, the launcher's half)
 *   ── the network
 *
 * The channel is authenticated like the real one (a fresh random key from
 * getrandom, HMAC on every frame), though both ends are this process: the
 * frames, the checks on both sides and the records are the microVM's.
 * The caller polls the fds wd_sb_egress_poll() fills and calls
 * wd_sb_egress_run() after each poll; records of both halves go to its
 * callbacks (warden sandbox's --records, or stderr).
 *
 * Failure: -errno with `err` set; a protocol error between the halves is a
 * bug here, and the caller ends the command (fail closed).
 */
#ifndef WARDEN_HOST_SBEGRESS_H
#define WARDEN_HOST_SBEGRESS_H

#include <poll.h>
#include <stdbool.h>

#include "../common/egress.h"
#include "../common/err.h"
#include "../egress/proxy.h"
#include "../vsock/conn.h"
#include "egdial.h"

#define WD_SB_EGRESS_POLLS 4   /* pollfds wd_sb_egress_poll fills at most */
#define WD_SB_EGRESS_ROUNDS 16 /* frame exchanges per run, at most (fairness) */

struct wd_sb_egress {
	bool on;
	struct wd_conn guest, host; /* the proxy's end, the dial's end */
	bool guest_open, host_open;
	struct wd_eg_proxies *proxy;
	struct wd_egdial dial;
};

/*
 * Start both halves for `rules` (present), the proxies on the sandbox's
 * listeners (taken, even on failure; -1 none). `proxy_record` gets the
 * proxy's records (network/..., limit/...), `dial_record` the host's
 * (egress/...).
 */
int wd_sb_egress_start(struct wd_sb_egress *e, const struct wd_egress *rules, int http_fd,
		       int socks_fd, wd_eg_record_fn proxy_record, wd_egdial_record_fn *dial_record,
		       void *record_ctx, struct wd_err *err);

/* The fds to poll; returns how many of p[0 .. WD_SB_EGRESS_POLLS) it filled. */
size_t wd_sb_egress_poll(const struct wd_sb_egress *e, struct pollfd *p);

/* Milliseconds until run has work no fd announces: 0 now, -1 none. */
int wd_sb_egress_timeout_ms(const struct wd_sb_egress *e);

/* Move what is ready, both halves and the channel between them. 0 or -errno. */
int wd_sb_egress_run(struct wd_sb_egress *e, struct wd_err *err);

/* The command is over: every stream closed and recorded (job-end), then
 * everything released. Safe on a zeroed struct. */
void wd_sb_egress_end(struct wd_sb_egress *e);

#endif
