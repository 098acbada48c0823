/* host/run.c - see run.h. */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "exitcodes.h"
#include "image.h"
#include "job.h"
#include "paths.h"
#include "relay.h"
#include "session.h"
#include "sigfd.h"
#include "tmpdir.h"
#include "tty.h"
#include "vmm.h"

struct run_paths {
	char exe_dir[WD_PATH_BYTES];
	char kernel[WD_PATH_BYTES];
	char image[WD_PATH_BYTES];
	bool image_dir;      /* --image named an image directory: `img` */
	bool image_kernel;   /* and the kernel is its own (no --kernel) */
	struct wd_image img; /* its kernel, initramfs, root filesystem, hash tree, root hash */
	char init[WD_PATH_BYTES];
	char supervisor[WD_PATH_BYTES];
	char tmpdir[WD_PATH_BYTES];
};

/* A path from the command line, or the default one found beside the binary. */
static int pick(const char *given, const char *option, const char *exe_dir, enum wd_asset asset,
		char *out, struct wd_err *err)
{
	if (given == NULL)
		return wd_find_asset(exe_dir, asset, out, WD_PATH_BYTES, err);
	if (wd_check_input_file(option, given, err) < 0)
		return -err->code;
	if (strlen(given) >= WD_PATH_BYTES)
		return wd_err_set(err, ENAMETOOLONG, "%s: path too long", option);
	memcpy(out, given, strlen(given) + 1);
	return 0;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * --image OUTDIR: an image directory (host/image.h), checked against its
 * manifest.json; its kernel unless --kernel names another, its initramfs,
 * and its root filesystem and hash tree as the VM's two drives, all four
 * as the files wd_image_open() checked and holds open (the paths are
 * for messages).
 */
static int open_image_dir(const struct wd_run_opts *o, struct run_paths *p, struct wd_err *err)
{
	if (wd_image_open(o->image, &p->img, err) < 0)
		return wd_err_wrap(err, "--image");
	p->image_dir = true;
	memcpy(p->image, p->img.initramfs, sizeof(p->image));
	if (o->kernel == NULL) {
		memcpy(p->kernel, p->img.kernel, sizeof(p->kernel));
		p->image_kernel = true;
		return 0;
	}
	if (pick(o->kernel, "--kernel", p->exe_dir, WD_ASSET_KERNEL, p->kernel, err) < 0)
		return -err->code;
	wd_info("--kernel %s instead of the image's kernel (%s); its modules are for %s", o->kernel,
		p->img.kernel, p->img.kver);
	return 0;
}

static int find_guest(const struct wd_run_opts *o, struct run_paths *p, struct wd_err *err)
{
	if (wd_exe_dir(p->exe_dir, sizeof(p->exe_dir), err) < 0)
		return -err->code;
	if (o->vmm == WD_VMM_QEMU && o->image != NULL && is_dir(o->image))
		return open_image_dir(o, p, err);
	if (o->vmm == WD_VMM_QEMU) {
		if (pick(o->kernel, "--kernel", p->exe_dir, WD_ASSET_KERNEL, p->kernel, err) < 0 ||
		    pick(o->image, "--image", p->exe_dir, WD_ASSET_IMAGE, p->image, err) < 0)
			return -err->code;
		return 0;
	}
	if (wd_find_asset(p->exe_dir, WD_ASSET_INIT, p->init, sizeof(p->init), err) < 0 ||
	    wd_find_asset(p->exe_dir, WD_ASSET_SUPERVISOR, p->supervisor, sizeof(p->supervisor),
			  err) < 0)
		return wd_err_wrap(err, "--vmm local");
	return 0;
}

/* --audit-dir: the guest's log goes in it (collect.h), and the launcher's
 * own records (launchrec.h). */
static int make_audit_dir(const char *dir, struct wd_err *err)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return wd_err_sys(err, errno, "--audit-dir %s", dir);
	if (stat(dir, &st) < 0)
		return wd_err_sys(err, errno, "--audit-dir %s", dir);
	if (!S_ISDIR(st.st_mode))
		return wd_err_set(err, ENOTDIR, "--audit-dir %s: not a directory", dir);
	return 0;
}

/*
 * An image with a baked policy (/etc/warden/policy.json) runs it or
 * nothing (the guest refuses any other, supervisor/baked.h): without
 * --policy the job brings the baked one; a --policy that is another one
 * is refused here, before a VM starts.
 */
static int image_policy(const struct wd_run_opts *o, const struct run_paths *p,
			struct wd_job_plan *plan, struct wd_err *err)
{
	char baked[WD_SHA256_HEX], given[WD_SHA256_HEX];
	char *text = NULL;
	size_t len = 0;

