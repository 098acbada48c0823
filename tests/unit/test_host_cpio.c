/*
 * tests/unit/test_host_cpio.c - host/cpio.c: an archive written and read
 * back is the same archive; the writer gives GNU cpio's `-o -H newc
 * --reproducible -R 0:0` bytes for the same tree; the reader refuses
 * every kind of hostile archive its header lists, each with a message; and
 * the decompression in front of it (host/imageio.h) is bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/fileio.h"
#include "../../host/cpio.h"
#include "../../host/imageio.h"
#include "../../host/toolrun.h"

#define EPOCH 1700000000u

static struct wd_err err;

/* The bytes of an archive written by wd_cpio_write, malloc'd. */
static uint8_t *written(const struct wd_cpio *c, uint64_t mtime, size_t *len)
{
	int fd = memfd_create("t", MFD_CLOEXEC);
	uint8_t *buf;
	off_t end;

	assert_true(fd >= 0);
	assert_int_equal(wd_cpio_write(c, mtime, fd, &err), 0);
	end = lseek(fd, 0, SEEK_END);
	assert_true(end > 0);
	buf = malloc((size_t)end);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, (size_t)end, 0), end);
	(void)close(fd);
	*len = (size_t)end;
	return buf;
}

/* A small tree of every type the archive carries. */
static void small_tree(struct wd_cpio *c)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(wd_cpio_add(c, "bin", S_IFDIR | 0755, NULL, 0, &err), 0);
	assert_int_equal(
		wd_cpio_add(c, "bin/tool", S_IFREG | 0755, "#!/bin/sh\nexit 0\n", 17, &err), 0);
	assert_int_equal(wd_cpio_add(c, "bin/sh", S_IFLNK | 0777, "/bin/busybox", 12, &err), 0);
	assert_int_equal(wd_cpio_add_dirs(c, "etc/warden/x", &err), 0);
	assert_int_equal(wd_cpio_add(c, "etc/warden/x", S_IFREG | 0644, "abc", 3, &err), 0);
	assert_int_equal(wd_cpio_add(c, "etc/empty", S_IFREG | 0600, NULL, 0, &err), 0);
	assert_int_equal(wd_cpio_add(c, "dev", S_IFDIR | 0755, NULL, 0, &err), 0);
	assert_int_equal(wd_cpio_add(c, "dev/console", S_IFCHR | 0600, NULL, 0, &err), 0);
	c->e[c->n - 1].rmajor = 5;
	c->e[c->n - 1].rminor = 1;
	wd_cpio_sort(c);
}

