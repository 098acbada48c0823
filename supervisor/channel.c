/*
 * supervisor/channel.c - opening the channel, the READY/KEY/HELLO handshake,
 * bounded waits for the host and the final ERROR (see channel.h).
 */
#include "channel.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../vsock/transport.h"

#define HELLO_JSON_BYTES 4096
#define ERROR_JSON_BYTES 1024
#define NO_HOST_POLL_MS 50 /* virtio-serial without a host end: poll says HUP at once */

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int ms_until(uint64_t deadline_ns)
{
	uint64_t now = wd_mono_ns();

	if (now >= deadline_ns)
		return 0;
	return (int)((deadline_ns - now + WD_NS_PER_MS - 1) / WD_NS_PER_MS);
}

int sup_channel_open(struct sup_channel *ch, const char *spec, struct sup_fail *f)
{
	uint64_t deadline = wd_mono_ns() + SUP_CHANNEL_WAIT_MS * WD_NS_PER_MS;
	int fd;

	memset(ch, 0, sizeof(*ch));
	ch->conn.fd = -1;
	ch->serial = strncmp(spec, "virtio-serial:", 14) == 0;
	if (strlen(spec) >= sizeof(ch->spec))
		return sup_fail_set(f, SUP_FAIL_CHANNEL, ENAMETOOLONG, "channel %.32s...: too long",
				    spec);
	memcpy(ch->spec, spec, strlen(spec) + 1);
	for (;;) {
		fd = wd_channel_open(spec, &f->err);
		if (fd >= 0)
			break;
		if (f->err.code != ENOENT || wd_mono_ns() >= deadline)
			return sup_fail_wrap(f, SUP_FAIL_CHANNEL, "channel %s", spec);
		sleep_ms(SUP_CHANNEL_RETRY_MS);
	}
	if (wd_conn_init(&ch->conn, fd, WD_SIDE_GUEST, &f->err) < 0) {
		(void)close(fd);
		return sup_fail_wrap(f, SUP_FAIL_INTERNAL, "channel %s", spec);
	}
	ch->open = true;
	return 0;
}

/* A read of 0: on virtio-serial, before the host's first frame, that only
 * means nobody is connected yet. */
static bool no_host_yet(const struct sup_channel *ch)
{
	return ch->serial && !ch->host_spoke;
}

/* Wait for the host's first frame, sending READY every SUP_READY_INTERVAL_MS. */
static int await_first_frame(struct sup_channel *ch, struct wd_frame *fr, struct sup_fail *f)
{
	uint64_t deadline = wd_mono_ns() + SUP_HOST_WAIT_MS * WD_NS_PER_MS, next_ready = 0;
	uint8_t ready[WD_READY_BYTES];

	(void)wd_ready_encode(ready);
	for (;;) {
		struct pollfd pfd = {.fd = ch->conn.fd, .events = POLLIN, .revents = 0};
		uint64_t now = wd_mono_ns();
		int rc;

		if (now >= deadline)
			return sup_fail_set(f, SUP_FAIL_TIMEOUT, ETIMEDOUT,
					    "handshake: no frame from the host in %d ms",
					    SUP_HOST_WAIT_MS);
		/* One READY in the queue at a time: an unconnected port may hold it. */
		if (now >= next_ready) {
			if (wd_conn_queued(&ch->conn) == 0 &&
			    wd_conn_send(&ch->conn, WD_MSG_READY, WD_STREAM_CONTROL, ready,
					 sizeof(ready), &f->err) < 0)
				return sup_fail_wrap(f, SUP_FAIL_INTERNAL, "handshake: READY");
			next_ready = now + SUP_READY_INTERVAL_MS * WD_NS_PER_MS;
		}
		rc = wd_conn_flush(&ch->conn, &f->err);
		if (rc < 0 && !ch->serial)
			return sup_fail_wrap(f, SUP_FAIL_CHANNEL, "handshake");
		rc = wd_conn_next(&ch->conn, fr, &f->err);
		if (rc == 1)
			return 0;
		if (rc < 0)
			return sup_fail_wrap(f, SUP_FAIL_PROTOCOL, "handshake");
		rc = wd_conn_read(&ch->conn, &f->err);
		if (rc > 0)
			continue;
		if (rc == 0 && no_host_yet(ch)) {
			sleep_ms(NO_HOST_POLL_MS);
			continue;
		}
		if (rc == 0)
			return sup_fail_set(f, SUP_FAIL_CHANNEL, EPIPE,
					    "handshake: the host closed the channel");
		if (rc != -EAGAIN)
			return sup_fail_wrap(f, SUP_FAIL_CHANNEL, "handshake");
		if (wd_conn_queued(&ch->conn) > 0)
			pfd.events |= POLLOUT;
		rc = poll(&pfd, 1, ms_until(next_ready));
		if (rc < 0 && errno != EINTR)
			return sup_fail_sys(f, SUP_FAIL_INTERNAL, errno, "handshake: poll");
		if (rc > 0 && (pfd.revents & (POLLIN | POLLOUT)) == 0 && no_host_yet(ch))
			sleep_ms(NO_HOST_POLL_MS); /* HUP: no host end yet */
	}
}

