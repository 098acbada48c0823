/*
 * supervisor/job.c - the JOB frame and the upload of the job's files, in
 * the frame order of job.h.
 */
#include "job.h"

#include <errno.h>

#include "../common/log.h"
#include "upload.h"

int sup_job_receive(struct sup_channel *ch, struct wd_job *job, void *arena, size_t arena_size,
		    struct sup_fail *f)
{
	struct wd_frame fr;

	if (sup_channel_recv(ch, &fr, SUP_HOST_WAIT_MS, f) < 0)
		return sup_fail_wrap(f, f->kind, "job");
	if (fr.type != WD_MSG_JOB || fr.stream != WD_STREAM_CONTROL)
		return sup_channel_unexpected(&fr, "the wait for JOB", f);
	if (wd_job_decode(fr.payload, fr.len, job, arena, arena_size, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_PROTOCOL, "JOB");
	/* Arguments and environment may hold secrets: counts only. */
	wd_info("job: %zu arguments, %zu environment entries, %zu files, %s, timeout %llu ms",
		job->argc, job->envc, job->nfiles, job->tty ? "tty" : "no tty",
		(unsigned long long)job->timeout_ms);
	return 0;
}

/* Frames of file `i` until its empty DATA. */
static int receive_file(struct sup_channel *ch, struct sup_upload *u, size_t i, struct sup_fail *f)
{
	uint32_t stream = WD_STREAM_FILE_BASE + (uint32_t)i;

	for (;;) {
		struct wd_frame fr;

		if (sup_channel_recv(ch, &fr, SUP_HOST_WAIT_MS, f) < 0)
			return sup_fail_wrap(f, f->kind, "file %s", u->file->name);
		if (fr.type != WD_MSG_DATA)
			return sup_channel_unexpected(&fr, "the upload of the job's files", f);
		if (fr.stream != stream)
			return sup_fail_set(f, SUP_FAIL_PROTOCOL, EPROTO,
					    "DATA on stream %u while file %zu (stream %u) uploads",
					    (unsigned)fr.stream, i, (unsigned)stream);
		if (fr.len == 0)
			break;
		if (sup_upload_write(u, fr.payload, fr.len, &f->err) < 0)
			return sup_fail_wrap(f, SUP_FAIL_JOB, "upload");
	}
	if (sup_upload_finish(u, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_JOB, "upload");
	return 0;
}

int sup_job_files(struct sup_channel *ch, const struct wd_job *job, int dirfd, uid_t uid, gid_t gid,
		  struct sup_fail *f)
{
	for (size_t i = 0; i < job->nfiles; i++) {
		struct sup_upload u;
		int rc;

		if (sup_upload_begin(&u, dirfd, &job->files[i], uid, gid, &f->err) < 0) {
			sup_upload_abort(&u);
			return sup_fail_wrap(f, SUP_FAIL_JOB, "upload");
		}
		rc = receive_file(ch, &u, i, f);
		sup_upload_abort(&u);
		if (rc < 0)
			return rc;
		wd_info("file %s: %llu bytes, mode %03o, SHA-256 %s verified", job->files[i].name,
			(unsigned long long)job->files[i].size, (unsigned)job->files[i].mode,
			job->files[i].sha256);
	}
	return 0;
}
