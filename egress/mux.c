/*
 * egress/mux.c - see mux.h and docs/protocol.md, "Streams".
 *
 * Sockets are registered edge-triggered for input and output once, at
 * attach, so readiness is the mux's own state (`readable`, a non-empty
 * `in` buffer waiting for an EPOLLOUT edge) and never needs an epoll_ctl
 * to pause a reader: a stream without credit, or every stream while the
 * channel's queue is high, simply is not taken from the ready list.
 *
 * Lists: the table (sorted by id: ids only grow, so a new stream goes at
 * the end and lookup is a binary search), the ready list (readable
 * streams with credit, read round-robin) and the activity list (live
 * streams, least recently active first, for the idle timeout: every
 * stream has the same timeout, so the head expires first).
 */
#include "mux.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/log.h"

#define EVENTS_PER_WAIT 256 /* epoll events taken per epoll_wait */
#define TURNS_PER_RUN 4096U /* reads per run; more wait for the next run */
#define CREDIT_EVERY (WD_EG_WINDOW / 4)
#define BUF_MIN 4096U /* a buffer's first allocation */

struct buf {
	uint8_t *p;
	size_t head, len, cap;
};

struct stream {
	uint32_t id;
	int fd; /* -1 while pending */
	void *user;
	uint64_t t_open_ms, t_active_ms;
	struct stream *act_prev, *act_next; /* activity list (live streams) */
	struct stream *rdy_prev, *rdy_next; /* ready list */
	bool on_ready;
	bool readable;       /* no EAGAIN seen since the last input edge */
	bool tx_eof;         /* the socket's EOF was sent as an empty DATA */
	bool rx_eof;         /* the peer's empty DATA arrived */
	bool shut;           /* shutdown(SHUT_WR) done */
	uint32_t tx_unacked; /* DATA bytes sent, not yet credited (written) by the peer */
	uint32_t rx_held;    /* DATA bytes received, not yet credited back */
	struct buf in;       /* channel -> socket bytes the socket has not taken */
	struct buf first;    /* bytes given to attach, not yet sent */
	uint64_t bytes_from_socket, bytes_to_socket;
};

_Static_assert(sizeof(struct stream) + sizeof(struct stream *) <= WD_EG_STREAM_BYTES,
	       "WD_EG_STREAM_BYTES is what mux.h promises per stream");
_Static_assert(sizeof(struct stream *) == sizeof(void *), "table slots are pointers");

struct wd_eg_mux {
	struct wd_conn *conn;
	struct wd_eg_mux_config cfg;
	int epfd;
	uint32_t last_id;
	struct stream **tab; /* cfg.max_streams slots, sorted by id */
	unsigned n;
	struct stream *rdy_head, *rdy_tail;
	struct stream *act_head, *act_tail;
	struct wd_eg_mux_stats st;
	uint8_t rbuf[WD_EG_CHUNK];
};

static uint64_t now_ms(void)
{
	return wd_mono_ns() / WD_NS_PER_MS;
}

/* ---- buffers ------------------------------------------------------------- */

static int buf_add(struct wd_eg_mux *m, struct buf *b, const uint8_t *p, size_t n)
{
	if (b->head + b->len + n > b->cap) {
		if (b->len + n <= b->cap) {
			memmove(b->p, b->p + b->head, b->len);
		} else {
			size_t cap = b->cap < BUF_MIN ? BUF_MIN : b->cap;
			uint8_t *q;

			while (cap < b->len + n)
				cap *= 2;
			q = malloc(cap);
			if (q == NULL)
				return -ENOMEM;
			if (b->p == NULL)
				m->st.buffers++;
			else
				memcpy(q, b->p + b->head, b->len);
			free(b->p);
			b->p = q;
			b->cap = cap;
		}
		b->head = 0;
	}
	memcpy(b->p + b->head + b->len, p, n);
	b->len += n;
	m->st.buffered_bytes += n;
	return 0;
}

