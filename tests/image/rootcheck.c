/*
 * tests/image/rootcheck.c - checks, from inside the booted microVM, what
 * warden-init's rootfs phase set up (tests/image/boot.sh).
 *
 * Started by init in the supervisor's place (`warden.supervisor=/test/
 * rootcheck`), it reads the kernel's own view, not init's messages, and
 * prints one line per finding, which the host script judges:
 *
 *   rootcheck: env NAME=VALUE          the rootfs variables and init's record
 *                                      (WARDEN_INIT_RECORD) as received
 *   rootcheck: sig_enforce Y|N         the kernel's module parameter
 *   rootcheck: ok|FAIL WHAT            a check with a fixed expectation
 *   rootcheck: file PATH ok N | EIO | ERR errno-name
 *                                      every regular file under the image's
 *                                      /data read to the end
 *   rootcheck: N passed, M failed
 *
 * The fixed checks, when WARDEN_ROOTFS is set: the mount is erofs from a
 * dm device, read-only, nosuid, nodev; creating a file there fails
 * (EROFS); a device node in the image cannot be opened (nodev); a set-uid
 * root program in the image, run by uid 65534, does not run as root
 * (nosuid); a program of the image runs (exec from the verified root
 * works); the raw devices (vda, vdb) refuse a write. It also asks the kernel for
 * a file system it does not have (vfat), which must reach the module
 * loader: the boot script's modprobe stand-in logs it, proving that its
 * silence about every other request means none was made.
 *
 * `rootcheck euid` prints the effective uid and exits (the set-uid probe);
 * `rootcheck hello` prints a greeting (the exec probe).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROOT "/run/warden/rootfs"
#define NOBODY 65534

static unsigned passed, failed;

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void check(int ok, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	printf("rootcheck: %s %s\n", ok ? "ok" : "FAIL", what);
	if (ok)
		passed++;
	else
		failed++;
}

/* Run ROOT/bin/PROG ARG (as uid `uid` when not 0); its first output line in out. */
static int run_image_program(const char *prog, const char *arg, uid_t uid, char *out, size_t size)
{
	char path[128];
	int p[2], status;
	ssize_t n;
	pid_t pid;

	(void)snprintf(path, sizeof(path), ROOT "/bin/%s", prog);
	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		(void)dup2(p[1], 1);
		if (uid != 0 && (setgid(uid) < 0 || setuid(uid) < 0))
			_exit(125);
		execl(path, path, arg, (char *)NULL);
		_exit(127);
	}
	(void)close(p[1]);
	n = read(p[0], out, size - 1);
	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	(void)close(p[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void check_mount(void)
{
	char line[512], src[128], dst[128], type[32], opts[256];
	struct statvfs sv;
	FILE *f = fopen("/proc/self/mounts", "r");
	int found = 0;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%127s %127s %31s %255s", src, dst, type, opts) == 4 &&
		    strcmp(dst, ROOT) == 0) {
			found = 1;
			break;
		}
	}
	if (f != NULL)
		(void)fclose(f);
	check(found && strcmp(type, "erofs") == 0 && strncmp(src, "/dev/dm-", 8) == 0,
	      "%s is erofs from a dm device (%s %s)", ROOT, found ? src : "-",
	      found ? type : "not mounted");
	check(statvfs(ROOT, &sv) == 0 && (sv.f_flag & ST_RDONLY) && (sv.f_flag & ST_NOSUID) &&
		      (sv.f_flag & ST_NODEV),
	      "%s is read-only, nosuid, nodev (%s)", ROOT, found ? opts : "-");
}

static void check_attacks(void)
{
	char out[64];
	int fd, rc;

	errno = 0;
	fd = open(ROOT "/new-file", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	check(fd < 0 && errno == EROFS, "creating a file in the image fails: %s", strerror(errno));
	if (fd >= 0)
		(void)close(fd);
	errno = 0;
	fd = open(ROOT "/data/null", O_RDONLY | O_CLOEXEC);
	check(fd < 0 && errno == EACCES, "a device node in the image cannot be opened: %s",
	      strerror(errno));
	if (fd >= 0)
		(void)close(fd);
	rc = run_image_program("rootcheck-suid", "euid", NOBODY, out, sizeof(out));
	check(rc == 0 && atoi(out) == NOBODY,
	      "a set-uid root program of the image runs as uid %d, not root (euid %s, status %d)",
	      NOBODY, out, rc);
	rc = run_image_program("rootcheck", "hello", 0, out, sizeof(out));
	check(rc == 0 && strncmp(out, "hello from the verified root", 28) == 0,
	      "a program of the image runs (status %d)", rc);
	for (int i = 0; i < 2; i++) {
		const char *dev = i == 0 ? "/dev/vda" : "/dev/vdb";

		errno = 0;
		fd = open(dev, O_WRONLY | O_CLOEXEC);
		rc = fd >= 0 ? (int)write(fd, "x", 1) : -1;
		check(rc < 0, "the raw device %s refuses a write: %s", dev, strerror(errno));
		if (fd >= 0)
			(void)close(fd);
	}
}

static void read_files(const char *dir)
{
	static char buf[65536];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d == NULL) {
		check(0, "open %s: %s", dir, strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char path[512];
		long long total = 0;
		struct stat st;
		ssize_t n;
		int fd;

		(void)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_name[0] == '.' || lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			printf("rootcheck: file %s ERR %s\n", path + strlen(ROOT), strerror(errno));
			continue;
		}
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			total += n;
		if (n < 0 && errno == EIO)
			printf("rootcheck: file %s EIO\n", path + strlen(ROOT));
		else if (n < 0)
			printf("rootcheck: file %s ERR %s\n", path + strlen(ROOT), strerror(errno));
		else
			printf("rootcheck: file %s ok %lld\n", path + strlen(ROOT), total);
		(void)close(fd);
	}
	(void)closedir(d);
}

static void print_env(const char *name)
{
	const char *v = getenv(name);

	printf("rootcheck: env %s=%s\n", name, v != NULL ? v : "(unset)");
}

int main(int argc, char **argv)
{
	char sig[8] = "?";
	FILE *f;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "euid") == 0) {
		printf("%d\n", (int)geteuid());
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "hello") == 0) {
		printf("hello from the verified root\n");
		return 0;
	}
	print_env("WARDEN_ROOTFS");
	print_env("WARDEN_ROOTFS_HASH");
	print_env("WARDEN_ROOTFS_DM");
	print_env("WARDEN_INIT_RECORD");
	f = fopen("/sys/module/module/parameters/sig_enforce", "r");
	if (f != NULL) {
		if (fgets(sig, sizeof(sig), f) != NULL)
			sig[strcspn(sig, "\n")] = '\0';
		(void)fclose(f);
	}
	printf("rootcheck: sig_enforce %s\n", sig);
	if (getenv("WARDEN_ROOTFS") != NULL) {
		check_mount();
		check_attacks();
		read_files(ROOT "/data");
	}
	/* The positive control of the modprobe stand-in (see above). */
	(void)mkdir("/tmp/vfat", 0700);
	errno = 0;
	rc = mount("none", "/tmp/vfat", "vfat", 0, NULL);
	check(rc < 0 && errno == ENODEV, "a file system the kernel lacks is not there: %s",
	      strerror(errno));
	printf("rootcheck: %u passed, %u failed\n", passed, failed);
	return 0;
}
