/*
 * egress/dial.c - see dial.h.
 *
 * Pending streams live in an array sorted by id: OPEN ids only go up, so a
 * new one is appended and a lookup is a binary search. The resolver
 * threads share one `hub` with the event loop: a mutex, the list of
 * finished lookups and the eventfd that says there are some. The hub is
 * reference counted (the engine and each running thread), so a thread
 * stuck in getaddrinfo when the job ends finishes on its own and frees
 * what is left; nothing it holds points into the engine.
 */
#include "dial.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/jcanon.h"
#include "../common/log.h"
#include "mux.h"

#define EV_HUB 0U /* epoll tags; stream ids start at WD_STREAM_EGRESS_BASE */
#define EV_MUX 1U
#define EPOLL_BATCH 64
#define ERRTEXT 160 /* one address's failure, for the reason */

/* A lookup on a resolver thread. Fields above `next` are the thread's
 * until it hands the lookup back through the hub. */
struct lookup {
	struct hub *hub;
	char name[WD_EGRESS_NAME_MAX + 1];
	struct wd_egress_addr addrs[WD_EG_MAX_ADDRS];
	int n; /* addresses, or -errno / an EAI_ code negated (gai true) */
	bool gai;
	struct lookup *next;   /* on the hub's done list */
	struct pending *owner; /* the event loop's: NULL once the stream is gone */
};

struct hub {
	pthread_mutex_t mu;
	int refs; /* the engine and each running thread */
	int efd;
	struct lookup *done;
	wd_eg_resolve_fn *resolve;
	void *resolve_ctx;
};

enum pstate { P_QUEUED, P_RESOLVING, P_CONNECTING };

struct pending {
	uint32_t id;
	uint8_t proxy;
	enum pstate state;
	struct wd_egress_target t;
	int rule; /* the allow rule of check_request, -1 */
	uint64_t t_open_ns, deadline_ns, attempt_ns;
	struct lookup *lookup;
	struct wd_egress_addr addrs[WD_EG_MAX_ADDRS];
	size_t naddrs;
	bool allowed[WD_EG_MAX_ADDRS];
	int addr_rule[WD_EG_MAX_ADDRS];
	size_t next; /* the next address to try */
	size_t cur;  /* the one being tried */
	int fd;
	bool in_mux; /* pending in the mux (not when it refused it: the limit) */
	size_t nrefused, ntried;
	int deny_rule; /* a deny rule that refused an address, -1 */
	char refused[WD_EG_MAX_ADDRS][ERRTEXT];
	char failed[ERRTEXT]; /* the last connect failure */
};

struct slot {
	struct pending *p;
};

struct wd_eg_dial {
	struct wd_eg_dial_config cfg;
	int epfd;
	struct hub *hub;
	struct slot *v; /* sorted by id */
	size_t n, cap;
	uint32_t last_id;   /* the highest id opened */
	unsigned resolving; /* threads started and not yet handed back */
};

/* Texts for reasons and records: cut at `size` when longer (they are
 * one-line summaries; the record carries the parts separately). */
static void text(char *out, size_t size, const char *fmt, ...) WD_PRINTF(3, 4);
static void text(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(out, size, fmt, ap);
	va_end(ap);
}

/* ---- the resolver ------------------------------------------------------- */

static void hub_put(struct hub *h)
{
	struct lookup *l;
	bool last;

	(void)pthread_mutex_lock(&h->mu);
	last = --h->refs == 0;
	l = last ? h->done : NULL;
	if (last)
		h->done = NULL;
	(void)pthread_mutex_unlock(&h->mu);
	if (!last)
		return;
	while (l != NULL) {
		struct lookup *nx = l->next;

		free(l);
		l = nx;
	}
	(void)close(h->efd);
	(void)pthread_mutex_destroy(&h->mu);
	free(h);
}

static bool addr_seen(const struct wd_egress_addr *v, int n, const struct wd_egress_addr *a)
{
	for (int i = 0; i < n; i++)
		if (v[i].family == a->family && memcmp(v[i].a, a->a, sizeof(a->a)) == 0)
			return true;
	return false;
}

