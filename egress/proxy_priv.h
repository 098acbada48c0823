/*
 * egress/proxy_priv.h - the engine's inside, shared by proxy.c (clients,
 * heads, opens, replies), relay.c (http:// forwarding) and proxyrec.c (the
 * records). Not for other modules: proxy.h is the contract.
 *
 * Objects:
 *   - a client: one accepted socket the engine holds (reading its head,
 *     waiting for EG_REPLY, being answered, or forwarding http://);
 *   - a stream: one EG_OPEN sent, until the mux's close callback or a
 *     refusing REPLY (what its records need: host, port, proxy, the
 *     REPLY's addresses);
 *   - a relay: the http:// forwarding state of a client, with its end of
 *     a socketpair whose other end the mux pumps.
 * Every epoll registration carries a struct eg_ev (the tag says which fd
 * it is), and every eg_ev lives in the engine or in a client, never in
 * an object freed during a run: a client ended while events for it may
 * still be in the batch is put on the dead list and freed at the end of
 * the run, and the relay's pair end is registered through the client's
 * `pev` (a relay is freed at once; a later event of the batch for its
 * pair finds the client, sees no relay and is ignored).
 *
 * This header does not include proxy.h (proxy.c includes both): the
 * callback's type and the counters are restated here, so that the two
 * headers make no include circle.
 */
#ifndef WARDEN_EGRESS_PROXY_PRIV_H
#define WARDEN_EGRESS_PROXY_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/egress.h"
#include "../common/err.h"
#include "http.h"
#include "mux.h"
#include "socks5.h"

/* A client's input buffer: a request head, a SOCKS5 handshake, or the
 * body bytes a relay passes on (bytes). */
#define EG_IN_BYTES WD_EG_HTTP_HEAD_MAX
/* A relay's buffer of response bytes from the server (bytes); a response
 * head must fit it. */
#define EG_RESP_BYTES WD_EG_HTTP_HEAD_MAX

enum eg_tag { EG_EV_HTTP_LISTEN, EG_EV_SOCKS_LISTEN, EG_EV_CLIENT, EG_EV_PAIR, EG_EV_MUX };

struct eg_client;

struct eg_ev {
	enum eg_tag tag;
	struct eg_client *c;
	uint32_t mask; /* the events registered now (0: not registered) */
};

struct eg_stream {
	uint32_t id;
	uint8_t proxy; /* enum wd_eg_proxy */
	uint16_t port;
	bool attached;
	struct eg_client *client;              /* waiting for REPLY, or the relay using it; NULL */
	struct eg_stream *next;                /* the pending table's chain */
	struct eg_stream *all_prev, *all_next; /* every stream (freeing the engine) */
	uint8_t naddrs;
	struct wd_eg_addr addrs[WD_EG_MAX_ADDRS]; /* the REPLY's */
	struct wd_eg_addr dialed;
	char host[WD_EGRESS_NAME_MAX + 1];
};

enum eg_state {
	EG_HEAD,    /* reading the head (HTTP) or the handshake (SOCKS5) */
	EG_OPENING, /* EG_OPEN sent, waiting for EG_REPLY */
	EG_ANSWER,  /* writing the engine's answer, then EG_LINGER */
	EG_LINGER,  /* answered and shut down: the client's last bytes are dropped */
	EG_RELAY,   /* forwarding http:// (relay.c) */
	EG_DEAD,
};

/* A client on a timer list: lists are FIFO, and each holds one kind of
 * deadline (the same delay from when it was entered), so the first entry
 * is always the earliest. */
struct eg_list {
	struct eg_client *first, *last;
	uint64_t delay_ns;
};

struct eg_relay;

struct eg_client {
	struct eg_ev ev;
	struct eg_ev pev; /* the relay's pair end (EG_EV_PAIR): here, not in the
			     relay, so that it outlives the batch */
	struct wd_eg_proxies *p;
	int fd;
	bool socks;
	bool counted; /* holds a handshake slot (EG_HEAD, on p->handshaking) */
	enum eg_state state;
	uint64_t deadline_ns;
	struct eg_list *list; /* the timer list it is on, NULL none */
	struct eg_client *prev, *next;
	struct eg_client *all_prev, *all_next; /* every live client (the job's end) */
	struct eg_client *dead_next;

	char *in; /* EG_IN_BYTES */
	size_t in_len;
	struct wd_eg_http_req req;
	uint8_t socks_step; /* 0 greeting, 1 request */
	size_t socks_used;  /* bytes of in taken by the greeting */

