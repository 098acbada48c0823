/*
 * egress/proxy.c - the proxy engine: listeners, clients and their heads,
 * the decision, EG_OPEN / EG_REPLY, the answers, deadlines and the job's
 * end (proxy.h is the contract; relay.c forwards http://, proxyrec.c
 * writes the records).
 *
 * Everything runs from one epoll fd, level-triggered, without blocking: a
 * client is read only when it is readable, written only when writable, and
 * each step takes what one read or write gives. A client's head has
 * WD_EG_HEAD_TIMEOUT_MS in all; a refused client gets WD_EG_LINGER_MS to
 * take its answer. Deadlines sit on FIFO lists (one per delay), so the
 * earliest is always the first entry.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "proxy.h"
#include "proxy_priv.h"

/* ---- small helpers ----------------------------------------------------- */

int eg_watch(struct wd_eg_proxies *p, struct eg_ev *ev, int fd, uint32_t mask, struct wd_err *err)
{
	struct epoll_event e;
	int op;

	if (ev->mask == mask)
		return 0;
	memset(&e, 0, sizeof(e));
	e.events = mask;
	e.data.ptr = ev;
	op = mask == 0 ? EPOLL_CTL_DEL : ev->mask == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	if (epoll_ctl(p->epfd, op, fd, &e) < 0)
		return wd_err_sys(err, errno, "egress: epoll_ctl");
	ev->mask = mask;
	return 0;
}

static void list_remove(struct eg_client *c)
{
	struct eg_list *l = c->list;

	if (l == NULL)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		l->first = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		l->last = c->prev;
	c->prev = c->next = NULL;
	c->list = NULL;
}

void eg_timer(struct eg_client *c, struct eg_list *l)
{
	list_remove(c);
	if (l == NULL)
		return;
	c->deadline_ns = wd_mono_ns() + l->delay_ns;
	c->list = l;
	c->prev = l->last;
	if (l->last != NULL)
		l->last->next = c;
	else
		l->first = c;
	l->last = c;
}

/* A failure of the engine's own (a record, a send) found where it cannot
 * be returned: kept, and returned by the next call. */
static void keep_fail(struct wd_eg_proxies *p, const struct wd_err *err)
{
	if (p->fail.code == 0)
		p->fail = *err;
}

static unsigned id_slot(uint32_t id)
{
	return id & 255U;
}

static void pending_add(struct wd_eg_proxies *p, struct eg_stream *s)
{
	s->next = p->pending[id_slot(s->id)];
	p->pending[id_slot(s->id)] = s;
}

/* Take the stream waiting for REPLY with this id out of the table. */
static struct eg_stream *pending_take(struct wd_eg_proxies *p, uint32_t id)
{
	for (struct eg_stream **pp = &p->pending[id_slot(id)]; *pp != NULL; pp = &(*pp)->next) {
		struct eg_stream *s = *pp;

		if (s->id == id) {
			*pp = s->next;
			s->next = NULL;
			return s;
		}
	}
	return NULL;
}

static void stream_free(struct wd_eg_proxies *p, struct eg_stream *s)
{
	if (s->client != NULL && s->client->stream == s)
		s->client->stream = NULL;
	if (s->all_prev != NULL)
		s->all_prev->all_next = s->all_next;
	else
		p->streams = s->all_next;
	if (s->all_next != NULL)
		s->all_next->all_prev = s->all_prev;
	free(s);
	p->st.streams--;
}

/* ---- clients ------------------------------------------------------------ */

static void resume_accept(struct wd_eg_proxies *p)
{
	struct wd_err e;

	if (!p->accept_paused || p->ended)
		return;
	p->accept_paused = false;
	if ((p->http_fd >= 0 && eg_watch(p, &p->http_ev, p->http_fd, EPOLLIN, &e) < 0) ||
	    (p->socks_fd >= 0 && eg_watch(p, &p->socks_ev, p->socks_fd, EPOLLIN, &e) < 0))
		keep_fail(p, &e);
}

/* A stream opened for a client that goes away before its REPLY: the
 * host is told (EG_CLOSE), and the record says how it ended. */
static void cancel_stream(struct wd_eg_proxies *p, struct eg_stream *s, const char *why)
{
	struct wd_err e;

	(void)pending_take(p, s->id);
	if ((wd_eg_mux_cancel(p->mux, s->id, true, WD_EG_CLOSE_RESET, &e) < 0 &&
	     e.code != ENOENT) ||
	    eg_rec_close(p, s, 0, 0, 0, why, &e) < 0)
		keep_fail(p, &e);
	s->client = NULL;
	stream_free(p, s);
}

/* The client gives up its handshake slot (it has a stream, is answered,
 * or is gone): the listeners are read again if they were paused. */
static void uncount(struct eg_client *c)
{
	if (!c->counted)
		return;
	c->counted = false;
	c->p->st.handshakes--;
	resume_accept(c->p);
}