/* The channel again: the transport reopened, retried until the deadline. */
static int reopen(struct sup_channel *ch, uint64_t deadline, struct wd_err *err)
{
	for (;;) {
		int fd = wd_channel_open(ch->spec, err);

		if (fd >= 0)
			return wd_conn_attach(&ch->conn, fd, err);
		if (wd_mono_ns() >= deadline)
			return -err->code;
		sleep_ms(SUP_CHANNEL_RETRY_MS);
	}
}

/* virtio-serial: the port says HUP until the host end is connected again. */
static int await_host_end(struct sup_channel *ch, uint64_t deadline, struct wd_err *err)
{
	for (;;) {
		struct pollfd pfd = {.fd = ch->conn.fd, .events = POLLOUT, .revents = 0};

		if (poll(&pfd, 1, 0) < 0 && errno != EINTR)
			return wd_err_sys(err, errno, "channel: poll");
		if ((pfd.revents & POLLHUP) == 0 && (pfd.revents & POLLOUT) != 0)
			return 0;
		if (wd_mono_ns() >= deadline)
			return wd_err_set(err, ETIMEDOUT, "channel: no host end");
		sleep_ms(NO_HOST_POLL_MS);
	}
}

/* Send RESUME, wait for the host's. 1 with its last sequence, 0 nothing in
 * time or the connection went again, -errno: give up. */
static int exchange_resume(struct sup_channel *ch, uint64_t epoch, uint64_t deadline,
			   uint64_t *peer_seq, struct wd_err *err)
{
	struct wd_conn *c = &ch->conn;

	wd_conn_send_resume(c, epoch);
	for (;;) {
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN, .revents = 0};
		uint64_t got;
		int rc = wd_conn_flush_resume(c, err);

		if (rc < 0)
			return 0;
		if (rc > 0)
			pfd.events |= POLLOUT;
		rc = wd_conn_find_resume(c, &got, peer_seq);
		if (rc == 1 && got != epoch)
			return wd_err_set(err, EPROTO,
					  "channel: the host resumed epoch %llu, not %llu",
					  (unsigned long long)got, (unsigned long long)epoch);
		if (rc == 1)
			return 1;
		rc = wd_conn_read(c, err);
		if (rc > 0)
			continue;
		if (rc == 0 || (rc < 0 && rc != -EAGAIN))
			return 0;
		if (wd_mono_ns() >= deadline)
			return 0;
		if (poll(&pfd, 1, ms_until(deadline)) < 0 && errno != EINTR)
			return wd_err_sys(err, errno, "channel: poll");
		if ((pfd.revents & POLLHUP) != 0 && (pfd.revents & POLLIN) == 0)
			return 0;
	}
}

