/*
 * sandbox/sbprepare.c - a job's layers made ready before anything runs,
 * for the supervisor and `warden sandbox` alike (sandbox.h).
 */
#include <errno.h>
#include <string.h>

#include "sandbox.h"

int sup_sandbox_prepare(const struct sup_sandbox *sb, struct sup_sb_ready *r, struct wd_err *err)
{
	memset(r, 0, sizeof(*r));
	r->cg.dirfd = -1;
	if (!sb->landlock_off && sup_sb_landlock_abi() == 0)
		return wd_err_set(err, EOPNOTSUPP,
				  "sandbox: landlock: this kernel has none; the policy can turn it "
				  "off (\"sandbox\": {\"landlock\": false})");
	if (!sb->seccomp_off && sup_sb_filter_build(sb, &r->filter, err) < 0)
		return wd_err_wrap(err, "sandbox");
	/* Execs are audited through the filter's listener and the watcher. */
	if (!sb->seccomp_off && !sb->exec_audit_off && sup_sb_exec_open(&r->exec, err) < 0) {
		sup_sb_filter_free(&r->filter);
		return wd_err_wrap(err, "sandbox");
	}
	if (sup_cgroup_create(sb, &r->cg, err) < 0) {
		sup_sb_exec_close(r->exec);
		r->exec = NULL;
		sup_sb_filter_free(&r->filter);
		return wd_err_wrap(err, "sandbox");
	}
	return 0;
}

void sup_sandbox_release(struct sup_sb_ready *r)
{
	sup_cgroup_destroy(&r->cg);
	sup_sb_exec_close(r->exec);
	r->exec = NULL;
	sup_sb_filter_free(&r->filter);
}