/* getaddrinfo: every address, in its order, without duplicates. */
static int gai_resolve(struct lookup *l)
{
	struct addrinfo hints, *res = NULL;
	int rc, n = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = 0; /* no AI_ADDRCONFIG: the host's own addresses decide nothing */
	/* The name as allowed, without a trailing dot, so that /etc/hosts
	 * answers for it too. The search list: musl (warden is static musl)
	 * applies it only to a name with fewer dots than resolv.conf's ndots
	 * (1 by default), and its answers are checked like any other
	 * (docs/egress.md, "The host side"). */
	rc = getaddrinfo(l->name, NULL, &hints, &res);
	if (rc != 0) {
		l->gai = true;
		return rc == EAI_SYSTEM ? -errno : (rc < 0 ? rc : -rc);
	}
	for (const struct addrinfo *ai = res; ai != NULL && n < (int)WD_EG_MAX_ADDRS;
	     ai = ai->ai_next) {
		struct wd_egress_addr a;

		memset(&a, 0, sizeof(a));
		if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
			const struct sockaddr_in *s = (const struct sockaddr_in *)ai->ai_addr;

			a.family = AF_INET;
			memcpy(a.a, &s->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6 &&
			   ai->ai_addrlen >= sizeof(struct sockaddr_in6)) {
			const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ai->ai_addr;

			a.family = AF_INET6;
			memcpy(a.a, &s->sin6_addr, 16);
		} else {
			continue;
		}
		if (!addr_seen(l->addrs, n, &a))
			l->addrs[n++] = a;
	}
	freeaddrinfo(res);
	return n;
}

static void *resolver_main(void *arg)
{
	struct lookup *l = arg;
	struct hub *h = l->hub;
	uint64_t one = 1;

	if (h->resolve != NULL) {
		l->n = h->resolve(h->resolve_ctx, l->name, l->addrs, WD_EG_MAX_ADDRS);
		if (l->n > (int)WD_EG_MAX_ADDRS)
			l->n = -EOVERFLOW;
	} else {
		l->n = gai_resolve(l);
	}
	(void)pthread_mutex_lock(&h->mu);
	l->next = h->done;
	h->done = l;
	(void)pthread_mutex_unlock(&h->mu);
	if (write(h->efd, &one, sizeof(one)) < 0)
		wd_debug_sys(errno, "egress: resolver: eventfd");
	hub_put(h);
	return NULL;
}

/* Start a thread for p's name; signals stay with the main thread. */
static int resolver_start(struct wd_eg_dial *d, struct pending *p, struct wd_err *err)
{
	struct lookup *l = calloc(1, sizeof(*l));
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t th;
	int rc;

	if (l == NULL)
		return wd_err_set(err, ENOMEM, "egress: a lookup");
	l->hub = d->hub;
	l->owner = p;
	text(l->name, sizeof(l->name), "%s", p->t.name);
	(void)pthread_mutex_lock(&d->hub->mu);
	d->hub->refs++;
	(void)pthread_mutex_unlock(&d->hub->mu);
	(void)sigfillset(&all);
	(void)pthread_attr_init(&attr);
	(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	(void)pthread_attr_setstacksize(&attr, WD_EG_RESOLVER_STACK);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&th, &attr, resolver_main, l);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	(void)pthread_attr_destroy(&attr);
	if (rc != 0) {
		/* The engine's own reference remains: this is never the last. */
		(void)pthread_mutex_lock(&d->hub->mu);
		d->hub->refs--;
		(void)pthread_mutex_unlock(&d->hub->mu);
		free(l);
		return wd_err_sys(err, rc, "egress: a resolver thread");
	}
	p->lookup = l;
	p->state = P_RESOLVING;
	d->resolving++;
	return 0;
}

/* ---- pending streams ---------------------------------------------------- */

static size_t find_index(const struct wd_eg_dial *d, uint32_t id, bool *found)
{
	size_t lo = 0, hi = d->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->v[mid].p->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < d->n && d->v[lo].p->id == id;
	return lo;
}

static struct pending *find(const struct wd_eg_dial *d, uint32_t id)
{
	bool found;
	size_t i = find_index(d, id, &found);

	return found ? d->v[i].p : NULL;
}

/* Release p: its socket closed, its lookup left to finish alone. */
static void release(struct wd_eg_dial *d, struct pending *p)
{
	if (p->fd >= 0) {
		(void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, p->fd, NULL);
		(void)close(p->fd);
	}
	if (p->lookup != NULL)
		p->lookup->owner = NULL;
	free(p);
}

/* Forget p (answered, or cancelled). */
static void drop(struct wd_eg_dial *d, struct pending *p)
{
	bool found;
	size_t i = find_index(d, p->id, &found);

	if (found) {
		memmove(d->v + i, d->v + i + 1, (d->n - i - 1) * sizeof(*d->v));
		d->n--;
	}
	release(d, p);
}

static void drop_all(struct wd_eg_dial *d)
{
	size_t n = d->n;

	d->n = 0;
	for (size_t i = 0; i < n; i++)
		release(d, d->v[i].p);
}

/* ---- records and replies ------------------------------------------------ */