static void test_round_trip(void **state)
{
	struct wd_cpio c, r;
	uint8_t *a, *b;
	size_t alen, blen;

	(void)state;
	small_tree(&c);
	a = written(&c, EPOCH, &alen);
	assert_int_equal(alen % 512, 0);
	assert_int_equal(wd_cpio_parse(a, alen, &r, &err), 0);
	assert_int_equal(r.n, c.n);
	for (size_t i = 0; i < c.n; i++) {
		assert_string_equal(r.e[i].name, c.e[i].name);
		assert_int_equal(r.e[i].mode, c.e[i].mode);
		assert_int_equal(r.e[i].size, c.e[i].size);
		assert_int_equal(r.e[i].mtime, EPOCH);
		assert_int_equal(r.e[i].uid, 0);
		assert_int_equal(r.e[i].rmajor, c.e[i].rmajor);
		assert_int_equal(r.e[i].rminor, c.e[i].rminor);
		assert_memory_equal(r.e[i].data, c.e[i].data, c.e[i].size);
	}
	assert_string_equal(wd_cpio_find(&r, "dev/console")->name, "dev/console");
	assert_int_equal(wd_cpio_find(&r, "dev/console")->rminor, 1);
	/* Written again: the same bytes. */
	b = written(&r, EPOCH, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	wd_cpio_free(&r);
	wd_cpio_free(&c);
	free(a);
	free(b);
}

static void test_add_and_remove(void **state)
{
	struct wd_cpio c;

	(void)state;
	small_tree(&c);
	assert_int_equal(wd_cpio_add(&c, "bin/tool", S_IFREG | 0644, "x", 1, &err), -EEXIST);
	assert_int_equal(wd_cpio_add(&c, "nodir/file", S_IFREG | 0644, "x", 1, &err), -ENOTDIR);
	assert_int_equal(wd_cpio_add(&c, "bin/tool/under", S_IFREG | 0644, "x", 1, &err), -ENOTDIR);
	assert_int_equal(wd_cpio_add_dirs(&c, "bin/tool/under", &err), -ENOTDIR);
	assert_int_equal(wd_cpio_add(&c, "/abs", S_IFREG | 0644, "x", 1, &err), -EINVAL);
	assert_int_equal(wd_cpio_add(&c, "bin/../x", S_IFREG | 0644, "x", 1, &err), -EINVAL);
	assert_int_equal(wd_cpio_add(&c, "suid", S_IFREG | 04755, "x", 1, &err), -EINVAL);
	assert_int_equal(wd_cpio_add(&c, "fifo", S_IFIFO | 0644, NULL, 0, &err), -EINVAL);
	assert_int_equal(
		wd_cpio_add(&c, "big", S_IFREG | 0644, "x", (size_t)WD_CPIO_FILE_MAX + 1, &err),
		-E2BIG);
	assert_true(wd_cpio_remove(&c, "bin/tool"));
	assert_false(wd_cpio_remove(&c, "bin/tool"));
	assert_null(wd_cpio_find(&c, "bin/tool"));
	assert_int_equal(wd_cpio_add(&c, "bin/tool", S_IFREG | 0644, "y", 1, &err), 0);
	wd_cpio_free(&c);
}

/* GNU cpio, given the same tree on disk, writes the same bytes. */
static void test_same_bytes_as_gnu_cpio(void **state)
{
	char dir[] = "/tmp/warden-test-cpio.XXXXXX", path[256], script[1024];
	const struct timespec ts[2] = {{.tv_sec = EPOCH, .tv_nsec = 0},
				       {.tv_sec = EPOCH, .tv_nsec = 0}};
	struct wd_tool t = {.in_fd = -1};
	struct wd_cpio c;
	struct wd_argv a;
	uint8_t *ours, *theirs;
	size_t olen;
	off_t tlen;
	int out;

	(void)state;
	if (wd_tool_find("cpio", path, sizeof(path), &err) < 0)
		skip();
	assert_non_null(mkdtemp(dir));
	small_tree(&c);
	/* No device node: creating one needs root; the rest of the tree. */
	assert_true(wd_cpio_remove(&c, "dev/console"));
	for (size_t i = 0; i < c.n; i++) {
		const struct wd_cpio_entry *e = &c.e[i];
		int fd;

		(void)snprintf(path, sizeof(path), "%s/%s", dir, e->name);
		switch (e->mode & S_IFMT) {
		case S_IFDIR:
			assert_int_equal(mkdir(path, 0700), 0);
			break;
		case S_IFLNK:
			assert_int_equal(symlink("/bin/busybox", path), 0);
			break;
		default:
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
			assert_true(fd >= 0);
			assert_int_equal(wd_write_all(fd, e->data, e->size), 0);
			(void)close(fd);
		}
		if ((e->mode & S_IFMT) != S_IFLNK)
			assert_int_equal(chmod(path, e->mode & 07777), 0);
	}
	for (size_t i = c.n; i-- > 0;) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir, c.e[i].name);
		assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
	}
	out = memfd_create("gnu", MFD_CLOEXEC);
	assert_true(out >= 0);
	(void)snprintf(script, sizeof(script),
		       "cd '%s' && find . -mindepth 1 -printf '%%P\\0' | LC_ALL=C sort -z | "
		       "cpio --quiet -o -0 -H newc --reproducible -R 0:0",
		       dir);
	wd_argv_init(&a);
	wd_argv_add(&a, "sh");
	wd_argv_add(&a, "-c");
	wd_argv_add(&a, "%s", script);
	t.out_fd = out;
	if (wd_tool_run(&t, &a, &err) < 0)
		fail_msg("%s", err.msg);
	tlen = lseek(out, 0, SEEK_END);
	theirs = malloc((size_t)tlen);
	assert_non_null(theirs);
	assert_int_equal(pread(out, theirs, (size_t)tlen, 0), tlen);
	ours = written(&c, EPOCH, &olen);
	assert_int_equal(olen, (size_t)tlen);
	assert_memory_equal(ours, theirs, olen);
	(void)close(out);
	free(ours);
	free(theirs);
	wd_cpio_free(&c);
	(void)snprintf(script, sizeof(script), "rm -rf -- '%s'", dir);
	assert_int_equal(system(script), 0);
}