void eg_drop(struct eg_client *c)
{
	struct wd_eg_proxies *p = c->p;
	struct wd_err e;

	if (c->state == EG_DEAD)
		return;
	if (c->stream != NULL)
		cancel_stream(p, c->stream, "reset");
	if (c->relay != NULL)
		eg_relay_free(c);
	if (c->fd >= 0) {
		if (eg_watch(p, &c->ev, c->fd, 0, &e) < 0)
			keep_fail(p, &e);
		(void)close(c->fd);
		c->fd = -1;
	}
	list_remove(c);
	uncount(c);
	c->state = EG_DEAD;
	if (c->all_prev != NULL)
		c->all_prev->all_next = c->all_next;
	else
		p->all = c->all_next;
	if (c->all_next != NULL)
		c->all_next->all_prev = c->all_prev;
	c->dead_next = p->dead;
	p->dead = c;
	p->st.clients--;
	resume_accept(p);
}

static void free_dead(struct wd_eg_proxies *p)
{
	while (p->dead != NULL) {
		struct eg_client *c = p->dead;

		p->dead = c->dead_next;
		free(c->in);
		free(c);
	}
}

/* Write what is left of the answer; once it is out, shut down and drop
 * what the client still sends, until it closes or the linger ends. */
static int write_answer(struct eg_client *c, struct wd_err *err)
{
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			eg_drop(c);
			return 0;
		}
		c->out_off += (size_t)n;
	}
	(void)shutdown(c->fd, SHUT_WR);
	c->state = EG_LINGER;
	return eg_watch(c->p, &c->ev, c->fd, EPOLLIN, err);
}

static int answer(struct eg_client *c, const void *bytes, size_t len, struct wd_err *err)
{
	if (c->relay != NULL)
		eg_relay_free(c); /* its stream ends; the client gets this answer last */
	if (c->counted) {
		/* Answered in its handshake (refused, or evicted): its slot goes
		 * to the next client, and the input buffer is no longer needed
		 * (a counted client has no stream that would take its bytes),
		 * so a lingering client costs its struct and its socket. */
		uncount(c);
		free(c->in);
		c->in = NULL;
		c->in_len = 0;
	}
	if (len > sizeof(c->out))
		len = sizeof(c->out);
	memcpy(c->out, bytes, len);
	c->out_off = 0;
	c->out_len = len;
	c->state = EG_ANSWER;
	eg_timer(c, &c->p->linger);
	if (eg_watch(c->p, &c->ev, c->fd, EPOLLOUT, err) < 0)
		return wd_err_ret(err);
	return write_answer(c, err);
}

int eg_answer_http(struct eg_client *c, unsigned code, const char *reason, struct wd_err *err)
{
	char buf[WD_EG_HTTP_ANSWER_MAX];
	int n = wd_eg_http_error_write(code, reason, strlen(reason), buf, sizeof(buf));

	if (n < 0)
		n = wd_eg_http_error_write(502, reason, strlen(reason), buf, sizeof(buf));
	if (n < 0)
		return wd_err_set(err, -n, "egress: the answer %u", code);
	return answer(c, buf, (size_t)n, err);
}

static int answer_socks(struct eg_client *c, uint8_t rep, struct wd_err *err)
{
	uint8_t r[WD_EG_SOCKS_REPLY_LEN];

	wd_eg_socks_reply(rep, r);
	return answer(c, r, sizeof(r), err);
}

/* A refusal in the client's own protocol. */
static int refuse(struct eg_client *c, unsigned http_code, uint8_t socks_rep, const char *reason,
		  struct wd_err *err)
{
	return c->socks ? answer_socks(c, socks_rep, err)
			: eg_answer_http(c, http_code, reason, err);
}

static int linger_read(struct eg_client *c)
{
	static char sink[4096];

	for (int i = 0; i < 16; i++) {
		ssize_t n = read(c->fd, sink, sizeof(sink));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			break;
	}
	eg_drop(c); /* closed, failed, or more than it may send after an answer */
	return 0;
}

/* ---- the decision --------------------------------------------------------- */

/* What the agent is told in X-Warden-Deny, and the records' reason. */
static void deny_text(const struct wd_egress_verdict *v, const struct wd_egress_target *t,
		      char *out, size_t size)
{
	switch (v->reason) {
	case WD_EGRESS_DENY_RULE:
		(void)snprintf(out, size, "deny-rule deny[%d]", v->deny_rule);
		break;
	case WD_EGRESS_SPECIAL:
		(void)snprintf(out, size, "special-address: %s is %s", t->name,
			       v->special != NULL ? v->special : "special");
		break;
	default:
		(void)snprintf(out, size, "%s", wd_egress_reason_name(v->reason));
		break;
	}
}

static int over_limit(struct eg_client *c, uint8_t proxy, const struct wd_egress_target *t,
		      struct wd_err *err)
{
	struct wd_eg_proxies *p = c->p;