	if (!p->image_dir || !p->img.has_policy)
		return 0;
	if (wd_image_policy(&p->img, &text, &len, err) < 0)
		return wd_err_wrap(err, "--image %s", p->img.dir);
	if (o->policy == NULL) {
		wd_info("the image's baked policy (%s, sha256 %.12s...)", WD_IMAGE_POLICY_PATH,
			p->img.policy_sha256);
		return wd_job_plan_set_policy(plan, text, len, "the image's baked policy", err);
	}
	if (wd_job_policy_sha256(text, len, baked, err) < 0 ||
	    wd_job_policy_sha256(plan->policy, strlen(plan->policy), given, err) < 0) {
		free(text);
		return wd_err_wrap(err, "--policy");
	}
	free(text);
	if (strcmp(baked, given) != 0)
		return wd_err_set(err, EPERM,
				  "--policy %s: the image %s bakes its own policy (%s), which its "
				  "guest enforces; leave --policy out or give that one",
				  o->policy, p->img.dir, WD_IMAGE_POLICY_PATH);
	return 0;
}

/* Everything the user named, checked before anything starts. */
static int prepare(const struct wd_run_opts *o, struct run_paths *p, struct wd_job_plan *plan,
		   struct wd_err *err)
{
	if (find_guest(o, p, err) < 0)
		return -err->code;
	if (o->tty && !isatty(STDIN_FILENO))
		return wd_err_set(err, ENOTTY, "--tty: standard input is not a terminal");
	if (wd_job_plan_prepare(plan, o, getenv("TERM"), err) < 0 ||
	    image_policy(o, p, plan, err) < 0)
		return -err->code;
	if (o->audit_dir != NULL && make_audit_dir(o->audit_dir, err) < 0)
		return -err->code;
	return 0;
}

static void print_timeout(const struct wd_run_opts *o, const char *what)
{
	if (o->timeout_ms % 1000 == 0)
		wd_error("%s %llu s (--timeout); it was killed", what,
			 (unsigned long long)(o->timeout_ms / 1000));
	else
		wd_error("%s %llu ms (--timeout); it was killed", what,
			 (unsigned long long)o->timeout_ms);
}

/* The exit status for how the session ended, with its one line. */
static int outcome(const struct wd_session *s, const struct wd_vmm *vmm, const struct wd_err *err)
{
	switch (s->end) {
	case WD_END_EXIT:
		if (s->exit.audit_budget != NULL) {
			wd_error("the job's audit log reached its budget audit.%s (%llu, "
				 "docs/policy.md); the job was killed",
				 s->exit.audit_budget,
				 (unsigned long long)(strcmp(s->exit.audit_budget,
							     wd_budget_records) == 0
							      ? s->audit.max_records
							      : s->audit.max_bytes));
			return WD_EXIT_AUDIT_BUDGET;
		}
		if (s->exit.timed_out) {
			print_timeout(s->o, "the job ran longer than");
			return WD_EXIT_TIMEOUT;
		}
		if (s->exit.oom_killed)
			wd_warn("the OOM killer ended a process of the job (the sandbox's memory "
				"limit, docs/policy.md)");
		return s->exit.status;
	case WD_END_TIMEOUT:
		print_timeout(s->o, "the guest did not report the job's end within");
		return WD_EXIT_TIMEOUT;
	case WD_END_STOPPED:
		wd_info("%s: the job was stopped and the guest torn down",
			strsignal(s->stop_signal));
		return WD_EXIT_SIGNAL_BASE + s->stop_signal;
	case WD_END_OUTPUT_CLOSED:
		wd_error("%s", err->msg);
		return WD_EXIT_SIGNAL_BASE + SIGPIPE;
	case WD_END_GUEST_ERROR:
		wd_error("the guest failed (%s): %s", s->guest_error.code, s->guest_error.message);
		return WD_EXIT_LAUNCHER;
	case WD_END_GUEST_LOST:
		wd_error("%s; the guest's last words:", err->msg);
		wd_vmm_print_logs(vmm);
		return WD_EXIT_LAUNCHER;
	case WD_END_FAILED:
	case WD_END_NONE:
		break;
	}
	wd_error("%s", err->msg[0] != '\0' ? err->msg : "the session failed");
	if (s->o->verbose > 0)
		wd_vmm_print_logs(vmm);
	return WD_EXIT_LAUNCHER;
}

/* --console: copy the guest's console log out of the job's directory. */
static void keep_console(const struct wd_vmm *vmm, const char *dest)
{
	char buf[65536];
	int in = open(vmm->console_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int out = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	ssize_t n = 0;

	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0) {
		if (wd_write_all(out, buf, (size_t)n) < 0) {
			n = -1;
			break;
		}
	}
	if (in < 0 || out < 0 || n < 0)
		wd_warn_sys(errno, "--console %s: the console log could not be kept", dest);
	if (in >= 0)
		(void)close(in);
	if (out >= 0)
		(void)close(out);
}