/* ---- hostile archives ------------------------------------------------------ */

struct arc {
	uint8_t buf[65536];
	size_t len;
};

static void hdr(struct arc *a, uint32_t mode, uint32_t nlink, uint32_t size, uint32_t namesize,
		const char *name, size_t name_bytes)
{
	char h[111];

	(void)snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		       1u, mode, 0u, 0u, nlink, EPOCH, size, 0u, 0u, 0u, 0u, namesize, 0u);
	memcpy(a->buf + a->len, h, 110);
	a->len += 110;
	memcpy(a->buf + a->len, name, name_bytes);
	a->len += name_bytes;
	while (a->len % 4 != 0)
		a->buf[a->len++] = 0;
}

static void entry(struct arc *a, const char *name, uint32_t mode, const void *data, uint32_t size)
{
	hdr(a, mode, (mode & S_IFMT) == S_IFDIR ? 2 : 1, size, (uint32_t)strlen(name) + 1, name,
	    strlen(name) + 1);
	if (size > 0)
		memcpy(a->buf + a->len, data, size);
	a->len += size;
	while (a->len % 4 != 0)
		a->buf[a->len++] = 0;
}

static void trailer(struct arc *a)
{
	entry(a, "TRAILER!!!", 0, NULL, 0);
}

/* Parse must fail with `code`, the message holding `words`. */
static void refused(const struct arc *a, int code, const char *words)
{
	struct wd_cpio c;
	int rc = wd_cpio_parse(a->buf, a->len, &c, &err);

	if (rc != -code || strstr(err.msg, words) == NULL)
		fail_msg("expected -%d with '%s', got %d: %s", code, words, rc, err.msg);
	assert_null(c.e);
	assert_int_equal(c.n, 0);
}

static void test_a_plain_archive_reads(void **state)
{
	static struct arc a;
	struct wd_cpio c;

	(void)state;
	a.len = 0;
	entry(&a, "etc", S_IFDIR | 0755, NULL, 0);
	entry(&a, "etc/f", S_IFREG | 0644, "data", 4);
	trailer(&a);
	memset(a.buf + a.len, 0, 300); /* padding after the trailer is fine */
	a.len += 300;
	assert_int_equal(wd_cpio_parse(a.buf, a.len, &c, &err), 0);
	assert_int_equal(c.n, 2);
	wd_cpio_free(&c);
}

static void test_hostile_headers(void **state)
{
	static struct arc a;

	(void)state;
	a.len = 0;
	entry(&a, "x", S_IFREG | 0644, "d", 1);
	memcpy(a.buf, "070702", 6); /* the crc format */
	trailer(&a);
	refused(&a, EINVAL, "bad magic");

	a.len = 0;
	entry(&a, "x", S_IFREG | 0644, "d", 1);
	a.buf[20] = 'G';
	trailer(&a);
	refused(&a, EINVAL, "bad hex");

	a.len = 0; /* no trailer */
	entry(&a, "x", S_IFREG | 0644, "d", 1);
	refused(&a, EINVAL, "truncated header");

	a.len = 0; /* empty input */
	refused(&a, EINVAL, "truncated header");

	a.len = 0; /* something after the trailer */
	trailer(&a);
	a.buf[a.len++] = 'x';
	refused(&a, EINVAL, "after TRAILER");
}

