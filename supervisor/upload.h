/*
 * supervisor/upload.h - one file uploaded with the job, written into the
 * agent's working directory and verified.
 *
 * The file is created exclusively (O_CREAT | O_EXCL | O_NOFOLLOW, relative
 * to the working directory's fd, never a path), owned by the agent, with no
 * permissions until it is complete: only a file whose size and SHA-256 match
 * what the job declared gets its declared mode. Bytes beyond the declared
 * size are refused as they arrive. Nothing is allocated.
 */
#ifndef WARDEN_SUPERVISOR_UPLOAD_H
#define WARDEN_SUPERVISOR_UPLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/err.h"
#include "../common/sha256.h"
#include "../vsock/msg.h"

struct sup_upload {
	int fd;
	const struct wd_job_file *file;
	uint64_t got; /* bytes written so far */
	struct wd_sha256 sha;
};

/* Create file->name under dirfd for uid:gid. */
int sup_upload_begin(struct sup_upload *u, int dirfd, const struct wd_job_file *file, uid_t uid,
		     gid_t gid, struct wd_err *err);

/* Append n bytes; more than the declared size in all is E2BIG. */
int sup_upload_write(struct sup_upload *u, const uint8_t *p, size_t n, struct wd_err *err);

/* The end of the file: check size and SHA-256, set the mode, close. */
int sup_upload_finish(struct sup_upload *u, struct wd_err *err);

/* Close without finishing (the job fails anyway). Safe after finish. */
void sup_upload_abort(struct sup_upload *u);

#endif
