/*
 * supervisor/baked.h - the image's own policy, when it has one.
 *
 * An image built with `warden image build --policy FILE` carries the
 * policy at /etc/warden/policy.json in its initramfs, and manifest.json
 * pins its digest (docs/image.md). The image then runs that policy or
 * nothing: the supervisor refuses a job whose policy is another one, or
 * that has none (the host sends the baked one when `warden run --image
 * OUTDIR` has no --policy). A host cannot loosen a sandbox the image's
 * owner fixed. In the microVM only: in namespace mode (`--vmm local`) the
 * supervisor's root is the host's, which is no image.
 *
 * Policies are compared as a JOB carries them: the SHA-256 of the compact
 * JSON text (vsock/msg.h wd_job_policy_sha256), so the file's layout does
 * not matter, only its meaning as JSON. The file's own digest, which
 * manifest.json pins, is kept too, for the record. The file is read whole, at most
 * WD_POLICY_MAX_BYTES; one that cannot be read or is not one JSON object
 * fails the job (the image is broken, and nothing is guessed).
 */
#ifndef WARDEN_SUPERVISOR_BAKED_H
#define WARDEN_SUPERVISOR_BAKED_H

#include <stdbool.h>

#include "../common/err.h"
#include "../vsock/msg.h"

#define SUP_BAKED_POLICY "/etc/warden/policy.json"

struct sup_baked {
	bool pinned;                /* the image has a policy */
	char sha256[WD_SHA256_HEX]; /* its digest as a JOB carries it, "" when it has none */
	char file[WD_SHA256_HEX];   /* the file's bytes' digest (manifest.json's policy.sha256) */
	char job[WD_SHA256_HEX];    /* the job's policy's digest, "" when it has none */
};

/*
 * The job's policy text (as decoded, "" for none) against the file at
 * `path` (SUP_BAKED_POLICY). Returns 0 when there is no such file or the
 * two are the same policy; -EPERM when they differ or the job has none,
 * with `err` naming both digests; -errno when the file cannot be read or
 * is not a JSON object. `b` is filled as far as known.
 */
int sup_baked_policy(const char *path, const char *job_policy, struct sup_baked *b,
		     struct wd_err *err);

#endif
