/* host/egdial.c - see egdial.h. */
#include "egdial.h"

#include <errno.h>
#include <string.h>

#include "../common/log.h"
#include "launchrec.h"

static void on_record(void *ctx, const struct wd_eg_dial_record *r)
{
	struct wd_egdial *h = ctx;
	struct wd_launchrec rec = {
		"egress", r->activity, r->outcome, r->severity, h->origin != NULL ? h->origin : "",
		r->data};
	struct wd_err err;

	if (h->record != NULL) {
		h->record(h->record_ctx, "egress", r->activity, r->outcome, r->severity, r->data);
		return;
	}
	if (h->audit_dir == NULL) {
		wd_warn("egress/%s: %s", r->activity, r->data);
		return;
	}
	if (wd_launchrec_write(h->audit_dir, &rec, &err) < 0 && h->records_lost++ == 0)
		h->lost = err; /* the job ends at the engine call's return (lost()) */
}

/* A host record that could not be written ends the job: nothing the host
 * refused may go unrecorded (fail closed, as the guest's log does). */
static int lost(struct wd_egdial *h, int rc, struct wd_err *err)
{
	if (rc < 0 || h->records_lost == 0)
		return rc;
	*err = h->lost;
	return wd_err_wrap(err, "egress: a record of the host's could not be written");
}

int wd_egdial_start(struct wd_egdial *h, const struct wd_egress *rules, struct wd_conn *conn,
		    struct wd_err *err)
{
	struct wd_eg_mux_config mc;
	struct wd_eg_dial_config dc;

	memset(&mc, 0, sizeof(mc));
	mc.max_streams = rules->connections;
	mc.idle_ms = (uint64_t)rules->idle_timeout_s * 1000;
	if (wd_eg_mux_new(&h->mux, conn, &mc, err) < 0)
		return wd_err_wrap(err, "egress");
	memset(&dc, 0, sizeof(dc));
	dc.rules = rules;
	dc.conn = conn;
	dc.mux = h->mux;
	dc.record = on_record;
	dc.record_ctx = h;
	if (wd_eg_dial_new(&dc, &h->dial, err) < 0) {
		wd_eg_mux_free(h->mux);
		h->mux = NULL;
		return -err->code;
	}
	return 0;
}

int wd_egdial_frame(struct wd_egdial *h, const struct wd_frame *f, struct wd_err *err)
{
	return lost(h, wd_eg_dial_frame(h->dial, f, err), err);
}

int wd_egdial_fd(const struct wd_egdial *h)
{
	return h->dial != NULL ? wd_eg_dial_fd(h->dial) : -1;
}

int wd_egdial_run(struct wd_egdial *h, struct wd_err *err)
{
	return h->dial != NULL ? lost(h, wd_eg_dial_run(h->dial, err), err) : 0;
}

int wd_egdial_timeout_ms(const struct wd_egdial *h)
{
	return h->dial != NULL ? wd_eg_dial_next_deadline(h->dial) : -1;
}

void wd_egdial_end(struct wd_egdial *h, bool tell_peer)
{
	struct wd_err err;

	if (h->dial != NULL &&
	    wd_eg_dial_close_all(h->dial, WD_EG_CLOSE_JOB_END, tell_peer, &err) < 0)
		wd_debug("egress: closing the streams: %s", err.msg);
}

void wd_egdial_free(struct wd_egdial *h)
{
	wd_egdial_end(h, false);
	wd_eg_dial_free(h->dial);
	wd_eg_mux_free(h->mux);
	h->dial = NULL;
	h->mux = NULL;
}
