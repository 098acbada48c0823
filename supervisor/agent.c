/*
 * supervisor/agent.c - the run loop: the agent's streams with backpressure,
 * stdin, signals, window size, the timeout, reaping and the exit status
 * (see agent.h for the contract).
 */
#include "agent.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "audit.h"
#include "egress.h"
#include "../sandbox/coalesce.h"

enum { OUT_STDOUT, OUT_STDERR, OUT_COUNT };

struct out_stream {
	int fd; /* -1 once its end was sent */
	uint32_t id;
};

struct run {
	struct sup_channel *ch;
	const struct wd_job *job;
	struct sup_agent *a;
	int sigfd;
	struct out_stream out[OUT_COUNT];

	/* stdin: bytes from the host the agent has not read yet */
	uint8_t *in_buf; /* SUP_STDIN_BUFFER_BYTES + 1 (room for VEOF) */
	size_t in_head, in_len;
	bool in_eof;                 /* the host ended stdin */
	uint64_t in_taken, in_acked; /* stdin bytes passed on or dropped; acknowledged */
	bool in_done; /* nothing more goes to the agent: closed, or it stopped reading */

	bool exited; /* the agent itself was reaped */
	int wstatus;
	bool timed_out;
	const char *budget;   /* the audit budget that ended the job, NULL none */
	bool killed;          /* everything but PID 1 and us got SIGKILL */
	uint64_t deadline_ns; /* the job's timeout; 0 none */
	uint64_t drain_ns;    /* after the exit: the end of the output's grace */
	uint64_t give_up_ns;  /* after SIGKILL: the end of the wait for the pipes */
	struct wd_exit result;
	struct sup_notify notify; /* the agent's notifications, each a record */
	struct sup_egress eg;     /* the proxies, with egress */
};

static uint8_t stdin_buffer[SUP_STDIN_BUFFER_BYTES + 1];
static uint8_t chunk[WD_CONN_DATA_CHUNK];

void sup_kill_all(const char *why)
{
	wd_info("%s: SIGKILL to every process of the job", why);
	if (kill(-1, SIGKILL) < 0 && errno != ESRCH)
		wd_warn_sys(errno, "kill(-1, SIGKILL)");
}

void sup_exit_from_wait(int wstatus, struct wd_exit *e)
{
	if (WIFSIGNALED(wstatus)) {
		e->signal = WTERMSIG(wstatus);
		e->status = 128 + e->signal;
		e->core_dumped = WCOREDUMP(wstatus);
	} else {
		e->signal = 0;
		e->status = WEXITSTATUS(wstatus);
		e->core_dumped = false;
	}
}

static uint64_t timeval_us(const struct timeval *tv)
{
	return tv->tv_sec < 0 ? 0 : (uint64_t)tv->tv_sec * 1000000ULL + (uint64_t)tv->tv_usec;
}

void sup_exit_add_usage(const struct rusage *ru, struct wd_exit *e)
{
	e->utime_us += timeval_us(&ru->ru_utime);
	e->stime_us += timeval_us(&ru->ru_stime);
	if (ru->ru_maxrss > 0 && (uint64_t)ru->ru_maxrss > e->maxrss_kib)
		e->maxrss_kib = (uint64_t)ru->ru_maxrss; /* Linux: KiB */
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
	*fd = -1;
}

/* ---- processes ------------------------------------------------------------ */

/* Reap every exited child. Returns true while children are left. */
static bool reap(struct run *r)
{
	for (;;) {
		struct rusage ru;
		int ws;
		pid_t pid = wait4(-1, &ws, WNOHANG, &ru);

		if (pid > 0) {
			sup_exit_add_usage(&ru, &r->result);
			if (pid == r->a->pid) {
				r->exited = true;
				r->wstatus = sup_agent_status(r->a, ws);
				r->drain_ns = wd_mono_ns() + SUP_DRAIN_GRACE_MS * WD_NS_PER_MS;
				wd_debug("agent: pid %d ended (wait status %#x)", (int)pid, ws);
			}
			continue;
		}
		if (pid == 0)
			return true;
		if (errno == EINTR)
			continue;
		return false; /* ECHILD */
	}
}

