/*
 * supervisor/job.h - receiving the job: the JOB frame, then its files.
 *
 * Frame order from the host, after HELLO:
 *
 *   JOB                      stream 0, one frame
 *   DATA ... DATA, DATA ""   file 0 on stream WD_STREAM_FILE_BASE + 0, ended
 *                            by an empty DATA (also for an empty file)
 *   ...                      then file 1, and so on, one file after another
 *                            in the order the job lists them
 *
 * Anything else in this stage (another stream, another frame type) is a
 * protocol error, except the host's ERROR and SHUTDOWN, which end the job
 * (channel.h). A file whose size or SHA-256 differs from the job's
 * declaration fails the job. Each frame must arrive within
 * SUP_HOST_WAIT_MS.
 */
#ifndef WARDEN_SUPERVISOR_JOB_H
#define WARDEN_SUPERVISOR_JOB_H

#include <stddef.h>
#include <sys/types.h>

#include "../vsock/msg.h"
#include "channel.h"
#include "fail.h"

/* Wait for JOB and decode it; every string of `job` lives in `arena`. */
int sup_job_receive(struct sup_channel *ch, struct wd_job *job, void *arena, size_t arena_size,
		    struct sup_fail *f);

/* Receive every declared file into the working directory `dirfd`. */
int sup_job_files(struct sup_channel *ch, const struct wd_job *job, int dirfd, uid_t uid, gid_t gid,
		  struct sup_fail *f);

#endif