	p->st.refused_limit++;
	if (eg_rec_limit_connections(p, proxy, t->name, strlen(t->name), t->port, "streams", err) <
	    0)
		return wd_err_ret(err);
	if (refuse(c, 503, WD_EG_SOCKS_GENERAL_FAILURE, "limit: egress connections", err) < 0)
		return wd_err_ret(err);
	return 1;
}

static int send_open(struct wd_eg_proxies *p, struct eg_stream *s, struct wd_err *err)
{
	struct wd_eg_open o;
	uint8_t buf[WD_EG_OPEN_MAX_BYTES];
	int n;

	memset(&o, 0, sizeof(o));
	o.port = s->port;
	o.proxy = s->proxy;
	(void)snprintf(o.host, sizeof(o.host), "%s", s->host);
	n = wd_eg_open_encode(&o, buf, err);
	if (n < 0)
		return n;
	return wd_conn_send(p->conn, WD_MSG_EG_OPEN, s->id, buf, (size_t)n, err);
}

int eg_decide(struct eg_client *c, uint8_t proxy, const char *host, size_t host_len, bool bracketed,
	      uint16_t port, struct wd_err *err)
{
	struct wd_eg_proxies *p = c->p;
	struct wd_egress_target t;
	struct wd_egress_verdict v;
	struct eg_stream *s;
	struct wd_err perr;
	char why[WD_EGRESS_NAME_MAX + 64];
	uint32_t id;
	int rc;

	if (wd_egress_target_parse(host, host_len, bracketed, port, &t, &perr) < 0) {
		memset(&v, 0, sizeof(v));
		v.reason = WD_EGRESS_BAD_NAME;
		v.allow_rule = v.deny_rule = -1;
		p->st.denied++;
		if (eg_rec_connect(p, 0, proxy, host, host_len, port, &v, "bad-name", err) < 0)
			return wd_err_ret(err);
		return refuse(c, 403, WD_EG_SOCKS_NOT_ALLOWED, "bad-name", err) < 0
			       ? wd_err_ret(err)
			       : 1;
	}
	wd_egress_check_request(p->rules, &t, &v);
	if (v.reason != WD_EGRESS_ALLOWED) {
		deny_text(&v, &t, why, sizeof(why));
		p->st.denied++;
		if (eg_rec_connect(p, 0, proxy, t.name, strlen(t.name), port, &v, why, err) < 0)
			return wd_err_ret(err);
		return refuse(c, 403, WD_EG_SOCKS_NOT_ALLOWED, why, err) < 0 ? wd_err_ret(err) : 1;
	}
	if (p->st.streams >= p->rules->connections)
		return over_limit(c, proxy, &t, err);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return wd_err_set(err, ENOMEM, "egress: a stream");
	id = wd_eg_mux_next_id(p->mux);
	s->id = id;
	s->all_next = p->streams;
	if (p->streams != NULL)
		p->streams->all_prev = s;
	p->streams = s;
	s->proxy = proxy;
	s->port = port;
	(void)snprintf(s->host, sizeof(s->host), "%s", t.name);
	p->st.streams++;
	rc = wd_eg_mux_open(p->mux, id, s, err);
	if (rc < 0) {
		stream_free(p, s);
		return rc == -EMFILE ? over_limit(c, proxy, &t, err) : rc;
	}
	rc = send_open(p, s, err);
	if (rc < 0) {
		/* The channel's queue is full (a flood of opens): a refusal, not
		 * the job's end. Anything else is. */
		(void)wd_eg_mux_cancel(p->mux, id, false, WD_EG_CLOSE_RESET, &perr);
		stream_free(p, s);
		if (rc != -ENOBUFS)
			return rc;
		return refuse(c, 503, WD_EG_SOCKS_GENERAL_FAILURE, "the channel is busy", err) < 0
			       ? wd_err_ret(err)
			       : 1;
	}
	p->st.opened++;
	if (eg_rec_connect(p, id, proxy, t.name, strlen(t.name), port, &v, "allowed", err) < 0)
		return wd_err_ret(err);
	pending_add(p, s);
	s->client = c;
	c->stream = s;
	uncount(c); /* it holds a stream now: counted there */
	c->state = EG_OPENING;
	eg_timer(c, &p->opening);
	/* Nothing is read until the REPLY; a reset still shows. */
	return eg_watch(p, &c->ev, c->fd, EPOLLERR, err) < 0 ? wd_err_ret(err) : 0;
}

/* ---- heads ---------------------------------------------------------------- */