static void read_signals(struct run *r)
{
	struct signalfd_siginfo si;

	while (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	(void)reap(r);
}

static void kill_job(struct run *r, const char *why)
{
	if (r->a->cg != NULL)
		sup_cgroup_kill(r->a->cg);
	sup_kill_all(why);
	r->killed = true;
	r->give_up_ns = wd_mono_ns() + SUP_KILL_WAIT_MS * WD_NS_PER_MS;
}

/* ---- output --------------------------------------------------------------- */

static bool outputs_open(const struct run *r)
{
	return r->out[OUT_STDOUT].fd >= 0 || r->out[OUT_STDERR].fd >= 0;
}

static bool tty_master(const struct run *r, int fd)
{
	return r->a->tty && fd == r->a->in;
}

/*
 * The stream's end: an empty DATA. A PTY master is also stdin, which ends
 * with it; the master itself stays open until everything is reaped, as
 * closing it hangs the terminal up: SIGHUP to an agent that closed its
 * stdio but has not exited yet (what an atexit handler does).
 */
static int end_output(struct run *r, struct out_stream *s, struct sup_fail *f)
{
	bool tty = tty_master(r, s->fd);

	if (tty) {
		r->in_done = true;
		s->fd = -1;
	} else {
		close_fd(&s->fd);
	}
	if (sup_channel_send(r->ch, WD_MSG_DATA, s->id, NULL, 0, f) < 0)
		return -f->err.code;
	/* A terminal has one output stream; stderr ends with it. */
	return tty ? sup_channel_send(r->ch, WD_MSG_DATA, WD_STREAM_STDERR, NULL, 0, f) : 0;
}

static int pump_output(struct run *r, struct out_stream *s, struct sup_fail *f)
{
	ssize_t n = read(s->fd, chunk, sizeof(chunk));

	if (n > 0)
		return sup_channel_send(r->ch, WD_MSG_DATA, s->id, chunk, (size_t)n, f);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	/* A PTY master reads EIO once no slave is open: that is its EOF. */
	if (n < 0 && !(errno == EIO && tty_master(r, s->fd)))
		wd_warn_sys(errno, "agent stream %u: read failed, ended", (unsigned)s->id);
	return end_output(r, s, f);
}

/* ---- input ---------------------------------------------------------------- */

static void drop_stdin(struct run *r)
{
	r->in_taken += r->in_len; /* what the agent will never read is taken too */
	r->in_done = true;
	r->in_head = r->in_len = 0;
	if (!r->a->tty)
		close_fd(&r->a->in);
}

static void pump_input(struct run *r)
{
	ssize_t n = write(r->a->in, r->in_buf + r->in_head, r->in_len);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		/* EPIPE: the agent closed its stdin; what it did not read is dropped. */
		wd_debug_sys(errno, "agent stdin: dropping the rest");
		drop_stdin(r);
		return;
	}
	r->in_head += (size_t)n;
	r->in_len -= (size_t)n;
	r->in_taken += (uint64_t)n;
	if (r->in_len == 0) {
		r->in_head = 0;
		if (r->in_eof)
			drop_stdin(r); /* everything delivered: close the pipe */
	}
}

