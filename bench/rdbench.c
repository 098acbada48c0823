/*
 * bench/rdbench.c - the first read of a large file through dm-verity,
 * against the same read from the same erofs image without verity.
 *
 * Runs inside the microVM in place of the supervisor
 * (warden.supervisor=/bench/rdbench), as root, after warden-init has set up
 * the verified root filesystem (/run/warden/rootfs on dm-verity over the
 * data device). It maps the data device a second time as a plain
 * device-mapper `linear` target (dm-verity holds the disk itself; another
 * mapping may share it) with init's own device-mapper code, mounts that as
 * erofs (read-only) at RDB_PLAIN, then reads FILE in full from each
 * mount, ROUNDS times, alternating and dropping the page cache before each
 * read, so every read is a first read from the device. One line per read
 * and a summary go to the console:
 *
 *   rdbench: verity 64.0 MiB in 812.3 ms
 *   rdbench: plain 64.0 MiB in 701.9 ms
 *   rdbench: median verity 812.3 ms plain 701.9 ms ratio 1.157
 *
 * The file is RDB_FILE of the image, read RDB_ROUNDS times; the kernel
 * command line may say otherwise (rdbench.file=/PATH rdbench.rounds=N:
 * keys of no module, so the kernel leaves them there). A benchmark, never
 * a product path: it exits, and warden-init ends the VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/fileio.h"
#include "../init/rootfs.h"

#define RDB_VERITY "/run/warden/rootfs"
#define RDB_PLAIN "/run/rdbench-plain"
#define RDB_DM_NAME "rdbench-plain"
#define RDB_FILE "/opt/rdbench/blob"
#define RDB_ROUNDS 3
#define RDB_MAX_ROUNDS 15
#define RDB_BUF_BYTES (1U << 20)

static char cmdline[4096];

/* The value of "key=" on the kernel command line, into out; 0 or -1. */
static int cmd_value(const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);

	for (const char *p = cmdline; *p != '\0';) {
		size_t n = strcspn(p, " \n");

		if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=' &&
		    n - klen - 1 < size) {
			memcpy(out, p + klen + 1, n - klen - 1);
			out[n - klen - 1] = '\0';
			return 0;
		}
		p += n;
		p += strspn(p, " \n");
	}
	return -1;
}

/* The block device under the verity mapping: the one whose serial names the data. */
static int find_data_device(char *out, size_t size, uint64_t *sectors)
{
	char path[64], serial[64], text[32];
	size_t len;
	struct wd_err err;

	for (int i = 0; i < 26; i++) {
		char c = (char)('a' + i);

		(void)snprintf(path, sizeof(path), "/sys/block/vd%c/serial", c);
		if (wd_read_file(path, serial, sizeof(serial), &len, &err) < 0)
			continue;
		while (len > 0 && (serial[len - 1] == '\n' || serial[len - 1] == '\0'))
			len--;
		serial[len] = '\0';
		if (strcmp(serial, "warden-rootfs") == 0) {
			(void)snprintf(out, size, "/dev/vd%c", c);
			(void)snprintf(path, sizeof(path), "/sys/block/vd%c/size", c);
			if (wd_read_file(path, text, sizeof(text), &len, &err) < 0)
				return -1;
			*sectors = strtoull(text, NULL, 10);
			return *sectors > 0 ? 0 : -1;
		}
	}
	return -1;
}

static void drop_caches(void)
{
	struct wd_err err;

	sync();
	if (wd_write_file("/proc/sys/vm/drop_caches", "3", &err) < 0)
		printf("rdbench: cannot drop caches: %s\n", err.msg);
}

