/*
 * init/init.h - the phases of warden-init, PID 1 of the guest.
 *
 * main.c runs them in order; each phase reports every outcome on the
 * console and returns 0 or a negative errno with `err` filled. A phase
 * error is fatal: init reports it in one line and powers the VM off (fail
 * closed). Nothing here may exit PID 1 in a microVM: that panics the kernel.
 *
 * Privileges: all of this runs as real root in the guest, before any
 * untrusted code exists. In namespace mode (`--ns`) only the supervision
 * loop runs; everything global (mounts, modules, sysctls, lockdown, network,
 * host name) is left to whoever created the namespaces.
 */
#ifndef WARDEN_INIT_INIT_H
#define WARDEN_INIT_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/boottimes.h"
#include "../common/err.h"
#include "config.h"
#include "rootfs.h"

#define INIT_MODULES_FILE "/etc/warden/modules"
#define INIT_MODULES_FILE_MAX_BYTES (64UL * 1024UL)
#define INIT_MODULES_MAX 256 /* modules listed in one image */
#define INIT_MODULE_SIG_FILE "/sys/module/module/parameters/sig_enforce"
#define INIT_KILL_WAIT_MS 2000 /* after SIGKILL, how long to wait for stragglers */
#define INIT_RESTART_BACKOFF_MAX_MS 60000

/* Exit statuses of init itself in namespace mode (a VM powers off instead). */
#define INIT_EXIT_USAGE 2   /* bad arguments to warden-init */
#define INIT_EXIT_CONFIG 78 /* bad warden.* value (EX_CONFIG, sysexits.h) */
#define INIT_EXIT_FAILED 1  /* a phase failed before the supervisor ran */

/* Conventions of sh(1) and tini, relied on by callers: */
#define INIT_EXIT_NOT_FOUND 127 /* the program does not exist */
#define INIT_EXIT_NOT_EXEC 126  /* it exists but cannot be executed */

/* console.c: fds 0-2 on /dev/console, creating the node if need be. */
void init_console_setup(void);

/* mounts.c */
int init_mounts_early(const struct init_config *cfg, struct wd_err *err);
void init_mounts_shutdown(void);

/* modules.c */
typedef int (*init_kver_fn)(const char *kver, void *ctx, struct wd_err *err);
typedef int (*init_module_fn)(const char *kver, const char *relpath, void *ctx, struct wd_err *err);
/*
 * Parse the image's module list (format in docs/image.md): a "kver VERSION"
 * line, then one path per line relative to /lib/modules/VERSION, '#'
 * comments and blank lines allowed. Calls `kver_fn` (may be NULL) once with
 * the version, then `fn` per module, in order; a callback's error stops the
 * walk. Rejects absolute paths, "..", over-long lines, more than
 * INIT_MODULES_MAX.
 */
int init_modules_parse(const char *text, size_t len, init_kver_fn kver_fn, init_module_fn fn,
		       void *ctx, struct wd_err *err);

/*
 * The "NAME.key=value" tokens of a kernel command line, for module NAME
 * ('-' and '_' alike), as "key=value key2=value2" in `out`. Stops at "--".
 */
int init_module_params(const char *cmdline, const char *name, char *out, size_t size,
		       struct wd_err *err);

/* Load every module of INIT_MODULES_FILE, then set kernel.modules_disabled=1. */
int init_modules_load(const char *cmdline, struct wd_err *err);

/* Does the kernel enforce module signatures (INIT_MODULE_SIG_FILE reads Y)? */
bool init_module_sig_enforced(void);

/*
 * Before any module loads: `*enforced` is what the kernel says; not
 * enforced is an error (EPERM) unless `want` is INIT_MODULE_SIG_OPTIONAL,
 * which is reported as a warning.
 */
int init_module_sig_check(enum init_module_sig want, bool *enforced, struct wd_err *err);

/* sysctl.c */
struct init_sysctl {
	const char *path;  /* below /proc/sys */
	const char *value; /* written, then read back and compared */
	bool optional;     /* absent on some kernels: reported, not fatal */
};
extern const struct init_sysctl init_sysctls[];
extern const size_t init_sysctl_count;

int init_sysctls_apply(struct wd_err *err);
int init_lockdown_apply(enum init_lockdown mode, struct wd_err *err);

/* system.c */
int init_system_setup(const struct init_config *cfg, struct wd_err *err);

/* supervise.c: never returns in a VM; returns the exit status in namespace mode. */
struct init_run {
	const struct init_config *cfg;
	bool ns_mode;
	char *const *argv; /* supervisor command */
	struct wd_boot_times times;
	uint64_t rootfs_ns;        /* the rootfs phase (console only: not in WARDEN_BOOT_TIMES) */
	bool module_sig_enforce;   /* the kernel's sig_enforce, as read */
	struct init_rootfs rootfs; /* what the rootfs phase set up */
};
int init_supervise(struct init_run *run);

/* The last step: sync, unmount, reboot(2) in a VM; _exit(status) in a namespace. */
void init_final(const struct init_config *cfg, bool ns_mode, int status) __attribute__((noreturn));

#endif
