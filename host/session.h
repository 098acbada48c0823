/*
 * host/session.h - one job over the channel, the host's side of
 * docs/protocol.md.
 *
 *   guest                                host (this file)
 *   READY, repeated        ─────────>    waits up to WD_BOOT_TIMEOUT_MS
 *                          <─────────    KEY: 32 fresh random bytes, the only
 *                                        secret frame; then every frame is
 *                                        authenticated (vsock/frame.h)
 *   HELLO                  ─────────>    version, mode ("vm" | "ns", must
 *                                        match the VMM), timings, digests;
 *                                        with --image OUTDIR, the root
 *                                        filesystem's root hash must be the
 *                                        image's, else nothing is sent
 *                                        (image/root-hash-mismatch,
 *                                        host/launchrec.h)
 *                          <─────────    JOB, then each --file's content
 *                                        (DATA on stream 16+i, empty DATA last)
 *   STARTED                ─────────>    stdin starts to flow: DATA stream 1,
 *                                        an empty DATA at its end; WINSIZE
 *   STDIN_ACK (stream 1)   ─────────>    stdin taken so far: at most
 *                                        WD_STDIN_WINDOW bytes unacknowledged
 *   DATA 2 / 3             ─────────>    written to stdout / stderr
 *                          <─────────    SIGNAL (SIGHUP, SIGQUIT, SIGUSR1/2),
 *                                        WINSIZE (SIGWINCH) for a --tty job
 *   EG_OPEN, DATA, ...     ─────────>    egress streams, when the policy has an
 *                          <─────────    `egress` section: checked again, dialed
 *                                        and piped here (egdial.h, egress/dial.h)
 *   EXIT                   ─────────>    the status is kept
 *                          <─────────    SHUTDOWN; the guest ends itself,
 *                                        or is killed after WD_SHUTDOWN_WAIT_MS
 *
 * Backpressure: guest output is written only as fast as the launcher's
 * stdout takes it; while a frame waits to be written no more is read from
 * the channel, so the guest's queue fills and the agent blocks on its pipe
 * (nothing is dropped), and the launcher still reacts to signals and
 * deadlines meanwhile. Input (stdin, files) is read only while the output
 * queue is below WD_CONN_HIGH_WATER, and stdin only while less than
 * WD_STDIN_WINDOW of it is unacknowledged.
 *
 * Any frame the decoder rejects (bad MAC, sequence, type, size), a message
 * that does not decode, or a frame out of place (host/inbound.h) ends the
 * session: the launcher sends ERROR if the channel still takes it, kills
 * the guest and exits WD_EXIT_LAUNCHER. Fail closed.
 */
#ifndef WARDEN_HOST_SESSION_H
#define WARDEN_HOST_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/err.h"
#include "../common/safetext.h"
#include "../vsock/conn.h"
#include "../vsock/msg.h"
#include "cli.h"
#include "collect.h"
#include "egdial.h"
#include "job.h"
#include "sigfd.h"
#include "vmm.h"

#define WD_BOOT_TIMEOUT_MS 120000 /* VMM start to the guest's READY (TCG is slow) */
#define WD_HELLO_TIMEOUT_MS 30000 /* KEY to HELLO */
#define WD_TIMEOUT_GRACE_MS 10000 /* the host's deadline is --timeout plus this */
#define WD_SHUTDOWN_WAIT_MS 15000 /* SHUTDOWN to the guest's end, then it is killed */
#define WD_DRAIN_MS 2000          /* guest gone: what is still in the channel */
#define WD_RESUME_WAIT_MS 60000   /* a broken channel: the guest has this long to resume it */
#define WD_RESUME_TRY_MS 3000     /* one new connection: its RESUME within this */
#define WD_RESUME_GAP_MS 200      /* virtio-serial: our end stays closed this long, doubling */
#define WD_RESUME_JUNK_BYTES (16UL << 20) /* bytes skipped before a RESUME, at most */

/* How a session ended, beyond `err`. */
enum wd_session_end {
	WD_END_NONE = 0,
	WD_END_EXIT,          /* the guest reported the agent's exit: see `exit` */
	WD_END_FAILED,        /* launcher, channel or protocol failure: err */
	WD_END_GUEST_LOST,    /* the guest ended or closed the channel early: err, logs */
	WD_END_GUEST_ERROR,   /* the guest sent ERROR: guest_error */
	WD_END_STOPPED,       /* SIGINT or SIGTERM: stop_signal */
	WD_END_TIMEOUT,       /* the host's deadline passed without EXIT */
	WD_END_OUTPUT_CLOSED, /* stdout or stderr went away (EPIPE) */
};

