/* host/session.c - the handshake and the job's start (session.h); the relay
 * loop that follows is host/relay.c. */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/jcanon.h"
#include "../common/log.h"
#include "../common/safetext.h"
#include "launchrec.h"
#include "tty.h"

int wd_session_init(struct wd_session *s, const struct wd_run_opts *o, struct wd_vmm *vmm,
		    struct wd_job_plan *plan, int sigfd, struct wd_err *err)
{
	memset(s, 0, sizeof(*s));
	s->o = o;
	s->vmm = vmm;
	s->plan = plan;
	s->sigfd = sigfd;
	s->intr.fd = sigfd;
	s->intr.check = wd_session_check_signals;
	s->intr.ctx = s;
	s->out_fd = -1;
	if (wd_collect_open(&s->audit, o->audit_dir, o->audit_segment_bytes,
			    o->audit_dir == NULL && o->verbose > 0, err) < 0)
		return -err->code;
	/* The job's audit budget, enforced here too (collect.h). */
	wd_collect_budget(&s->audit, plan->audit.max_records, plan->audit.max_bytes);
	s->buf = malloc(WD_FRAME_MAX_PAYLOAD + 1);
	/* Room for what --sanitize-output makes of a whole frame (output.c). */
	s->out = malloc(o->sanitize_output ? WD_SAFE_STREAM_OUT(WD_FRAME_MAX_PAYLOAD)
					   : WD_FRAME_MAX_PAYLOAD);
	if (s->buf == NULL || s->out == NULL)
		return wd_err_set(err, ENOMEM, "session buffers");
	return 0;
}

void wd_session_free(struct wd_session *s)
{
	if (s->egress_on)
		wd_egdial_free(&s->egress);
	s->egress_on = false;
	if (s->conn_open)
		wd_conn_close(&s->conn);
	s->conn_open = false;
	wd_collect_free(&s->audit);
	free(s->buf);
	free(s->out);
	s->buf = s->out = NULL;
}

void wd_session_end(struct wd_session *s, enum wd_session_end end)
{
	if (s->end == WD_END_NONE)
		s->end = end;
}

/* Queue a control frame; the queue always has room for these (conn.h). */
int wd_session_send(struct wd_session *s, unsigned type, uint32_t stream, const void *p, size_t len,
		    struct wd_err *err)
{
	if (wd_conn_send(&s->conn, type, stream, p, len, err) < 0)
		return wd_err_wrap(err, "channel: send %s", wd_msg_type_name(type));
	return 0;
}

static void send_winsize(struct wd_session *s)
{
	uint8_t p[WD_WINSIZE_BYTES];
	struct wd_err err;
	uint16_t rows, cols;

	wd_tty_size(STDIN_FILENO, &rows, &cols);
	wd_winsize_encode(rows, cols, p);
	if (wd_session_send(s, WD_MSG_WINSIZE, WD_STREAM_CONTROL, p, sizeof(p), &err) < 0)
		wd_debug("%s", err.msg);
}

void wd_session_started(struct wd_session *s)
{
	if (s->o->tty)
		send_winsize(s);
}

bool wd_session_check_signals(void *session)
{
	struct wd_session *s = session;
	int signo;

	while ((signo = wd_sigfd_next(s->sigfd)) > 0) {
		if (signo == SIGINT || signo == SIGTERM) {
			if (s->stop_signal == 0)
				s->stop_signal = signo;
		} else if (wd_sigfd_forwarded(signo) && s->started && !s->exited) {
			uint8_t p[WD_SIGNAL_BYTES];
			struct wd_err err;

			wd_signal_encode((uint32_t)signo, p);
			if (wd_session_send(s, WD_MSG_SIGNAL, WD_STREAM_CONTROL, p, sizeof(p),
					    &err) < 0)
				wd_warn("%s: not forwarded: %s", strsignal(signo), err.msg);
			else
				wd_debug("%s forwarded to the agent", strsignal(signo));
		} else if (signo == SIGWINCH && s->o->tty && s->started && !s->exited) {
			send_winsize(s);
		} else if (signo != SIGPIPE && signo != SIGWINCH) {
			wd_debug("%s: ignored, the agent is not running", strsignal(signo));
		}
	}
	return s->stop_signal != 0;
}

