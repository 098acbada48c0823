/*
 * egress/relay.c - absolute-form `http://` requests forwarded as HTTP/1.1
 * (docs/egress.md, "Forwarding http://").
 *
 * Why a socketpair: the stream core (mux.h) is a plain byte pump between a
 * socket and a stream. A forwarding client's bytes are not the stream's
 * bytes (the head is rewritten; the next request may go elsewhere), so
 * each forwarding client gets a socketpair: the mux pumps one end, this
 * relay sits between the client's socket and the other end. The cost is
 * one extra copy through the kernel for http:// (not for CONNECT or
 * SOCKS5, which are most traffic) and no special case in the mux.
 *
 * One request at a time per client: its head is parsed (http.h) and
 * checked; the rewritten head goes to the pair, then the body as framed
 * (Content-Length or chunked, tracked byte by byte, passed unchanged);
 * the response comes back unchanged, its head parsed only for its framing
 * (1xx heads pass and another follows; HEAD, 204, 304 have no body; an
 * unframed body ends when the server closes). The next request is read
 * only when the response is complete: a pipelined request waits in the
 * buffer. Keep-alive: the next request to the same host:port reuses the
 * stream; to another one ends it (the pair end is closed: the mux sends
 * EOF) and opens a new one. A stream that ends while the client waits for
 * its next request ends the client's connection too (as a server closes an
 * idle keep-alive connection; clients retry). The answers the relay makes
 * itself (400, 403, 431, 502, ...) always close the connection.
 *
 * Memory per forwarding client: its input buffer (EG_IN_BYTES, the
 * client's), EG_RESP_BYTES of response buffer, and the rewritten head
 * (WD_EG_HTTP_FORWARD_MAX) only until it is written.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/log.h"
#include "proxy_priv.h"

enum relay_step { R_HEAD, R_OPENING, R_SEND };

struct eg_relay {
	int pair;                 /* our end; -1 none */
	struct eg_stream *stream; /* the attached stream the pair feeds; NULL none */
	enum relay_step step;
	bool client_eof;

	/* The request being forwarded. */
	char *fwd; /* the rewritten head, until written */
	size_t fwd_off, fwd_len;
	struct wd_eg_http_body qbody;
	bool qdone;    /* the request's body is all in (or passed) */
	size_t qready; /* in[0..qready) belongs to the body, to be written */
	bool q_close;  /* the client does not keep its connection */

	/* Its response. */
	char *rin;              /* EG_RESP_BYTES */
	size_t rin_len, rready; /* rin[0..rready) checked, to write to the client */
	struct wd_eg_http_resp resp;
	struct wd_eg_http_body rbody;
	bool rhead, rdone, r_close, pair_eof, truncated;
	uint64_t answered; /* bytes of this exchange's response written */
};

static bool same_place(const struct eg_stream *s, const char *host, size_t len, uint16_t port)
{
	struct wd_egress_target t;
	struct wd_err e;

	if (s == NULL || s->port != port)
		return false;
	if (wd_egress_target_parse(host, len, true, port, &t, &e) < 0)
		return false;
	return strcmp(t.name, s->host) == 0;
}

/* Close our end of the pair: the mux reads its EOF and the stream ends. */
static void end_stream(struct eg_client *c)
{
	struct eg_relay *r = c->relay;
	struct wd_err e;

	if (r->pair >= 0) {
		(void)eg_watch(c->p, &c->pev, r->pair, 0, &e);
		(void)close(r->pair); /* gone from the epoll set, even if the DEL failed */
		c->pev.mask = 0;
		r->pair = -1;
	}
	if (r->stream != NULL)
		r->stream->client = NULL;
	r->stream = NULL;
	r->pair_eof = false;
	free(r->fwd);
	r->fwd = NULL;
}

void eg_relay_free(struct eg_client *c)
{
	struct eg_relay *r = c->relay;

	if (r == NULL)
		return;
	end_stream(c);
	free(r->rin);
	free(r);
	c->relay = NULL;
	c->p->st.relays--;
}

void eg_relay_stream_ended(struct eg_client *c)
{
	struct eg_relay *r = c->relay;

	r->stream = NULL;
	/* Between requests: the connection ends with its stream. While a
	 * request is under way the pair's EOF says the rest. */
	if (r->step == R_HEAD)
		eg_drop(c);
}

/* The head in c->in (parsed): rewritten for the origin, the parsers
 * readied for its body and response. */