/* The conn's break handler (vsock/conn.h): put a new connection in place. */
static int channel_broken(struct wd_conn *c, void *ctx, const char *why, struct wd_err *err)
{
	struct sup_channel *ch = ctx;
	uint64_t t0 = wd_mono_ns(), deadline = t0 + SUP_RESUME_WAIT_MS * WD_NS_PER_MS;
	uint64_t epoch = c->epoch + 1, peer_seq = 0, resent = c->resent_frames;
	int rc = 0;

	/* After EXIT a break is the end; so it is when the guest listens
	 * (vsock-listen): only the host could come back there. */
	if (ch->final || strncmp(ch->spec, "vsock-listen:", 13) == 0)
		return 0;
	wd_warn("channel broken (%s): waiting up to %d s for the host to resume it", why,
		SUP_RESUME_WAIT_MS / 1000);
	while (rc == 0) {
		uint64_t answer = wd_mono_ns() + SUP_RESUME_ANSWER_MS * WD_NS_PER_MS;

		wd_conn_detach(c);
		if (wd_mono_ns() >= deadline)
			return wd_err_set(err, ETIMEDOUT,
					  "channel broken (%s) and not resumed within %d s", why,
					  SUP_RESUME_WAIT_MS / 1000);
		if (reopen(ch, deadline, err) < 0 ||
		    (ch->serial && await_host_end(ch, deadline, err) < 0))
			continue;
		rc = exchange_resume(ch, epoch, answer < deadline ? answer : deadline, &peer_seq,
				     err);
		if (rc < 0)
			return rc;
	}
	if (wd_conn_rewind(c, peer_seq, err) < 0)
		return -err->code;
	c->epoch = epoch;
	ch->resumed.pending = true;
	ch->resumed.epoch = epoch;
	ch->resumed.down_ms = (wd_mono_ns() - t0) / WD_NS_PER_MS;
	ch->resumed.resent = c->resent_frames - resent;
	(void)snprintf(ch->resumed.why, sizeof(ch->resumed.why), "%s", why);
	wd_info("channel resumed (epoch %llu) after %llu ms; %llu frame(s) sent again",
		(unsigned long long)epoch, (unsigned long long)ch->resumed.down_ms,
		(unsigned long long)ch->resumed.resent);
	return 1;
}

int sup_channel_handshake(struct sup_channel *ch, const struct wd_hello *hello, struct sup_fail *f)
{
	char json[HELLO_JSON_BYTES];
	uint8_t key[WD_KEY_BYTES];
	struct wd_frame fr;
	int n;

	if (await_first_frame(ch, &fr, f) < 0)
		return -f->err.code;
	ch->host_spoke = true;
	if (fr.type != WD_MSG_KEY)
		return sup_channel_unexpected(&fr, "the handshake (KEY expected)", f);
	n = wd_key_decode(fr.payload, fr.len, key, &f->err);
	/* The KEY frame stays in the receive buffer until overwritten: wipe it now. */
	explicit_bzero(ch->conn.rbuf + (fr.payload - ch->conn.rbuf), fr.len);
	if (n < 0)
		return sup_fail_wrap(f, SUP_FAIL_PROTOCOL, "handshake");
	wd_chan_set_key(&ch->conn.chan, key);
	explicit_bzero(key, sizeof(key));
	wd_conn_keep_sent(&ch->conn);
	wd_debug("handshake: job key installed");

	n = wd_hello_encode(hello, json, sizeof(json), &f->err);
	if (n < 0)
		return sup_fail_wrap(f, SUP_FAIL_INTERNAL, "handshake: HELLO");
	if (sup_channel_send(ch, WD_MSG_HELLO, WD_STREAM_CONTROL, json, (size_t)n, f) < 0 ||
	    sup_channel_flush(ch, SUP_HOST_WAIT_MS, f) < 0)
		return sup_fail_wrap(f, f->kind, "handshake: HELLO");
	wd_conn_on_break(&ch->conn, channel_broken, ch);
	return 0;
}

int sup_channel_flush(struct sup_channel *ch, int timeout_ms, struct sup_fail *f)
{
	int rc = wd_conn_flush_wait(&ch->conn, timeout_ms, &f->err);

	if (rc < 0)
		return sup_fail_wrap(f, sup_channel_read_fail_kind(rc), "channel");
	return 0;
}

int sup_channel_send(struct sup_channel *ch, unsigned type, uint32_t stream, const void *payload,
		     size_t len, struct sup_fail *f)
{
	int rc = wd_conn_send(&ch->conn, type, stream, payload, len, &f->err);

	if (rc == -ENOBUFS) {
		if (sup_channel_flush(ch, SUP_HOST_WAIT_MS, f) < 0)
			return -f->err.code;
		rc = wd_conn_send(&ch->conn, type, stream, payload, len, &f->err);
	}
	if (rc < 0)
		return sup_fail_wrap(f, SUP_FAIL_INTERNAL, "sending %s", wd_msg_type_name(type));
	return 0;
}