static void addr_text(const struct wd_egress_addr *a, char *out, size_t size)
{
	if (wd_egress_addr_text(a, out, size) < 0)
		text(out, size, "?");
}

static void eg_addr(const struct wd_egress_addr *a, struct wd_eg_addr *w)
{
	memset(w, 0, sizeof(*w));
	if (a->family == AF_INET) {
		w->family = 4;
		memcpy(w->a, a->a, 4);
	} else if (a->family == AF_INET6) {
		w->family = 6;
		memcpy(w->a, a->a, 16);
	}
}

/* The rule as a record member: {"index", "list", "text"}. */
static void rule_member(struct wd_jw *w, const struct wd_egress *e, bool deny, int index)
{
	char rt[WD_EGRESS_RULE_TEXT_BYTES];

	if (index < 0)
		return;
	(void)wd_egress_rule_text(e, deny, index, rt, sizeof(rt));
	wd_jw_object(w, "rule");
	wd_jw_uint(w, "index", (uint64_t)index);
	wd_jw_str(w, "list", deny ? "deny" : "allow");
	wd_jw_str(w, "text", rt);
	wd_jw_close(w);
}

struct outcome {
	enum wd_eg_result result;
	int rule;  /* for REPLY: the allow rule, or the deny rule */
	bool deny; /* `rule` is a deny rule */
	char reason[WD_EG_REASON_MAX + 1];
	const char *severity;
};

static void emit(struct wd_eg_dial *d, const char *activity, const char *severity, const char *data)
{
	struct wd_eg_dial_record r = {activity, "denied", severity, data};

	if (d->cfg.record != NULL)
		d->cfg.record(d->cfg.record_ctx, &r);
}

/* egress/refused: what was asked, what the host found and why it said no. */
static void record_refused(struct wd_eg_dial *d, const struct pending *p, const struct outcome *o,
			   int dialed)
{
	char data[WD_EG_DIAL_RECORD_MAX], a[WD_EGRESS_ADDR_TEXT_BYTES];
	struct wd_jw w;

	wd_jw_init(&w, data, sizeof(data));
	if (dialed >= 0) {
		addr_text(&p->addrs[dialed], a, sizeof(a));
		wd_jw_str(&w, "dialed", a);
	}
	wd_jw_str(&w, "host", p->t.name);
	wd_jw_uint(&w, "id", p->id);
	wd_jw_uint(&w, "port", p->t.port);
	wd_jw_str(&w, "proxy", wd_eg_proxy_name(p->proxy));
	wd_jw_str(&w, "reason", o->reason);
	wd_jw_array(&w, "refused");
	for (size_t i = 0; i < p->naddrs; i++) {
		if (p->allowed[i])
			continue;
		addr_text(&p->addrs[i], a, sizeof(a));
		wd_jw_object(&w, NULL);
		wd_jw_str(&w, "address", a);
		wd_jw_str(&w, "reason", p->refused[i]);
		wd_jw_close(&w);
	}
	wd_jw_close(&w);
	wd_jw_array(&w, "resolved");
	for (size_t i = 0; i < p->naddrs; i++) {
		addr_text(&p->addrs[i], a, sizeof(a));
		wd_jw_str(&w, NULL, a);
	}
	wd_jw_close(&w);
	wd_jw_str(&w, "result", wd_eg_result_name(o->result));
	rule_member(&w, d->cfg.rules, o->deny, o->rule);
	if (wd_jw_end(&w) < 0) {
		wd_warn("egress: stream %u to %s port %u: the record does not fit", p->id,
			p->t.name, p->t.port);
		return;
	}
	emit(d, "refused", o->severity, data);
}

static void record_limit(struct wd_eg_dial *d, const struct pending *p)
{
	char data[WD_EG_DIAL_RECORD_MAX];
	struct wd_jw w;

	wd_jw_init(&w, data, sizeof(data));
	wd_jw_uint(&w, "connections", d->cfg.rules->connections);
	wd_jw_str(&w, "host", p->t.name);
	wd_jw_uint(&w, "id", p->id);
	wd_jw_str(&w, "limit", "egress-connections");
	wd_jw_uint(&w, "port", p->t.port);
	wd_jw_str(&w, "proxy", wd_eg_proxy_name(p->proxy));
	if (wd_jw_end(&w) >= 0)
		emit(d, "limit", "medium", data);
}

/* REPLY on p's stream: the result, the dialed address (CONNECTED), every
 * resolved address. */
static int reply(struct wd_eg_dial *d, const struct pending *p, const struct outcome *o, int dialed,
		 struct wd_err *err)
{
	struct wd_eg_reply r;
	uint8_t buf[WD_EG_REPLY_MAX_BYTES];
	int n;

