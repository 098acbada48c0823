/* host/inbound.c - see inbound.h. */
#include "inbound.h"

#include <errno.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../vsock/msg.h"
#include "job.h"
#include "output.h"

/* "protocol: TYPE (stream N) from the guest: why". */
static int protocol_error(struct wd_session *s, struct wd_err *err, const struct wd_frame *f,
			  const char *why)
{
	wd_session_end(s, WD_END_FAILED);
	return wd_err_set(err, EPROTO, "protocol: %s (stream %u) from the guest: %s",
			  wd_msg_type_name(f->type), f->stream, why);
}

static int on_data(struct wd_session *s, const struct wd_frame *f, struct wd_err *err)
{
	int i = f->stream == WD_STREAM_STDOUT ? 0 : 1;

	if (f->stream != WD_STREAM_STDOUT && f->stream != WD_STREAM_STDERR)
		return protocol_error(s, err, f, "not an output stream");
	if (!s->started)
		return protocol_error(s, err, f, "output before STARTED");
	if (s->out_ended[i])
		return protocol_error(s, err, f, "after the end of that stream");
	if (f->len == 0) {
		s->out_ended[i] = true; /* our fd stays open: it is also where warden speaks */
		return wd_output_end(s, i == 0 ? STDOUT_FILENO : STDERR_FILENO, err);
	}
	return wd_output_start(s, i == 0 ? STDOUT_FILENO : STDERR_FILENO, f->payload, f->len, err);
}

static int on_exit_frame(struct wd_session *s, const struct wd_frame *f, struct wd_err *err)
{
	if (wd_exit_decode(f->payload, f->len, &s->exit, err) < 0) {
		wd_session_end(s, WD_END_FAILED);
		return wd_err_wrap(err, "protocol: EXIT");
	}
	s->exited = true;
	s->stdin_open = false;
	if (s->egress_on)
		wd_egdial_end(&s->egress, false); /* the agent is gone: so are its streams */
	wd_debug("agent ended: status %d%s%s%s; cpu %.3f s user, %.3f s system; max rss %llu KiB",
		 s->exit.status, s->exit.core_dumped ? ", core dumped" : "",
		 s->exit.oom_killed ? ", killed for memory" : "",
		 s->exit.timed_out ? ", timed out" : "", (double)s->exit.utime_us / 1e6,
		 (double)s->exit.stime_us / 1e6, (unsigned long long)s->exit.maxrss_kib);
	s->end_deadline_ns = wd_mono_ns() + (uint64_t)WD_SHUTDOWN_WAIT_MS * WD_NS_PER_MS;
	return wd_session_send(s, WD_MSG_SHUTDOWN, WD_STREAM_CONTROL, NULL, 0, err);
}

static int on_started(struct wd_session *s, const struct wd_frame *f, struct wd_err *err)
{
	int pid;

	if (s->started)
		return protocol_error(s, err, f, "a second one");
	if (!wd_job_plan_uploads_done(s->plan))
		return protocol_error(s, err, f, "before every file was sent");
	if (wd_started_decode(f->payload, f->len, &pid, err) < 0) {
		wd_session_end(s, WD_END_FAILED);
		return wd_err_wrap(err, "protocol: STARTED");
	}
	s->started = true;
	s->t_started_ns = wd_mono_ns();
	s->stdin_open = true;
	wd_debug("job started: the agent is pid %d in the guest", pid);
	wd_session_started(s);
	return 0;
}

/* The guest took stdin up to `total` bytes: room in the window again. */
static int on_stdin_ack(struct wd_session *s, const struct wd_frame *f, struct wd_err *err)
{
	uint64_t total;

	if (!s->started)
		return protocol_error(s, err, f, "before STARTED");
	if (wd_stdin_ack_decode(f->payload, f->len, &total, err) < 0) {
		wd_session_end(s, WD_END_FAILED);
		return wd_err_wrap(err, "protocol: STDIN_ACK");
	}
	if (total < s->stdin_acked || total > s->stdin_sent)
		return protocol_error(s, err, f, "acknowledges bytes that were never sent");
	s->stdin_acked = total;
	return 0;
}

/* AUDIT: records, checked and stored by the collector (collect.h); a bad
 * one is a protocol error, a failed write fails the job closed. */
static int on_audit(struct wd_session *s, const struct wd_frame *f, struct wd_err *err)
{
	if (wd_collect_frame(&s->audit, f->payload, f->len, err) < 0) {
		wd_session_end(s, WD_END_FAILED);
		return -err->code;
	}
	return 0;
}

/*
 * An egress stream's frame (docs/protocol.md, "Streams"): only when the
 * policy has an egress section, only while the agent runs (an OPEN), and
 * judged by the dial engine, which checks the policy again itself.
 */
static int on_egress(struct wd_session *s, const struct wd_frame *f, struct wd_err *err)
{
	if (!s->egress_on)
		return protocol_error(s, err, f, "an egress stream, and the policy has no egress");
	if (!s->started)
		return protocol_error(s, err, f, "an egress stream before STARTED");
	/* After EXIT every stream is closed: what was in flight is dropped. */
	if (s->exited && f->type == WD_MSG_EG_OPEN)
		return protocol_error(s, err, f, "after EXIT, which ends the job's frames");
	if (wd_egdial_frame(&s->egress, f, err) < 0) {
		wd_session_end(s, WD_END_FAILED);
		return -err->code;
	}
	return 0;
}

int wd_inbound_frame(struct wd_session *s, const struct wd_frame *f, struct wd_err *err)
{
	if (f->type == WD_MSG_ERROR) {
		if (wd_error_decode(f->payload, f->len, &s->guest_error, err) < 0) {
			wd_session_end(s, WD_END_FAILED);
			return wd_err_wrap(err, "protocol: ERROR");
		}
		wd_session_end(s, WD_END_GUEST_ERROR);
		return wd_err_set(err, EPROTO, "guest error");
	}
	if (wd_frame_is_egress(f->type, f->stream))
		return on_egress(s, f, err);
	if (f->type == WD_MSG_STDIN_ACK ? f->stream != WD_STREAM_STDIN
					: f->type != WD_MSG_DATA && f->stream != WD_STREAM_CONTROL)
		return protocol_error(s, err, f, "on the wrong stream");
	/* After EXIT only the log's last records come (docs/protocol.md). */
	if (s->exited && f->type != WD_MSG_AUDIT)
		return protocol_error(s, err, f, "after EXIT, which ends the job's frames");
	switch (f->type) {
	case WD_MSG_DATA:
		return on_data(s, f, err);
	case WD_MSG_STARTED:
		return on_started(s, f, err);
	case WD_MSG_STDIN_ACK:
		return on_stdin_ack(s, f, err);
	case WD_MSG_AUDIT:
		return on_audit(s, f, err);
	case WD_MSG_EXIT:
		if (!s->started || !s->out_ended[0] || !s->out_ended[1])
			return protocol_error(s, err, f,
					      "before STARTED and the end of both outputs");
		return on_exit_frame(s, f, err);
	default:
		/* HELLO again, and the types whose payloads are not defined yet
		 * (APPROVAL_REQ): docs/protocol.md says ERROR and close. */
		return protocol_error(s, err, f, "not expected while the job runs");
	}
}