/*
 * Sleep until the channel, the guest's end or a signal needs attention, at
 * most until *deadline_ns; a guest that ended brings the deadline to a
 * short drain of what it still said. -EINTR: SIGINT or SIGTERM.
 */
static int handshake_poll(struct wd_session *s, uint64_t *deadline_ns, struct wd_err *err)
{
	uint64_t now = wd_mono_ns();
	int ms = now >= *deadline_ns
			 ? 0
			 : (int)((*deadline_ns - now + WD_NS_PER_MS - 1) / WD_NS_PER_MS);
	struct pollfd pfd[3] = {
		{.fd = s->conn.fd,
		 .events = (short)(POLLIN | (wd_conn_want_write(&s->conn) ? POLLOUT : 0)),
		 .revents = 0},
		{.fd = wd_vmm_fd(s->vmm), .events = POLLIN, .revents = 0},
		{.fd = s->sigfd, .events = POLLIN, .revents = 0},
	};

	if (poll(pfd, 3, ms) < 0 && errno != EINTR) {
		s->end = WD_END_FAILED;
		return wd_err_sys(err, errno, "poll");
	}
	if ((pfd[2].revents & POLLIN) != 0 && wd_session_check_signals(s)) {
		s->end = WD_END_STOPPED;
		return wd_err_set(err, EINTR, "stopped by %s", strsignal(s->stop_signal));
	}
	if ((pfd[1].revents & POLLIN) != 0 && wd_vmm_ended(s->vmm)) {
		uint64_t drain = wd_mono_ns() + (uint64_t)WD_DRAIN_MS * WD_NS_PER_MS;

		s->vm_ended = true;
		if (drain < *deadline_ns)
			*deadline_ns = drain;
	}
	return 0;
}

static int lost(struct wd_session *s, int rc)
{
	s->end = WD_END_GUEST_LOST;
	return rc;
}

/*
 * The next frame within limit_ms, flushing what is queued meanwhile. 1
 * with a frame, or -errno with s->end set.
 */
static int next_frame(struct wd_session *s, struct wd_frame *f, uint64_t start_ns,
		      unsigned limit_ms, const char *waiting_for, struct wd_err *err)
{
	uint64_t deadline = start_ns + (uint64_t)limit_ms * WD_NS_PER_MS;

	for (;;) {
		int rc = wd_conn_next(&s->conn, f, err);

		if (rc == 1)
			return 1;
		if (rc < 0) {
			s->end = WD_END_FAILED;
			return wd_err_wrap(err, "channel");
		}
		if (wd_conn_flush(&s->conn, err) < 0)
			return lost(s, wd_err_wrap(err, "while waiting for %s", waiting_for));
		rc = wd_conn_read(&s->conn, err);
		if (rc > 0)
			continue;
		if (rc == 0)
			return lost(s,
				    wd_err_set(err, EPIPE, "the guest closed the channel before %s",
					       waiting_for));
		if (rc != -EAGAIN)
			return lost(s, rc);
		if (wd_mono_ns() >= deadline && s->vm_ended)
			return lost(s, wd_err_set(err, EPIPE, "the guest ended before %s",
						  waiting_for));
		if (wd_mono_ns() >= deadline)
			return lost(s,
				    wd_err_set(err, ETIMEDOUT, "no %s from the guest within %u s",
					       waiting_for, limit_ms / 1000));
		if (handshake_poll(s, &deadline, err) < 0)
			return -err->code;
	}
}