	char out[WD_EG_HTTP_ANSWER_MAX];
	size_t out_off, out_len;

	struct eg_stream *stream; /* EG_OPENING: the stream asked for */
	struct eg_relay *relay;   /* http:// forwarding */
	size_t first_off;         /* EG_OPENING: in[first_off..in_len) goes first on the stream */
};

struct wd_eg_proxies {
	int epfd;
	struct eg_ev http_ev, socks_ev, mux_ev;
	int http_fd, socks_fd;
	const struct wd_egress *rules;
	struct wd_conn *conn;
	struct wd_eg_mux *mux;
	int (*record)(void *ctx, const char *cls, const char *activity, const char *outcome,
		      const char *severity, const char *data, struct wd_err *err);
	void *record_ctx;
	unsigned handshake_max;
	bool ended;

	struct eg_list handshaking; /* EG_HEAD: the counted clients, oldest first */
	struct eg_list heads;       /* relays waiting for their next request */
	struct eg_list opening;     /* EG_OPENING */
	struct eg_list linger;      /* EG_ANSWER, EG_LINGER */
	struct eg_client *all;      /* every client not yet dropped */
	struct eg_client *dead;
	bool accept_paused; /* out of fds: listeners unwatched until a client goes */

	struct eg_stream *pending[256]; /* streams waiting for REPLY, by id & 255 */
	struct eg_stream *streams;      /* every stream not yet ended */

	struct wd_err fail; /* a record the close callback could not write */
	struct {
		unsigned clients, handshakes, streams, relays;
		uint64_t accepted, refused_limit, denied, opened;
	} st; /* proxy.h: struct wd_eg_proxy_stats */
};

/* ---- proxy.c, for relay.c ------------------------------------------------ */

/* Register, change or drop an fd's events (mask 0: dropped). */
int eg_watch(struct wd_eg_proxies *p, struct eg_ev *ev, int fd, uint32_t mask, struct wd_err *err);
/* Put a client on a timer list (NULL: none), its deadline from now. */
void eg_timer(struct eg_client *c, struct eg_list *l);
/* Answer `code` (an HTTP status) with `reason`, then close (EG_ANSWER). */
int eg_answer_http(struct eg_client *c, unsigned code, const char *reason, struct wd_err *err);
/* Close and free at the end of the run; its stream is the caller's concern. */
void eg_drop(struct eg_client *c);
/*
 * The decision for a destination the agent named (host_len bytes as sent,
 * brackets allowed when `bracketed`) for proxy kind `proxy`: denied (the
 * answer and the record are done, 1), over the limit (the same, 1), or
 * EG_OPEN sent and the client EG_OPENING (0); -errno fatal.
 */
int eg_decide(struct eg_client *c, uint8_t proxy, const char *host, size_t host_len, bool bracketed,
	      uint16_t port, struct wd_err *err);

/* ---- relay.c --------------------------------------------------------------- */

/* The client's first head is a parsed absolute-form request in c->in:
 * become a relay and go on with it. 0, or -errno (fatal). */
int eg_relay_begin(struct eg_client *c, struct wd_err *err);
/* EG_REPLY connected for the relay's stream: attach a socketpair's end. */
int eg_relay_connected(struct eg_client *c, struct wd_err *err);
/* Events on the client's socket or the pair's end. */
int eg_relay_pump(struct eg_client *c, struct wd_err *err);
/* The relay's stream ended (the mux's callback): forget it. */
void eg_relay_stream_ended(struct eg_client *c);
/* Free the relay's state and close its pair end. */
void eg_relay_free(struct eg_client *c);

/* ---- proxyrec.c: the records (docs/audit.md) ------------------------------ */

int eg_rec_connect(struct wd_eg_proxies *p, uint32_t id, uint8_t proxy, const char *host,
		   size_t host_len, uint16_t port, const struct wd_egress_verdict *v,
		   const char *reason, struct wd_err *err);
int eg_rec_refused(struct wd_eg_proxies *p, const struct eg_stream *s, const char *result,
		   const char *reason, struct wd_err *err);
int eg_rec_close(struct wd_eg_proxies *p, const struct eg_stream *s, uint64_t bytes_out,
		 uint64_t bytes_in, uint64_t duration_ms, const char *reason, struct wd_err *err);
int eg_rec_limit_connections(struct wd_eg_proxies *p, uint8_t proxy, const char *host,
			     size_t host_len, uint16_t port, const char *what, struct wd_err *err);
int eg_rec_limit_idle(struct wd_eg_proxies *p, const struct eg_stream *s, struct wd_err *err);

#endif