	memset(&r, 0, sizeof(r));
	r.result = (uint8_t)o->result;
	r.rule = (int16_t)(o->rule >= 0 && o->rule <= (int)WD_EG_RULE_MAX ? o->rule : -1);
	if (dialed >= 0) {
		eg_addr(&p->addrs[dialed], &r.dialed);
		r.dialed_port = p->t.port;
	}
	r.naddrs = (uint8_t)p->naddrs;
	for (size_t i = 0; i < p->naddrs; i++)
		eg_addr(&p->addrs[i], &r.addrs[i]);
	if (o->result != WD_EG_CONNECTED)
		text(r.reason, sizeof(r.reason), "%s",
		     o->reason[0] != '\0' ? o->reason : wd_eg_result_name(o->result));
	n = wd_eg_reply_encode(&r, buf, err);
	if (n < 0)
		return wd_err_wrap(err, "egress: REPLY for stream %u", p->id);
	if (wd_conn_send(d->cfg.conn, WD_MSG_EG_REPLY, p->id, buf, (size_t)n, err) < 0)
		return wd_err_wrap(err, "egress: REPLY for stream %u", p->id);
	return 0;
}

/* Answer p with a refusal or failure, record it when it is a refusal,
 * and forget it. */
static int fail(struct wd_eg_dial *d, struct pending *p, struct outcome *o, struct wd_err *err)
{
	int rc;

	if (o->severity != NULL && o->result == WD_EG_LIMIT)
		record_limit(d, p);
	else if (o->severity != NULL)
		record_refused(d, p, o, -1);
	wd_debug("egress: stream %u to %s port %u: %s: %s", p->id, p->t.name, p->t.port,
		 wd_eg_result_name(o->result), o->reason);
	rc = reply(d, p, o, -1, err);
	if (rc == 0 && p->in_mux)
		rc = wd_eg_mux_cancel(d->cfg.mux, p->id, false, WD_EG_CLOSE_RESET, err);
	drop(d, p);
	return rc == -ENOENT ? 0 : rc;
}

static int fail_with(struct wd_eg_dial *d, struct pending *p, enum wd_eg_result result,
		     const char *severity, struct wd_err *err, const char *fmt, ...)
	WD_PRINTF(6, 7);
static int fail_with(struct wd_eg_dial *d, struct pending *p, enum wd_eg_result result,
		     const char *severity, struct wd_err *err, const char *fmt, ...)
{
	struct outcome o = {result, -1, false, "", severity};
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(o.reason, sizeof(o.reason), fmt, ap);
	va_end(ap);
	return fail(d, p, &o, err);
}

/* ---- connecting ----------------------------------------------------------- */

static socklen_t sockaddr_of(const struct wd_egress_addr *a, uint16_t port,
			     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		memcpy(&s->sin_addr, a->a, 4);
		return sizeof(*s);
	}
	{
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		memcpy(&s->sin6_addr, a->a, 16);
		return sizeof(*s);
	}
}

/* Connected on p->cur: the socket becomes the mux's, then REPLY CONNECTED
 * (nothing is read from it before the next wd_eg_mux_run, so the REPLY
 * goes out before any DATA). */
