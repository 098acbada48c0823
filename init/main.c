/*
 * init/main.c - warden-init, PID 1 of the guest microVM.
 *
 *   warden-init                          in a microVM, started by the kernel
 *   warden-init --ns [warden.K=V]... [-- PROGRAM [ARG]...]
 *                                        PID 1 of a fresh PID namespace
 *
 * In a microVM the configuration is the kernel command line; init mounts
 * the early file systems, loads and locks kernel modules (signatures
 * enforced by the kernel), verifies and mounts the image's root file
 * system when it has one (rootfs.c), hardens sysctls,
 * raises lockdown, brings up loopback, starts the supervisor and then only
 * reaps and waits for the end (supervise.c). It never exits: the end is a
 * reboot(2) call. Every step is reported on the console; a failed step
 * powers the VM off (fail closed).
 *
 * In namespace mode (tests, and running without a VM) the configuration is
 * argv, the global steps are skipped (they belong to the host kernel), the
 * supervisor may be replaced by PROGRAM, and init exits with the
 * supervisor's status (0-255, or 128+N for signal N), which ends the
 * namespace. docs/init.md is the reference.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/signals.h"
#include "init.h"

#define PROGRAM "warden-init"
#define PROC_PID_INIT_INO 0xEFFFFFFCU /* inode of the initial PID namespace */

static void report_unknown(const char *key, void *ctx)
{
	(void)ctx;
	wd_warn("unknown key %s ignored", key);
}

static const char *shutdown_verb(enum init_shutdown how)
{
	return how == INIT_SHUTDOWN_REBOOT ? "reset"
	       : how == INIT_SHUTDOWN_HALT ? "halt"
					   : "power off";
}

void init_final(const struct init_config *cfg, bool ns_mode, int status)
{
	int cmd = cfg->shutdown == INIT_SHUTDOWN_REBOOT ? RB_AUTOBOOT
		  : cfg->shutdown == INIT_SHUTDOWN_HALT ? RB_HALT_SYSTEM
							: RB_POWER_OFF;

	if (ns_mode) {
		/*
		 * Exiting ends the namespace; the kernel kills what is left. No
		 * sync(2): it would flush every file system of the host.
		 */
		wd_info("exit %d", status);
		_exit(status);
	}
	sync();
	init_mounts_shutdown();
	sync();
	wd_info("%s", shutdown_verb(cfg->shutdown));
	(void)reboot(cmd);
	/* Still here: the kernel refused. PID 1 must not exit, so wait forever. */
	wd_error_sys(errno, "reboot(2) failed, halting here");
	for (;;)
		(void)pause();
}

/* A VM-mode failure: one line, then the configured end of the VM. */
static void __attribute__((noreturn))
fail(const struct init_config *cfg, bool ns_mode, int status, const struct wd_err *err)
{
	wd_error("%s", err->msg);
	init_final(cfg, ns_mode, status);
}

static int read_cmdline(struct init_config *cfg, char *text, size_t size, struct wd_err *err)
{
	size_t len;

	if (wd_read_file("/proc/cmdline", text, size, &len, err) < 0)
		return -err->code;
	return init_config_parse_cmdline(cfg, text, len, report_unknown, NULL, err);
}

/* Refuse VM mode anywhere but the initial PID namespace: it would touch the host. */
static int check_initial_pidns(struct wd_err *err)
{
	struct stat st;

	if (stat("/proc/self/ns/pid", &st) < 0)
		return wd_err_sys(err, errno, "stat /proc/self/ns/pid");
	if ((unsigned)st.st_ino != PROC_PID_INIT_INO)
		return wd_err_set(err, EPERM,
				  "not PID 1 of a VM (a PID namespace): run with --ns instead");
	return 0;
}

static uint64_t phase_end(uint64_t *mark)
{
	uint64_t now = wd_mono_ns(), d = now - *mark;

	*mark = now;
	return d;
}

static void report_times(const struct init_run *run)
{
	const struct wd_boot_times *t = &run->times;

	wd_info("boot: kernel %.1f ms, mounts %.2f ms, modules %.2f ms, rootfs %.2f ms, "
		"sysctls %.2f ms, system %.2f ms",
		(double)t->t0_ns / 1e6, (double)t->mounts_ns / 1e6, (double)t->modules_ns / 1e6,
		(double)run->rootfs_ns / 1e6, (double)t->sysctls_ns / 1e6,
		(double)t->system_ns / 1e6);
}

