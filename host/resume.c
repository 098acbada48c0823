/*
 * host/resume.c - a broken channel put back (docs/protocol.md, "A broken
 * channel"): the launcher's break handler for the session's conn.
 *
 * The guest reconnects (local, vsock: to the listener the launcher keeps
 * for the whole job) or, on virtio-serial, waits for the host end of its
 * port to come back: the launcher closes its end, leaves it closed for a
 * moment so that the guest sees the hang-up, and connects to QEMU's
 * chardev again. Either way the guest then sends RESUME. What a new
 * connection brings before it (the rest of a frame that was in flight) is
 * skipped; a connection without a valid RESUME within WD_RESUME_TRY_MS is
 * dropped and the next one tried, until WD_RESUME_WAIT_MS.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "session.h"

/* Did the virtio-serial host end (we connect) break, rather than a listener's? */
static bool we_connect(const struct wd_session *s)
{
	return s->vmm->listen_fd < 0;
}

/* The peer's RESUME on the new connection: 1, 0 (none in time, or the
 * connection went), -errno (a stop signal, the guest's end). */
static int await_resume(struct wd_session *s, uint64_t deadline, uint64_t *epoch,
			uint64_t *peer_seq, struct wd_err *err)
{
	struct wd_conn *c = &s->conn;
	uint64_t start_bytes = c->bytes_in;

	for (;;) {
		int rc = wd_conn_find_resume(c, epoch, peer_seq), ms;

		if (rc == 1)
			return 1;
		rc = wd_conn_read(c, err);
		if (rc > 0 && c->bytes_in - start_bytes > WD_RESUME_JUNK_BYTES)
			return 0;
		if (rc > 0)
			continue;
		if (rc != -EAGAIN)
			return 0;
		if (wd_mono_ns() >= deadline)
			return 0;
		ms = (int)((deadline - wd_mono_ns() + WD_NS_PER_MS - 1) / WD_NS_PER_MS);
		if (wd_vmm_pause(s->vmm, c->fd, ms, &s->intr) == -EINTR)
			return wd_err_set(err, EINTR, "stopped by %s", strsignal(s->stop_signal));
		if (wd_vmm_ended(s->vmm))
			return wd_err_set(err, EPIPE, "the guest ended");
	}
}

/* Is (epoch, peer_seq) the next resumption, or a repeat of the last one
 * whose answer the guest never saw? Anything else is a replay. */
static bool resume_in_order(const struct wd_session *s, uint64_t epoch, uint64_t peer_seq)
{
	const struct wd_conn *c = &s->conn;

	if (epoch == c->epoch + 1)
		return true;
	return c->epoch > 0 && epoch == c->epoch && peer_seq >= s->resume_peer_seq;
}

static int give_up(struct wd_session *s, const char *why, struct wd_err *err)
{
	(void)wd_err_wrap(err, "channel broken (%s), not resumed", why);
	s->resume_err = *err;
	return -err->code;
}

int wd_session_broken(struct wd_conn *c, void *ctx, const char *why, struct wd_err *err)
{
	struct wd_session *s = ctx;
	uint64_t t0 = wd_mono_ns(), deadline = t0 + (uint64_t)WD_RESUME_WAIT_MS * WD_NS_PER_MS;
	uint64_t epoch = 0, peer_seq = 0, resent = c->resent_frames;
	int gap = WD_RESUME_GAP_MS;

	/* After EXIT the guest's end closes the channel: that is no break. */
	if (s->exited || s->vm_ended)
		return 0;
	wd_warn("channel broken (%s): waiting up to %d s for the guest to resume it", why,
		WD_RESUME_WAIT_MS / 1000);
	for (;;) {
		uint64_t now = wd_mono_ns(),
			 try_end = now + (uint64_t)WD_RESUME_TRY_MS * WD_NS_PER_MS;
		int fd, rc;

		wd_conn_detach(c);
		if (now >= deadline) {
			(void)wd_err_set(err, ETIMEDOUT, "the guest did not come back within %d s",
					 WD_RESUME_WAIT_MS / 1000);
			return give_up(s, why, err);
		}
		if (we_connect(s)) {
			if (wd_vmm_pause(s->vmm, -1, gap, &s->intr) == -EINTR) {
				(void)wd_err_set(err, EINTR, "stopped by %s",
						 strsignal(s->stop_signal));
				return give_up(s, why, err);
			}
			gap = gap * 2 > WD_RESUME_TRY_MS ? WD_RESUME_TRY_MS : gap * 2;
		}
		if (wd_vmm_ended(s->vmm)) {
			(void)wd_err_set(err, EPIPE,
					 "the guest ended while the channel was broken");
			return give_up(s, why, err);
		}
		fd = s->vmm->ops->connect(s->vmm, deadline, &s->intr, err);
		if (fd < 0 || wd_conn_attach(c, fd, err) < 0)
			return give_up(s, why, err);
		rc = await_resume(s, try_end < deadline ? try_end : deadline, &epoch, &peer_seq,
				  err);
		if (rc < 0)
			return give_up(s, why, err);
		if (rc == 1 && resume_in_order(s, epoch, peer_seq))
			break;
		if (rc == 1)
			wd_warn("channel: a RESUME out of order (epoch %llu after %llu) dropped",
				(unsigned long long)epoch, (unsigned long long)c->epoch);
	}
	if (wd_conn_rewind(c, peer_seq, err) < 0)
		return give_up(s, why, err);
	c->epoch = epoch;
	s->resume_peer_seq = peer_seq;
	s->resumes++;
	wd_conn_send_resume(c, epoch);
	wd_info("channel resumed (epoch %llu) after %llu ms; %llu frame(s) sent again",
		(unsigned long long)epoch, (unsigned long long)((wd_mono_ns() - t0) / WD_NS_PER_MS),
		(unsigned long long)(c->resent_frames - resent));
	return 1;
}
