/*
 * tests/vm/vmcheck.c - checks, from inside the booted microVM, that
 * warden-init did what it reports: modules loaded and locked, every
 * hardening sysctl at its value, the mounts with their flags and caps,
 * lockdown, loopback, host name, CRNG.
 *
 * The VM test boots the real image with an extra archive holding this
 * program and `warden.supervisor=/test/vmcheck`; init starts it as the
 * supervisor. It reads the kernel's own view (/proc, /sys), not init's
 * messages, prints one line per check and "vmcheck: N passed, M failed",
 * then execs the real supervisor so the handshake and shutdown are tested
 * on the same boot.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../common/fileio.h"
#include "../../init/init.h"
#include "../../vsock/transport.h"

static unsigned passed, failed;

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void check(int ok, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	printf("vmcheck: %s %s\n", ok ? "ok" : "FAIL", what);
	if (ok)
		passed++;
	else
		failed++;
}

static int read_trimmed(const char *path, char *buf, size_t size)
{
	struct wd_err err;
	size_t len;

	if (wd_read_file(path, buf, size, &len, &err) < 0)
		return -1;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	return 0;
}

static void check_sysctls(void)
{
	char path[160], got[64];

	for (size_t i = 0; i < init_sysctl_count; i++) {
		const struct init_sysctl *s = &init_sysctls[i];

		(void)snprintf(path, sizeof(path), "/proc/sys/%s", s->path);
		if (access(path, F_OK) != 0 && s->optional) {
			printf("vmcheck: skip sysctl %s: absent on this kernel\n", s->path);
			continue;
		}
		check(read_trimmed(path, got, sizeof(got)) == 0 && strcmp(got, s->value) == 0,
		      "sysctl %s = %s (reads %s)", s->path, s->value, got);
	}
	check(read_trimmed("/proc/sys/kernel/modules_disabled", got, sizeof(got)) == 0 &&
		      strcmp(got, "1") == 0,
	      "kernel.modules_disabled = 1");
}

/* One expected mount: type and options that must all appear. */
struct want_mount {
	const char *target, *fstype, *opts[5];
};