static void test_hostile_names(void **state)
{
	static struct arc a;
	static const char *const bad[] = {"/abs", "../up", "a/../b", "a//b",
					  "a/",   ".",     "a/./b",  ""};
	char huge[WD_CPIO_NAME_MAX + 8];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a.len = 0;
		entry(&a, "a", S_IFDIR | 0755, NULL, 0);
		if (bad[i][0] == '\0')
			hdr(&a, S_IFREG | 0644, 1, 0, 1, "", 1);
		else
			entry(&a, bad[i], S_IFREG | 0644, NULL, 0);
		trailer(&a);
		refused(&a, EINVAL, bad[i][0] == '\0' ? "name size" : "relative path");
	}
	a.len = 0; /* namesize says 3, the name runs on */
	hdr(&a, S_IFREG | 0644, 1, 0, 3, "abcd", 4);
	trailer(&a);
	refused(&a, EINVAL, "NUL-terminated");
	a.len = 0; /* a NUL inside the name */
	hdr(&a, S_IFREG | 0644, 1, 0, 4, "a\0b", 4);
	trailer(&a);
	refused(&a, EINVAL, "NUL-terminated");
	a.len = 0; /* longer than the bound */
	memset(huge, 'n', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	entry(&a, huge, S_IFREG | 0644, NULL, 0);
	trailer(&a);
	refused(&a, EINVAL, "name size");
	a.len = 0; /* namesize beyond the end of the input */
	hdr(&a, S_IFREG | 0644, 1, 0, 4000, "ab", 3);
	refused(&a, EINVAL, "beyond the end");
}

static void test_hostile_entries(void **state)
{
	static struct arc a;

	(void)state;
	a.len = 0;
	entry(&a, "x", S_IFREG | 0644, "d", 1);
	entry(&a, "x", S_IFREG | 0644, "e", 1);
	trailer(&a);
	refused(&a, EINVAL, "given twice");

	a.len = 0; /* a parent that is not there */
	entry(&a, "a/b", S_IFREG | 0644, "d", 1);
	trailer(&a);
	refused(&a, EINVAL, "parent");

	a.len = 0; /* a parent that is a file, or a symlink */
	entry(&a, "a", S_IFREG | 0644, "d", 1);
	entry(&a, "a/b", S_IFREG | 0644, "d", 1);
	trailer(&a);
	refused(&a, EINVAL, "parent");
	a.len = 0;
	entry(&a, "a", S_IFLNK | 0777, "/etc", 4);
	entry(&a, "a/passwd", S_IFREG | 0644, "d", 1);
	trailer(&a);
	refused(&a, EINVAL, "parent");

	a.len = 0; /* data beyond the end */
	hdr(&a, S_IFREG | 0644, 1, 100000, 2, "x", 2);
	refused(&a, EINVAL, "beyond the end");

	a.len = 0;
	entry(&a, "s", S_IFREG | 04755, "d", 1);
	trailer(&a);
	refused(&a, EINVAL, "setuid");

	a.len = 0;
	entry(&a, "b", S_IFBLK | 0600, NULL, 0);
	trailer(&a);
	refused(&a, EINVAL, "type");
	a.len = 0;
	entry(&a, "p", S_IFIFO | 0600, NULL, 0);
	trailer(&a);
	refused(&a, EINVAL, "type");

	a.len = 0; /* a hard link */
	hdr(&a, S_IFREG | 0644, 2, 1, 2, "h", 2);
	memcpy(a.buf + a.len, "d\0\0\0", 4);
	a.len += 4;
	trailer(&a);
	refused(&a, EINVAL, "hard link");

	a.len = 0;
	entry(&a, "l", S_IFLNK | 0777, "a\0b", 3);
	trailer(&a);
	refused(&a, EINVAL, "symlink target");
	a.len = 0;
	entry(&a, "l", S_IFLNK | 0777, NULL, 0);
	trailer(&a);
	refused(&a, EINVAL, "symlink target");

	a.len = 0;
	entry(&a, "d", S_IFDIR | 0755, "data", 4);
	trailer(&a);
	refused(&a, EINVAL, "with data");
	a.len = 0;
	entry(&a, "c", S_IFCHR | 0600, "data", 4);
	trailer(&a);
	refused(&a, EINVAL, "with data");
}