static void print_hello(const struct wd_session *s)
{
	const struct wd_hello *h = &s->hello;
	const struct wd_boot_times *b = &h->boot;
	uint64_t start = s->vmm->started_ns != 0 ? s->vmm->started_ns : s->t_vmm_ns;
	double ms = 1e6;

	wd_debug("guest ready %.0f ms after the %s started; authenticated hello after %.0f ms",
		 (double)(s->t_ready_ns - start) / ms,
		 strcmp(h->mode, "vm") == 0 ? "VMM" : "namespace",
		 (double)(s->t_hello_ns - start) / ms);
	if (strcmp(h->mode, "vm") == 0)
		wd_debug("boot (guest clock): kernel %.1f ms, mounts %.1f ms, modules %.1f ms, "
			 "sysctls %.1f ms, system %.1f ms, spawn %.1f ms, supervisor ready at "
			 "%.1f ms after init started",
			 (double)b->t0_ns / ms, (double)b->mounts_ns / ms,
			 (double)b->modules_ns / ms, (double)b->sysctls_ns / ms,
			 (double)b->system_ns / ms, (double)b->spawn_ns / ms,
			 (double)h->ready_ns / ms);
	else
		wd_debug("boot: spawn %.1f ms, supervisor ready %.1f ms after init started",
			 (double)b->spawn_ns / ms, (double)h->ready_ns / ms);
	wd_debug("measured: init %s, supervisor %s, manifest %s, rootfs %s", h->init_sha256,
		 h->supervisor_sha256, h->manifest_sha256[0] != '\0' ? h->manifest_sha256 : "none",
		 h->rootfs_root_hash[0] != '\0' ? h->rootfs_root_hash : "none");
}

/* A frame other than the one expected in the handshake. */
static int unexpected(struct wd_session *s, const struct wd_frame *f, const char *waiting_for,
		      struct wd_err *err)
{
	if (f->type == WD_MSG_ERROR &&
	    wd_error_decode(f->payload, f->len, &s->guest_error, err) == 0) {
		s->end = WD_END_GUEST_ERROR;
		return wd_err_set(err, EPROTO, "guest error");
	}
	s->end = WD_END_FAILED;
	return wd_err_set(err, EPROTO, "protocol: %s from the guest while waiting for %s",
			  wd_msg_type_name(f->type), waiting_for);
}

#define SHOWN_PATH 512 /* JSON bytes of OUTDIR in the record before it is cut (jcanon.h) */

/*
 * --image OUTDIR: the guest must have booted the image's initramfs (the
 * digest of its /etc/warden/manifest) and its root filesystem, verified
 * against the root hash its manifest.json pins; a guest that says another
 * one, or none, gets no job (and no secret). The refusal is a record of
 * the launcher's own (launchrec.h), image/`activity`, and one error line
 * naming both values.
 */
static int image_mismatch(struct wd_session *s, const char *activity, const char *what,
			  const char *expected, const char *got, struct wd_err *err)
{
	char data[2 * WD_SHA256_HEX + SHOWN_PATH + WD_JW_BOUNDED_EXTRA + 64];
	struct wd_launchrec r = {"image", activity, "failure", "critical", s->hello.audit_origin,
				 data};
	struct wd_jw w;
	struct wd_err e;

	wd_jw_init(&w, data, sizeof(data));
	wd_jw_str(&w, "expected", expected);
	wd_jw_str_bounded(&w, "image", s->image_dir, strlen(s->image_dir), SHOWN_PATH);
	wd_jw_str(&w, "reported", got);
	if (wd_jw_end(&w) < 0)
		wd_warn("image: the record does not fit");
	else if (s->o->audit_dir != NULL && wd_launchrec_write(s->o->audit_dir, &r, &e) < 0)
		wd_warn("image: the record: %s", e.msg);
	s->end = WD_END_FAILED;
	return wd_err_set(err, EPERM, "image %s: %s %s, manifest.json pins %s; no job was sent",
			  s->image_dir, what, got[0] != '\0' ? got : "(none)", expected);
}