static int has_opt(const char *opts, const char *opt)
{
	size_t n = strlen(opt);

	for (const char *p = opts; (p = strstr(p, opt)) != NULL; p += n) {
		if ((p == opts || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

static void check_mounts(void)
{
	/* clang-format off */
	static const struct want_mount want[] = {
		{ "/dev",                 "devtmpfs",   { "nosuid", "noexec", NULL } },
		{ "/dev/pts",             "devpts",     { "nosuid", "noexec", "mode=620", "ptmxmode=666", NULL } },
		{ "/dev/shm",             "tmpfs",      { "nosuid", "nodev", "noexec", "size=16384k", NULL } },
		{ "/proc",                "proc",       { "nosuid", "nodev", "noexec", NULL } },
		{ "/sys",                 "sysfs",      { "ro", "nosuid", "nodev", "noexec", NULL } },
		{ "/sys/kernel/security", "securityfs", { "nosuid", "nodev", "noexec", NULL } },
		{ "/sys/fs/cgroup",       "cgroup2",    { "nosuid", "nodev", "noexec", "nsdelegate", NULL } },
		{ "/run",                 "tmpfs",      { "nosuid", "nodev", "noexec", "size=16384k", "mode=755" } },
		{ "/tmp",                 "tmpfs",      { "nosuid", "nodev", "noexec", "size=65536k", NULL } },
	};
	/* clang-format on */
	static char mounts[16384];
	struct wd_err err;
	size_t len;

	if (wd_read_file("/proc/self/mounts", mounts, sizeof(mounts), &len, &err) < 0) {
		check(0, "read /proc/self/mounts: %s", err.msg);
		return;
	}
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char line_target[128], line_type[32], line_opts[256];
		const char *line = mounts;
		int found = 0, ok = 0;

		while (line != NULL && *line != '\0') {
			if (sscanf(line, "%*s %127s %31s %255s", line_target, line_type,
				   line_opts) == 3 &&
			    strcmp(line_target, want[i].target) == 0) {
				found = 1;
				ok = strcmp(line_type, want[i].fstype) == 0;
				for (size_t j = 0; ok && j < 5 && want[i].opts[j] != NULL; j++)
					ok = has_opt(line_opts, want[i].opts[j]);
			}
			line = strchr(line, '\n');
			line = line != NULL ? line + 1 : NULL;
		}
		check(found && ok, "mount %s %s (%s)", want[i].target, want[i].fstype,
		      found ? line_opts : "not mounted");
	}
}

static void check_modules(void)
{
	static char list[INIT_MODULES_FILE_MAX_BYTES + 1];
	struct wd_err err;
	char *line, *save = NULL;
	size_t len;
	int fd;

	if (wd_read_file(INIT_MODULES_FILE, list, sizeof(list), &len, &err) < 0) {
		check(0, "read %s: %s", INIT_MODULES_FILE, err.msg);
		return;
	}
	for (line = strtok_r(list, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char name[128], path[192];
		const char *base = strrchr(line, '/');
		size_t n;

		if (line[0] == '#' || strncmp(line, "kver ", 5) == 0)
			continue;
		base = base != NULL ? base + 1 : line;
		n = strcspn(base, ".");
		if (n >= sizeof(name))
			continue;
		memcpy(name, base, n);
		name[n] = '\0';
		for (char *p = name; *p != '\0'; p++)
			*p = *p == '-' ? '_' : *p;
		(void)snprintf(path, sizeof(path), "/sys/module/%s", name);
		check(access(path, F_OK) == 0, "module %s loaded", name);
	}
	/* The lock holds: loading anything now is refused. */
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	errno = 0;
	check(fd >= 0 && syscall(SYS_finit_module, fd, "", 0) < 0 && errno == EPERM,
	      "finit_module refused after the lock (%s)", strerror(errno));
	if (fd >= 0)
		(void)close(fd);
}

/*
 * The guest's AF_VSOCK transport, through the vsock_loopback module: listen
 * on a port, connect to CID 1 (this VM), and pass bytes both ways with the
 * same functions the supervisor and the launcher use.
 */
static void check_vsock(void)
{
	struct wd_err err;
	char got[8] = "";
	int lfd, cfd = -1, afd = -1;
	bool ok = false;

	lfd = wd_vsock_listen(5123, &err);
	if (lfd >= 0)
		cfd = wd_vsock_connect(1, 5123, &err);
	if (cfd >= 0)
		afd = wd_accept_one(lfd, 5000, &err);
	if (afd >= 0 && write(cfd, "ping", 4) == 4 && read(afd, got, 4) == 4 &&
	    write(afd, "pong", 4) == 4 && read(cfd, got + 4, 4) == 4)
		ok = memcmp(got, "pingpong", 8) == 0;
	check(ok, "vsock loopback: listen, connect to CID 1, bytes both ways%s%s", ok ? "" : ": ",
	      ok ? "" : err.msg);
	for (int fd, i = 0; i < 3; i++) {
		fd = i == 0 ? lfd : i == 1 ? cfd : afd;
		if (fd >= 0)
			(void)close(fd);
	}
}

static void check_system(void)
{
	char buf[128];
	unsigned long flags = 0;
	unsigned char byte;
	struct stat st;

	check(read_trimmed("/sys/kernel/security/lockdown", buf, sizeof(buf)) == 0 &&
		      strstr(buf, "[confidentiality]") != NULL,
	      "lockdown confidentiality (%s)", buf);
	check(gethostname(buf, sizeof(buf)) == 0 && strcmp(buf, "warden") == 0, "hostname warden");
	check(read_trimmed("/sys/class/net/lo/flags", buf, sizeof(buf)) == 0 &&
		      sscanf(buf, "%lx", &flags) == 1 && (flags & 1) != 0,
	      "loopback up (flags %s)", buf);
	/* Blocking: the kernel gathers jitter entropy if it must. */
	check(getrandom(&byte, 1, 0) == 1, "crng gives random bytes");
	check(getppid() == 1, "started by PID 1");
	check(stat("/tmp", &st) == 0 && (st.st_mode & 07777) == 01777, "/tmp mode 1777");
}

int main(int argc, char **argv)
{
	static char supervisor[] = "/sbin/warden-supervisor";

	(void)argc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	check_sysctls();
	check_mounts();
	check_modules();
	check_system();
	check_vsock();
	printf("vmcheck: %u passed, %u failed\n", passed, failed);
	fflush(stdout);
	argv[0] = supervisor;
	execv(supervisor, argv);
	printf("vmcheck: exec %s: %s\n", supervisor, strerror(errno));
	return 1;
}