static void __attribute__((noreturn)) boot_vm(struct init_config *cfg, struct init_run *run)
{
	static char cmdline[INIT_CMDLINE_MAX_BYTES + 1];
	char *sup_argv[2] = {cfg->supervisor, NULL};
	uint64_t mark = run->times.t0_ns;
	struct wd_err err;

	wd_err_clear(&err);
	init_console_setup();
	if (mkdir("/proc", 0555) < 0 && errno != EEXIST)
		wd_warn_sys(errno, "mkdir /proc");
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		wd_err_sys(&err, errno, "mount /proc");
		fail(cfg, false, INIT_EXIT_FAILED, &err);
	}
	if (check_initial_pidns(&err) < 0) {
		/* Not a VM: do not power anything off, just leave. */
		wd_error("%s", err.msg);
		_exit(INIT_EXIT_USAGE);
	}
	if (read_cmdline(cfg, cmdline, sizeof(cmdline), &err) < 0) {
		wd_err_wrap(&err, "kernel command line");
		fail(cfg, false, INIT_EXIT_CONFIG, &err);
	}
	wd_log_set_level(cfg->log_level);
	/* Ctrl-Alt-Del becomes SIGINT to PID 1, handled as a shutdown request. */
	(void)reboot(RB_DISABLE_CAD);
	if (init_mounts_early(cfg, &err) < 0)
		fail(cfg, false, INIT_EXIT_FAILED, &err);
	run->times.mounts_ns = phase_end(&mark);
	if (init_module_sig_check(cfg->module_sig, &run->module_sig_enforce, &err) < 0 ||
	    init_modules_load(cmdline, &err) < 0)
		fail(cfg, false, INIT_EXIT_FAILED, &err);
	run->times.modules_ns = phase_end(&mark);
	if (init_rootfs_setup(&run->rootfs, &err) < 0)
		fail(cfg, false, INIT_EXIT_FAILED, &err);
	run->rootfs_ns = phase_end(&mark);
	if (init_sysctls_apply(&err) < 0 || init_lockdown_apply(cfg->lockdown, &err) < 0)
		fail(cfg, false, INIT_EXIT_FAILED, &err);
	run->times.sysctls_ns = phase_end(&mark);
	if (init_system_setup(cfg, &err) < 0)
		fail(cfg, false, INIT_EXIT_FAILED, &err);
	run->times.system_ns = phase_end(&mark);
	report_times(run);
	run->argv = sup_argv;
	init_final(cfg, false, init_supervise(run));
}

static void usage(void)
{
	static const char text[] =
		"usage: " PROGRAM
		"                   (as PID 1 of a microVM; keys from the kernel command line)\n"
		"       " PROGRAM " --ns [warden.KEY=VALUE]... [-- PROGRAM [ARG]...]\n"
		"see docs/init.md for every key\n";

	(void)wd_write_all(STDERR_FILENO, text, sizeof(text) - 1);
}

static void __attribute__((noreturn))
boot_ns(struct init_config *cfg, struct init_run *run, int argc, char **argv)
{
	char *sup_argv[2] = {cfg->supervisor, NULL};
	struct wd_err err;
	int i;

	wd_err_clear(&err);
	if (check_initial_pidns(&err) == 0) {
		/* --ns would skip every hardening step of a real guest. */
		wd_error(
			"--ns in the initial PID namespace: refusing (run in a new PID namespace)");
		_exit(INIT_EXIT_USAGE);
	} else if (err.code != EPERM) {
		wd_error("--ns needs /proc of its PID namespace: %s", err.msg);
		_exit(INIT_EXIT_USAGE);
	}
	wd_err_clear(&err);
	for (i = 2; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strncmp(argv[i], "warden.", 7) != 0) {
			wd_error("unexpected argument '%s'", argv[i]);
			usage();
			_exit(INIT_EXIT_USAGE);
		}
		if (init_config_apply(cfg, argv[i], report_unknown, NULL, &err) < 0)
			break;
	}
	if (err.code != 0 || init_config_check(cfg, &err) < 0) {
		wd_error("%s", err.msg);
		_exit(INIT_EXIT_CONFIG);
	}
	wd_log_set_level(cfg->log_level);
	run->argv = (i < argc && i + 1 < argc) ? &argv[i + 1] : sup_argv;
	run->times.mounts_ns = run->times.modules_ns = run->times.sysctls_ns = 0;
	run->times.system_ns = 0;
	/* The host's kernel, as it is: reported, never required here. */
	run->module_sig_enforce = init_module_sig_enforced();
	init_final(cfg, true, init_supervise(run));
}

int main(int argc, char **argv)
{
	struct init_config cfg;
	struct init_run run;
	sigset_t all;

	memset(&run, 0, sizeof(run));
	run.times.t0_ns = wd_mono_ns();
	wd_log_init(PROGRAM, WD_LOG_INFO);
	init_config_defaults(&cfg);
	run.cfg = &cfg;

	/* Signals are read from a signalfd; inherited dispositions do not count. */
	wd_signals_default();
	(void)sigfillset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
	umask(022);

	if (getpid() != 1) {
		wd_error("must run as PID 1 (of a microVM, or of a PID namespace with --ns)");
		usage();
		return INIT_EXIT_USAGE;
	}
	if (argc >= 2 && strcmp(argv[1], "--ns") == 0) {
		run.ns_mode = true;
		boot_ns(&cfg, &run, argc, argv);
	}
	boot_vm(&cfg, &run);
}
