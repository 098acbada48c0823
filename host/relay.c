/*
 * host/relay.c - the job's running phase (session.h): uploads, stdin,
 * stdout and stderr, signals, EXIT, SHUTDOWN and the guest's end, in one
 * poll(2) loop.
 *
 * Each turn: queue input while the channel's queue is below its high
 * water, flush, take frames until one leaves output pending, then sleep in
 * poll on what can move: the channel (read unless output is pending, write
 * when queued), stdin (after STARTED, until its end), the pending output's
 * fd, the signalfd, the guest's pidfd, the egress streams' epoll fd (when
 * the policy has egress: host/egdial.h), and the nearest deadline.
 *
 * The frames themselves are judged in host/inbound.c, the output written in
 * host/output.c.
 */
#include "relay.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "inbound.h"
#include "output.h"

enum { P_CONN, P_STDIN, P_OUT, P_SIG, P_VMM, P_EGRESS, P_COUNT };

#define UPLOAD_ROUNDS_PER_TURN 16 /* of up to WD_CONN_HIGH_WATER bytes each */

/* Uploads first, then stdin, while the queue is below its high water. */
static int pump_uploads(struct wd_session *s, struct wd_err *err)
{
	while (wd_conn_queued(&s->conn) < WD_CONN_HIGH_WATER) {
		uint32_t stream;
		size_t len;
		int rc = wd_job_plan_next_chunk(s->plan, s->buf, WD_CONN_DATA_CHUNK, &stream, &len,
						err);

		if (rc < 0) {
			wd_session_end(s, WD_END_FAILED);
			return rc;
		}
		if (rc == 0)
			return 0;
		if (wd_session_send(s, WD_MSG_DATA, stream, s->buf, len, err) < 0) {
			wd_session_end(s, WD_END_FAILED);
			return -err->code;
		}
	}
	return 0;
}

/* Stdin that may still go out: the window minus what the guest has not acknowledged. */
static size_t stdin_room(const struct wd_session *s)
{
	uint64_t in_flight = s->stdin_sent - s->stdin_acked;
	uint64_t room = in_flight >= WD_STDIN_WINDOW ? 0 : WD_STDIN_WINDOW - in_flight;

	return room < WD_CONN_DATA_CHUNK ? (size_t)room : WD_CONN_DATA_CHUNK;
}

static int read_stdin(struct wd_session *s, struct wd_err *err)
{
	size_t room = stdin_room(s);
	ssize_t n;

	if (room == 0)
		return 0;
	do
		n = read(STDIN_FILENO, s->buf, room);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0)
		wd_debug_sys(errno, "stdin: taken as its end");
	if (n <= 0) {
		s->stdin_open = false;
		n = 0;
	}
	if (wd_session_send(s, WD_MSG_DATA, WD_STREAM_STDIN, s->buf, (size_t)n, err) < 0) {
		wd_session_end(s, WD_END_FAILED);
		return -err->code;
	}
	s->stdin_sent += (uint64_t)n;
	return 0;
}

/* The audit records on disk are acknowledged: when everything that
 * arrived is taken (`idle`), or enough waits for a sync. */
static int ack_audit(struct wd_session *s, bool idle, struct wd_err *err)
{
	uint8_t p[WD_AUDIT_ACK_BYTES];
	uint64_t seq;

	if (wd_collect_sync(&s->audit, idle, &seq, err) < 0) {
		wd_session_end(s, WD_END_FAILED);
		return -err->code;
	}
	if (seq == 0 || s->send_broken || s->conn_eof)
		return 0;
	wd_audit_ack_encode(seq, p);
	if (wd_session_send(s, WD_MSG_AUDIT_ACK, WD_STREAM_CONTROL, p, sizeof(p), err) < 0) {
		wd_session_end(s, WD_END_FAILED);
		return -err->code;
	}
	return 0;
}

/* Take every complete frame, unless output is waiting to be written. */
static int take_frames(struct wd_session *s, struct wd_err *err)
{
	struct wd_frame f;
	int rc = 1;

	while (!wd_output_pending(s) && (rc = wd_conn_next(&s->conn, &f, err)) != 0) {
		if (rc < 0) {
			wd_session_end(s, WD_END_FAILED);
			return wd_err_wrap(err, "channel");
		}
		if (wd_inbound_frame(s, &f, err) < 0)
			return -err->code;
		if (f.type == WD_MSG_AUDIT && ack_audit(s, false, err) < 0)
			return -err->code;
	}
	return ack_audit(s, rc == 0, err);
}