static int stdin_data(struct run *r, const struct wd_frame *fr, struct sup_fail *f)
{
	size_t room;

	if (fr->stream != WD_STREAM_STDIN)
		return sup_fail_set(f, SUP_FAIL_PROTOCOL, EPROTO,
				    "DATA on stream %u: the host writes stdin only",
				    (unsigned)fr->stream);
	if (r->in_eof)
		return sup_fail_set(f, SUP_FAIL_PROTOCOL, EPROTO, "stdin DATA after its end");
	if (fr->len == 0) {
		struct termios t;

		r->in_eof = true;
		if (r->in_done)
			return 0;
		if (r->a->tty && tcgetattr(r->a->in, &t) == 0) {
			/* A terminal has no end of input: type what ends it. */
			memmove(r->in_buf, r->in_buf + r->in_head, r->in_len);
			r->in_head = 0;
			r->in_buf[r->in_len++] = t.c_cc[VEOF];
			return 0;
		}
		if (r->in_len == 0)
			drop_stdin(r);
		return 0;
	}
	if (r->in_done) {
		r->in_taken += fr->len; /* the agent closed its stdin: dropped */
		return 0;
	}
	room = SUP_STDIN_BUFFER_BYTES - r->in_len;
	if (fr->len > room)
		return sup_fail_set(
			f, SUP_FAIL_PROTOCOL, ENOBUFS,
			"stdin: the host sent more than %lu bytes the agent has not read",
			SUP_STDIN_BUFFER_BYTES);
	if (r->in_head + r->in_len + fr->len > SUP_STDIN_BUFFER_BYTES) {
		memmove(r->in_buf, r->in_buf + r->in_head, r->in_len);
		r->in_head = 0;
	}
	memcpy(r->in_buf + r->in_head + r->in_len, fr->payload, fr->len);
	r->in_len += fr->len;
	return 0;
}

/*
 * Tell the host how much stdin is taken, so that it never has more than
 * WD_STDIN_WINDOW in flight: every quarter window, and when the buffer is
 * empty (else a host waiting for room would wait forever).
 */
static int ack_stdin(struct run *r, struct sup_fail *f)
{
	uint8_t p[WD_STDIN_ACK_BYTES];
	uint64_t unacked = r->in_taken - r->in_acked;

	if (unacked == 0 || (unacked < WD_STDIN_WINDOW / 4 && r->in_len > 0))
		return 0;
	wd_stdin_ack_encode(r->in_taken, p);
	if (sup_channel_send(r->ch, WD_MSG_STDIN_ACK, WD_STREAM_STDIN, p, sizeof(p), f) < 0)
		return -f->err.code;
	r->in_acked = r->in_taken;
	return 0;
}

/* ---- frames from the host ------------------------------------------------- */