static void test_too_many_entries(void **state)
{
	struct wd_cpio c;
	size_t per = 128, n = WD_CPIO_MAX_ENTRIES + 1, len = 0;
	uint8_t *buf = malloc(per * (n + 1));
	char name[16], h[111];

	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i <= n; i++) {
		size_t nl;

		(void)snprintf(name, sizeof(name), i == n ? "TRAILER!!!" : "f%06zu", i);
		nl = strlen(name) + 1;
		(void)snprintf(h, sizeof(h),
			       "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 1u,
			       i == n ? 0u : (unsigned)(S_IFREG | 0644), 0u, 0u, 1u, 0u, 0u, 0u, 0u,
			       0u, 0u, (unsigned)nl, 0u);
		memcpy(buf + len, h, 110);
		memcpy(buf + len + 110, name, nl);
		len += 110 + nl;
		while (len % 4 != 0)
			buf[len++] = 0;
	}
	assert_int_equal(wd_cpio_parse(buf, len, &c, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "entries"));
	free(buf);
}

/* gzip -dc stops at the bound (RLIMIT_FSIZE), so a small bomb cannot fill
 * memory; what is not gzip is refused with gzip's own reason. */
static void test_gunzip_is_bounded(void **state)
{
	static uint8_t zeros[2 << 20];
	int raw = memfd_create("raw", MFD_CLOEXEC), gz = memfd_create("gz", MFD_CLOEXEC);
	struct wd_tool t = {.in_fd = raw, .out_fd = gz};
	struct wd_argv a;
	uint8_t *out = NULL;
	size_t len = 0;

	(void)state;
	assert_true(raw >= 0 && gz >= 0);
	assert_int_equal(wd_write_all(raw, zeros, sizeof(zeros)), 0);
	wd_argv_init(&a);
	wd_argv_add(&a, "gzip");
	wd_argv_add(&a, "-c");
	assert_int_equal(wd_tool_run(&t, &a, &err), 0);
	assert_true(lseek(gz, 0, SEEK_END) < 16384); /* 2 MiB of zeros, a few KiB of gzip */
	assert_int_equal(wd_img_gunzip(gz, 1 << 20, &out, &len, &err), -E2BIG);
	assert_null(out);
	assert_int_equal(wd_img_gunzip(gz, 4 << 20, &out, &len, &err), 0);
	assert_int_equal(len, sizeof(zeros));
	assert_memory_equal(out, zeros, len);
	free(out);
	assert_true(wd_img_gunzip(raw, 4 << 20, &out, &len, &err) < 0); /* not gzip */
	assert_non_null(strstr(err.msg, "gzip"));
	(void)close(raw);
	(void)close(gz);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_add_and_remove),
		cmocka_unit_test(test_same_bytes_as_gnu_cpio),
		cmocka_unit_test(test_a_plain_archive_reads),
		cmocka_unit_test(test_hostile_headers),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_hostile_entries),
		cmocka_unit_test(test_too_many_entries),
		cmocka_unit_test(test_gunzip_is_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