/*
 * The audit log's end: synced, its final checkpoint stored beside it and
 * printed, so that a copy exists outside the directory (a truncated or
 * rolled-back log fails `warden audit verify --checkpoint`). A log that
 * cannot be closed fails the run.
 */
static int audit_summary(struct wd_session *s)
{
	struct wd_collector *c = &s->audit;
	struct wd_err err;
	const char *l;

	if (wd_collect_close(c, s->final_note, sizeof(s->final_note), &err) < 0) {
		wd_error("%s", err.msg);
		return -1;
	}
	if (!c->started)
		return 0;
	wd_info("audit: %llu records of log %s%s%s%s", (unsigned long long)c->stored, c->v.origin,
		c->duplicates > 0 ? " (repeats dropped)" : "", c->dir != NULL ? ", in " : "",
		c->dir != NULL ? c->dir : " (not kept: no --audit-dir)");
	if (s->final_note[0] == '\0') {
		wd_warn("audit: the log has no checkpoint: its records are not signed");
		return 0;
	}
	wd_info("audit: final checkpoint:");
	for (l = s->final_note; *l != '\0';) {
		const char *nl = strchr(l, '\n');
		int n = nl != NULL ? (int)(nl - l) : (int)strlen(l);

		wd_info("  %.*s", n, l);
		l += n + (nl != NULL);
	}
	return 0;
}

/* Start the guest and run the session; the caller tears down. */
static void run_guest(struct wd_session *s, struct wd_vmm *vmm, const struct run_paths *p,
		      struct wd_err *err)
{
	struct wd_vmm_config cfg = {
		.tmpdir = p->tmpdir,
		.kernel = p->kernel,
		.image = p->image,
		.kernel_fd = p->image_kernel ? p->img.kernel_fd : -1,
		.image_fd = p->image_dir ? p->img.initramfs_fd : -1,
		.rootfs_fd = p->image_dir ? p->img.rootfs_fd : -1,
		.verity_fd = p->image_dir ? p->img.verity_fd : -1,
		.init = p->init,
		.supervisor = p->supervisor,
		.mem_mib = s->o->mem_mib,
		.cpus = s->o->cpus,
		.verbose = s->o->verbose,
		.kernel_args = s->o->kernel_args,
		.nkernel_args = s->o->nkernel_args,
		.channel = (enum wd_channel_choice)s->o->channel,
		.intr = &s->intr,
	};
	int rc;

	s->t_vmm_ns = wd_mono_ns();
	rc = vmm->ops->start(vmm, &cfg, err);
	if (rc < 0) {
		s->end = rc == -EINTR ? WD_END_STOPPED : WD_END_FAILED;
		return;
	}
	(void)wd_session_run(s, wd_relay_run, err);
}

int wd_run(const struct wd_run_opts *o)
{
	static struct wd_job_plan plan;
	static struct run_paths paths;
	static struct wd_session s;
	struct wd_vmm vmm;
	struct wd_err err;
	int sigfd, code;

	wd_err_clear(&err);
	sigfd = wd_sigfd_open(&err);
	if (sigfd < 0 || prepare(o, &paths, &plan, &err) < 0 ||
	    wd_tmpdir_make(getenv("TMPDIR"), paths.tmpdir, sizeof(paths.tmpdir), &err) < 0) {
		wd_error("%s", err.msg);
		wd_job_plan_free(&plan);
		if (paths.image_dir)
			wd_image_close(&paths.img);
		return WD_EXIT_LAUNCHER;
	}
	wd_vmm_init(&vmm, o->vmm == WD_VMM_LOCAL ? &wd_vmm_local_ops : &wd_vmm_qemu_ops,
		    paths.tmpdir);
	if (wd_session_init(&s, o, &vmm, &plan, sigfd, &err) < 0) {
		s.end = WD_END_FAILED;
	} else {
		if (paths.image_dir) {
			s.image_root_hash = paths.img.root_hash;
			s.image_manifest_sha256 = paths.img.manifest_sha256;
			s.image_dir = paths.img.dir;
		}
		run_guest(&s, &vmm, &paths, &err);
	}

	wd_tty_restore();
	vmm.ops->stop(&vmm);
	if (paths.image_dir) /* else its fds are zero, not closed ones */
		wd_image_close(&paths.img);
	if (o->console != NULL)
		keep_console(&vmm, o->console);
	code = outcome(&s, &vmm, &err);
	if (audit_summary(&s) < 0 && code < WD_EXIT_LAUNCHER)
		code = WD_EXIT_LAUNCHER;
	wd_session_free(&s);
	if (wd_tmpdir_remove(paths.tmpdir, &err) < 0)
		wd_warn("%s", err.msg);
	wd_job_plan_free(&plan);
	(void)close(sigfd);
	return code;
}