static int prepare(struct eg_client *c, struct wd_err *err)
{
	struct eg_relay *r = c->relay;
	const struct wd_eg_http_req *q = &c->req;
	int n;

	r->fwd = malloc(WD_EG_HTTP_FORWARD_MAX);
	if (r->fwd == NULL)
		return wd_err_set(err, ENOMEM, "egress: a forwarded head");
	n = wd_eg_http_req_rewrite(q, c->in, r->fwd, WD_EG_HTTP_FORWARD_MAX);
	if (n < 0)
		return eg_answer_http(c, 400, "the request cannot be forwarded", err);
	r->fwd_off = 0;
	r->fwd_len = (size_t)n;
	r->q_close = !q->keep_alive;
	wd_eg_http_body_init(&r->qbody, q->framing, q->content_length);
	r->qdone = false;
	r->qready = 0;
	memmove(c->in, c->in + q->head_len, c->in_len - q->head_len);
	c->in_len -= q->head_len;
	return 0;
}

/* A complete request head in c->in: reuse the stream, or open one. */
static int start_request(struct eg_client *c, struct wd_err *err)
{
	struct eg_relay *r = c->relay;
	const struct wd_eg_http_req *q = &c->req;
	const char *host = c->in + q->host.off;
	bool head = q->method.len == 4 && memcmp(c->in + q->method.off, "HEAD", 4) == 0;
	int rc;

	if (q->form != WD_EG_HTTP_FORM_ABSOLUTE)
		return eg_answer_http(c, 400, "CONNECT on a connection that forwards http://", err);
	eg_timer(c, NULL);
	r->rin_len = r->rready = 0;
	r->rhead = r->rdone = r->r_close = r->truncated = false;
	r->answered = 0;
	if (r->stream != NULL && r->pair >= 0 && !r->pair_eof &&
	    same_place(r->stream, host, q->host.len, q->port)) {
		if (prepare(c, err) < 0)
			return wd_err_ret(err);
		if (c->relay == NULL)
			return 0; /* answered */
		wd_eg_http_resp_init(&r->resp, head);
		r->step = R_SEND;
		return 0;
	}
	end_stream(c);
	rc = eg_decide(c, WD_EG_PROXY_HTTP, host, q->host.len, true, q->port, err);
	if (rc != 0)
		return rc < 0 ? rc : 0; /* answered: denied or over the limit */
	r->step = R_OPENING;
	if (prepare(c, err) < 0)
		return wd_err_ret(err);
	if (c->relay != NULL)
		wd_eg_http_resp_init(&r->resp, head);
	return 0;
}

int eg_relay_begin(struct eg_client *c, struct wd_err *err)
{
	struct eg_relay *r = calloc(1, sizeof(*r));

	if (r != NULL)
		r->rin = malloc(EG_RESP_BYTES);
	if (r == NULL || r->rin == NULL) {
		free(r);
		return wd_err_set(err, ENOMEM, "egress: a forwarding client");
	}
	r->pair = -1;
	c->relay = r;
	c->p->st.relays++;
	return start_request(c, err);
}

static int rewatch(struct eg_client *c, struct wd_err *err)
{
	struct eg_relay *r = c->relay;
	uint32_t cm = 0, pm = 0;

	if (r->step == R_HEAD) {
		if (!r->client_eof && c->in_len < EG_IN_BYTES)
			cm |= EPOLLIN;
		pm = EPOLLIN; /* the server closing or talking out of turn */
	} else if (r->step == R_SEND) {
		if (!r->qdone && !r->client_eof && c->in_len < EG_IN_BYTES)
			cm |= EPOLLIN;
		if (r->rready > 0)
			cm |= EPOLLOUT;
		if (!r->pair_eof && r->rin_len < EG_RESP_BYTES)
			pm |= EPOLLIN;
		if (r->fwd != NULL || r->qready > 0)
			pm |= EPOLLOUT;
	} else {
		cm = EPOLLERR; /* R_OPENING: as eg_decide left it */
	}
	if (eg_watch(c->p, &c->ev, c->fd, cm, err) < 0)
		return wd_err_ret(err);
	if (r->pair >= 0 && eg_watch(c->p, &c->pev, r->pair, pm, err) < 0)
		return wd_err_ret(err);
	return 0;
}

int eg_relay_connected(struct eg_client *c, struct wd_err *err)
{
	struct eg_relay *r = c->relay;
	struct eg_stream *s = c->stream;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
		wd_warn_sys(errno, "egress: socketpair for a forwarded request");
		return eg_answer_http(c, 502, "the proxy is out of resources", err);
	}
	c->stream = NULL;
	s->attached = true;
	s->client = c;
	r->stream = s;
	r->pair = sv[0];
	r->pair_eof = false;
	r->step = R_SEND;
	c->state = EG_RELAY;
	eg_timer(c, NULL);
	if (wd_eg_mux_attach(c->p->mux, s->id, sv[1], NULL, 0, err) < 0)
		return wd_err_ret(err);
	return eg_relay_pump(c, err);
}