static int connected(struct wd_eg_dial *d, struct pending *p, struct wd_err *err)
{
	struct outcome o = {WD_EG_CONNECTED, p->addr_rule[p->cur], false, "", "medium"};
	char a[WD_EGRESS_ADDR_TEXT_BYTES];
	int fd = p->fd, rc;

	(void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
	p->fd = -1;
	rc = wd_eg_mux_attach(d->cfg.mux, p->id, fd, NULL, 0, err);
	if (rc < 0) {
		wd_warn("egress: stream %u: %s", p->id, err->msg);
		return fail_with(d, p, WD_EG_INTERNAL, NULL, err, "the host failed to take it");
	}
	if (p->nrefused > 0) {
		text(o.reason, sizeof(o.reason), "connected to another address; %zu refused",
		     p->nrefused);
		record_refused(d, p, &o, (int)p->cur);
		o.reason[0] = '\0';
	}
	rc = reply(d, p, &o, (int)p->cur, err);
	addr_text(&p->addrs[p->cur], a, sizeof(a));
	wd_debug("egress: stream %u to %s port %u: connected to %s in %llu ms", p->id, p->t.name,
		 p->t.port, a, (unsigned long long)((wd_mono_ns() - p->t_open_ns) / WD_NS_PER_MS));
	drop(d, p);
	return rc;
}

static size_t allowed_left(const struct pending *p)
{
	size_t n = 0;

	for (size_t i = p->next; i < p->naddrs; i++)
		n += p->allowed[i] ? 1 : 0;
	return n;
}

static void note_failure(struct pending *p, size_t i, const char *why)
{
	char a[WD_EGRESS_ADDR_TEXT_BYTES];

	addr_text(&p->addrs[i], a, sizeof(a));
	text(p->failed, sizeof(p->failed), "%s port %u: %s", a, p->t.port, why);
}

/* The same for a failed system call: "ADDR port N: strerror(code)". */
static void note_errno(struct pending *p, size_t i, int code)
{
	char a[WD_EGRESS_ADDR_TEXT_BYTES];
	struct wd_err e;

	addr_text(&p->addrs[i], a, sizeof(a));
	(void)wd_err_sys(&e, code, "%s port %u", a, p->t.port);
	text(p->failed, sizeof(p->failed), "%s", e.msg);
}

/* Every allowed address failed: CONNECT (or TIMEOUT when the last one
 * simply did not answer). */
static int connect_failed(struct wd_eg_dial *d, struct pending *p, bool timed_out,
			  struct wd_err *err)
{
	return fail_with(d, p, timed_out ? WD_EG_TIMEOUT : WD_EG_CONNECT, NULL, err, "%s%s",
			 p->failed, p->nrefused > 0 ? " (other addresses refused)" : "");
}

/* Try the next allowed address; the attempt gets its share of the time left. */
static int try_next(struct wd_eg_dial *d, struct pending *p, struct wd_err *err)
{
	while (p->next < p->naddrs) {
		size_t i = p->next++, left = allowed_left(p) + 1;
		struct sockaddr_storage ss;
		socklen_t len;
		uint64_t now = wd_mono_ns();
		int fd;

		if (!p->allowed[i])
			continue;
		p->ntried++;
		fd = socket(p->addrs[i].family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			note_errno(p, i, errno);
			continue;
		}
		len = sockaddr_of(&p->addrs[i], p->t.port, &ss);
		if (connect(fd, (struct sockaddr *)&ss, len) == 0 || errno == EINPROGRESS) {
			struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = p->id};

			if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
				int e = errno;

				(void)close(fd);
				return wd_err_sys(err, e, "egress: epoll");
			}
			p->fd = fd;
			p->cur = i;
			p->state = P_CONNECTING;
			p->attempt_ns = now >= p->deadline_ns ? p->deadline_ns
							      : now + (p->deadline_ns - now) / left;
			return 0;
		}
		note_errno(p, i, errno);
		(void)close(fd);
	}
	return connect_failed(d, p, false, err);
}

/* The socket being tried is writable or failed. */
static int on_socket(struct wd_eg_dial *d, struct pending *p, struct wd_err *err)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr == 0)
		return connected(d, p, err);
	note_errno(p, p->cur, soerr);
	(void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, p->fd, NULL);
	(void)close(p->fd);
	p->fd = -1;
	return try_next(d, p, err);
}

/* ---- checking the addresses -------------------------------------------- */

/* Why wd_egress_check_addr refused `a`, in a few words. */
static void refusal_text(const struct wd_eg_dial *d, const struct pending *p,
			 const struct wd_egress_addr *a, const struct wd_egress_verdict *v,
			 char *out, size_t size)
{
	char at[WD_EGRESS_ADDR_TEXT_BYTES], rule[WD_EGRESS_RULE_TEXT_BYTES];

	addr_text(a, at, sizeof(at));
	switch (v->reason) {
	case WD_EGRESS_SPECIAL:
		text(out, size, "%s is %s", at,
		     v->special != NULL ? v->special : "special-purpose");
		break;
	case WD_EGRESS_DENY_RULE:
		(void)wd_egress_rule_text(d->cfg.rules, true, v->deny_rule, rule, sizeof(rule));
		text(out, size, "%s: %s", at, rule);
		break;
	case WD_EGRESS_PORT:
		text(out, size, "%s: no rule allows port %u", at, p->t.port);
		break;
	default:
		text(out, size, "%s: %s", at, wd_egress_reason_name(v->reason));
		break;
	}
}

