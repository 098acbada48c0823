/* vsock/conn.c - see conn.h. */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../common/clock.h"

int wd_conn_init(struct wd_conn *c, int fd, enum wd_side side, struct wd_err *err)
{
	int flags = fcntl(fd, F_GETFL);

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return wd_err_sys(err, errno, "channel: fcntl");
	c->rbuf = malloc(WD_FRAME_MAX_BYTES);
	c->queue = malloc(WD_CONN_QUEUE_BYTES + WD_CONN_KEEP_BYTES);
	if (c->rbuf == NULL || c->queue == NULL) {
		free(c->rbuf);
		free(c->queue);
		c->rbuf = c->queue = NULL;
		return wd_err_set(err, ENOMEM, "channel: buffers");
	}
	c->fd = fd;
	wd_chan_init(&c->chan, side);
	wd_decoder_init(&c->dec, c->rbuf, WD_FRAME_MAX_BYTES);
	return 0;
}

void wd_conn_close(struct wd_conn *c)
{
	if (c->fd >= 0)
		(void)close(c->fd);
	c->fd = -1;
	wd_chan_wipe(&c->chan);
	if (c->rbuf != NULL)
		explicit_bzero(c->rbuf, WD_FRAME_MAX_BYTES);
	if (c->queue != NULL)
		explicit_bzero(c->queue, c->qhigh); /* a KEY frame may still be there */
	free(c->rbuf);
	free(c->queue);
	c->rbuf = c->queue = NULL;
}

size_t wd_conn_queued(const struct wd_conn *c)
{
	return c->pre_len - c->pre_off + c->qtail - c->qhead;
}

bool wd_conn_want_write(const struct wd_conn *c)
{
	return !c->write_broken && wd_conn_queued(c) > 0;
}

/*
 * Room for `need` more bytes at the queue's end: drop kept frames down to
 * half of WD_CONN_KEEP_BYTES (oldest first, never the one being written)
 * and move what remains to the front, so the move happens once per few
 * MiB sent rather than once per frame.
 */
static void compact(struct wd_conn *c)
{
	size_t first;

	if (!c->keep)
		c->qkeep = c->qhead;
	while (c->qkeep < c->qhead && c->qhead - c->qkeep > WD_CONN_KEEP_BYTES / 2 &&
	       c->qkeep + wd_frame_size(c->queue + c->qkeep) <= c->qhead)
		c->qkeep += wd_frame_size(c->queue + c->qkeep);
	first = c->qkeep < c->qhead ? c->qkeep : c->qhead;
	if (first == 0)
		return;
	memmove(c->queue, c->queue + first, c->qtail - first);
	c->qtail -= first;
	c->qhead -= first;
	c->qkeep -= first;
}

int wd_conn_send(struct wd_conn *c, unsigned type, uint32_t stream, const void *payload, size_t len,
		 struct wd_err *err)
{
	size_t need = WD_FRAME_HEADER_BYTES + len + WD_FRAME_MAC_BYTES;

	size_t cap = WD_CONN_QUEUE_BYTES + (c->keep ? WD_CONN_KEEP_BYTES : 0);
	int n;

	if (c->queue == NULL)
		return wd_err_set(err, EPIPE, "channel: closed");
	if (!c->keep && c->qhead == c->qtail)
		c->qhead = c->qtail = c->qkeep = 0;
	if (c->qtail - c->qhead + need > WD_CONN_QUEUE_BYTES)
		return wd_err_set(err, ENOBUFS, "channel: output queue full");
	if (cap - c->qtail < need)
		compact(c);
	n = wd_frame_encode(&c->chan, type, stream, payload, len, c->queue + c->qtail,
			    cap - c->qtail, err);
	if (n < 0)
		return n;
	c->qtail += (size_t)n;
	if (c->qtail > c->qhigh)
		c->qhigh = c->qtail;
	c->frames_out++;
	return 0;
}