static int http_head(struct eg_client *c, struct wd_err *err)
{
	struct wd_eg_http_req *r = &c->req;

	switch (wd_eg_http_req_parse(r, c->in, c->in_len)) {
	case WD_EG_HTTP_MORE:
		if (c->in_len < EG_IN_BYTES)
			return 0;
		return eg_answer_http(c, 431, "the request head is over 16 KiB", err);
	case WD_EG_HTTP_ERROR:
		return eg_answer_http(c, r->status, r->why != NULL ? r->why : "bad request", err);
	case WD_EG_HTTP_DONE:
		break;
	}
	if (r->form == WD_EG_HTTP_FORM_ABSOLUTE)
		return eg_relay_begin(c, err);
	c->first_off = r->head_len;
	return eg_decide(c, WD_EG_PROXY_HTTP_CONNECT, c->in + r->host.off, r->host.len, true,
			 r->port, err) < 0
		       ? wd_err_ret(err)
		       : 0;
}

static int socks_head(struct eg_client *c, struct wd_err *err)
{
	const uint8_t *in = (const uint8_t *)c->in;
	struct wd_eg_socks_req req;
	size_t used = 0;

	if (c->socks_step == 0) {
		uint8_t method = WD_EG_SOCKS_METHOD_REFUSED, reply[WD_EG_SOCKS_METHOD_REPLY_LEN];

		switch (wd_eg_socks_greeting(in, c->in_len, &used, &method)) {
		case WD_EG_SOCKS_MORE:
			return 0;
		case WD_EG_SOCKS_DONE:
			break;
		default:
			eg_drop(c); /* not SOCKS5: no reply */
			return 0;
		}
		wd_eg_socks_method_reply(method, reply);
		if (method != WD_EG_SOCKS_METHOD_NONE)
			return answer(c, reply, sizeof(reply), err);
		/* Two bytes into a fresh socket's empty send buffer. */
		if (write(c->fd, reply, sizeof(reply)) != (ssize_t)sizeof(reply)) {
			eg_drop(c);
			return 0;
		}
		c->socks_step = 1;
		c->socks_used = used;
	}
	memset(&req, 0, sizeof(req));
	switch (wd_eg_socks_request(in + c->socks_used, c->in_len - c->socks_used, &req, &used)) {
	case WD_EG_SOCKS_MORE:
		return 0;
	case WD_EG_SOCKS_REPLY:
		return answer_socks(c, req.rep, err);
	case WD_EG_SOCKS_CLOSE:
		eg_drop(c);
		return 0;
	case WD_EG_SOCKS_DONE:
		break;
	}
	c->first_off = c->socks_used + used;
	return eg_decide(c, WD_EG_PROXY_SOCKS5, req.host, req.host_len, false, req.port, err) < 0
		       ? wd_err_ret(err)
		       : 0;
}

static int read_head(struct eg_client *c, struct wd_err *err)
{
	ssize_t n;

	do
		n = read(c->fd, c->in + c->in_len, EG_IN_BYTES - c->in_len);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0) {
		eg_drop(c); /* gone before its head was complete: nothing to record */
		return 0;
	}
	c->in_len += (size_t)n;
	return c->socks ? socks_head(c, err) : http_head(c, err);
}

static int client_event(struct eg_client *c, uint32_t events, struct wd_err *err)
{
	switch (c->state) {
	case EG_HEAD:
		return read_head(c, err);
	case EG_OPENING:
		if (events & (EPOLLERR | EPOLLHUP))
			eg_drop(c); /* reset while waiting: the stream is cancelled */
		return 0;
	case EG_ANSWER:
		return write_answer(c, err);
	case EG_LINGER:
		return linger_read(c);
	case EG_RELAY:
		return eg_relay_pump(c, err);
	case EG_DEAD:
		break;
	}
	return 0;
}

/* ---- accepting ------------------------------------------------------------ */

/* Stop taking clients from the listeners until one ends (resume_accept):
 * only when accept(2) itself fails (out of fds or memory). */
static int pause_accept(struct wd_eg_proxies *p, struct wd_err *err)
{
	p->accept_paused = true;
	if ((p->http_fd >= 0 && eg_watch(p, &p->http_ev, p->http_fd, 0, err) < 0) ||
	    (p->socks_fd >= 0 && eg_watch(p, &p->socks_ev, p->socks_fd, 0, err) < 0))
		return wd_err_ret(err);
	return 0;
}

static int new_client(struct wd_eg_proxies *p, int fd, bool socks, struct wd_err *err)
{
	struct eg_client *c = calloc(1, sizeof(*c));

	if (c != NULL)
		c->in = malloc(EG_IN_BYTES);
	if (c == NULL || c->in == NULL) {
		free(c);
		(void)close(fd);
		wd_warn("egress: out of memory for a client: closed");
		return 0;
	}
	c->p = p;
	c->fd = fd;
	c->socks = socks;
	c->ev.tag = EG_EV_CLIENT;
	c->ev.c = c;
	c->pev.tag = EG_EV_PAIR;
	c->pev.c = c;
	c->state = EG_HEAD;
	c->counted = true;
	wd_eg_http_req_init(&c->req);
	c->all_next = p->all;
	if (p->all != NULL)
		p->all->all_prev = c;
	p->all = c;
	p->st.handshakes++;
	p->st.clients++;
	p->st.accepted++;
	eg_timer(c, &p->handshaking);
	if (eg_watch(p, &c->ev, fd, EPOLLIN, err) < 0) {
		eg_drop(c);
		return wd_err_ret(err);
	}
	return 0;
}