/* The addresses are known: check each, then dial. */
static int addresses_known(struct wd_eg_dial *d, struct pending *p, struct wd_err *err)
{
	struct outcome o = {WD_EG_ADDRESS, -1, false, "", "medium"};
	size_t off = 0;

	for (size_t i = 0; i < p->naddrs; i++) {
		struct wd_egress_verdict v;

		wd_egress_check_addr(d->cfg.rules, &p->t, &p->addrs[i], &v);
		p->allowed[i] = v.reason == WD_EGRESS_ALLOWED;
		p->addr_rule[i] = v.allow_rule;
		if (p->allowed[i])
			continue;
		refusal_text(d, p, &p->addrs[i], &v, p->refused[i], sizeof(p->refused[i]));
		if (v.deny_rule >= 0 && p->deny_rule < 0)
			p->deny_rule = v.deny_rule;
		p->nrefused++;
	}
	if (p->nrefused < p->naddrs)
		return try_next(d, p, err);
	for (size_t i = 0; i < p->naddrs && off < sizeof(o.reason); i++) {
		int n = snprintf(o.reason + off, sizeof(o.reason) - off, "%s%s", i > 0 ? "; " : "",
				 p->refused[i]);

		off += n > 0 ? (size_t)n : 0;
	}
	if (p->deny_rule >= 0) {
		o.rule = p->deny_rule;
		o.deny = true;
	}
	return fail(d, p, &o, err);
}

/* getaddrinfo's answer in words (its own gai_strerror texts vary by libc). */
static const char *gai_text(int code)
{
	switch (code) {
	case EAI_NONAME:
		return "no such name";
	case EAI_AGAIN:
		return "the resolver could not answer now";
	case EAI_FAIL:
		return "the resolver failed";
	case EAI_MEMORY:
		return "out of memory";
	default:
		return "no address";
	}
}

/* A lookup came back. */
static int resolved(struct wd_eg_dial *d, struct pending *p, struct lookup *l, struct wd_err *err)
{
	p->lookup = NULL;
	if (l->n < 0 && !l->gai) {
		struct wd_err e;

		(void)wd_err_sys(&e, -l->n, "%s does not resolve", p->t.name);
		return fail_with(d, p, WD_EG_RESOLVE, "low", err, "%s", e.msg);
	}
	if (l->n <= 0)
		return fail_with(d, p, WD_EG_RESOLVE, "low", err, "%s does not resolve: %s",
				 p->t.name, l->n == 0 ? "no address" : gai_text(-l->n));
	p->naddrs = (size_t)l->n;
	memcpy(p->addrs, l->addrs, p->naddrs * sizeof(p->addrs[0]));
	return addresses_known(d, p, err);
}

/* Start lookups waiting for a resolver slot, oldest first. */
static int start_queued(struct wd_eg_dial *d, struct wd_err *err)
{
	for (size_t i = 0; i < d->n && d->resolving < WD_EG_RESOLVERS; i++) {
		struct pending *p = d->v[i].p;

		if (p->state != P_QUEUED)
			continue;
		if (resolver_start(d, p, err) < 0) {
			wd_warn("%s", err->msg);
			if (fail_with(d, p, WD_EG_INTERNAL, NULL, err,
				      "the host cannot resolve now") < 0)
				return -err->code;
			i--; /* p left the array */
		}
	}
	return 0;
}