/* Read `path` in full; its duration in ns, or 0 on failure. */
static uint64_t read_all(const char *path, uint64_t *bytes)
{
	static char buf[RDB_BUF_BYTES];
	uint64_t t0 = wd_mono_ns();
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	*bytes = 0;
	if (fd < 0) {
		printf("rdbench: open %s: %s\n", path, strerror(errno));
		return 0;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		*bytes += (uint64_t)n;
	if (n < 0)
		printf("rdbench: read %s: %s\n", path, strerror(errno));
	(void)close(fd);
	return n < 0 ? 0 : wd_mono_ns() - t0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	char file[256], rounds_text[16], dev[32], path[512], params[64], node[32];
	uint64_t verity[RDB_MAX_ROUNDS], plain[RDB_MAX_ROUNDS], bytes = 0, sectors = 0, mapped;
	struct stat st;
	size_t mid;
	struct wd_err err;
	size_t len;
	long rounds = RDB_ROUNDS;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (wd_read_file("/proc/cmdline", cmdline, sizeof(cmdline), &len, &err) < 0) {
		printf("rdbench: %s\n", err.msg);
		return 1;
	}
	if (cmd_value("rdbench.file", file, sizeof(file)) < 0)
		(void)snprintf(file, sizeof(file), "%s", RDB_FILE);
	if (file[0] != '/') {
		printf("rdbench: rdbench.file must be an absolute path\n");
		return 1;
	}
	if (cmd_value("rdbench.rounds", rounds_text, sizeof(rounds_text)) == 0)
		rounds = strtol(rounds_text, NULL, 10);
	if (rounds < 1 || rounds > RDB_MAX_ROUNDS) {
		printf("rdbench: rdbench.rounds must be 1-%d\n", RDB_MAX_ROUNDS);
		return 1;
	}
	if (find_data_device(dev, sizeof(dev), &sectors) < 0 || stat(dev, &st) < 0) {
		printf("rdbench: no block device with serial warden-rootfs\n");
		return 1;
	}
	(void)snprintf(params, sizeof(params), "%u:%u 0", major(st.st_rdev), minor(st.st_rdev));
	if (init_dm_create(RDB_DM_NAME, "linear", sectors, params, &mapped, &err) < 0) {
		printf("rdbench: %s\n", err.msg);
		return 1;
	}
	(void)snprintf(node, sizeof(node), "/dev/dm-%u", minor((dev_t)mapped));
	if (mkdir(RDB_PLAIN, 0755) < 0 && errno != EEXIST) {
		printf("rdbench: mkdir %s: %s\n", RDB_PLAIN, strerror(errno));
		return 1;
	}
	if (mount(node, RDB_PLAIN, "erofs", MS_RDONLY | MS_NODEV | MS_NOSUID, NULL) < 0) {
		printf("rdbench: mount %s (linear over %s) as plain erofs: %s\n", node, dev,
		       strerror(errno));
		return 1;
	}
	for (long i = 0; i < rounds; i++) {
		uint64_t b;

		drop_caches();
		(void)snprintf(path, sizeof(path), "%s%s", RDB_VERITY, file);
		verity[i] = read_all(path, &bytes);
		drop_caches();
		(void)snprintf(path, sizeof(path), "%s%s", RDB_PLAIN, file);
		plain[i] = read_all(path, &b);
		if (verity[i] == 0 || plain[i] == 0 || b != bytes)
			return 1;
		printf("rdbench: verity %.1f MiB in %.1f ms\n", (double)bytes / 1048576.0,
		       (double)verity[i] / 1e6);
		printf("rdbench: plain %.1f MiB in %.1f ms\n", (double)b / 1048576.0,
		       (double)plain[i] / 1e6);
	}
	(void)umount(RDB_PLAIN);
	qsort(verity, (size_t)rounds, sizeof(verity[0]), cmp_u64);
	qsort(plain, (size_t)rounds, sizeof(plain[0]), cmp_u64);
	mid = (size_t)rounds / 2;
	printf("rdbench: median verity %.1f ms plain %.1f ms ratio %.3f\n",
	       (double)verity[mid] / 1e6, (double)plain[mid] / 1e6,
	       (double)verity[mid] / (double)plain[mid]);
	return 0;
}