/* The stream broke (err says how): the side's handler may put a new one in place. */
static int broken(struct wd_conn *c, struct wd_err *err)
{
	char why[sizeof(err->msg)];
	int rc;

	if (c->on_break == NULL || c->in_break)
		return 0;
	memcpy(why, err->msg, sizeof(why));
	c->in_break = true;
	rc = c->on_break(c, c->break_ctx, why, err);
	c->in_break = false;
	return rc;
}

/* Write from buf[*off] to buf[len]: 0 when all went, 1 when the fd is full,
 * -errno (EPIPE: the peer is gone). */
static int write_out(struct wd_conn *c, const uint8_t *buf, size_t *off, size_t len,
		     struct wd_err *err)
{
	while (*off < len) {
		ssize_t n = write(c->fd, buf + *off, len - *off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		if (n < 0)
			return wd_err_sys(err, errno == ECONNRESET ? EPIPE : errno,
					  "channel: write");
		if (n == 0)
			return wd_err_set(err, EPIPE, "channel: write: the peer is gone");
		*off += (size_t)n;
		c->bytes_out += (uint64_t)n;
	}
	return 0;
}

/* Are bytes from the peer still waiting to be read? */
static bool unread(const struct wd_conn *c)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN, .revents = 0};
	int n = 0;

	if (ioctl(c->fd, FIONREAD, &n) == 0)
		return n > 0;
	return poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0;
}

int wd_conn_flush(struct wd_conn *c, struct wd_err *err)
{
	int rc;

	if (c->write_broken)
		return 0;
	rc = write_out(c, c->pre, &c->pre_off, c->pre_len, err);
	if (rc == 0)
		rc = write_out(c, c->queue, &c->qhead, c->qtail, err);
	if (rc == -EPIPE && c->on_break != NULL && !c->in_break && unread(c)) {
		c->write_broken = true;
		return 0;
	}
	if (rc == -EPIPE) {
		rc = broken(c, err);
		return rc == 1 ? 1 : rc == 0 ? -EPIPE : rc;
	}
	if (rc != 0)
		return rc;
	c->pre_off = c->pre_len = 0;
	if (!c->keep)
		c->qhead = c->qtail = 0;
	return 0;
}

static int remaining_ms(uint64_t deadline_ns)
{
	uint64_t now = wd_mono_ns();

	if (deadline_ns == 0)
		return -1;
	return now >= deadline_ns ? 0
				  : (int)((deadline_ns - now + WD_NS_PER_MS - 1) / WD_NS_PER_MS);
}

int wd_conn_flush_wait(struct wd_conn *c, int timeout_ms, struct wd_err *err)
{
	uint64_t deadline = timeout_ms < 0 ? 0 : wd_mono_ns() + (uint64_t)timeout_ms * WD_NS_PER_MS;

	for (;;) {
		struct pollfd pfd = {.fd = c->fd, .events = POLLOUT, .revents = 0};
		int rc = wd_conn_flush(c, err), left;

		if (rc <= 0)
			return rc;
		left = remaining_ms(deadline);
		if (left == 0)
			return wd_err_set(err, ETIMEDOUT, "channel: the peer takes no data");
		if (poll(&pfd, 1, left) < 0 && errno != EINTR)
			return wd_err_sys(err, errno, "channel: poll");
	}
}

int wd_conn_read(struct wd_conn *c, struct wd_err *err)
{
	uint8_t *where;
	size_t room = wd_decoder_space(&c->dec, &where);
	ssize_t n;

	if (room == 0)
		return wd_err_set(err, EMSGSIZE, "channel: receive buffer full");
	do
		n = read(c->fd, where, room);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -EAGAIN;
	if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE))) {
		int rc;

		if (n == 0)
			(void)wd_err_set(err, EPIPE, "channel: the peer closed it");
		else
			(void)wd_err_sys(err, EPIPE, "channel: read");
		rc = broken(c, err);
		if (rc == 1)
			return -EAGAIN;
		if (rc < 0)
			return rc;
		return n == 0 ? 0 : -EPIPE;
	}
	if (n < 0)
		return wd_err_sys(err, errno, "channel: read");
	wd_decoder_fill(&c->dec, (size_t)n);
	c->bytes_in += (uint64_t)n;
	return (int)n;
}