struct wd_session {
	const struct wd_run_opts *o;
	struct wd_vmm *vmm;
	struct wd_job_plan *plan;
	struct wd_conn conn;
	bool conn_open;
	int sigfd;
	struct wd_intr intr;
	int stop_signal;

	bool job_sent, started, exited, conn_eof, vm_ended, stdin_open;
	bool send_broken;                 /* a write to the channel failed: the guest is going */
	bool out_ended[2];                /* stdout, stderr: the guest sent their empty DATA */
	uint64_t stdin_sent, stdin_acked; /* at most WD_STDIN_WINDOW apart */
	uint64_t resume_peer_seq;         /* what the guest had at the last resumption */
	unsigned resumes;                 /* resumptions of the channel */
	struct wd_err resume_err;         /* why the last one failed (code 0: none did) */
	uint64_t host_deadline_ns;        /* 0: none */
	uint64_t end_deadline_ns;         /* 0: none; the guest must be gone by then */

	uint8_t *buf; /* WD_FRAME_MAX_PAYLOAD + 1: JOB text, chunks */
	uint8_t *out; /* one DATA payload on its way to stdout or stderr */
	size_t out_len, out_off;
	int out_fd;
	struct wd_collector audit; /* the guest's audit log (collect.h) */
	/* the job's egress streams when its policy has an egress section
	 * (egdial.h): set up after HELLO, ended at EXIT */
	struct wd_egdial egress;
	bool egress_on;
	char final_note[WD_NOTE_MAX]; /* its last checkpoint, at the end */
	/* stdout's and stderr's sanitizers, for --sanitize-output (output.h) */
	struct wd_safe_stream safe[2];

	/* --image OUTDIR: the image's dm-verity root hash and the digest of
	 * its initramfs's /etc/warden/manifest (manifest.json), which HELLO's
	 * rootfs_root_hash and manifest_sha256 must equal before anything is
	 * sent; NULL when the guest boots without an image directory */
	const char *image_root_hash;
	const char *image_manifest_sha256;
	const char *image_dir; /* OUTDIR, for messages and the record */

	uint64_t t_vmm_ns; /* when the VMM was started; set by the caller, else at run */
	uint64_t t_ready_ns, t_hello_ns, t_started_ns;
	struct wd_hello hello;
	struct wd_exit exit;
	struct wd_error_msg guest_error;
	enum wd_session_end end;
};

/* Set up (no I/O); `sigfd` from wd_sigfd_open(). */
int wd_session_init(struct wd_session *s, const struct wd_run_opts *o, struct wd_vmm *vmm,
		    struct wd_job_plan *plan, int sigfd, struct wd_err *err);

/* The phase after the job is sent: relay.h's wd_relay_run, passed in so
 * that the session does not depend on the modules that drive it. */
typedef int wd_session_phase(struct wd_session *s, struct wd_err *err);

/*
 * Connect to the started guest, send the job, then run `relay` until the
 * job's end. Returns when s->end is set (0) or on failure (-errno, s->end =
 * WD_END_FAILED or as above); the guest may still run: the caller stops it.
 */
int wd_session_run(struct wd_session *s, wd_session_phase *relay, struct wd_err *err);

void wd_session_free(struct wd_session *s);

/* Record how the session ended; the first reason stays. */
void wd_session_end(struct wd_session *s, enum wd_session_end end);

/* For host/relay.c: queue a frame (-ENOBUFS when the queue is full). */
int wd_session_send(struct wd_session *s, unsigned type, uint32_t stream, const void *p, size_t len,
		    struct wd_err *err);

/* For host/relay.c: the agent runs (a --tty job gets its window size again). */
void wd_session_started(struct wd_session *s);

/*
 * The conn's break handler (host/resume.c, vsock/conn.h): take the guest's
 * next connection and its RESUME. A failure is kept in resume_err.
 */
int wd_session_broken(struct wd_conn *c, void *ctx, const char *why, struct wd_err *err);

/* The signal reader for long waits elsewhere (struct wd_intr's check). */
bool wd_session_check_signals(void *session);

#endif