/* ---- moving bytes ---------------------------------------------------------- */

/* read(2) into buf: bytes, 0 at EOF or a failure, -EAGAIN for nothing now. */
static ssize_t take(int fd, char *buf, size_t room)
{
	ssize_t n;

	do
		n = read(fd, buf, room);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? -EAGAIN : 0;
	return n;
}

/* write(2): bytes, 0 for nothing now, -1 the peer is gone. */
static ssize_t give(int fd, const char *buf, size_t len)
{
	ssize_t n;

	do
		n = send(fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : -1;
	return n;
}

static void consume(char *buf, size_t *len, size_t n)
{
	memmove(buf, buf + n, *len - n);
	*len -= n;
}

/* The client's side: its request's body, and reading the next head. */
static int client_side(struct eg_client *c, bool *moved, struct wd_err *err)
{
	struct eg_relay *r = c->relay;
	bool want = r->step == R_HEAD || (r->step == R_SEND && !r->qdone);

	if (want && !r->client_eof && c->in_len < EG_IN_BYTES) {
		ssize_t n = take(c->fd, c->in + c->in_len, EG_IN_BYTES - c->in_len);

		if (n == 0)
			r->client_eof = true;
		if (n > 0) {
			c->in_len += (size_t)n;
			*moved = true;
		}
	}
	if (r->step == R_HEAD) {
		switch (wd_eg_http_req_parse(&c->req, c->in, c->in_len)) {
		case WD_EG_HTTP_DONE:
			*moved = true;
			return start_request(c, err);
		case WD_EG_HTTP_ERROR:
			return eg_answer_http(c, c->req.status,
					      c->req.why != NULL ? c->req.why : "bad request", err);
		case WD_EG_HTTP_MORE:
			break;
		}
		if (c->in_len == EG_IN_BYTES)
			return eg_answer_http(c, 431, "the request head is over 16 KiB", err);
		if (r->client_eof)
			eg_drop(c); /* the client is done (or gave up mid-head) */
		return 0;
	}
	if (r->step != R_SEND)
		return 0;
	if (!r->qdone && c->in_len > r->qready) {
		size_t used = 0;
		enum wd_eg_http_result q = wd_eg_http_body_feed(&r->qbody, c->in + r->qready,
								c->in_len - r->qready, &used);

		r->qready += used;
		if (q == WD_EG_HTTP_ERROR) {
			eg_drop(c); /* a broken chunked body: nothing sane to pass on */
			return 0;
		}
		r->qdone = q == WD_EG_HTTP_DONE;
	}
	if (!r->qdone && r->qbody.framing == WD_EG_HTTP_BODY_NONE)
		r->qdone = true;
	if (!r->qdone && r->client_eof) {
		eg_drop(c); /* the request was cut short */
		return 0;
	}
	return 0;
}

/* Toward the server: the rewritten head, then the body bytes. */
static int pair_out(struct eg_client *c, bool *moved)
{
	struct eg_relay *r = c->relay;
	ssize_t n;

	if (r->fwd != NULL) {
		n = give(r->pair, r->fwd + r->fwd_off, r->fwd_len - r->fwd_off);
		if (n < 0)
			return -1;
		r->fwd_off += (size_t)n;
		*moved = *moved || n > 0;
		if (r->fwd_off < r->fwd_len)
			return 0;
		free(r->fwd);
		r->fwd = NULL;
	}
	if (r->qready == 0)
		return 0;
	n = give(r->pair, c->in, r->qready);
	if (n < 0)
		return -1;
	consume(c->in, &c->in_len, (size_t)n);
	r->qready -= (size_t)n;
	*moved = *moved || n > 0;
	return 0;
}

/* From the server: read, find where the response ends. */
static int pair_in(struct eg_client *c, bool *moved, struct wd_err *err)
{
	struct eg_relay *r = c->relay;

	if (!r->pair_eof && r->rin_len < EG_RESP_BYTES) {
		ssize_t n = take(r->pair, r->rin + r->rin_len, EG_RESP_BYTES - r->rin_len);

		if (n == 0)
			r->pair_eof = true;
		if (n > 0) {
			r->rin_len += (size_t)n;
			*moved = true;
		}
	}
	while (!r->rhead && r->rin_len > r->rready) {
		enum wd_eg_http_result h =
			wd_eg_http_resp_parse(&r->resp, r->rin + r->rready, r->rin_len - r->rready);

		if (h == WD_EG_HTTP_MORE)
			break;
		if (h == WD_EG_HTTP_ERROR) {
			if (r->answered == 0 && r->rready == 0)
				return eg_answer_http(c, 502, r->resp.why, err);
			eg_drop(c);
			return 0;
		}
		r->rready += r->resp.head_len;
		if (r->resp.interim) {
			bool head = r->resp.head_request;

			wd_eg_http_resp_init(&r->resp, head); /* another head follows */
			continue;
		}
		r->rhead = true;
		if (!r->resp.keep_alive)
			r->r_close = true;
		wd_eg_http_body_init(&r->rbody, r->resp.framing, r->resp.content_length);
	}
	if (r->rhead && !r->rdone) {
		size_t used = 0;
		enum wd_eg_http_result b = wd_eg_http_body_feed(&r->rbody, r->rin + r->rready,
								r->rin_len - r->rready, &used);

		r->rready += used;
		if (b == WD_EG_HTTP_ERROR) {
			r->truncated = r->rdone = true;
		} else if (b == WD_EG_HTTP_DONE) {
			r->rdone = true;
		}
	}
	if (r->rdone && r->rin_len > r->rready) {
		r->r_close = true; /* bytes past the response: the server is confused */
		r->rin_len = r->rready;
	}
	if (r->pair_eof && !r->rdone) {
		if (!r->rhead) {
			if (r->answered == 0 && r->rready == 0)
				return eg_answer_http(
					c, 502,
					"the server closed the connection without a response", err);
			r->truncated = true;
		} else if (!wd_eg_http_body_eof_ok(&r->rbody)) {
			r->truncated = true;
		}
		r->rdone = true;
	}
	if (r->pair_eof)
		r->r_close = true;
	return 0;
}

static int client_out(struct eg_client *c, bool *moved)
{
	struct eg_relay *r = c->relay;
	ssize_t n;

	if (r->rready == 0)
		return 0;
	n = give(c->fd, r->rin, r->rready);
	if (n < 0)
		return -1;
	consume(r->rin, &r->rin_len, (size_t)n);
	r->rready -= (size_t)n;
	r->answered += (uint64_t)n;
	*moved = *moved || n > 0;
	return 0;
}

/* Both messages are through: the next request, or the end. */
static int exchange_done(struct eg_client *c, struct wd_err *err)
{
	struct eg_relay *r = c->relay;

	if (r->truncated) {
		eg_drop(c); /* the agent must see the response was cut */
		return 0;
	}
	if (r->q_close || r->r_close || r->client_eof) {
		eg_relay_free(c); /* the stream ends */
		(void)shutdown(c->fd, SHUT_WR);
		c->state = EG_LINGER;
		eg_timer(c, &c->p->linger);
		return eg_watch(c->p, &c->ev, c->fd, EPOLLIN, err) < 0 ? wd_err_ret(err) : 0;
	}
	r->step = R_HEAD;
	wd_eg_http_req_init(&c->req);
	eg_timer(c, &c->p->heads);
	return 0;
}

static int server_idle(struct eg_client *c)
{
	struct eg_relay *r = c->relay;
	char b[1];

	/* Between requests the server has nothing to say: its EOF or any
	 * byte ends the connection (the next request would get it). */
	if (r->pair >= 0 && take(r->pair, b, sizeof(b)) != -EAGAIN) {
		eg_drop(c);
		return 1;
	}
	return 0;
}

int eg_relay_pump(struct eg_client *c, struct wd_err *err)
{
	for (int round = 0; round < 8; round++) {
		struct eg_relay *r = c->relay;
		bool moved = false;

		if (c->state != EG_RELAY && c->state != EG_OPENING)
			return 0;
		if (r->step == R_OPENING)
			break;
		if (r->step == R_HEAD && server_idle(c))
			return 0;
		if (client_side(c, &moved, err) < 0)
			return wd_err_ret(err);
		if (c->state != EG_RELAY || c->relay == NULL)
			return 0;
		r = c->relay;
		if (r->step != R_SEND)
			continue;
		if (pair_out(c, &moved) < 0) {
			r->pair_eof = true; /* the stream is gone: what came back is all */
			r->qready = 0;
		}
		if (pair_in(c, &moved, err) < 0)
			return wd_err_ret(err);
		if (c->state != EG_RELAY)
			return 0;
		if (client_out(c, &moved) < 0) {
			eg_drop(c);
			return 0;
		}
		if (r->qdone && r->rdone && r->rready == 0 && r->fwd == NULL && r->qready == 0) {
			if (exchange_done(c, err) < 0)
				return wd_err_ret(err);
			if (c->state != EG_RELAY)
				return 0;
			moved = true;
		}
		if (!moved)
			break;
	}
	if (c->state != EG_RELAY && c->state != EG_OPENING)
		return 0;
	return rewatch(c, err);
}