static void buf_take(struct wd_eg_mux *m, struct buf *b, size_t n)
{
	b->head += n;
	b->len -= n;
	m->st.buffered_bytes -= n;
	if (b->len == 0 && b->p != NULL) {
		free(b->p); /* an idle stream holds no buffer */
		memset(b, 0, sizeof(*b));
		m->st.buffers--;
	}
}

/* ---- lists --------------------------------------------------------------- */

static uint32_t credit_left(const struct stream *s)
{
	return (uint32_t)WD_EG_WINDOW - s->tx_unacked;
}

static void ready_remove(struct wd_eg_mux *m, struct stream *s)
{
	if (!s->on_ready)
		return;
	if (s->rdy_prev != NULL)
		s->rdy_prev->rdy_next = s->rdy_next;
	else
		m->rdy_head = s->rdy_next;
	if (s->rdy_next != NULL)
		s->rdy_next->rdy_prev = s->rdy_prev;
	else
		m->rdy_tail = s->rdy_prev;
	s->rdy_prev = s->rdy_next = NULL;
	s->on_ready = false;
}

/* On the ready list (at its tail) exactly when a read may be tried. */
static void ready_update(struct wd_eg_mux *m, struct stream *s)
{
	bool want = s->fd >= 0 && s->readable && !s->tx_eof && credit_left(s) > 0;

	if (!want) {
		ready_remove(m, s);
		return;
	}
	if (s->on_ready)
		return;
	s->rdy_prev = m->rdy_tail;
	s->rdy_next = NULL;
	if (m->rdy_tail != NULL)
		m->rdy_tail->rdy_next = s;
	else
		m->rdy_head = s;
	m->rdy_tail = s;
	s->on_ready = true;
}

static void act_remove(struct wd_eg_mux *m, struct stream *s)
{
	if (s->act_prev != NULL)
		s->act_prev->act_next = s->act_next;
	else if (m->act_head == s)
		m->act_head = s->act_next;
	if (s->act_next != NULL)
		s->act_next->act_prev = s->act_prev;
	else if (m->act_tail == s)
		m->act_tail = s->act_prev;
	s->act_prev = s->act_next = NULL;
}

/* Bytes moved: the idle clock starts again. */
static void touch(struct wd_eg_mux *m, struct stream *s)
{
	s->t_active_ms = now_ms();
	if (m->act_tail == s)
		return;
	act_remove(m, s);
	s->act_prev = m->act_tail;
	if (m->act_tail != NULL)
		m->act_tail->act_next = s;
	else
		m->act_head = s;
	m->act_tail = s;
}

/* ---- the table ------------------------------------------------------------ */

