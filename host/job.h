/*
 * host/job.h - what the launcher sends the guest: the JOB message and the
 * contents of the --file uploads (docs/protocol.md).
 *
 * Everything the user named is opened and checked before any VM starts,
 * so that a typo costs no boot: each --file must be a readable regular file
 * of at most WD_JOB_MAX_FILE_BYTES (its permission bits are kept, set-id
 * and sticky bits are not), the --policy file a JSON object of at most
 * WD_JOB_MAX_POLICY bytes. Files are hashed (SHA-256, BearSSL) when opened;
 * the JOB carries name, mode, size and digest, and the contents follow,
 * each on its own stream (WD_STREAM_FILE_BASE + index) in chunks of
 * WD_CONN_DATA_CHUNK ending with an empty DATA. The contents are hashed
 * again while they are sent: a file that changed in between is an error
 * here, before the guest finds the mismatch.
 *
 * The plan owns the open files and the policy text; wd_job_plan_free()
 * closes and frees them.
 */
#ifndef WARDEN_HOST_JOB_H
#define WARDEN_HOST_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bearssl_hash.h>

#include "../common/err.h"
#include "../policy/policy.h"
#include "../vsock/msg.h"
#include "cli.h"

struct wd_upload {
	int fd;
	const struct wd_file_arg *arg; /* HOST_PATH:NAME as given */
	uint32_t mode;                 /* permission bits, 0 .. 0777 */
	uint64_t size;
	char sha256[WD_SHA256_HEX];
	uint64_t sent;            /* bytes sent so far */
	bool done;                /* the empty DATA went out */
	br_sha256_context resend; /* the bytes actually sent */
};

struct wd_job_plan {
	struct wd_upload files[WD_JOB_MAX_FILES];
	size_t nfiles;
	size_t next_file;             /* the one being sent */
	char *policy;                 /* the --policy text, NUL-terminated; NULL when none */
	struct wd_policy_audit audit; /* its audit section: the budget the host enforces too */
	struct wd_egress egress;      /* its egress section: the host checks it again (heap) */
	const char **argv;            /* argc + 1 entries */
	const char **env;             /* envc + 1 entries */
	size_t envc;
	char *term; /* "TERM=..." for a --tty job, or NULL */
};

/*
 * Read a --policy file (at most WD_POLICY_MAX_BYTES, no NUL) into a heap
 * string and read it as the guest will (policy/policy.h), so a bad policy
 * is refused, naming the field, before anything starts. The result goes
 * to `parsed` (the caller frees it with wd_policy_free) or, when NULL, is
 * released.
 */
int wd_read_policy(const char *path, char **out, struct wd_policy *parsed, struct wd_err *err);

/*
 * The job's policy from elsewhere than a --policy file (an image's baked
 * policy, host/image.h): `text` (heap, NUL-terminated, `len` bytes; taken
 * over whatever the result) read and checked as wd_read_policy() reads a
 * file, replacing what the plan had. Errors name `what`.
 */
int wd_job_plan_set_policy(struct wd_job_plan *p, char *text, size_t len, const char *what,
			   struct wd_err *err);

/*
 * Open and check everything `o` names. `host_term` is the host's $TERM,
 * passed to a --tty job unless --env sets TERM itself (may be NULL).
 */
int wd_job_plan_prepare(struct wd_job_plan *p, const struct wd_run_opts *o, const char *host_term,
			struct wd_err *err);

/* The JOB payload (JSON) into out. Returns its length or a negative errno. */
int wd_job_plan_encode(const struct wd_job_plan *p, const struct wd_run_opts *o, uint16_t rows,
		       uint16_t cols, char *out, size_t size, struct wd_err *err);

/*
 * The next DATA frame of the uploads: fills *stream and buf[0 .. *len)
 * (*len == 0 is a file's end). Returns 1 for a frame, 0 when every file
 * has been sent, or a negative errno (read error, file changed).
 */
int wd_job_plan_next_chunk(struct wd_job_plan *p, uint8_t *buf, size_t size, uint32_t *stream,
			   size_t *len, struct wd_err *err);

/* Has every file been sent, its empty DATA included? */
bool wd_job_plan_uploads_done(const struct wd_job_plan *p);

void wd_job_plan_free(struct wd_job_plan *p);

#endif