static int take_lookups(struct wd_eg_dial *d, struct wd_err *err)
{
	struct lookup *l;
	uint64_t count;
	int rc = 0;

	if (read(d->hub->efd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return wd_err_sys(err, errno, "egress: eventfd");
	(void)pthread_mutex_lock(&d->hub->mu);
	l = d->hub->done;
	d->hub->done = NULL;
	(void)pthread_mutex_unlock(&d->hub->mu);
	while (l != NULL) {
		struct lookup *nx = l->next;

		d->resolving--;
		if (l->owner != NULL && rc == 0)
			rc = resolved(d, l->owner, l, err);
		else if (l->owner != NULL)
			l->owner->lookup = NULL;
		free(l);
		l = nx;
	}
	if (rc == 0)
		rc = start_queued(d, err);
	return rc;
}

/* ---- OPEN --------------------------------------------------------------- */

static int protocol(const struct wd_frame *f, struct wd_err *err, const char *why)
{
	return wd_err_set(err, EPROTO, "protocol: %s (stream %u) from the guest: %s",
			  wd_msg_type_name(f->type), f->stream, why);
}

/* The decision before anything is resolved. 1: go on; 0: answered. */
static int check_request(struct wd_eg_dial *d, struct pending *p, struct wd_err *err)
{
	struct outcome o = {WD_EG_DENIED, -1, false, "", "high"};
	struct wd_egress_verdict v;
	char rule[WD_EGRESS_RULE_TEXT_BYTES];

	wd_egress_check_request(d->cfg.rules, &p->t, &v);
	if (v.reason == WD_EGRESS_ALLOWED) {
		p->rule = v.allow_rule;
		return 1;
	}
	if (v.reason == WD_EGRESS_DENY_RULE) {
		o.rule = v.deny_rule;
		o.deny = true;
		(void)wd_egress_rule_text(d->cfg.rules, true, v.deny_rule, rule, sizeof(rule));
		text(o.reason, sizeof(o.reason), "deny-rule %s", rule);
	} else if (v.reason == WD_EGRESS_SPECIAL) {
		text(o.reason, sizeof(o.reason), "%s is %s", p->t.name,
		     v.special != NULL ? v.special : "special-purpose");
	} else {
		text(o.reason, sizeof(o.reason), "%s: %s port %u", wd_egress_reason_name(v.reason),
		     p->t.name, p->t.port);
	}
	return fail(d, p, &o, err);
}

static int on_open(struct wd_eg_dial *d, const struct wd_frame *f, struct wd_err *err)
{
	struct wd_eg_open open;
	struct pending *p;
	struct wd_err perr;
	const struct wd_egress_addr *pin;
	bool full = false;
	int rc;

	if (wd_eg_mux_state(d->cfg.mux, f->stream) != WD_EG_ID_NEW)
		return protocol(f, err, "the id is not above every egress id opened before");
	if (wd_eg_open_decode(f->payload, f->len, &open, err) < 0)
		return wd_err_wrap(err, "protocol: EG_OPEN (stream %u) from the guest", f->stream);
	/* The mux counts live streams (limits.connections) and keeps the ids:
	 * from here the id is opened, and ended when this fails. */
	rc = wd_eg_mux_open(d->cfg.mux, f->stream, NULL, err);
	if (rc == -EMFILE)
		full = true;
	else if (rc < 0)
		return rc;
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		if (!full)
			(void)wd_eg_mux_cancel(d->cfg.mux, f->stream, true, WD_EG_CLOSE_RESET, err);
		return wd_err_set(err, ENOMEM, "egress: stream %u", f->stream);
	}
	p->id = f->stream;
	p->in_mux = !full;
	p->proxy = open.proxy;
	p->fd = -1;
	p->rule = p->deny_rule = -1;
	p->t_open_ns = wd_mono_ns();
	p->deadline_ns = p->t_open_ns + d->cfg.rules->connect_timeout_s * WD_NS_PER_SEC;
	d->v[d->n++].p = p; /* room: the mux holds at most `connections`, and this one */
	if (wd_egress_target_parse(open.host, strlen(open.host), false, open.port, &p->t, &perr) <
	    0) {
		text(p->t.name, sizeof(p->t.name), "%s", open.host);
		p->t.port = open.port;
		return fail_with(d, p, WD_EG_DENIED, "high", err, "bad-name: %s", perr.msg);
	}
	/* The policy first: a forbidden name is a refusal even at the limit. */
	rc = check_request(d, p, err);
	if (rc <= 0)
		return rc;
	if (full)
		return fail_with(d, p, WD_EG_LIMIT, "medium", err,
				 "%u connections are open (limits.connections)",
				 d->cfg.rules->connections);
	pin = p->t.literal ? &p->t.addr : wd_egress_pinned(d->cfg.rules, p->t.name);
	if (pin != NULL) {
		p->addrs[0] = *pin;
		p->naddrs = 1;
		return addresses_known(d, p, err);
	}
	p->state = P_QUEUED;
	return start_queued(d, err);
}

/* ---- the interface ------------------------------------------------------ */

int wd_eg_dial_new(const struct wd_eg_dial_config *cfg, struct wd_eg_dial **out, struct wd_err *err)
{
	struct wd_eg_dial *d = calloc(1, sizeof(*d));
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EV_HUB};

	*out = NULL;
	if (d == NULL)
		return wd_err_set(err, ENOMEM, "egress: the dial engine");
	d->cfg = *cfg;
	d->epfd = -1;
	d->last_id = WD_STREAM_EGRESS_BASE - 1;
	/* One slot more than the limit: the OPEN over it is answered from there. */
	d->cap = (size_t)cfg->rules->connections + 1;
	d->v = calloc(d->cap, sizeof(*d->v));
	d->hub = calloc(1, sizeof(*d->hub));
	if (d->v == NULL || d->hub == NULL) {
		free(d->v);
		free(d->hub);
		free(d);
		return wd_err_set(err, ENOMEM, "egress: the dial engine");
	}
	(void)pthread_mutex_init(&d->hub->mu, NULL);
	d->hub->refs = 1;
	d->hub->resolve = cfg->resolve;
	d->hub->resolve_ctx = cfg->resolve_ctx;
	d->hub->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->hub->efd < 0 || d->epfd < 0 ||
	    epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->hub->efd, &ev) < 0) {
		int e = errno;

		wd_eg_dial_free(d);
		return wd_err_sys(err, e, "egress: the dial engine's epoll");
	}
	ev.data.u64 = EV_MUX;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, wd_eg_mux_fd(cfg->mux), &ev) < 0) {
		int e = errno;

		wd_eg_dial_free(d);
		return wd_err_sys(err, e, "egress: the dial engine's epoll");
	}
	*out = d;
	return 0;
}