/*
 * Every handshake slot is taken: the client that has waited longest for
 * its head (the first on the handshaking list) gives its slot to the new
 * one, with an answer (HTTP 408; SOCKS5 general failure, after the
 * method reply when it had not had one, so a client reads them in order)
 * and a limit/egress-connections record. Slow clients thus cost each
 * other their slots, never a new client its turn. 0 evicted, 1 none to
 * evict (the bound holds: the caller refuses the new one), -errno fatal.
 */
static int evict_oldest(struct wd_eg_proxies *p, struct wd_err *err)
{
	struct eg_client *c = p->handshaking.first;
	uint8_t r[WD_EG_SOCKS_METHOD_REPLY_LEN + WD_EG_SOCKS_REPLY_LEN];
	size_t n = 0;

	if (c == NULL || !c->counted)
		return 1; /* not reached: the counted clients are the list */
	p->st.refused_limit++;
	if (eg_rec_limit_connections(p, c->socks ? WD_EG_PROXY_SOCKS5 : 0, "", 0, 0, "handshakes",
				     err) < 0)
		return wd_err_ret(err);
	if (!c->socks)
		return eg_answer_http(c, 408, "too slow: its handshake slot went to a new client",
				      err);
	if (c->socks_step == 0) {
		wd_eg_socks_method_reply(WD_EG_SOCKS_METHOD_NONE, r);
		n = WD_EG_SOCKS_METHOD_REPLY_LEN;
	}
	wd_eg_socks_reply(WD_EG_SOCKS_GENERAL_FAILURE, r + n);
	return answer(c, r, n + WD_EG_SOCKS_REPLY_LEN, err);
}