/* The initramfs first: it is what pins the root hash the guest checks. */
static int check_image(struct wd_session *s, struct wd_err *err)
{
	if (s->image_manifest_sha256 != NULL &&
	    strcmp(s->hello.manifest_sha256, s->image_manifest_sha256) != 0)
		return image_mismatch(s, "manifest-mismatch",
				      "the guest's initramfs has manifest sha256",
				      s->image_manifest_sha256, s->hello.manifest_sha256, err);
	if (s->image_root_hash != NULL &&
	    strcmp(s->hello.rootfs_root_hash, s->image_root_hash) != 0)
		return image_mismatch(s, "root-hash-mismatch",
				      "the guest's root filesystem has root hash",
				      s->image_root_hash, s->hello.rootfs_root_hash, err);
	return 0;
}

/* READY, KEY, HELLO. The key exists only here and in the channel's state. */
static int handshake(struct wd_session *s, struct wd_err *err)
{
	uint8_t key[WD_KEY_BYTES];
	struct wd_frame f;
	uint64_t boot_deadline = s->t_vmm_ns + (uint64_t)WD_BOOT_TIMEOUT_MS * WD_NS_PER_MS, keyed;
	int fd = s->vmm->ops->connect(s->vmm, boot_deadline, &s->intr, err);

	if (fd < 0) {
		s->end = fd == -EINTR ? WD_END_STOPPED : WD_END_GUEST_LOST;
		return fd;
	}
	if (wd_conn_init(&s->conn, fd, WD_SIDE_HOST, err) < 0) {
		(void)close(fd);
		s->end = WD_END_FAILED;
		return -err->code;
	}
	s->conn_open = true;
	if (next_frame(s, &f, s->t_vmm_ns, WD_BOOT_TIMEOUT_MS, "READY", err) < 0)
		return -err->code;
	if (f.type != WD_MSG_READY)
		return unexpected(s, &f, "READY", err);
	if (wd_ready_decode(f.payload, f.len, err) < 0) {
		s->end = WD_END_FAILED;
		return wd_err_wrap(err, "protocol: READY");
	}
	s->t_ready_ns = wd_mono_ns();
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
		s->end = WD_END_FAILED;
		return wd_err_sys(err, errno, "getrandom (the job key)");
	}
	if (wd_session_send(s, WD_MSG_KEY, WD_STREAM_CONTROL, key, sizeof(key), err) < 0) {
		explicit_bzero(key, sizeof(key));
		s->end = WD_END_FAILED;
		return -err->code;
	}
	wd_chan_set_key(&s->conn.chan, key);
	explicit_bzero(key, sizeof(key));
	wd_conn_keep_sent(&s->conn);
	keyed = wd_mono_ns();
	do {
		/* READY goes on until the guest has read the key: the extras are ignored. */
		if (next_frame(s, &f, keyed, WD_HELLO_TIMEOUT_MS, "HELLO", err) < 0)
			return -err->code;
	} while (f.type == WD_MSG_READY);
	if (f.type != WD_MSG_HELLO)
		return unexpected(s, &f, "HELLO", err);
	/* The guest has the key, so KEY left the queue, where it was the first
	 * frame: its bytes go too (the queue is only overwritten, never wiped). */
	if (wd_conn_queued(&s->conn) == 0)
		explicit_bzero(s->conn.queue, WD_FRAME_HEADER_BYTES + WD_KEY_BYTES);
	s->t_hello_ns = wd_mono_ns();
	if (wd_hello_decode(f.payload, f.len, &s->hello, err) < 0) {
		s->end = WD_END_FAILED;
		return wd_err_wrap(err, "protocol: HELLO");
	}
	if (strcmp(s->hello.mode, s->vmm->ops->hello_mode) != 0) {
		s->end = WD_END_FAILED;
		return wd_err_set(err, EPROTO, "protocol: the guest says mode \"%s\", not \"%s\"",
				  s->hello.mode, s->vmm->ops->hello_mode);
	}
	print_hello(s);
	if (check_image(s, err) < 0)
		return -err->code;
	if (wd_collect_hello(&s->audit, &s->hello, err) < 0) {
		s->end = WD_END_FAILED;
		return -err->code;
	}
	wd_conn_on_break(&s->conn, wd_session_broken, s);
	return 0;
}

