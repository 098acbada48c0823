/*
 * supervisor/fail.h - how the supervisor gives up, and what that tells the
 * host and PID 1.
 *
 * Every step of the supervisor (channel.c, job.c, agent.c) reports failure
 * the project's way, 0 or a negative errno with a message (common/err.h),
 * and also says which kind of failure it was. The kind decides whether an
 * ERROR frame goes to the host (only if the channel still works and the
 * host did not end things itself) and the supervisor's exit status. Any
 * non-zero exit makes PID 1 kill every process and end the VM: nothing runs
 * unwatched.
 */
#ifndef WARDEN_SUPERVISOR_FAIL_H
#define WARDEN_SUPERVISOR_FAIL_H

#include "../common/err.h"

enum sup_fail_kind {
	SUP_FAIL_INTERNAL,  /* the guest itself: memory, a system call that must work */
	SUP_FAIL_CHANNEL,   /* no channel, the host went away or sent ERROR: no ERROR
			      is sent back */
	SUP_FAIL_PROTOCOL,  /* a frame, payload or frame order the protocol does not allow */
	SUP_FAIL_JOB,       /* the job cannot run as asked: directory, files, agent setup */
	SUP_FAIL_TIMEOUT,   /* a bounded wait for the host ran out */
	SUP_FAIL_INTEGRITY, /* what the job runs from is not what was verified: the
			       image's root filesystem saw corruption (rootfs.h) */
	SUP_FAIL_SHUTDOWN,  /* not a failure: the host sent SHUTDOWN before the end */
};

/* Exit statuses of warden-supervisor (PID 1 logs them; the host never sees them). */
#define SUP_EXIT_OK 0
#define SUP_EXIT_INTERNAL 1
#define SUP_EXIT_ENV 2 /* not started by warden-init: environment missing or wrong */
#define SUP_EXIT_CHANNEL 3
#define SUP_EXIT_PROTOCOL 4
#define SUP_EXIT_JOB 5
#define SUP_EXIT_INTEGRITY 6

struct sup_fail {
	enum sup_fail_kind kind;
	struct wd_err err;
};

void sup_fail_clear(struct sup_fail *f);

/* Record a failure of `kind` (like wd_err_set). Returns -code. */
int sup_fail_set(struct sup_fail *f, enum sup_fail_kind kind, int code, const char *fmt, ...)
	WD_PRINTF(4, 5);

/* A failed system call of `kind` (like wd_err_sys: ": strerror(code)" is
 * appended). Returns -code. */
int sup_fail_sys(struct sup_fail *f, enum sup_fail_kind kind, int code, const char *fmt, ...)
	WD_PRINTF(4, 5);

/* Classify what a lower layer left in f->err, adding context. Returns -code. */
int sup_fail_wrap(struct sup_fail *f, enum sup_fail_kind kind, const char *fmt, ...)
	WD_PRINTF(3, 4);

/* The "code" of the ERROR frame for `kind`: "internal", "protocol", "job",
 * "timeout", "integrity" (docs/protocol.md). */
const char *sup_fail_code(enum sup_fail_kind kind);

/* The supervisor's exit status for `kind`. */
int sup_fail_exit_status(enum sup_fail_kind kind);

#endif