int wd_conn_next(struct wd_conn *c, struct wd_frame *f, struct wd_err *err)
{
	int rc = wd_decoder_next(&c->dec, &c->chan, f, err);

	if (rc == 1)
		c->frames_in++;
	return rc;
}

int wd_conn_recv_wait(struct wd_conn *c, struct wd_frame *f, int timeout_ms, struct wd_err *err)
{
	uint64_t deadline = timeout_ms < 0 ? 0 : wd_mono_ns() + (uint64_t)timeout_ms * WD_NS_PER_MS;

	for (;;) {
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN, .revents = 0};
		int rc = wd_conn_next(c, f, err), left;

		if (rc != 0)
			return rc;
		rc = wd_conn_read(c, err);
		if (rc > 0)
			continue;
		if (rc == 0)
			return wd_err_set(err, EPIPE, "channel: the peer closed it");
		if (rc != -EAGAIN)
			return rc;
		left = remaining_ms(deadline);
		if (left == 0)
			return wd_err_set(err, ETIMEDOUT, "channel: nothing from the peer in time");
		if (poll(&pfd, 1, left) < 0 && errno != EINTR)
			return wd_err_sys(err, errno, "channel: poll");
	}
}

void wd_conn_keep_sent(struct wd_conn *c)
{
	c->keep = true;
	c->qkeep = c->qtail;
}

void wd_conn_on_break(struct wd_conn *c, wd_conn_break_fn fn, void *ctx)
{
	c->on_break = fn;
	c->break_ctx = ctx;
}

void wd_conn_detach(struct wd_conn *c)
{
	if (c->fd >= 0)
		(void)close(c->fd);
	c->fd = -1;
	explicit_bzero(c->rbuf, WD_FRAME_MAX_BYTES);
	wd_decoder_init(&c->dec, c->rbuf, WD_FRAME_MAX_BYTES);
	c->pre_off = c->pre_len = 0;
	c->write_broken = false;
}

int wd_conn_attach(struct wd_conn *c, int fd, struct wd_err *err)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "channel: fcntl");
	}
	if (c->fd >= 0)
		(void)close(c->fd);
	c->fd = fd;
	return 0;
}

int wd_conn_rewind(struct wd_conn *c, uint64_t peer_seq, struct wd_err *err)
{
	size_t off = c->qkeep;
	uint64_t want = peer_seq + 1;

	if (peer_seq > c->chan.send_seq)
		return wd_err_set(err, EPROTO,
				  "channel: the peer says it has frame %llu; the last sent is %llu",
				  (unsigned long long)peer_seq,
				  (unsigned long long)c->chan.send_seq);
	while (off < c->qtail && wd_frame_seq(c->queue + off) < want)
		off += wd_frame_size(c->queue + off);
	if (off < c->qtail ? wd_frame_seq(c->queue + off) != want : want != c->chan.send_seq + 1)
		return wd_err_set(err, ENOBUFS,
				  "channel: the peer needs frames from %llu on again, and they are "
				  "no longer kept",
				  (unsigned long long)want);
	for (size_t o = off; o < c->qhead; o += wd_frame_size(c->queue + o))
		c->resent_frames++;
	c->qhead = c->qkeep = off;
	return 0;
}

void wd_conn_send_resume(struct wd_conn *c, uint64_t epoch)
{
	c->pre_len = (size_t)wd_resume_encode(&c->chan, epoch, c->chan.recv_seq, c->pre);
	c->pre_off = 0;
}

int wd_conn_find_resume(struct wd_conn *c, uint64_t *epoch, uint64_t *last_seq)
{
	return wd_decoder_find_resume(&c->dec, &c->chan, epoch, last_seq);
}

int wd_conn_flush_resume(struct wd_conn *c, struct wd_err *err)
{
	return write_out(c, c->pre, &c->pre_off, c->pre_len, err);
}
