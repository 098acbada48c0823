/*
 * egress/proxyrec.c - the proxy engine's audit records (docs/audit.md,
 * class `network` and `limit`): built here as canonical JSON, written
 * through the caller's callback. Keys are written in byte order (jcanon.h
 * refuses anything else). The agent's own text (a host it named that is
 * not a host name) is bounded with wd_jw_str_bounded.
 */
#include <stdio.h>
#include <string.h>

#include "../common/jcanon.h"
#include "proxy_priv.h"

#define REC_BYTES 2048     /* one record's data: a host, 16 addresses, a reason */
#define REC_HOST_SHOWN 300 /* the agent's host text, as written at most */

static int emit(struct wd_eg_proxies *p, struct wd_jw *w, const char *cls, const char *activity,
		const char *outcome, const char *severity, struct wd_err *err)
{
	if (wd_jw_end(w) < 0)
		return wd_err_set(err, ENOSPC, "egress: a %s/%s record is too long", cls, activity);
	return p->record(p->record_ctx, cls, activity, outcome, severity, w->buf, err);
}

static void addr_text(const struct wd_eg_addr *a, char *out, size_t size)
{
	struct wd_egress_addr e;

	out[0] = '\0';
	if (a->family != 4 && a->family != 6)
		return;
	e.family = a->family == 4 ? AF_INET : AF_INET6;
	memcpy(e.a, a->a, sizeof(e.a));
	(void)wd_egress_addr_text(&e, out, size);
}

static void resolved(struct wd_jw *w, const struct eg_stream *s)
{
	char t[WD_EGRESS_ADDR_TEXT_BYTES];

	wd_jw_array(w, "resolved");
	for (unsigned i = 0; i < s->naddrs; i++) {
		addr_text(&s->addrs[i], t, sizeof(t));
		wd_jw_str(w, NULL, t);
	}
	wd_jw_close(w);
}

int eg_rec_connect(struct wd_eg_proxies *p, uint32_t id, uint8_t proxy, const char *host,
		   size_t host_len, uint16_t port, const struct wd_egress_verdict *v,
		   const char *reason, struct wd_err *err)
{
	char buf[REC_BYTES];
	struct wd_jw w;
	bool allow = v != NULL && v->reason == WD_EGRESS_ALLOWED;
	bool deny = v != NULL && v->deny_rule >= 0;
	int index = v == NULL ? -1 : deny ? v->deny_rule : v->allow_rule;

	wd_jw_init(&w, buf, sizeof(buf));
	wd_jw_str(&w, "decision", allow ? "allow" : "deny");
	wd_jw_str_bounded(&w, "host", host, host_len, REC_HOST_SHOWN);
	wd_jw_uint(&w, "id", id);
	wd_jw_uint(&w, "port", port);
	wd_jw_str(&w, "proxy", wd_eg_proxy_name(proxy));
	wd_jw_str(&w, "reason", reason);
	/* No rule decided (no-rule, a literal, a name allowed so far only by
	 * a cidr rule's port): the member is left out (canonical JSON has no
	 * null). */
	if (index >= 0) {
		char text[WD_EGRESS_RULE_TEXT_BYTES];

		(void)wd_egress_rule_text(p->rules, deny, index, text, sizeof(text));
		wd_jw_object(&w, "rule");
		wd_jw_uint(&w, "index", (uint64_t)index);
		wd_jw_str(&w, "list", deny ? "deny" : "allow");
		wd_jw_str(&w, "text", text);
		wd_jw_close(&w);
	}
	return emit(p, &w, "network", "connect", allow ? "success" : "denied",
		    allow ? "informational" : "medium", err);
}

int eg_rec_refused(struct wd_eg_proxies *p, const struct eg_stream *s, const char *result,
		   const char *reason, struct wd_err *err)
{
	char buf[REC_BYTES];
	struct wd_jw w;

	wd_jw_init(&w, buf, sizeof(buf));
	wd_jw_str(&w, "host", s->host);
	wd_jw_uint(&w, "id", s->id);
	wd_jw_uint(&w, "port", s->port);
	wd_jw_str(&w, "reason", reason);
	resolved(&w, s);
	wd_jw_str(&w, "result", result);
	return emit(p, &w, "network", "refused", "denied", "medium", err);
}

int eg_rec_close(struct wd_eg_proxies *p, const struct eg_stream *s, uint64_t bytes_out,
		 uint64_t bytes_in, uint64_t duration_ms, const char *reason, struct wd_err *err)
{
	char buf[REC_BYTES], dialed[WD_EGRESS_ADDR_TEXT_BYTES];
	struct wd_jw w;

	addr_text(&s->dialed, dialed, sizeof(dialed));
	wd_jw_init(&w, buf, sizeof(buf));
	wd_jw_uint(&w, "bytes_in", bytes_in);
	wd_jw_uint(&w, "bytes_out", bytes_out);
	wd_jw_str(&w, "dialed", dialed);
	wd_jw_uint(&w, "duration_ms", duration_ms);
	wd_jw_str(&w, "host", s->host);
	wd_jw_uint(&w, "id", s->id);
	wd_jw_uint(&w, "port", s->port);
	wd_jw_str(&w, "reason", reason);
	resolved(&w, s);
	return emit(p, &w, "network", "close", "success", "informational", err);
}

int eg_rec_limit_connections(struct wd_eg_proxies *p, uint8_t proxy, const char *host,
			     size_t host_len, uint16_t port, const char *what, struct wd_err *err)
{
	char buf[REC_BYTES];
	struct wd_jw w;

	wd_jw_init(&w, buf, sizeof(buf));
	wd_jw_str_bounded(&w, "host", host, host_len, REC_HOST_SHOWN);
	wd_jw_uint(&w, "limit", p->rules->connections);
	wd_jw_uint(&w, "port", port);
	wd_jw_str(&w, "proxy", proxy == 0 ? "" : wd_eg_proxy_name(proxy));
	wd_jw_uint(&w, "streams", p->st.streams);
	wd_jw_str(&w, "what", what);
	return emit(p, &w, "limit", "egress-connections", "denied", "medium", err);
}

int eg_rec_limit_idle(struct wd_eg_proxies *p, const struct eg_stream *s, struct wd_err *err)
{
	char buf[REC_BYTES];
	struct wd_jw w;

	wd_jw_init(&w, buf, sizeof(buf));
	wd_jw_str(&w, "host", s->host);
	wd_jw_uint(&w, "id", s->id);
	wd_jw_uint(&w, "idle_timeout_s", p->rules->idle_timeout_s);
	wd_jw_uint(&w, "port", s->port);
	return emit(p, &w, "limit", "egress-idle", "success", "low", err);
}