int wd_eg_dial_fd(const struct wd_eg_dial *d)
{
	return d->epfd;
}

size_t wd_eg_dial_pending(const struct wd_eg_dial *d)
{
	return d->n;
}

int wd_eg_dial_frame(struct wd_eg_dial *d, const struct wd_frame *f, struct wd_err *err)
{
	struct pending *p;
	int rc;

	if (f->type == WD_MSG_EG_OPEN)
		return on_open(d, f, err);
	/* The mux keeps the id rules: a frame for an id never opened, DATA or
	 * WINDOW before the REPLY, are protocol errors; one for an ended id is
	 * dropped; a CLOSE ends a pending stream, and then its dial too. */
	rc = wd_eg_mux_frame(d->cfg.mux, f, err);
	if (rc < 0)
		return rc;
	p = find(d, f->stream);
	if (p != NULL && wd_eg_mux_state(d->cfg.mux, f->stream) != WD_EG_ID_PENDING) {
		wd_debug("egress: stream %u to %s port %u: the guest gave up before the REPLY",
			 p->id, p->t.name, p->t.port);
		drop(d, p);
	}
	return 0;
}

/* Deadlines: the whole dial, or one address's share of it. */
static int expire(struct wd_eg_dial *d, struct wd_err *err)
{
	uint64_t now = wd_mono_ns();

	for (size_t i = 0; i < d->n;) {
		struct pending *p = d->v[i].p;
		int rc = 0;

		if (now >= p->deadline_ns) {
			if (p->state == P_CONNECTING) {
				note_failure(p, p->cur, "no answer");
				rc = connect_failed(d, p, true, err);
			} else {
				rc = fail_with(d, p, WD_EG_TIMEOUT, NULL, err,
					       "resolving %s took longer than %u s", p->t.name,
					       d->cfg.rules->connect_timeout_s);
			}
		} else if (p->state == P_CONNECTING && now >= p->attempt_ns) {
			note_failure(p, p->cur, "no answer");
			(void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, p->fd, NULL);
			(void)close(p->fd);
			p->fd = -1;
			rc = try_next(d, p, err);
		} else {
			i++;
			continue;
		}
		if (rc < 0)
			return rc;
		/* p was answered (gone) or moved on to its next address: look again at i. */
		if (i < d->n && d->v[i].p == p)
			i++;
	}
	return 0;
}

int wd_eg_dial_run(struct wd_eg_dial *d, struct wd_err *err)
{
	struct epoll_event ev[EPOLL_BATCH];
	int n = epoll_wait(d->epfd, ev, EPOLL_BATCH, 0);

	if (n < 0 && errno != EINTR)
		return wd_err_sys(err, errno, "egress: epoll_wait");
	for (int i = 0; i < n; i++) {
		uint64_t tag = ev[i].data.u64;
		struct pending *p;

		if (tag == EV_HUB) {
			if (take_lookups(d, err) < 0)
				return -err->code;
			continue;
		}
		if (tag == EV_MUX)
			continue; /* below, every time */
		p = find(d, (uint32_t)tag);
		if (p != NULL && p->state == P_CONNECTING && p->fd >= 0 && on_socket(d, p, err) < 0)
			return -err->code;
	}
	if (expire(d, err) < 0)
		return -err->code;
	return wd_eg_mux_run(d->cfg.mux, err);
}

int wd_eg_dial_next_deadline(const struct wd_eg_dial *d)
{
	int ms = wd_eg_mux_next_deadline(d->cfg.mux);
	uint64_t now = wd_mono_ns();

	for (size_t i = 0; i < d->n; i++) {
		const struct pending *p = d->v[i].p;
		uint64_t t = p->state == P_CONNECTING && p->attempt_ns < p->deadline_ns
				     ? p->attempt_ns
				     : p->deadline_ns;
		int left = t <= now ? 0 : (int)((t - now + WD_NS_PER_MS - 1) / WD_NS_PER_MS);

		if (ms < 0 || left < ms)
			ms = left;
	}
	return ms;
}

int wd_eg_dial_close_all(struct wd_eg_dial *d, enum wd_eg_close reason, bool tell_peer,
			 struct wd_err *err)
{
	drop_all(d);
	return wd_eg_mux_close_all(d->cfg.mux, reason, tell_peer, err);
}

void wd_eg_dial_free(struct wd_eg_dial *d)
{
	if (d == NULL)
		return;
	drop_all(d);
	if (d->epfd >= 0)
		(void)close(d->epfd);
	hub_put(d->hub);
	free(d->v);
	free(d);
}