/* Take what arrived; the channel's end (or a reset) is the guest going away. */
static void read_channel(struct wd_session *s, struct wd_err *err)
{
	int rc = wd_conn_read(&s->conn, err);

	if (rc > 0 || rc == -EAGAIN || s->conn_eof)
		return;
	if (rc < 0)
		wd_debug("%s", err->msg);
	s->conn_eof = true;
	if (!s->exited)
		s->end_deadline_ns = wd_mono_ns() + (uint64_t)WD_DRAIN_MS * WD_NS_PER_MS;
}

/* Is the session over? Sets s->end (and err) when it is. */
static bool finished(struct wd_session *s, struct wd_err *err)
{
	uint64_t now = wd_mono_ns();

	if (s->resume_err.code != 0 && !s->exited && s->end == WD_END_NONE) {
		wd_session_end(s, s->stop_signal != 0 ? WD_END_STOPPED : WD_END_GUEST_LOST);
		*err = s->resume_err;
		return true;
	}
	/* After EXIT the log's last records still come: the channel is read
	 * to its end, which comes with the guest's. */
	if (s->exited && ((s->vm_ended && s->conn_eof) ||
			  (s->end_deadline_ns != 0 && now >= s->end_deadline_ns))) {
		if (!s->vm_ended)
			wd_debug("the guest did not end within %d ms of SHUTDOWN: it is killed",
				 WD_SHUTDOWN_WAIT_MS);
		wd_session_end(s, WD_END_EXIT);
		return !wd_output_pending(s);
	}
	if (s->exited)
		return false;
	if (s->host_deadline_ns != 0 && now >= s->host_deadline_ns) {
		wd_session_end(s, WD_END_TIMEOUT);
		(void)wd_err_set(err, ETIME, "no exit from the guest within --timeout plus %d s",
				 WD_TIMEOUT_GRACE_MS / 1000);
		return true;
	}
	/* Frames still waiting behind pending output may hold the EXIT. */
	if (wd_output_pending(s))
		return false;
	if ((s->vm_ended && s->conn_eof) ||
	    (s->end_deadline_ns != 0 && now >= s->end_deadline_ns)) {
		wd_session_end(s, WD_END_GUEST_LOST);
		(void)wd_err_set(err, EPIPE, "the %s ended before the job did",
				 strcmp(s->vmm->ops->name, "qemu") == 0 ? "VM" : "guest");
		return true;
	}
	return false;
}

static int poll_timeout(const struct wd_session *s)
{
	uint64_t now = wd_mono_ns(), next = 0;
	int ms, sync = wd_collect_sync_due_ms(&s->audit);

	if (s->host_deadline_ns != 0 && !s->exited)
		next = s->host_deadline_ns;
	if (s->end_deadline_ns != 0 && (next == 0 || s->end_deadline_ns < next))
		next = s->end_deadline_ns;
	if (next == 0)
		return sync;
	ms = next <= now ? 0 : (int)((next - now + WD_NS_PER_MS - 1) / WD_NS_PER_MS);
	/* Records waiting for their sync wake the loop too. */
	return sync >= 0 && sync < ms ? sync : ms;
}

/* The egress streams' deadlines (a dial's timeout, an idle stream) too. */
static int poll_timeout_all(const struct wd_session *s)
{
	int ms = poll_timeout(s), eg = s->egress_on ? wd_egdial_timeout_ms(&s->egress) : -1;

	return eg >= 0 && (ms < 0 || eg < ms) ? eg : ms;
}

