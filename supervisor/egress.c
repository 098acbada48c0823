/*
 * supervisor/egress.c - the proxy engine's glue to the run loop and the
 * audit log (egress.h is the contract).
 */
#include "egress.h"

#include <string.h>
#include <unistd.h>

#include "../common/log.h"
#include "audit.h"

/* The engine's records: the agent's doing, within its part of the budget. */
static int record(void *ctx, const char *cls, const char *activity, const char *outcome,
		  const char *severity, const char *data, struct wd_err *err)
{
	const struct sup_egress *e = ctx;
	struct sup_audit_event ev = {cls, activity, outcome, severity, "agent", 0, e->uid, data};

	return sup_audit_record_agent(&ev, err);
}

int sup_egress_start(struct sup_egress *e, const struct wd_egress *rules, struct sup_channel *ch,
		     int *http_fd, int *socks_fd, long uid, struct sup_fail *f)
{
	struct wd_eg_proxy_config cfg;

	memset(e, 0, sizeof(*e));
	if (rules == NULL || !rules->present)
		return 0;
	e->on = true;
	e->uid = uid;
	memset(&cfg, 0, sizeof(cfg));
	cfg.http_fd = *http_fd;
	cfg.socks_fd = *socks_fd;
	cfg.rules = rules;
	cfg.conn = &ch->conn;
	cfg.record = record;
	cfg.record_ctx = e;
	*http_fd = *socks_fd = -1; /* the engine's, even when it fails */
	if (cfg.http_fd < 0 && cfg.socks_fd < 0)
		return sup_fail_set(f, SUP_FAIL_INTERNAL, EBADF,
				    "egress: the sandbox made no proxy listeners");
	if (wd_eg_proxy_new(&e->px, &cfg, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_INTERNAL, "egress");
	wd_info("egress: proxies on 127.0.0.1:3128 (HTTP) and :1080 (SOCKS5), %zu allow and "
		"%zu deny rules, %u connections at most",
		rules->nallow, rules->ndeny, rules->connections);
	return 0;
}

int sup_egress_poll_fd(const struct sup_egress *e)
{
	return e->px != NULL && sup_audit_room() ? wd_eg_proxy_fd(e->px) : -1;
}

int sup_egress_next_ms(const struct sup_egress *e)
{
	return e->px != NULL && sup_audit_room() ? wd_eg_proxy_next_deadline(e->px) : -1;
}

/* The engine failed: a spent budget stops it (the budget ends the job);
 * the host's protocol errors and channel failures end the job now. */
static int engine_failed(struct sup_egress *e, struct sup_fail *f)
{
	if (f->err.code == EDQUOT && sup_audit_spent() != NULL) {
		wd_info("egress: the audit budget is spent: the proxies stop");
		wd_eg_proxy_free(e->px);
		e->px = NULL;
		sup_fail_clear(f);
		return 0;
	}
	if (f->err.code == EPROTO || f->err.code == EBADMSG || f->err.code == ERANGE ||
	    f->err.code == EINVAL)
		return sup_fail_wrap(f, SUP_FAIL_PROTOCOL, "egress");
	return sup_fail_wrap(f, SUP_FAIL_INTERNAL, "egress");
}

int sup_egress_run(struct sup_egress *e, struct sup_fail *f)
{
	if (e->px == NULL || !sup_audit_room())
		return 0;
	if (wd_eg_proxy_run(e->px, &f->err) < 0)
		return engine_failed(e, f);
	return 0;
}

int sup_egress_frame(struct sup_egress *e, const struct wd_frame *fr, struct sup_fail *f)
{
	if (!e->on)
		return sup_channel_unexpected(fr, "a job without egress", f);
	if (e->px == NULL)
		return 0; /* stopped: in flight */
	if (wd_eg_proxy_frame(e->px, fr, &f->err) < 0)
		return engine_failed(e, f);
	return 0;
}

int sup_egress_end(struct sup_egress *e, bool tell_peer, struct sup_fail *f)
{
	int rc = 0;

	if (e->px == NULL)
		return 0;
	if (wd_eg_proxy_end(e->px, tell_peer, &f->err) < 0)
		rc = engine_failed(e, f);
	wd_eg_proxy_free(e->px);
	e->px = NULL;
	return rc;
}