static int signal_agent(struct run *r, const struct wd_frame *fr, struct sup_fail *f)
{
	int signo;

	if (wd_signal_decode(fr->payload, fr->len, &signo, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_PROTOCOL, "SIGNAL");
	if (r->exited) {
		wd_debug("signal %d after the agent's exit: ignored", signo);
		return 0;
	}
	wd_info("signal %d (%s) to the agent's process group %d", signo, strsignal(signo),
		(int)r->a->pid);
	if (kill(-r->a->pid, signo) < 0 && errno != ESRCH)
		wd_warn_sys(errno, "kill(-%d, %d)", (int)r->a->pid, signo);
	return 0;
}

static int set_winsize(struct run *r, const struct wd_frame *fr, struct sup_fail *f)
{
	struct winsize ws;
	uint16_t rows, cols;

	if (wd_winsize_decode(fr->payload, fr->len, &rows, &cols, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_PROTOCOL, "WINSIZE");
	if (!r->a->tty || r->a->in < 0) {
		wd_debug("WINSIZE %ux%u without a terminal: ignored", rows, cols);
		return 0;
	}
	memset(&ws, 0, sizeof(ws));
	ws.ws_row = rows;
	ws.ws_col = cols;
	if (ioctl(r->a->in, TIOCSWINSZ, &ws) < 0)
		wd_warn_sys(errno, "pty: TIOCSWINSZ %ux%u", rows, cols);
	return 0;
}

static int on_frame(struct run *r, const struct wd_frame *fr, struct sup_fail *f)
{
	if (sup_channel_end_frame(fr, f) < 0)
		return -f->err.code;
	if (wd_frame_is_egress(fr->type, fr->stream))
		return sup_egress_frame(&r->eg, fr, f);
	switch (fr->type) {
	case WD_MSG_DATA:
		return stdin_data(r, fr, f);
	case WD_MSG_SIGNAL:
		return signal_agent(r, fr, f);
	case WD_MSG_WINSIZE:
		return set_winsize(r, fr, f);
	case WD_MSG_AUDIT_ACK:
		return sup_audit_ack(fr, f);
	default:
		return sup_channel_unexpected(fr, "the agent's run", f);
	}
}

/* Every complete frame already received, then (if `readable`) a read and
 * the frames it completed. */
static int channel_input(struct run *r, bool readable, struct sup_fail *f)
{
	struct wd_conn *c = &r->ch->conn;

	for (int pass = 0; pass < 2; pass++) {
		struct wd_frame fr;
		int rc;

		while ((rc = wd_conn_next(c, &fr, &f->err)) == 1)
			if (on_frame(r, &fr, f) < 0)
				return -f->err.code;
		if (rc < 0)
			return sup_fail_wrap(f, SUP_FAIL_PROTOCOL, "channel");
		if (pass == 1 || !readable)
			return 0;
		rc = wd_conn_read(c, &f->err);
		if (rc == 0)
			return sup_fail_set(f, SUP_FAIL_CHANNEL, EPIPE,
					    "the host closed the channel before the job ended");
		if (rc == -EAGAIN)
			return 0;
		if (rc < 0)
			return sup_fail_wrap(f, sup_channel_read_fail_kind(rc), "channel");
	}
	return 0;
}

/* ---- the loop ------------------------------------------------------------- */

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

/* Act on the deadlines; the next one to wake up for, 0 if none. */
static int deadlines(struct run *r, uint64_t *next, struct sup_fail *f)
{
	uint64_t now = wd_mono_ns();

	*next = 0;
	/* A spent audit budget ends the job like a limit (audit.h). */
	if (!r->killed && sup_audit_spent() != NULL) {
		r->budget = sup_audit_spent();
		wd_info("audit: the job's budget audit.%s is spent", r->budget);
		kill_job(r, "audit budget");
	}
	if (!r->exited && !r->killed && r->deadline_ns != 0) {
		if (now >= r->deadline_ns) {
			wd_info("timeout: the job ran for %llu ms",
				(unsigned long long)r->job->timeout_ms);
			r->timed_out = true;
			kill_job(r, "timeout");
		} else {
			*next = earliest(*next, r->deadline_ns);
		}
	}
	if (r->exited && !r->killed && outputs_open(r)) {
		if (now >= r->drain_ns)
			kill_job(r, "the agent exited and its output is still open");
		else
			*next = earliest(*next, r->drain_ns);
	}
	if (r->killed && (outputs_open(r) || !r->exited)) {
		if (now < r->give_up_ns) {
			*next = earliest(*next, r->give_up_ns);
		} else if (!r->exited) {
			return sup_fail_set(f, SUP_FAIL_INTERNAL, ETIMEDOUT,
					    "the agent survives SIGKILL for %d ms",
					    SUP_KILL_WAIT_MS);
		} else {
			wd_warn("agent output still open %d ms after SIGKILL: closed",
				SUP_KILL_WAIT_MS);
			for (int i = 0; i < OUT_COUNT; i++)
				if (r->out[i].fd >= 0 && end_output(r, &r->out[i], f) < 0)
					return -f->err.code;
		}
	}
	return 0;
}

static int ms_until(uint64_t when)
{
	uint64_t now = wd_mono_ns();

	if (when == 0)
		return -1;
	if (now >= when)
		return 0;
	return (int)((when - now + WD_NS_PER_MS - 1) / WD_NS_PER_MS);
}

/* ---- seccomp denials -------------------------------------------------------- */

int sup_record(const char *cls, const char *activity, const char *outcome, const char *severity,
	       const char *data, struct sup_fail *f)
{
	struct sup_audit_event ev = {
		cls, activity, outcome, severity, "warden-supervisor", (int)getpid(), 0, data};

	if (sup_audit_record(&ev, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_INTERNAL, "audit");
	return 0;
}

/* The budget's reserve holds the last counts and the records that close
 * the log, each followed by a checkpoint at worst (checkpoint_every 1). */
_Static_assert(2ULL * (SUP_COALESCE_SLOTS + SUP_AUDIT_CLOSING_RECORDS) <=
		       SUP_AUDIT_BUDGET_RESERVE_RECORDS,
	       "the audit budget's reserve is too small");

/* The job's denials, coalesced (coalesce.h): one table, as there is one job. */
static struct sup_coalesce denied;
static long denied_uid;

/*
 * A denial's record: this call's (c NULL), which its caller waits for and
 * which must fit in the budget less its reserve; or a count of calls
 * already answered, which may take the reserve (it must not be lost).
 */
static int emit_denial(void *ctx, const struct sup_sb_denial *d,
		       const struct sup_sb_denial_count *c)
{
	struct wd_err *err = ctx;
	char data[SUP_AUDIT_DATA_MAX];
	struct sup_sb_record_kind k;
	struct sup_audit_event ev;

	sup_sb_denial_kind(d, &k); /* a seccomp denial, or a network bypass */
	ev = (struct sup_audit_event){k.cls,   k.activity,  "denied",   k.severity,
				      "agent", (int)d->pid, denied_uid, data};
	if (sup_sb_denial_json(d, c, data, sizeof(data)) < 0)
		return wd_err_set(err, ENOSPC, "a denial record is too long");
	return c == NULL ? sup_audit_record_agent(&ev, err) : sup_audit_record(&ev, err);
}

/* Every count, now: before each checkpoint and at the agent's end. */
static int flush_denials(struct wd_err *err)
{
	return sup_coalesce_flush(&denied, wd_mono_ns(), true, emit_denial, err);
}

void sup_denials_open(long uid)
{
	sup_coalesce_init(&denied, SUP_COALESCE_MS);
	denied_uid = uid;
	sup_audit_before_checkpoint(flush_denials);
}

int sup_record_notification(void *ctx, const struct sup_sb_denial *d)
{
	struct sup_notify *n = ctx;

	n->denials++;
	if (sup_coalesce_add(&denied, d, wd_mono_ns(), wd_wall_ms(), emit_denial, &n->fail->err) <
	    0)
		return sup_fail_wrap(n->fail, SUP_FAIL_INTERNAL, "audit");
	return 0;
}

_Static_assert(SUP_SB_EXEC_RECORD_MAX <= SUP_AUDIT_DATA_MAX, "an exec record fits a record");

int sup_record_exec(void *ctx, const struct sup_sb_exec_record *x)
{
	struct sup_notify *n = ctx;
	struct sup_audit_event ev = {"process", "exec",      "success", "informational",
				     "agent",   (int)x->pid, n->uid,    x->data};

	if (!x->allowed) {
		ev.outcome = "denied";
		ev.severity = "high";
	}
	if (sup_audit_record_agent(&ev, &n->fail->err) < 0)
		return sup_fail_wrap(n->fail, SUP_FAIL_INTERNAL, "audit");
	return 0;
}

/* What the agent asked: a record that does not fit a spent budget leaves
 * its call unanswered, and the budget ends the job (deadlines()). */
static int denials(struct run *r, short revents, struct sup_fail *f)
{
	r->notify.fail = f;
	if (sup_sb_filter_drain(&r->a->listener, revents, r->a->errnos, r->a->exec,
				SUP_SB_DENIALS_PER_ROUND, sup_record_notification, &r->notify) == 0)
		return 0;
	if (f->err.code != EDQUOT || sup_audit_spent() == NULL)
		return -f->err.code;
	sup_fail_clear(f);
	return 0;
}

static int execs(struct run *r, struct sup_fail *f)
{
	int rc;

	r->notify.fail = f;
	rc = sup_sb_exec_serve(r->a->exec, SUP_SB_DENIALS_PER_ROUND, sup_record_exec, &r->notify);
	if (rc >= 0)
		return rc;
	/* A spent budget refused the exec; the budget ends the job (deadlines()). */
	if (f->err.code == EDQUOT && sup_audit_spent() != NULL) {
		sup_fail_clear(f);
		return 0;
	}
	if (f->err.code == 0)
		return sup_fail_sys(f, SUP_FAIL_INTERNAL, -rc, "exec audit");
	return rc;
}

enum { P_CONN, P_SIG, P_OUT, P_ERR, P_IN, P_NOTIFY, P_EXEC, P_EGRESS, P_COUNT };

static int one_round(struct run *r, struct sup_fail *f)
{
	struct pollfd p[P_COUNT];
	bool room = wd_conn_queued(&r->ch->conn) < WD_CONN_HIGH_WATER;
	bool want_in = !r->in_done && r->in_len > 0 && r->a->in >= 0;
	uint64_t next;
	int rc;

	uint64_t cp;

	if (deadlines(r, &next, f) < 0)
		return -f->err.code;
	if (sup_coalesce_flush(&denied, wd_mono_ns(), false, emit_denial, &f->err) < 0 ||
	    sup_audit_tick(&cp, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_INTERNAL, "audit");
	next = earliest(earliest(next, cp), sup_coalesce_next_ns(&denied));
	rc = sup_egress_next_ms(&r->eg);
	if (rc >= 0)
		next = earliest(next, wd_mono_ns() + (uint64_t)rc * WD_NS_PER_MS);
	if (sup_audit_pump(r->ch, f) < 0)
		return -f->err.code;
	if (!room && r->killed)
		r->give_up_ns =
			wd_mono_ns() + SUP_KILL_WAIT_MS * WD_NS_PER_MS; /* the host's pace */
	memset(p, 0, sizeof(p));
	p[P_CONN].fd = r->ch->conn.fd;
	p[P_CONN].events = POLLIN | (wd_conn_want_write(&r->ch->conn) ? POLLOUT : 0);
	p[P_SIG].fd = r->sigfd;
	p[P_SIG].events = POLLIN;
	p[P_OUT].fd = room ? r->out[OUT_STDOUT].fd : -1;
	p[P_OUT].events = POLLIN;
	p[P_ERR].fd = room ? r->out[OUT_STDERR].fd : -1;
	p[P_ERR].events = POLLIN;
	p[P_IN].fd = -1;
	/* A full audit queue holds the agent's audited actions: fail closed.
	 * A spent budget leaves them unanswered until the job is killed. */
	p[P_NOTIFY].fd = sup_audit_room() && sup_audit_spent() == NULL ? r->a->listener : -1;
	p[P_NOTIFY].events = POLLIN;
	p[P_EXEC].fd = sup_audit_room() && r->a->exec != NULL ? sup_sb_exec_fd(r->a->exec) : -1;
	p[P_EXEC].events = POLLIN;
	p[P_EGRESS].fd = sup_egress_poll_fd(&r->eg); /* run after the flush (run_loop) */
	p[P_EGRESS].events = POLLIN;
	if (want_in && r->a->tty) {
		/* One fd, both ways: the PTY master. */
		p[P_OUT].fd = r->a->in;
		p[P_OUT].events = (short)((room ? POLLIN : 0) | POLLOUT);
	} else if (want_in) {
		p[P_IN].fd = r->a->in;
		p[P_IN].events = POLLOUT;
	}
	rc = poll(p, P_COUNT, ms_until(next));
	if (rc < 0 && errno != EINTR)
		return sup_fail_sys(f, SUP_FAIL_INTERNAL, errno, "poll");
	if (rc <= 0)
		return 0;
	if (p[P_SIG].revents != 0)
		read_signals(r);
	if (p[P_NOTIFY].revents != 0 && denials(r, p[P_NOTIFY].revents, f) < 0)
		return -f->err.code;
	if (p[P_EXEC].revents != 0 && execs(r, f) < 0)
		return -f->err.code;
	if (p[P_CONN].revents & (POLLIN | POLLHUP | POLLERR)) {
		if (channel_input(r, true, f) < 0)
			return -f->err.code;
	}
	/* The frames just taken may have ended stdin. */
	want_in = want_in && !r->in_done && r->in_len > 0 && r->a->in >= 0;
	if (want_in && (p[r->a->tty ? P_OUT : P_IN].revents & (POLLOUT | POLLERR | POLLHUP)))
		pump_input(r);
	for (int i = 0; i < OUT_COUNT; i++) {
		short ev = p[i == OUT_STDOUT ? P_OUT : P_ERR].revents;

		if (room && r->out[i].fd >= 0 && (ev & (POLLIN | POLLHUP | POLLERR)) &&
		    pump_output(r, &r->out[i], f) < 0)
			return -f->err.code;
	}
	return ack_stdin(r, f);
}

static int run_loop(struct run *r, struct sup_fail *f)
{
	/* Frames that came with the last file, ahead of any poll. */
	if (channel_input(r, false, f) < 0)
		return -f->err.code;
	while (!r->exited || outputs_open(r)) {
		if (one_round(r, f) < 0)
			return -f->err.code;
		if (wd_conn_flush(&r->ch->conn, &f->err) < 0)
			return sup_fail_wrap(f, SUP_FAIL_CHANNEL, "channel");
		/* The proxies: what polled ready, what expired, and the stream
		 * reads the drained queue allows again. */
		if (sup_egress_run(&r->eg, f) < 0)
			return -f->err.code;
	}
	return 0;
}

/* Whatever is left of the job: killed and reaped. */
static void clean_up(struct run *r)
{
	uint64_t until = wd_mono_ns() + SUP_KILL_WAIT_MS * WD_NS_PER_MS;

	sup_kill_all("the agent's run ended");
	while (reap(r)) {
		struct pollfd p = {.fd = r->sigfd, .events = POLLIN, .revents = 0};
		int left = ms_until(until);

		if (left == 0) {
			wd_warn("processes survive SIGKILL for %d ms", SUP_KILL_WAIT_MS);
			break;
		}
		if (poll(&p, 1, left) > 0)
			read_signals(r);
	}
}

int sup_agent_run(struct sup_channel *ch, const struct wd_job *job, struct sup_agent *a, int sigfd,
		  const struct wd_egress *egress, struct wd_exit *result, struct sup_fail *f)
{
	struct run r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.ch = ch;
	r.job = job;
	r.a = a;
	r.sigfd = sigfd;
	r.notify.uid = a->uid;
	r.in_buf = stdin_buffer;
	r.out[OUT_STDOUT].fd = a->out;
	r.out[OUT_STDOUT].id = WD_STREAM_STDOUT;
	r.out[OUT_STDERR].fd = a->err;
	r.out[OUT_STDERR].id = WD_STREAM_STDERR;
	if (job->timeout_ms != 0)
		r.deadline_ns = wd_mono_ns() + job->timeout_ms * WD_NS_PER_MS;
	rc = sup_egress_start(&r.eg, egress, ch, &a->proxy_http, &a->proxy_socks, a->uid, f);
	if (rc == 0)
		rc = run_loop(&r, f);
	/* Every connection ends with the job, recorded, before EXIT; EG_CLOSE
	 * only while the channel works. */
	if (rc == 0)
		rc = sup_egress_end(&r.eg, true, f);
	else
		(void)sup_egress_end(&r.eg, false, &(struct sup_fail){0});
	clean_up(&r);
	/* The counts of denials answered, ahead of the job's end. */
	if (rc == 0 && flush_denials(&f->err) < 0)
		rc = sup_fail_wrap(f, SUP_FAIL_INTERNAL, "audit");
	close_fd(&a->listener);
	close_fd(&a->proxy_http);
	close_fd(&a->proxy_socks);
	close_fd(&a->status_fd);
	for (int i = 0; i < OUT_COUNT; i++)
		if (r.out[i].fd >= 0 && !tty_master(&r, r.out[i].fd))
			close_fd(&r.out[i].fd);
	close_fd(&a->in);
	a->out = a->err = -1;
	if (rc < 0)
		return rc;
	sup_exit_from_wait(r.wstatus, &r.result);
	r.result.timed_out = r.timed_out;
	r.result.audit_budget = r.budget;
	r.result.oom_killed = a->cg != NULL && sup_cgroup_oom(a->cg);
	*result = r.result;
	return 0;
}
