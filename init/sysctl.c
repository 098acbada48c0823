/*
 * init/sysctl.c - kernel hardening that PID 1 sets once, before any
 * untrusted process exists, and the kernel lockdown level.
 *
 * The table reads top to bottom; every entry is written, read back and
 * compared, and reported. A required entry that is absent or does not take
 * its value is fatal (the VM powers off): the sandbox relies on them. An
 * optional entry exists only on some kernels (newer ones, or with a config
 * option) and is reported as absent.
 *
 * Several values are one-way until reboot (modules_disabled,
 * kexec_load_disabled, unprivileged_bpf_disabled=1, yama ptrace_scope=2):
 * that is the point.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../common/fileio.h"
#include "../common/log.h"
#include "init.h"

#define SYSCTL_VALUE_MAX_BYTES 64
#define LOCKDOWN_FILE "/sys/kernel/security/lockdown"

/* clang-format off */
const struct init_sysctl init_sysctls[] = {
	/* Kernel pointers and the kernel log are not the agent's business. */
	{ "kernel/kptr_restrict",              "2",     false },
	{ "kernel/dmesg_restrict",             "1",     false },
	/* eBPF, perf and kexec are big attack surface that nothing here needs. */
	{ "kernel/unprivileged_bpf_disabled",  "1",     false },
	{ "kernel/perf_event_paranoid",        "3",     false },
	{ "kernel/kexec_load_disabled",        "1",     false },
	{ "net/core/bpf_jit_harden",           "2",     true  },
	/* Only CAP_SYS_PTRACE may attach to another process: the supervisor
	 * reads an exec's arguments from /proc/PID/mem for its audit record
	 * (3 would forbid root too); the agent has no capability, and its
	 * ptrace and process_vm_* calls are denied by seccomp. */
	{ "kernel/yama/ptrace_scope",          "2",     true  },
	/* Link and file tricks in shared writable directories. */
	{ "fs/protected_symlinks",             "1",     false },
	{ "fs/protected_hardlinks",            "1",     false },
	{ "fs/protected_fifos",                "2",     false },
	{ "fs/protected_regular",              "2",     false },
	/* No core dumps of privileged processes (the supervisor holds keys). */
	{ "fs/suid_dumpable",                  "0",     false },
	/* The sandbox uses no user namespace (docs/init.md): nobody may make one. */
	{ "user/max_user_namespaces",          "0",     false },
	{ "kernel/unprivileged_userns_clone",  "0",     true  },
	/* Userfaultfd and line-discipline autoloading widen kernel exploits. */
	{ "vm/unprivileged_userfaultfd",       "0",     false },
	{ "dev/tty/ldisc_autoload",            "0",     false },
	{ "dev/tty/legacy_tiocsti",            "0",     true  },
	{ "kernel/io_uring_disabled",          "2",     true  },
	/* Address-space layout and the NULL page. */
	{ "kernel/randomize_va_space",         "2",     false },
	{ "vm/mmap_min_addr",                  "65536", false },
	/* No magic SysRq; an oops ends the VM instead of limping on (fail closed). */
	{ "kernel/sysrq",                      "0",     false },
	{ "kernel/panic_on_oops",              "1",     false },
};
/* clang-format on */
const size_t init_sysctl_count = sizeof(init_sysctls) / sizeof(init_sysctls[0]);

static int apply_one(const struct init_sysctl *s, struct wd_err *err)
{
	char path[128], got[SYSCTL_VALUE_MAX_BYTES];
	size_t len;

	(void)snprintf(path, sizeof(path), "/proc/sys/%s", s->path);
	if (access(path, F_OK) != 0) {
		if (s->optional) {
			wd_info("sysctl %s: absent on this kernel", s->path);
			return 0;
		}
		return wd_err_sys(err, errno, "sysctl %s", s->path);
	}
	if (wd_write_file(path, s->value, err) < 0 ||
	    wd_read_file(path, got, sizeof(got), &len, err) < 0)
		return wd_err_wrap(err, "sysctl %s", s->path);
	while (len > 0 && (got[len - 1] == '\n' || got[len - 1] == ' '))
		got[--len] = '\0';
	if (strcmp(got, s->value) != 0)
		return wd_err_set(err, EIO, "sysctl %s: wrote %s, reads back %s", s->path, s->value,
				  got);
	wd_info("sysctl %s=%s: set", s->path, s->value);
	return 0;
}

int init_sysctls_apply(struct wd_err *err)
{
	for (size_t i = 0; i < init_sysctl_count; i++) {
		if (apply_one(&init_sysctls[i], err) < 0)
			return -err->code;
	}
	return 0;
}

/* The mode in brackets: "none [integrity] confidentiality" -> "integrity". */
static int lockdown_current(char *mode, size_t size, struct wd_err *err)
{
	char text[128];
	const char *open_b, *close_b;
	size_t len;

	if (wd_read_file(LOCKDOWN_FILE, text, sizeof(text), &len, err) < 0)
		return -err->code;
	open_b = strchr(text, '[');
	close_b = open_b != NULL ? strchr(open_b, ']') : NULL;
	if (close_b == NULL || (size_t)(close_b - open_b - 1) >= size)
		return wd_err_set(err, EINVAL, "%s: unexpected contents", LOCKDOWN_FILE);
	memcpy(mode, open_b + 1, (size_t)(close_b - open_b - 1));
	mode[close_b - open_b - 1] = '\0';
	return 0;
}

/*
 * Lockdown only goes up; the kernel refuses to lower it. Integrity stops
 * writes to kernel memory (/dev/mem, kexec, MSRs, iopl, unsigned modules);
 * confidentiality also stops reads of it (kcore, kprobes, bpf reads of
 * kernel memory, tracefs). warden needs none of those, so the default is
 * confidentiality (docs/init.md).
 */
int init_lockdown_apply(enum init_lockdown mode, struct wd_err *err)
{
	char current[32];

	if (access(LOCKDOWN_FILE, F_OK) != 0) {
		/* No silent weakening: booting without it must be asked for. */
		if (mode != INIT_LOCKDOWN_NONE)
			return wd_err_set(err, ENOSYS,
					  "lockdown: not offered by this kernel (%s absent); "
					  "warden.lockdown=none boots without it",
					  LOCKDOWN_FILE);
		wd_warn("lockdown: none (warden.lockdown=none)");
		return 0;
	}
	if (mode != INIT_LOCKDOWN_NONE &&
	    wd_write_file(LOCKDOWN_FILE, init_lockdown_names[mode], err) < 0) {
		/* Already at or above the requested level is fine; below is not. */
		if (lockdown_current(current, sizeof(current), err) < 0)
			return wd_err_wrap(err, "lockdown");
		if (strcmp(current, "confidentiality") != 0 &&
		    strcmp(current, init_lockdown_names[mode]) != 0)
			return wd_err_set(err, EPERM, "lockdown: cannot raise %s to %s", current,
					  init_lockdown_names[mode]);
	}
	if (lockdown_current(current, sizeof(current), err) < 0)
		return wd_err_wrap(err, "lockdown");
	if (mode != INIT_LOCKDOWN_NONE && strcmp(current, "none") == 0)
		return wd_err_set(err, EIO, "lockdown: still none after asking for %s",
				  init_lockdown_names[mode]);
	wd_info("lockdown: %s", current);
	return 0;
}
