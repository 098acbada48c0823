/*
 * tests/fuzz/fuzz_tarread.c - host/tarread.c and the staging rules of
 * host/rootfs*.c on arbitrary bytes, read as the tar `warden image build
 * --rootfs TAR` was given.
 *
 * Two passes over each input. The reader alone: every entry it hands on
 * keeps tarread.h's promises (a non-empty NUL-terminated name within
 * WD_TAR_PATH_MAX, a link target within WD_TAR_LINK_MAX, a known type, a
 * mode within 07777, data only on files, never more data than `size`).
 * Then the whole staging into a private directory P/stage: whatever the
 * input, nothing appears in P but "stage" (no entry escapes), and after a
 * successful stage the tree's listing shows no setuid or setgid bit and no
 * device or socket, and every path in it is rooted and free of "..".
 * The directory is removed after each input.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../host/rootfs.h"
#include "../../host/tarread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char parent[256];

static int memfd_of(const uint8_t *data, size_t size)
{
	int fd = memfd_create("tar", MFD_CLOEXEC);

	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size) ||
	    lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}

static void reader_pass(const uint8_t *data, size_t size)
{
	static char buf[4096];
	struct wd_tar_entry *e = malloc(sizeof(*e));
	struct wd_tar *t = NULL;
	struct wd_err err;
	int fd = memfd_of(data, size), rc;
	uint8_t digest[32];

	if (e == NULL)
		abort();
	wd_err_clear(&err);
	if (wd_tar_open(fd, &t, &err) != 0)
		abort();
	while ((rc = wd_tar_next(t, e, &err)) == 1) {
		uint64_t total = 0;
		size_t got;

		if (e->path[0] == '\0' || strlen(e->path) > WD_TAR_PATH_MAX ||
		    strlen(e->link) > WD_TAR_LINK_MAX || e->mode > 07777)
			abort();
		if (strchr("fhlcbdp", (int)e->type) == NULL)
			abort();
		if (e->type != WD_TAR_FILE && e->size != 0)
			abort();
		if ((e->type == WD_TAR_HARDLINK || e->type == WD_TAR_SYMLINK) && e->link[0] == '\0')
			abort();
		/* Read half the entries' data; the reader skips the rest. */
		while ((e->header_offset / 512) % 2 == 0 &&
		       (rc = wd_tar_read(t, buf, sizeof(buf), &got, &err)) == 0 && got > 0)
			total += got;
		if (total > e->size)
			abort();
		if (rc < 0)
			break;
	}
	if (rc == 0)
		rc = wd_tar_finish(t, digest, &err);
	if (rc < 0 && (err.code <= 0 || err.msg[0] == '\0'))
		abort(); /* a failure always says what failed */
	wd_tar_close(t);
	free(e);
	close(fd);
}

/* Check one listing line: "PATH TYPE MODE UID GID SIZE EXTRA". */
static void check_line(char *line)
{
	char *path = strtok(line, " "), *type = strtok(NULL, " "), *mode = strtok(NULL, " ");
	unsigned long m;

	if (path == NULL || type == NULL || mode == NULL || path[0] != '/')
		abort();
	if (strstr(path, "/../") != NULL ||
	    (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0))
		abort();
	if (strlen(type) != 1 || strchr("dfhlp", type[0]) == NULL)
		abort();
	m = strtoul(mode, NULL, 8);
	if ((m & 06000) != 0)
		abort();
}

static void check_listing(int dirfd)
{
	struct wd_err err;
	uint8_t digest[32];
	int fd = memfd_create("listing", MFD_CLOEXEC);
	off_t n;
	char *text, *line, *save = NULL;

	wd_err_clear(&err);
	if (fd < 0 || wd_rootfs_tree(dirfd, false, 0, fd, digest, &err) != 0)
		abort();
	n = lseek(fd, 0, SEEK_END);
	text = calloc(1, (size_t)n + 1);
	if (text == NULL || pread(fd, text, (size_t)n, 0) != n)
		abort();
	line = strtok_r(text, "\n", &save);
	if (line == NULL || strcmp(line, WD_ROOTFS_TREE_FORMAT) != 0)
		abort();
	while ((line = strtok_r(NULL, "\n", &save)) != NULL)
		check_line(line);
	free(text);
	close(fd);
}

static void stage_pass(const uint8_t *data, size_t size)
{
	struct wd_rootfs_opts opts = {.quiet = true, .max_entries = 256, .max_bytes = 1 << 20};
	struct wd_rootfs_report rep;
	struct wd_err err;
	char stage[300];
	int fd = memfd_of(data, size), sfd, rc, entries = 0;
	DIR *d;
	const struct dirent *de;

	snprintf(stage, sizeof(stage), "%s/stage", parent);
	if (mkdir(stage, 0700) != 0)
		abort();
	sfd = open(stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		abort();
	wd_err_clear(&err);
	rc = wd_rootfs_stage_tar(fd, "fuzz", sfd, 0, &opts, &rep, &err);
	if (rc < 0 && (err.code <= 0 || err.msg[0] == '\0'))
		abort();
	if (rc == 0)
		check_listing(sfd);
	wd_rootfs_report_free(&rep);
	close(sfd);
	close(fd);

	/* Nothing but the staging directory in its parent. */
	d = opendir(parent);
	if (d == NULL)
		abort();
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    (strcmp(de->d_name, "stage") != 0 || entries++ != 0))
			abort();
	}
	closedir(d);
	wd_err_clear(&err);
	if (wd_rootfs_remove(stage, &err) != 0)
		abort();
}

static void remove_parent(void)
{
	rmdir(parent);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (parent[0] == '\0') {
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

		snprintf(parent, sizeof(parent), "%s/warden-fuzz-tarread-XXXXXX", base);
		if (mkdtemp(parent) == NULL)
			abort();
		atexit(remove_parent);
	}
	reader_pass(data, size);
	stage_pass(data, size);
	return 0;
}
