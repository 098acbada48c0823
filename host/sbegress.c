/* host/sbegress.c - see sbegress.h. */
#include "sbegress.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/log.h"

int wd_sb_egress_start(struct wd_sb_egress *e, const struct wd_egress *rules, int http_fd,
		       int socks_fd, wd_eg_record_fn proxy_record, wd_egdial_record_fn *dial_record,
		       void *record_ctx, struct wd_err *err)
{
	struct wd_eg_proxy_config pc;
	uint8_t key[WD_KEY_BYTES];
	int sv[2];

	memset(e, 0, sizeof(*e));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		int errno_saved = errno;

		if (http_fd >= 0)
			(void)close(http_fd);
		if (socks_fd >= 0)
			(void)close(socks_fd);
		return wd_err_sys(err, errno_saved, "egress: the channel's socketpair");
	}
	e->on = true; /* from here wd_sb_egress_end releases what was made */
	if (wd_conn_init(&e->guest, sv[0], WD_SIDE_GUEST, err) < 0) {
		(void)close(sv[0]);
		(void)close(sv[1]);
		goto fail_fds;
	}
	e->guest_open = true;
	if (wd_conn_init(&e->host, sv[1], WD_SIDE_HOST, err) < 0) {
		(void)close(sv[1]);
		goto fail_fds;
	}
	e->host_open = true;
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
		(void)wd_err_sys(err, errno, "getrandom (the egress channel's key)");
		goto fail_fds;
	}
	wd_chan_set_key(&e->guest.chan, key);
	wd_chan_set_key(&e->host.chan, key);
	explicit_bzero(key, sizeof(key));
	e->dial.record = dial_record;
	e->dial.record_ctx = record_ctx;
	e->dial.origin = "";
	if (wd_egdial_start(&e->dial, rules, &e->host, err) < 0)
		goto fail_fds;
	memset(&pc, 0, sizeof(pc));
	pc.http_fd = http_fd;
	pc.socks_fd = socks_fd;
	pc.rules = rules;
	pc.conn = &e->guest;
	pc.record = proxy_record;
	pc.record_ctx = record_ctx;
	if (wd_eg_proxy_new(&e->proxy, &pc, err) < 0) {
		wd_sb_egress_end(e);
		return -err->code;
	}
	return 0;
fail_fds:
	if (http_fd >= 0)
		(void)close(http_fd);
	if (socks_fd >= 0)
		(void)close(socks_fd);
	wd_sb_egress_end(e);
	return -err->code;
}

size_t wd_sb_egress_poll(const struct wd_sb_egress *e, struct pollfd *p)
{
	size_t n = 0;

	if (!e->on || e->proxy == NULL)
		return 0;
	p[n++] = (struct pollfd){.fd = wd_eg_proxy_fd(e->proxy), .events = POLLIN};
	p[n++] = (struct pollfd){.fd = wd_egdial_fd(&e->dial), .events = POLLIN};
	p[n++] = (struct pollfd){
		.fd = e->guest.fd,
		.events = (short)(POLLIN | (wd_conn_want_write(&e->guest) ? POLLOUT : 0))};
	p[n++] = (struct pollfd){
		.fd = e->host.fd,
		.events = (short)(POLLIN | (wd_conn_want_write(&e->host) ? POLLOUT : 0))};
	return n;
}

int wd_sb_egress_timeout_ms(const struct wd_sb_egress *e)
{
	int a, b;

	if (!e->on || e->proxy == NULL)
		return -1;
	a = wd_eg_proxy_next_deadline(e->proxy);
	b = wd_egdial_timeout_ms(&e->dial);
	return a < 0 || (b >= 0 && b < a) ? b : a;
}

/* Read what arrived at one end and hand its frames over. 1 when frames
 * moved, 0 when none, -errno. */
static int take(struct wd_sb_egress *e, struct wd_conn *c, bool at_host, struct wd_err *err)
{
	struct wd_frame f;
	int rc, moved = 0;

	rc = wd_conn_read(c, err);
	if (rc == 0)
		return wd_err_set(err, EPIPE, "egress: the in-process channel closed");
	if (rc < 0 && rc != -EAGAIN)
		return rc;
	while ((rc = wd_conn_next(c, &f, err)) == 1) {
		moved = 1;
		if (!wd_frame_is_egress(f.type, f.stream))
			return wd_err_set(err, EPROTO, "egress: %s on the in-process channel",
					  wd_msg_type_name(f.type));
		rc = at_host ? wd_egdial_frame(&e->dial, &f, err)
			     : wd_eg_proxy_frame(e->proxy, &f, err);
		if (rc < 0)
			return rc;
	}
	return rc < 0 ? rc : moved;
}

int wd_sb_egress_run(struct wd_sb_egress *e, struct wd_err *err)
{
	if (!e->on || e->proxy == NULL)
		return 0;
	for (int round = 0; round < WD_SB_EGRESS_ROUNDS; round++) {
		int a, b;

		if (wd_eg_proxy_run(e->proxy, err) < 0 || wd_egdial_run(&e->dial, err) < 0)
			return -err->code;
		if (wd_conn_flush(&e->guest, err) < 0 || wd_conn_flush(&e->host, err) < 0)
			return -err->code;
		a = take(e, &e->host, true, err);
		if (a < 0)
			return a;
		b = take(e, &e->guest, false, err);
		if (b < 0)
			return b;
		if (a == 0 && b == 0)
			break;
	}
	/* Each half again: what the frames made ready, and the room the flush made. */
	if (wd_eg_proxy_run(e->proxy, err) < 0 || wd_egdial_run(&e->dial, err) < 0)
		return -err->code;
	if (wd_conn_flush(&e->guest, err) < 0 || wd_conn_flush(&e->host, err) < 0)
		return -err->code;
	return 0;
}

void wd_sb_egress_end(struct wd_sb_egress *e)
{
	struct wd_err err;

	if (!e->on)
		return;
	if (e->proxy != NULL && wd_eg_proxy_end(e->proxy, false, &err) < 0)
		wd_warn("egress: %s", err.msg);
	wd_egdial_free(&e->dial);
	wd_eg_proxy_free(e->proxy);
	e->proxy = NULL;
	if (e->guest_open)
		wd_conn_close(&e->guest);
	if (e->host_open)
		wd_conn_close(&e->host);
	e->guest_open = e->host_open = false;
	e->on = false;
}