static unsigned find_slot(const struct wd_eg_mux *m, uint32_t id)
{
	unsigned lo = 0, hi = m->n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (m->tab[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct stream *find(const struct wd_eg_mux *m, uint32_t id)
{
	unsigned i = find_slot(m, id);

	return i < m->n && m->tab[i]->id == id ? m->tab[i] : NULL;
}

/* ---- ending a stream ------------------------------------------------------ */

static void close_fd(int fd, bool reset)
{
	if (fd < 0)
		return;
	if (reset) {
		/* The far end sees a reset, not an orderly end of the stream. */
		struct linger lg = {.l_onoff = 1, .l_linger = 0};

		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	(void)close(fd);
}

/*
 * Take `s` out of everything, close its socket, run the callback, free
 * it. EG_CLOSE(reason) goes out first when `tell_peer`; its failure is
 * returned, the stream ends anyway.
 */
static int end_stream(struct wd_eg_mux *m, struct stream *s, enum wd_eg_close reason, bool by_peer,
		      bool tell_peer, bool callback, struct wd_err *err)
{
	struct wd_eg_end e;
	unsigned i = find_slot(m, s->id);
	int rc = 0;

	if (tell_peer) {
		uint8_t p[WD_EG_CLOSE_BYTES];

		wd_eg_close_encode(reason, p);
		rc = wd_conn_send(m->conn, WD_MSG_EG_CLOSE, s->id, p, sizeof(p), err);
		if (rc < 0)
			(void)wd_err_wrap(err, "egress stream %u: close", s->id);
	}
	for (; i + 1 < m->n; i++)
		m->tab[i] = m->tab[i + 1];
	m->n--;
	ready_remove(m, s);
	if (s->fd >= 0) {
		act_remove(m, s);
		(void)epoll_ctl(m->epfd, EPOLL_CTL_DEL, s->fd, NULL);
		close_fd(s->fd, reason != WD_EG_CLOSE_DONE);
		m->st.live--;
	} else {
		m->st.pending--;
	}
	buf_take(m, &s->in, s->in.len);
	buf_take(m, &s->first, s->first.len);
	m->st.streams_ended++;
	e = (struct wd_eg_end){
		.id = s->id,
		.user = s->user,
		.reason = reason,
		.by_peer = by_peer,
		.attached = s->fd >= 0,
		.bytes_from_socket = s->bytes_from_socket,
		.bytes_to_socket = s->bytes_to_socket,
		.duration_ms = now_ms() - s->t_open_ms,
	};
	wd_debug("egress stream %u: %s%s, %llu bytes out, %llu in", s->id, wd_eg_close_name(reason),
		 by_peer ? " (peer)" : "", (unsigned long long)s->bytes_from_socket,
		 (unsigned long long)s->bytes_to_socket);
	free(s);
	if (callback && m->cfg.on_close != NULL)
		m->cfg.on_close(m->cfg.ctx, &e);
	return rc;
}

/* A socket failed: the stream is reset, and the peer told. */
static int socket_failed(struct wd_eg_mux *m, struct stream *s, int code, const char *what,
			 struct wd_err *err)
{
	wd_debug_sys(code, "egress stream %u: %s", s->id, what);
	return end_stream(m, s, WD_EG_CLOSE_RESET, false, true, true, err);
}

/*
 * Both ways finished: the orderly end. Our EOF sent and the peer's in,
 * every byte received written into the socket, and every byte sent
 * credited back: the peer wrote it into its socket, so DONE in a record
 * is what happened. Until then the peer's EG_CLOSE (its write failed)
 * still ends the stream as a reset. Returns 1 when it ended.
 */
static int maybe_done(struct wd_eg_mux *m, struct stream *s, struct wd_err *err)
{
	if (!(s->tx_eof && s->rx_eof && s->shut && s->in.len == 0 && s->tx_unacked == 0))
		return 0;
	return end_stream(m, s, WD_EG_CLOSE_DONE, false, false, true, err) < 0 ? wd_err_ret(err)
									       : 1;
}

/* ---- channel -> socket ---------------------------------------------------- */

/*
 * Credit the peer for what the socket took: every quarter window, and
 * everything still owed once its EOF is in and the buffer is empty. That
 * last credit is the acknowledgement the peer waits for before it counts
 * the stream done.
 */
static int credit(struct wd_eg_mux *m, struct stream *s, struct wd_err *err)
{
	uint32_t written = s->rx_held - (uint32_t)s->in.len;
	bool last = s->rx_eof && s->in.len == 0;
	uint8_t p[WD_EG_WINDOW_BYTES];

	if (written == 0 || (!last && written < CREDIT_EVERY))
		return 0;
	wd_eg_window_encode(written, p);
	if (wd_conn_send(m->conn, WD_MSG_EG_WINDOW, s->id, p, sizeof(p), err) < 0)
		return wd_err_wrap(err, "egress stream %u: window", s->id);
	s->rx_held -= written;
	return 0;
}

/* Write what fits; bytes the socket does not take are the caller's to keep.
 * Returns the count written, or -errno (EAGAIN is 0). */
static ssize_t sock_write(struct stream *s, const uint8_t *p, size_t n)
{
	for (;;) {
		ssize_t w = send(s->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w >= 0)
			return w;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	}
}

/* After the in buffer emptied: the peer's end becomes the socket's. */
static int after_drain(struct wd_eg_mux *m, struct stream *s, struct wd_err *err)
{
	if (s->in.len > 0)
		return 0;
	if (s->rx_eof && !s->shut) {
		if (shutdown(s->fd, SHUT_WR) < 0 && errno != ENOTCONN)
			return socket_failed(m, s, errno, "shutdown", err) < 0 ? wd_err_ret(err)
									       : 1;
		s->shut = true;
	}
	return maybe_done(m, s, err);
}

/* EPOLLOUT: write the buffer. 1 when the stream ended, 0, or -errno. */
static int drain_in(struct wd_eg_mux *m, struct stream *s, struct wd_err *err)
{
	while (s->in.len > 0) {
		ssize_t w = sock_write(s, s->in.p + s->in.head, s->in.len);

		if (w < 0)
			return socket_failed(m, s, (int)-w, "write", err) < 0 ? wd_err_ret(err) : 1;
		if (w == 0)
			break;
		s->bytes_to_socket += (uint64_t)w;
		buf_take(m, &s->in, (size_t)w);
		touch(m, s);
	}
	if (credit(m, s, err) < 0)
		return wd_err_ret(err);
	return after_drain(m, s, err);
}

static int on_data(struct wd_eg_mux *m, struct stream *s, const struct wd_frame *f,
		   struct wd_err *err)
{
	size_t off = 0;

	if (s->rx_eof)
		return wd_err_set(err, EPROTO, "egress stream %u: DATA after its end", s->id);
	if (f->len == 0) {
		s->rx_eof = true;
		touch(m, s);
		if (credit(m, s, err) < 0)
			return wd_err_ret(err);
		return after_drain(m, s, err) < 0 ? wd_err_ret(err) : 0;
	}
	if (f->len > WD_EG_WINDOW - s->rx_held)
		return wd_err_set(err, EPROTO,
				  "egress stream %u: DATA over the credit (%u held, %u more, "
				  "window %lu)",
				  s->id, s->rx_held, f->len, WD_EG_WINDOW);
	s->rx_held += f->len;
	touch(m, s);
	if (s->in.len == 0) {
		ssize_t w = sock_write(s, f->payload, f->len);

		if (w < 0)
			return socket_failed(m, s, (int)-w, "write", err) < 0 ? wd_err_ret(err) : 0;
		off = (size_t)w;
		s->bytes_to_socket += (uint64_t)w;
	}
	if (off < f->len && buf_add(m, &s->in, f->payload + off, f->len - off) < 0)
		return wd_err_set(err, ENOMEM, "egress stream %u: buffer", s->id);
	return credit(m, s, err) < 0 ? wd_err_ret(err) : 0;
}

/* Credit, also after our EOF (then it acknowledges the last bytes); never
 * for more than was sent. The peer wrote bytes: the idle clock restarts. */
static int on_window(struct wd_eg_mux *m, struct stream *s, uint32_t n, struct wd_err *err)
{
	if (n > s->tx_unacked)
		return wd_err_set(err, EPROTO,
				  "egress stream %u: WINDOW credits %u bytes, %u were sent", s->id,
				  n, s->tx_unacked);
	s->tx_unacked -= n;
	touch(m, s);
	ready_update(m, s);
	return maybe_done(m, s, err) < 0 ? wd_err_ret(err) : 0;
}

int wd_eg_mux_frame(struct wd_eg_mux *m, const struct wd_frame *f, struct wd_err *err)
{
	const char *type = wd_msg_type_name(f->type);
	enum wd_eg_close reason = WD_EG_CLOSE_RESET;
	uint32_t credit_n = 0;
	struct stream *s;

	switch (f->type) {
	case WD_MSG_DATA:
		if (f->len > WD_EG_CHUNK)
			return wd_err_set(err, EPROTO,
					  "egress stream %u: DATA of %u bytes, at most %lu",
					  f->stream, f->len, WD_EG_CHUNK);
		break;
	case WD_MSG_EG_WINDOW:
		if (wd_eg_window_decode(f->payload, f->len, &credit_n, err) < 0)
			return wd_err_wrap(err, "egress stream %u", f->stream);
		break;
	case WD_MSG_EG_CLOSE:
		if (wd_eg_close_decode(f->payload, f->len, &reason, err) < 0)
			return wd_err_wrap(err, "egress stream %u", f->stream);
		break;
	default:
		return wd_err_set(err, EINVAL, "egress: %s is not a stream frame", type);
	}
	switch (wd_eg_mux_state(m, f->stream)) {
	case WD_EG_ID_INVALID:
		return wd_err_set(err, EPROTO, "%s on stream %u, not an egress stream", type,
				  f->stream);
	case WD_EG_ID_NEW:
		return wd_err_set(err, EPROTO, "%s on egress stream %u, never opened", type,
				  f->stream);
	case WD_EG_ID_ENDED:
		m->st.frames_dropped++; /* in flight when it ended */
		return 0;
	case WD_EG_ID_PENDING:
	case WD_EG_ID_LIVE:
		break;
	}
	s = find(m, f->stream);
	if (f->type == WD_MSG_EG_CLOSE)
		return end_stream(m, s, reason, true, false, true, err);
	if (s->fd < 0)
		return wd_err_set(err, EPROTO, "%s on egress stream %u before it was connected",
				  type, f->stream);
	return f->type == WD_MSG_DATA ? on_data(m, s, f, err) : on_window(m, s, credit_n, err);
}

/* ---- socket -> channel ---------------------------------------------------- */

static int send_data(struct wd_eg_mux *m, struct stream *s, const uint8_t *p, size_t n,
		     struct wd_err *err)
{
	if (wd_conn_send(m->conn, WD_MSG_DATA, s->id, p, n, err) < 0)
		return wd_err_wrap(err, "egress stream %u", s->id);
	s->tx_unacked += (uint32_t)n;
	s->bytes_from_socket += n;
	return 0;
}

/* One turn of a ready stream: one chunk, within its credit. 1 when the
 * stream ended, 0, or -errno. */
static int read_once(struct wd_eg_mux *m, struct stream *s, struct wd_err *err)
{
	size_t want = credit_left(s) < WD_EG_CHUNK ? credit_left(s) : WD_EG_CHUNK;
	ssize_t n;

	if (s->first.len > 0) {
		size_t k = s->first.len < want ? s->first.len : want;

		if (send_data(m, s, s->first.p + s->first.head, k, err) < 0)
			return wd_err_ret(err);
		buf_take(m, &s->first, k);
		touch(m, s);
		return 0;
	}
	do
		n = recv(s->fd, m->rbuf, want, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		if (send_data(m, s, m->rbuf, (size_t)n, err) < 0)
			return wd_err_ret(err);
		touch(m, s);
		return 0;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			s->readable = false;
			return 0;
		}
		return socket_failed(m, s, errno, "read", err) < 0 ? wd_err_ret(err) : 1;
	}
	if (wd_conn_send(m->conn, WD_MSG_DATA, s->id, NULL, 0, err) < 0)
		return wd_err_wrap(err, "egress stream %u: end", s->id);
	s->tx_eof = true;
	touch(m, s);
	return maybe_done(m, s, err);
}

static int pump(struct wd_eg_mux *m, struct wd_err *err)
{
	for (unsigned turns = 0; turns < TURNS_PER_RUN && m->rdy_head != NULL; turns++) {
		struct stream *s = m->rdy_head;
		int rc;

		if (wd_conn_queued(m->conn) >= WD_CONN_HIGH_WATER)
			break;
		ready_remove(m, s);
		rc = read_once(m, s, err);
		if (rc < 0)
			return rc;
		if (rc == 0)
			ready_update(m, s); /* to the tail: round-robin */
	}
	return 0;
}

static int expire(struct wd_eg_mux *m, struct wd_err *err)
{
	uint64_t now = now_ms();

	if (m->cfg.idle_ms == 0)
		return 0;
	while (m->act_head != NULL && now - m->act_head->t_active_ms >= m->cfg.idle_ms)
		if (end_stream(m, m->act_head, WD_EG_CLOSE_IDLE, false, true, true, err) < 0)
			return wd_err_ret(err);
	return 0;
}

int wd_eg_mux_run(struct wd_eg_mux *m, struct wd_err *err)
{
	struct epoll_event ev[EVENTS_PER_WAIT];
	int n;

	do
		n = epoll_wait(m->epfd, ev, EVENTS_PER_WAIT, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return wd_err_sys(err, errno, "egress: epoll_wait");
	for (int i = 0; i < n; i++) {
		struct stream *s = ev[i].data.ptr;
		uint32_t e = ev[i].events;
		int rc = 0;

		/* One event per fd per wait: a stream ended here has no other. */
		if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			rc = drain_in(m, s, err);
		if (rc < 0)
			return rc;
		if (rc == 0 && (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
			s->readable = true;
			ready_update(m, s);
		}
	}
	if (pump(m, err) < 0 || expire(m, err) < 0)
		return wd_err_ret(err);
	return 0;
}

int wd_eg_mux_next_deadline(const struct wd_eg_mux *m)
{
	uint64_t now, at;

	if (m->rdy_head != NULL && wd_conn_queued(m->conn) < WD_CONN_HIGH_WATER)
		return 0;
	if (m->act_head == NULL || m->cfg.idle_ms == 0)
		return -1;
	now = now_ms();
	at = m->act_head->t_active_ms + m->cfg.idle_ms;
	if (at <= now)
		return 0;
	return at - now > INT_MAX ? INT_MAX : (int)(at - now);
}

/* ---- the table's life ----------------------------------------------------- */

int wd_eg_mux_new(struct wd_eg_mux **out, struct wd_conn *conn, const struct wd_eg_mux_config *cfg,
		  struct wd_err *err)
{
	struct wd_eg_mux *m;

	*out = NULL;
	if (cfg->max_streams == 0 || cfg->max_streams > WD_EG_MUX_MAX_STREAMS)
		return wd_err_set(err, EINVAL, "egress: %u streams, not 1..%u", cfg->max_streams,
				  WD_EG_MUX_MAX_STREAMS);
	m = calloc(1, sizeof(*m));
	if (m == NULL || (m->tab = calloc(cfg->max_streams, sizeof(void *))) == NULL) {
		free(m);
		return wd_err_set(err, ENOMEM, "egress: stream table");
	}
	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (m->epfd < 0) {
		int code = errno;

		free(m->tab);
		free(m);
		return wd_err_sys(err, code, "egress: epoll_create1");
	}
	m->conn = conn;
	m->cfg = *cfg;
	m->last_id = WD_STREAM_EGRESS_BASE - 1;
	*out = m;
	return 0;
}

void wd_eg_mux_free(struct wd_eg_mux *m)
{
	if (m == NULL)
		return;
	while (m->n > 0)
		(void)end_stream(m, m->tab[m->n - 1], WD_EG_CLOSE_SHUTDOWN, false, false, false,
				 NULL);
	(void)close(m->epfd);
	free(m->tab);
	free(m);
}

int wd_eg_mux_fd(const struct wd_eg_mux *m)
{
	return m->epfd;
}

uint32_t wd_eg_mux_next_id(const struct wd_eg_mux *m)
{
	return m->last_id + 1;
}

enum wd_eg_id_state wd_eg_mux_state(const struct wd_eg_mux *m, uint32_t id)
{
	const struct stream *s;

	if (!wd_stream_is_egress(id))
		return WD_EG_ID_INVALID;
	if (id > m->last_id)
		return WD_EG_ID_NEW;
	s = find(m, id);
	if (s == NULL)
		return WD_EG_ID_ENDED;
	return s->fd < 0 ? WD_EG_ID_PENDING : WD_EG_ID_LIVE;
}

int wd_eg_mux_open(struct wd_eg_mux *m, uint32_t id, void *user, struct wd_err *err)
{
	struct stream *s;

	if (!wd_stream_is_egress(id) || id <= m->last_id)
		return wd_err_set(err, EPROTO, "egress stream %u: not above the last opened, %u",
				  id, m->last_id);
	if (id == UINT32_MAX)
		return wd_err_set(err, EPROTO, "egress stream %u: the last id", id);
	m->last_id = id; /* opened, even when refused below: later frames are dropped */
	if (m->n >= m->cfg.max_streams)
		return wd_err_set(err, EMFILE, "egress stream %u: %u streams open already", id,
				  m->n);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return wd_err_set(err, ENOMEM, "egress stream %u", id);
	s->id = id;
	s->fd = -1;
	s->user = user;
	s->t_open_ms = now_ms();
	m->tab[m->n++] = s; /* the largest id so far: the end keeps the table sorted */
	m->st.pending++;
	return 0;
}

int wd_eg_mux_attach(struct wd_eg_mux *m, uint32_t id, int fd, const void *first, size_t len,
		     struct wd_err *err)
{
	struct stream *s = find(m, id);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET};
	int fl;

	if (s == NULL || s->fd >= 0) {
		(void)close(fd);
		return wd_err_set(err, ENOENT, "egress stream %u: not waiting for a socket", id);
	}
	if (len > WD_EG_WINDOW) {
		(void)close(fd);
		return wd_err_set(err, E2BIG, "egress stream %u: %zu first bytes, at most %lu", id,
				  len, WD_EG_WINDOW);
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int code = errno;

		(void)close(fd);
		return wd_err_sys(err, code, "egress stream %u: O_NONBLOCK", id);
	}
	if (len > 0 && buf_add(m, &s->first, first, len) < 0) {
		(void)close(fd);
		return wd_err_set(err, ENOMEM, "egress stream %u: first bytes", id);
	}
	ev.data.ptr = s;
	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int code = errno;

		buf_take(m, &s->first, s->first.len);
		(void)close(fd);
		return wd_err_sys(err, code, "egress stream %u: epoll_ctl", id);
	}
	s->fd = fd;
	s->readable = true; /* bytes may be there already */
	m->st.pending--;
	m->st.live++;
	touch(m, s);
	ready_update(m, s);
	return 0;
}

int wd_eg_mux_cancel(struct wd_eg_mux *m, uint32_t id, bool tell_peer, enum wd_eg_close reason,
		     struct wd_err *err)
{
	struct stream *s = find(m, id);

	if (s == NULL || s->fd >= 0)
		return wd_err_set(err, ENOENT, "egress stream %u: not pending", id);
	return end_stream(m, s, reason, false, tell_peer, false, err);
}

int wd_eg_mux_reset(struct wd_eg_mux *m, uint32_t id, enum wd_eg_close reason, struct wd_err *err)
{
	struct stream *s = find(m, id);

	if (s == NULL)
		return wd_err_set(err, ENOENT, "egress stream %u: not open", id);
	if (reason == WD_EG_CLOSE_DONE || reason > WD_EG_CLOSE_MAX)
		return wd_err_set(err, EINVAL, "egress stream %u: reset with reason %u", id,
				  (unsigned)reason);
	return end_stream(m, s, reason, false, true, true, err);
}

int wd_eg_mux_close_all(struct wd_eg_mux *m, enum wd_eg_close reason, bool tell_peer,
			struct wd_err *err)
{
	int first = 0;

	if (reason == WD_EG_CLOSE_DONE || reason > WD_EG_CLOSE_MAX)
		return wd_err_set(err, EINVAL, "egress: close all with reason %u",
				  (unsigned)reason);
	while (m->n > 0) {
		int rc = end_stream(m, m->tab[m->n - 1], reason, false, tell_peer, true, err);

		if (rc < 0 && first == 0)
			first = rc;
		if (rc < 0)
			tell_peer = false; /* the channel failed: the rest only end here */
	}
	return first;
}

void wd_eg_mux_stats(const struct wd_eg_mux *m, struct wd_eg_mux_stats *st)
{
	*st = m->st;
}