static int accept_burst(struct wd_eg_proxies *p, int lfd, bool socks, struct wd_err *err)
{
	for (int i = 0; i < WD_EG_ACCEPT_BURST; i++) {
		int fd, rc;

		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN)
				return 0;
			/* Out of fds or memory: stop accepting until a client goes
			 * (the listener would wake the loop at once otherwise). */
			wd_warn_sys(errno, "egress: accept: paused until a client ends");
			return pause_accept(p, err);
		}
		/* At the bound the new client is still taken (never held in
		 * the backlog behind slow ones): the oldest one goes. */
		rc = p->st.handshakes >= p->handshake_max ? evict_oldest(p, err) : 0;
		if (rc != 0) {
			(void)close(fd);
			if (rc < 0)
				return rc;
			continue;
		}
		rc = new_client(p, fd, socks, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- the host's side -------------------------------------------------------- */

static unsigned http_code(uint8_t result)
{
	switch (result) {
	case WD_EG_DENIED:
	case WD_EG_ADDRESS:
		return 403;
	case WD_EG_TIMEOUT:
		return 504;
	case WD_EG_LIMIT:
		return 503;
	default:
		return 502;
	}
}

static uint8_t socks_rep(uint8_t result)
{
	switch (result) {
	case WD_EG_DENIED:
	case WD_EG_ADDRESS:
		return WD_EG_SOCKS_NOT_ALLOWED;
	case WD_EG_RESOLVE:
		return WD_EG_SOCKS_HOST_UNREACHABLE;
	case WD_EG_CONNECT:
		return WD_EG_SOCKS_REFUSED;
	case WD_EG_TIMEOUT:
		return WD_EG_SOCKS_TTL_EXPIRED;
	default:
		return WD_EG_SOCKS_GENERAL_FAILURE;
	}
}

static int refused(struct wd_eg_proxies *p, struct eg_stream *s, const struct wd_eg_reply *r,
		   struct wd_err *err)
{
	struct eg_client *c = s->client;
	char why[WD_EG_REASON_MAX + 16];

	if (wd_eg_mux_cancel(p->mux, s->id, false, WD_EG_CLOSE_RESET, err) < 0)
		return wd_err_ret(err);
	s->naddrs = r->naddrs;
	memcpy(s->addrs, r->addrs, sizeof(s->addrs));
	(void)snprintf(why, sizeof(why), "host: %s", r->reason);
	if (eg_rec_refused(p, s, wd_eg_result_name(r->result), why, err) < 0)
		return wd_err_ret(err);
	stream_free(p, s);
	if (c == NULL)
		return 0;
	return refuse(c, http_code(r->result), socks_rep(r->result), why, err);
}

/* The tunnel is up: the agent is told, and its socket goes to the mux
 * with what it sent past its head. */
static int tunnel(struct wd_eg_proxies *p, struct eg_client *c, struct eg_stream *s,
		  struct wd_err *err)
{
	uint8_t sr[WD_EG_SOCKS_REPLY_LEN];
	const void *ok = WD_EG_HTTP_CONNECT_OK;
	size_t len = sizeof(WD_EG_HTTP_CONNECT_OK) - 1;
	int fd = c->fd;

	if (c->socks) {
		wd_eg_socks_reply(WD_EG_SOCKS_SUCCEEDED, sr);
		ok = sr;
		len = sizeof(sr);
	}
	/* The first bytes the engine writes on this socket (SOCKS5: after
	 * two): the send buffer takes them. */
	if (write(fd, ok, len) != (ssize_t)len) {
		eg_drop(c); /* the stream is cancelled with a record */
		return 0;
	}
	if (eg_watch(p, &c->ev, fd, 0, err) < 0)
		return wd_err_ret(err);
	c->fd = -1; /* the mux's from here on */
	c->stream = NULL;
	s->client = NULL;
	s->attached = true;
	eg_drop(c);
	return wd_eg_mux_attach(p->mux, s->id, fd, c->in + c->first_off, c->in_len - c->first_off,
				err);
}

static int on_reply(struct wd_eg_proxies *p, const struct wd_frame *f, struct wd_err *err)
{
	struct wd_eg_reply r;
	struct eg_stream *s;
	struct eg_client *c;

	if (wd_eg_reply_decode(f->payload, f->len, &r, err) < 0)
		return wd_err_wrap(err, "EG_REPLY for stream %u", (unsigned)f->stream);
	s = pending_take(p, f->stream);
	if (s == NULL) {
		/* Its client went away and the stream was cancelled: the REPLY
		 * crossed our EG_CLOSE. */
		if (wd_eg_mux_state(p->mux, f->stream) == WD_EG_ID_ENDED)
			return 0;
		return wd_err_set(err, EPROTO, "EG_REPLY for stream %u, which waits for none",
				  (unsigned)f->stream);
	}
	c = s->client;
	if (r.result != WD_EG_CONNECTED)
		return refused(p, s, &r, err);
	s->dialed = r.dialed;
	s->naddrs = r.naddrs;
	memcpy(s->addrs, r.addrs, sizeof(s->addrs));
	if (c->relay != NULL)
		return eg_relay_connected(c, err);
	return tunnel(p, c, s, err);
}

/* The mux's word that a stream ended: its record, and its client told. */
static void stream_ended(void *ctx, const struct wd_eg_end *end)
{
	struct wd_eg_proxies *p = ctx;
	struct eg_stream *s = end->user;
	struct eg_client *c;
	struct wd_err e;

	if (s == NULL)
		return;
	if (!s->attached)
		(void)pending_take(p, s->id);
	if (eg_rec_close(p, s, end->bytes_from_socket, end->bytes_to_socket, end->duration_ms,
			 wd_eg_close_name(end->reason), &e) < 0 ||
	    (end->reason == WD_EG_CLOSE_IDLE && eg_rec_limit_idle(p, s, &e) < 0))
		keep_fail(p, &e);
	c = s->client;
	s->client = NULL;
	stream_free(p, s);
	if (c == NULL)
		return;
	c->stream = NULL;
	if (c->state != EG_OPENING) {
		if (c->relay != NULL)
			eg_relay_stream_ended(c);
	} else if (p->ended) {
		eg_drop(c);
	} else if (refuse(c, 502, WD_EG_SOCKS_GENERAL_FAILURE, "the stream was closed", &e) < 0) {
		keep_fail(p, &e);
	}
}

int wd_eg_proxy_frame(struct wd_eg_proxies *p, const struct wd_frame *f, struct wd_err *err)
{
	int rc;

	if (p->fail.code != 0) {
		*err = p->fail;
		return -p->fail.code;
	}
	if (!wd_frame_is_egress(f->type, f->stream) || !wd_stream_is_egress(f->stream))
		return wd_err_set(err, EINVAL, "egress: frame %s on stream %u is not egress",
				  wd_msg_type_name(f->type), (unsigned)f->stream);
	if (f->type == WD_MSG_EG_REPLY)
		rc = on_reply(p, f, err);
	else
		rc = wd_eg_mux_frame(p->mux, f, err);
	if (rc == 0 && p->fail.code != 0) {
		*err = p->fail;
		rc = -p->fail.code;
	}
	free_dead(p);
	return rc;
}

/* ---- deadlines ---------------------------------------------------------------- */

static int expire(struct wd_eg_proxies *p, struct wd_err *err)
{
	uint64_t now = wd_mono_ns();
	struct eg_client *c;

	while ((c = p->handshaking.first) != NULL && c->deadline_ns <= now) {
		wd_debug("egress: a client's head took over %llu ms: closed",
			 (unsigned long long)(p->handshaking.delay_ns / WD_NS_PER_MS));
		eg_drop(c);
	}
	while ((c = p->heads.first) != NULL && c->deadline_ns <= now)
		eg_drop(c); /* a kept-alive client sent no next request */
	while ((c = p->linger.first) != NULL && c->deadline_ns <= now)
		eg_drop(c);
	while ((c = p->opening.first) != NULL && c->deadline_ns <= now) {
		struct eg_stream *s = c->stream;
		char why[96];

		(void)snprintf(why, sizeof(why), "no EG_REPLY within %llu ms",
			       (unsigned long long)(p->opening.delay_ns / WD_NS_PER_MS));
		(void)pending_take(p, s->id);
		if (wd_eg_mux_cancel(p->mux, s->id, true, WD_EG_CLOSE_RESET, err) < 0 ||
		    eg_rec_refused(p, s, "timeout", why, err) < 0)
			return wd_err_ret(err);
		s->client = NULL;
		stream_free(p, s);
		if (refuse(c, 504, WD_EG_SOCKS_TTL_EXPIRED, why, err) < 0)
			return wd_err_ret(err);
	}
	return 0;
}

static int until_ms(const struct eg_list *l, uint64_t now)
{
	uint64_t d;

	if (l->first == NULL)
		return -1;
	if (l->first->deadline_ns <= now)
		return 0;
	d = (l->first->deadline_ns - now + WD_NS_PER_MS - 1) / WD_NS_PER_MS;
	return d > 86400000ULL ? 86400000 : (int)d;
}

static int sooner(int a, int b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

int wd_eg_proxy_next_deadline(const struct wd_eg_proxies *p)
{
	uint64_t now = wd_mono_ns();
	int ms = wd_eg_mux_next_deadline(p->mux);

	ms = sooner(ms, until_ms(&p->handshaking, now));
	ms = sooner(ms, until_ms(&p->heads, now));
	ms = sooner(ms, until_ms(&p->opening, now));
	return sooner(ms, until_ms(&p->linger, now));
}

/* ---- the run ------------------------------------------------------------------- */

static int one_event(struct wd_eg_proxies *p, const struct epoll_event *e, struct wd_err *err)
{
	struct eg_ev *ev = e->data.ptr;

	switch (ev->tag) {
	case EG_EV_HTTP_LISTEN:
		return p->ended ? 0 : accept_burst(p, p->http_fd, false, err);
	case EG_EV_SOCKS_LISTEN:
		return p->ended ? 0 : accept_burst(p, p->socks_fd, true, err);
	case EG_EV_CLIENT:
		return ev->c->state == EG_DEAD ? 0 : client_event(ev->c, e->events, err);
	case EG_EV_PAIR:
		/* The relay may have been freed by an earlier event of this
		 * batch: its tag is the client's (freed after the run). */
		return ev->c->state == EG_RELAY && ev->c->relay != NULL ? eg_relay_pump(ev->c, err)
									: 0;
	case EG_EV_MUX:
		return 0; /* run below, every time */
	}
	return 0;
}

int wd_eg_proxy_run(struct wd_eg_proxies *p, struct wd_err *err)
{
	struct epoll_event evs[WD_EG_EVENTS_PER_RUN];
	int n, rc = 0;

	if (p->fail.code != 0) {
		*err = p->fail;
		return -p->fail.code;
	}
	n = epoll_wait(p->epfd, evs, WD_EG_EVENTS_PER_RUN, 0);
	if (n < 0 && errno != EINTR)
		return wd_err_sys(err, errno, "egress: epoll_wait");
	for (int i = 0; i < n && rc == 0; i++)
		rc = one_event(p, &evs[i], err);
	if (rc == 0)
		rc = expire(p, err);
	if (rc == 0)
		rc = wd_eg_mux_run(p->mux, err);
	free_dead(p);
	if (rc == 0 && p->fail.code != 0) {
		*err = p->fail;
		rc = -p->fail.code;
	}
	return rc;
}

/* ---- life ------------------------------------------------------------------------ */

static int take_listener(struct wd_eg_proxies *p, int fd, struct eg_ev *ev, enum eg_tag tag,
			 struct wd_err *err)
{
	int fl;

	ev->tag = tag;
	if (fd < 0)
		return 0;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return wd_err_sys(err, errno, "egress: a listener's flags");
	return eg_watch(p, ev, fd, EPOLLIN, err);
}

/* The listeners are the engine's even when it cannot start. */
static int close_config(const struct wd_eg_proxy_config *cfg, int code, const char *why,
			struct wd_err *err)
{
	if (cfg->http_fd >= 0)
		(void)close(cfg->http_fd);
	if (cfg->socks_fd >= 0)
		(void)close(cfg->socks_fd);
	return wd_err_set(err, code, "egress: proxy: %s", why);
}

int wd_eg_proxy_new(struct wd_eg_proxies **out, const struct wd_eg_proxy_config *cfg,
		    struct wd_err *err)
{
	struct wd_eg_mux_config mc;
	struct wd_eg_proxies *p;
	uint64_t head_ms;

	*out = NULL;
	if (cfg->rules == NULL || !cfg->rules->present || cfg->conn == NULL ||
	    cfg->record == NULL || cfg->rules->connections == 0)
		return close_config(cfg, EINVAL, "rules, channel and record needed", err);
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return close_config(cfg, ENOMEM, "out of memory", err);
	p->epfd = -1;
	p->http_fd = cfg->http_fd;
	p->socks_fd = cfg->socks_fd;
	p->rules = cfg->rules;
	p->conn = cfg->conn;
	p->record = cfg->record;
	p->record_ctx = cfg->record_ctx;
	p->handshake_max = cfg->handshake_max != 0 ? cfg->handshake_max : WD_EG_HANDSHAKE_MAX;
	head_ms = cfg->head_timeout_ms != 0 ? cfg->head_timeout_ms : WD_EG_HEAD_TIMEOUT_MS;
	p->handshaking.delay_ns = head_ms * WD_NS_PER_MS;
	p->heads.delay_ns = head_ms * WD_NS_PER_MS;
	p->linger.delay_ns = WD_EG_LINGER_MS * WD_NS_PER_MS;
	p->opening.delay_ns =
		((uint64_t)cfg->rules->connect_timeout_s * 1000U + WD_EG_REPLY_GRACE_MS) *
		WD_NS_PER_MS;
	p->mux_ev.tag = EG_EV_MUX;
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0) {
		wd_err_sys(err, errno, "egress: epoll_create1");
		wd_eg_proxy_free(p);
		return wd_err_ret(err);
	}
	memset(&mc, 0, sizeof(mc));
	mc.max_streams = cfg->rules->connections;
	mc.idle_ms = (uint64_t)cfg->rules->idle_timeout_s * 1000U;
	mc.on_close = stream_ended;
	mc.ctx = p;
	if (wd_eg_mux_new(&p->mux, cfg->conn, &mc, err) < 0 ||
	    eg_watch(p, &p->mux_ev, wd_eg_mux_fd(p->mux), EPOLLIN, err) < 0 ||
	    take_listener(p, p->http_fd, &p->http_ev, EG_EV_HTTP_LISTEN, err) < 0 ||
	    take_listener(p, p->socks_fd, &p->socks_ev, EG_EV_SOCKS_LISTEN, err) < 0) {
		wd_err_wrap(err, "egress: proxy");
		wd_eg_proxy_free(p);
		return wd_err_ret(err);
	}
	*out = p;
	return 0;
}

int wd_eg_proxy_fd(const struct wd_eg_proxies *p)
{
	return p->epfd;
}

static void close_listeners(struct wd_eg_proxies *p)
{
	struct wd_err e;

	if (p->http_fd >= 0) {
		(void)eg_watch(p, &p->http_ev, p->http_fd, 0, &e);
		(void)close(p->http_fd);
	}
	if (p->socks_fd >= 0) {
		(void)eg_watch(p, &p->socks_ev, p->socks_fd, 0, &e);
		(void)close(p->socks_fd);
	}
	p->http_fd = p->socks_fd = -1;
}

int wd_eg_proxy_end(struct wd_eg_proxies *p, bool tell_peer, struct wd_err *err)
{
	int rc;

	if (p->ended)
		return 0;
	p->ended = true;
	close_listeners(p);
	/* Every open stream, pending or attached: its close record (job-end). */
	rc = wd_eg_mux_close_all(p->mux, WD_EG_CLOSE_JOB_END, tell_peer, err);
	while (p->all != NULL)
		eg_drop(p->all);
	free_dead(p);
	if (rc == 0 && p->fail.code != 0) {
		*err = p->fail;
		rc = -p->fail.code;
	}
	return rc;
}

void wd_eg_proxy_free(struct wd_eg_proxies *p)
{
	if (p == NULL)
		return;
	p->ended = true;
	close_listeners(p);
	while (p->all != NULL) {
		struct eg_client *c = p->all;

		c->stream = NULL; /* freed with the table below, without records */
		eg_drop(c);
	}
	free_dead(p);
	while (p->streams != NULL) {
		struct eg_stream *s = p->streams;

		p->streams = s->all_next;
		free(s);
	}
	wd_eg_mux_free(p->mux);
	if (p->epfd >= 0)
		(void)close(p->epfd);
	free(p);
}

void wd_eg_proxy_stats(const struct wd_eg_proxies *p, struct wd_eg_proxy_stats *st)
{
	st->clients = p->st.clients;
	st->handshakes = p->st.handshakes;
	st->streams = p->st.streams;
	st->relays = p->st.relays;
	st->accepted = p->st.accepted;
	st->refused_limit = p->st.refused_limit;
	st->denied = p->st.denied;
	st->opened = p->st.opened;
}