int sup_channel_end_frame(const struct wd_frame *fr, struct sup_fail *f)
{
	struct wd_error_msg msg;

	if (fr->type == WD_MSG_SHUTDOWN)
		return sup_fail_set(f, SUP_FAIL_SHUTDOWN, ECANCELED, "the host asked for shutdown");
	if (fr->type != WD_MSG_ERROR)
		return 0;
	if (wd_error_decode(fr->payload, fr->len, &msg, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_PROTOCOL, "the host's ERROR frame");
	return sup_fail_set(f, SUP_FAIL_CHANNEL, ECONNABORTED, "the host gave up: %s: %s", msg.code,
			    msg.message);
}

enum sup_fail_kind sup_channel_read_fail_kind(int rc)
{
	/* The decoder's verdicts (vsock/frame.h); anything else is the transport. */
	if (rc == -EPROTO || rc == -EACCES || rc == -EBADMSG || rc == -EMSGSIZE)
		return SUP_FAIL_PROTOCOL;
	if (rc == -ETIMEDOUT)
		return SUP_FAIL_TIMEOUT;
	return SUP_FAIL_CHANNEL;
}

int sup_channel_unexpected(const struct wd_frame *fr, const char *stage, struct sup_fail *f)
{
	return sup_fail_set(f, SUP_FAIL_PROTOCOL, EPROTO,
			    "unexpected %s frame on stream %u during %s",
			    wd_msg_type_name(fr->type), (unsigned)fr->stream, stage);
}

int sup_channel_recv(struct sup_channel *ch, struct wd_frame *fr, int timeout_ms,
		     struct sup_fail *f)
{
	uint64_t deadline = wd_mono_ns() + (uint64_t)timeout_ms * WD_NS_PER_MS;

	/* Audit records go out and their acknowledgements are taken in every
	 * wait, so that nothing waits for the agent's run to move. */
	for (;;) {
		int left = ms_until(deadline), rc;

		if ((ch->hooks.pump != NULL && ch->hooks.pump(ch, f) < 0) ||
		    sup_channel_flush(ch, left, f) < 0)
			return -f->err.code;
		rc = wd_conn_recv_wait(&ch->conn, fr, ms_until(deadline), &f->err);
		if (rc < 0)
			return sup_fail_wrap(f, sup_channel_read_fail_kind(rc),
					     "waiting for the host");
		if (fr->type != WD_MSG_AUDIT_ACK)
			return sup_channel_end_frame(fr, f);
		if (ch->hooks.ack == NULL)
			return sup_channel_unexpected(fr, "a wait for the host", f);
		if (ch->hooks.ack(fr, f) < 0)
			return -f->err.code;
	}
}

void sup_channel_report(struct sup_channel *ch, const struct sup_fail *f)
{
	char json[ERROR_JSON_BYTES];
	struct wd_err err;
	int len, n;

	if (!ch->open || !ch->conn.chan.keyed || f->kind == SUP_FAIL_CHANNEL ||
	    f->kind == SUP_FAIL_SHUTDOWN)
		return;
	len = wd_error_encode(sup_fail_code(f->kind), f->err.msg, json, sizeof(json), &err);
	n = len < 0 ? len
		    : wd_conn_send(&ch->conn, WD_MSG_ERROR, WD_STREAM_CONTROL, json, (size_t)len,
				   &err);
	if (n == -ENOBUFS) {
		/* Output still queued (a slow host): let some of it go first. */
		(void)wd_conn_flush_wait(&ch->conn, SUP_ERROR_FLUSH_MS, &err);
		n = wd_conn_send(&ch->conn, WD_MSG_ERROR, WD_STREAM_CONTROL, json, (size_t)len,
				 &err);
	}
	if (n < 0 || wd_conn_flush_wait(&ch->conn, SUP_ERROR_FLUSH_MS, &err) < 0)
		wd_warn("could not tell the host: %s", err.msg);
}

void sup_channel_close(struct sup_channel *ch)
{
	if (ch->open)
		wd_conn_close(&ch->conn);
	ch->open = false;
}