static void fill_pollfds(const struct wd_session *s, struct pollfd *pfd)
{
	bool room = wd_conn_queued(&s->conn) < WD_CONN_HIGH_WATER;

	for (int i = 0; i < P_COUNT; i++)
		pfd[i] = (struct pollfd){.fd = -1, .events = 0, .revents = 0};
	if (!s->conn_eof) {
		short ev = 0;

		/* Pending output: the channel is not read (backpressure), and with
		 * nothing to send not polled at all, so a hang-up cannot spin the loop. */
		if (!wd_output_pending(s))
			ev |= POLLIN;
		/* Uploads still to go need a wake-up too: a turn may end with
		 * the queue empty (the guest read it all), and nothing else
		 * would come to wake us. */
		if ((wd_conn_want_write(&s->conn) ||
		     (!s->exited && !wd_job_plan_uploads_done(s->plan))) &&
		    !s->send_broken && !s->conn.write_broken)
			ev |= POLLOUT;
		if (ev != 0) {
			pfd[P_CONN].fd = s->conn.fd;
			pfd[P_CONN].events = ev;
		}
	}
	if (s->stdin_open && room && stdin_room(s) > 0) {
		pfd[P_STDIN].fd = STDIN_FILENO;
		pfd[P_STDIN].events = POLLIN;
	}
	if (wd_output_pending(s)) {
		pfd[P_OUT].fd = s->out_fd;
		pfd[P_OUT].events = POLLOUT;
	}
	pfd[P_SIG].fd = s->sigfd;
	pfd[P_SIG].events = POLLIN;
	pfd[P_VMM].fd = wd_vmm_fd(s->vmm);
	pfd[P_VMM].events = POLLIN;
	if (s->egress_on) {
		pfd[P_EGRESS].fd = wd_egdial_fd(&s->egress);
		pfd[P_EGRESS].events = POLLIN;
	}
}

/*
 * Queue uploads and write them out until the channel would block (then
 * POLLOUT brings us back) or the uploads are all sent. Bounded per turn so
 * that signals and frames are still looked at during a large upload.
 */
static int upload_and_flush(struct wd_session *s, struct wd_err *err)
{
	for (int round = 0; round < UPLOAD_ROUNDS_PER_TURN; round++) {
		int rc;

		if (!s->exited && !wd_job_plan_uploads_done(s->plan) && pump_uploads(s, err) < 0)
			return -err->code;
		rc = wd_conn_flush(&s->conn, err);
		if (rc < 0) {
			/* The peer gone: its end of file or reset shows on the read side. */
			s->send_broken = true;
			wd_debug("%s", err->msg);
			return 0;
		}
		if (rc > 0 || s->exited || wd_job_plan_uploads_done(s->plan))
			return 0;
	}
	return 0;
}

/* The egress streams: dials that finished, sockets with bytes, the
 * channel's room for them (run after each flush: egress/mux.h). */
static int run_egress(struct wd_session *s, struct wd_err *err)
{
	if (!s->egress_on || wd_egdial_run(&s->egress, err) == 0)
		return 0;
	wd_session_end(s, WD_END_FAILED);
	return -err->code;
}

/* One turn's work before sleeping. */
static int step(struct wd_session *s, struct wd_err *err)
{
	if (run_egress(s, err) < 0)
		return -err->code;
	if (!s->conn_eof && !s->send_broken && upload_and_flush(s, err) < 0)
		return -err->code;
	if (wd_output_pending(s) && wd_output_push(s, err) < 0)
		return -err->code;
	if (take_frames(s, err) < 0)
		return -err->code;
	return run_egress(s, err);
}

int wd_relay_run(struct wd_session *s, struct wd_err *err)
{
	for (;;) {
		struct pollfd pfd[P_COUNT];

		if (step(s, err) < 0)
			return -err->code;
		if (finished(s, err))
			return s->end == WD_END_EXIT ? 0 : -err->code;
		fill_pollfds(s, pfd);
		if (poll(pfd, P_COUNT, poll_timeout_all(s)) < 0 && errno != EINTR) {
			wd_session_end(s, WD_END_FAILED);
			return wd_err_sys(err, errno, "poll");
		}
		if ((pfd[P_SIG].revents & POLLIN) != 0 && wd_session_check_signals(s)) {
			wd_session_end(s, WD_END_STOPPED);
			return wd_err_set(err, EINTR, "stopped by %s", strsignal(s->stop_signal));
		}
		if ((pfd[P_VMM].revents & POLLIN) != 0 && wd_vmm_ended(s->vmm)) {
			s->vm_ended = true;
			if (!s->exited && !s->conn_eof)
				s->end_deadline_ns =
					wd_mono_ns() + (uint64_t)WD_DRAIN_MS * WD_NS_PER_MS;
		}
		if ((pfd[P_CONN].revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
		    !wd_output_pending(s))
			read_channel(s, err);
		if ((pfd[P_STDIN].revents & (POLLIN | POLLHUP | POLLERR)) != 0 && s->stdin_open &&
		    read_stdin(s, err) < 0)
			return -err->code;
	}
}
