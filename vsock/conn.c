/* vsock/conn.c - see conn.h. */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
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
	c->queue = malloc(WD_CONN_QUEUE_BYTES);
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
		explicit_bzero(c->queue, WD_CONN_QUEUE_BYTES); /* a KEY frame may still be there */
	free(c->rbuf);
	free(c->queue);
	c->rbuf = c->queue = NULL;
}

size_t wd_conn_queued(const struct wd_conn *c)
{
	return c->qtail - c->qhead;
}

int wd_conn_send(struct wd_conn *c, unsigned type, uint32_t stream, const void *payload, size_t len,
		 struct wd_err *err)
{
	size_t need = WD_FRAME_HEADER_BYTES + len + WD_FRAME_MAC_BYTES;
	int n;

	if (c->queue == NULL)
		return wd_err_set(err, EPIPE, "channel: closed");
	if (c->qhead == c->qtail)
		c->qhead = c->qtail = 0;
	if (WD_CONN_QUEUE_BYTES - c->qtail < need && c->qhead > 0) {
		/* Make room at the end by moving the unsent bytes to the front. */
		memmove(c->queue, c->queue + c->qhead, c->qtail - c->qhead);
		c->qtail -= c->qhead;
		c->qhead = 0;
	}
	if (WD_CONN_QUEUE_BYTES - c->qtail < need)
		return wd_err_set(err, ENOBUFS, "channel: output queue full");
	n = wd_frame_encode(&c->chan, type, stream, payload, len, c->queue + c->qtail,
			    WD_CONN_QUEUE_BYTES - c->qtail, err);
	if (n < 0)
		return n;
	c->qtail += (size_t)n;
	c->frames_out++;
	return 0;
}

int wd_conn_flush(struct wd_conn *c, struct wd_err *err)
{
	while (c->qhead < c->qtail) {
		ssize_t n = write(c->fd, c->queue + c->qhead, c->qtail - c->qhead);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		if (n < 0)
			return wd_err_sys(err, errno == ECONNRESET ? EPIPE : errno,
					  "channel: write");
		if (n == 0)
			return wd_err_set(err, EPIPE, "channel: write: the peer is gone");
		c->qhead += (size_t)n;
		c->bytes_out += (uint64_t)n;
	}
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
	if (n < 0)
		return wd_err_sys(err, errno == ECONNRESET ? EPIPE : errno, "channel: read");
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
