/* supervisor/baked.c - see baked.h. */
#include "baked.h"

#include <errno.h>
#include <string.h>

#include "../common/fileio.h"
#include "../common/tlog.h"
#include "../policy/policy.h"

int sup_baked_policy(const char *path, const char *job_policy, struct sup_baked *b,
		     struct wd_err *err)
{
	static char text[WD_POLICY_MAX_BYTES + 1];
	uint8_t h[WD_HASH_BYTES];
	size_t len = 0;
	int rc;

	memset(b, 0, sizeof(*b));
	rc = wd_read_file(path, text, sizeof(text), &len, err);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return wd_err_wrap(err, "the image's policy");
	b->pinned = true;
	wd_sha256(text, len, h);
	wd_hex(h, sizeof(h), b->file);
	if (wd_job_policy_sha256(text, len, b->sha256, err) < 0)
		return wd_err_wrap(err, "the image's policy %s", path);
	if (job_policy[0] == '\0')
		return wd_err_set(err, EPERM,
				  "the image has its own policy (%s, sha256 %s) and the job brings "
				  "none",
				  path, b->sha256);
	if (wd_job_policy_sha256(job_policy, strlen(job_policy), b->job, err) < 0)
		return wd_err_wrap(err, "the job's policy");
	if (strcmp(b->job, b->sha256) != 0)
		return wd_err_set(err, EPERM,
				  "the job's policy (sha256 %s) is not the image's own (%s, sha256 "
				  "%s)",
				  b->job, path, b->sha256);
	return 0;
}