static int send_job(struct wd_session *s, struct wd_err *err)
{
	uint16_t rows = 0, cols = 0;
	int n;

	if (s->o->tty) {
		wd_tty_size(STDIN_FILENO, &rows, &cols);
		/* From here the keys belong to the agent: ^C is a byte, not SIGINT. */
		if (wd_tty_raw(STDIN_FILENO, err) < 0) {
			s->end = WD_END_FAILED;
			return -err->code;
		}
	}
	n = wd_job_plan_encode(s->plan, s->o, rows, cols, (char *)s->buf, WD_FRAME_MAX_PAYLOAD + 1,
			       err);
	if (n < 0) {
		s->end = WD_END_FAILED;
		return n;
	}
	if (wd_session_send(s, WD_MSG_JOB, WD_STREAM_CONTROL, s->buf, (size_t)n, err) < 0) {
		s->end = WD_END_FAILED;
		return -err->code;
	}
	s->job_sent = true;
	if (s->o->timeout_ms > 0)
		s->host_deadline_ns =
			wd_mono_ns() + (s->o->timeout_ms + WD_TIMEOUT_GRACE_MS) * WD_NS_PER_MS;
	wd_debug("job sent: %zu bytes, %zu file(s)", (size_t)n, s->plan->nfiles);
	return 0;
}

/* The policy's egress section: the streams' host side on this channel
 * (egdial.h), its records tied to the guest's log by its origin. */
static int start_egress(struct wd_session *s, struct wd_err *err)
{
	if (!s->plan->egress.present)
		return 0;
	s->egress.audit_dir = s->o->audit_dir;
	s->egress.origin = s->hello.audit_origin;
	if (wd_egdial_start(&s->egress, &s->plan->egress, &s->conn, err) < 0) {
		s->end = WD_END_FAILED;
		return -err->code;
	}
	s->egress_on = true;
	wd_debug("egress: on (%zu allow, %zu deny rules, %zu pinned names)", s->plan->egress.nallow,
		 s->plan->egress.ndeny, s->plan->egress.nhosts);
	return 0;
}

/*
 * The host gives up on the job: say so to the guest if the channel still
 * takes frames (docs/protocol.md, Rejections), without waiting for it.
 */
static void send_error(struct wd_session *s, const struct wd_err *why)
{
	bool proto = why->code == EPROTO || why->code == EBADMSG || why->code == EACCES ||
		     why->code == EMSGSIZE;
	char json[WD_ERROR_MAX_MESSAGE + 128];
	struct wd_err err;
	int n;

	if (!s->conn_open || !s->conn.chan.keyed || s->send_broken || s->conn_eof)
		return;
	n = wd_error_encode(proto ? "protocol" : "internal", why->msg, json, sizeof(json), &err);
	if (n < 0 ||
	    wd_conn_send(&s->conn, WD_MSG_ERROR, WD_STREAM_CONTROL, json, (size_t)n, &err) < 0)
		return;
	(void)wd_conn_flush(&s->conn, &err);
}

int wd_session_run(struct wd_session *s, wd_session_phase *relay, struct wd_err *err)
{
	int rc;

	if (s->t_vmm_ns == 0)
		s->t_vmm_ns = wd_mono_ns();
	rc = handshake(s, err);
	if (rc == 0)
		rc = start_egress(s, err);
	if (rc == 0)
		rc = send_job(s, err);
	if (rc == 0)
		rc = relay(s, err);
	if (s->end == WD_END_FAILED)
		send_error(s, err);
	return rc;
}
