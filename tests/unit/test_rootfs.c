/*
 * tests/unit/test_rootfs.c - host/tarread.c and host/rootfs*.c: staging a
 * root filesystem from hostile tars and directories.
 *
 * Each tar is built in memory by the small writer below (ustar, GNU and pax
 * headers, byte for byte as GNU tar lays them out) and staged into a fresh
 * directory under $TMPDIR. Attacks are proved to fail by what they leave:
 * a sentinel directory outside the staging directory must stay empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../host/rootfs.h"
#include "../../host/tarread.h"

#define EPOCH 1700000000ULL

/* ---- a tiny tar writer ------------------------------------------------- */

struct tw {
	uint8_t *buf;
	size_t len, cap;
};

static void tw_bytes(struct tw *w, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (w->len + n > w->cap) {
		w->cap = (w->len + n) * 2 + 4096;
		w->buf = realloc(w->buf, w->cap);
		assert_non_null(w->buf);
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void tw_pad(struct tw *w)
{
	static const uint8_t zero[512];

	if (w->len % 512 != 0)
		tw_bytes(w, zero, 512 - w->len % 512);
}

struct hdr {
	const char *name;
	char type;
	unsigned mode;
	unsigned long long size;
	const char *link;
	unsigned uid, gid, major, minor;
	bool gnu;           /* GNU magic instead of POSIX ustar */
	const char *prefix; /* ustar prefix field */
};

/* After a test changed a header on purpose: make its checksum right again. */
static void rechecksum(uint8_t *b)
{
	unsigned sum = 0;

	memset(b + 148, ' ', 8);
	for (size_t i = 0; i < 512; i++)
		sum += b[i];
	snprintf((char *)b + 148, 8, "%06o", sum);
}

static void tw_header(struct tw *w, const struct hdr *h)
{
	uint8_t b[512] = {0};

	strncpy((char *)b, h->name, 100);
	snprintf((char *)b + 100, 8, "%07o", h->mode);
	snprintf((char *)b + 108, 8, "%07o", h->uid);
	snprintf((char *)b + 116, 8, "%07o", h->gid);
	snprintf((char *)b + 124, 12, "%011llo", h->size);
	snprintf((char *)b + 136, 12, "%011o", 12345u);
	b[156] = (uint8_t)h->type;
	if (h->link != NULL)
		strncpy((char *)b + 157, h->link, 100);
	memcpy(b + 257,
	       h->gnu ? "ustar  \0"
		      : "ustar\0"
			"00",
	       8);
	snprintf((char *)b + 329, 8, "%07o", h->major);
	snprintf((char *)b + 337, 8, "%07o", h->minor);
	if (h->prefix != NULL)
		strncpy((char *)b + 345, h->prefix, 155);
	rechecksum(b);
	tw_bytes(w, b, 512);
}

static void tw_data(struct tw *w, const void *p, size_t n)
{
	tw_bytes(w, p, n);
	tw_pad(w);
}

static void tw_file(struct tw *w, const char *name, unsigned mode, const char *content)
{
	size_t n = strlen(content);

	tw_header(w, &(struct hdr){.name = name, .type = '0', .mode = mode, .size = n});
	tw_data(w, content, n);
}

static void tw_dir(struct tw *w, const char *name, unsigned mode)
{
	tw_header(w, &(struct hdr){.name = name, .type = '5', .mode = mode});
}

static void tw_link(struct tw *w, char type, const char *name, const char *target)
{
	tw_header(w, &(struct hdr){.name = name, .type = type, .mode = 0777, .link = target});
}

/* A pax 'x' (or 'g') header with the given "key=value" records. */
static void tw_pax(struct tw *w, char type, int n, ...)
{
	char *data = NULL, *more;
	size_t len = 0;
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const char *kv = va_arg(ap, const char *);
		size_t kvn = strlen(kv), total = kvn + 3; /* " " "\n" and at least one digit */
		char rec[80000];

		while ((size_t)snprintf(rec, sizeof(rec), "%zu", total) + kvn + 2 != total)
			total++;
		snprintf(rec, sizeof(rec), "%zu %s\n", total, kv);
		more = realloc(data, len + total);
		assert_non_null(more);
		data = more;
		memcpy(data + len, rec, total);
		len += total;
	}
	va_end(ap);
	tw_header(w, &(struct hdr){.name = "PaxHeader", .type = type, .mode = 0644, .size = len});
	tw_data(w, data, len);
	free(data);
}

static void tw_gnu_long(struct tw *w, char type, const char *name)
{
	size_t n = strlen(name) + 1;

	tw_header(w, &(struct hdr){.name = "././@LongLink", .type = type, .size = n, .gnu = true});
	tw_data(w, name, n);
}

static void tw_end(struct tw *w)
{
	static const uint8_t zero[1024];

	tw_bytes(w, zero, sizeof(zero));
}

/* ---- staging helpers --------------------------------------------------- */

static struct wd_err err;
static char stage_path[256], outside[256];
static int stage_fd = -1;
static struct wd_rootfs_report rep;

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(stage_path, sizeof(stage_path), "%s/warden-rootfs-test-XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	assert_non_null(mkdtemp(stage_path));
	snprintf(outside, sizeof(outside), "%s/warden-rootfs-outside-XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	assert_non_null(mkdtemp(outside));
	stage_fd = open(stage_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(stage_fd >= 0);
	memset(&rep, 0, sizeof(rep));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	wd_rootfs_report_free(&rep);
	close(stage_fd);
	assert_int_equal(wd_rootfs_remove(stage_path, &err), 0);
	assert_int_equal(wd_rootfs_remove(outside, &err), 0);
	return 0;
}

/* A fresh, empty staging directory for the next stage. */
static void reset_stage(void)
{
	close(stage_fd);
	assert_int_equal(wd_rootfs_remove(stage_path, &err), 0);
	assert_int_equal(mkdir(stage_path, 0700), 0);
	stage_fd = open(stage_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(stage_fd >= 0);
}

/* Stage the bytes as a tar read from an fd (a memfd), as they are. */
static int stage_raw(struct tw *w, const struct wd_rootfs_opts *o)
{
	int fd = memfd_create("tar", MFD_CLOEXEC), rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, w->buf, w->len), (ssize_t)w->len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	wd_rootfs_report_free(&rep);
	wd_err_clear(&err);
	rc = wd_rootfs_stage_tar(fd, "test.tar", stage_fd, EPOCH, o, &rep, &err);
	close(fd);
	free(w->buf);
	memset(w, 0, sizeof(*w));
	return rc;
}

static int stage_opts(struct tw *w, const struct wd_rootfs_opts *o)
{
	reset_stage();
	return stage_raw(w, o);
}

static int stage(struct tw *w)
{
	struct wd_rootfs_opts o = {.quiet = true};

	return stage_opts(w, &o);
}

static void assert_refused(struct tw *w, int code, const char *words)
{
	int rc = stage(w);

	if (rc != -code || strstr(err.msg, words) == NULL)
		fail_msg("want -%d with \"%s\", got %d: %s", code, words, rc, err.msg);
}

static bool exists(const char *rel)
{
	struct stat sb;

	return fstatat(stage_fd, rel, &sb, AT_SYMLINK_NOFOLLOW) == 0;
}

static struct stat st_of(const char *rel)
{
	struct stat sb;

	if (fstatat(stage_fd, rel, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		fail_msg("%s: not staged", rel);
	return sb;
}

static void assert_content(const char *rel, const char *want)
{
	char buf[256] = {0};
	int fd = openat(stage_fd, rel, O_RDONLY | O_NOFOLLOW);

	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof(buf) - 1) >= 0);
	close(fd);
	assert_string_equal(buf, want);
}

static bool outside_is_empty(void)
{
	char probe[300];
	struct stat sb;

	snprintf(probe, sizeof(probe), "%s/pwned", outside);
	return stat(probe, &sb) != 0 && errno == ENOENT;
}

/* ---- what is kept -------------------------------------------------------- */

static void test_plain_tree_is_staged_with_epoch_times(void **state)
{
	struct tw w = {0};
	struct stat sb;

	(void)state;
	tw_dir(&w, "./", 0755);
	tw_dir(&w, "./usr/", 0755);
	tw_dir(&w, "./usr/bin/", 0755);
	tw_file(&w, "./usr/bin/tool", 0755, "#!/bin/sh\necho hi\n");
	tw_link(&w, '2', "./bin", "usr/bin");
	tw_link(&w, '1', "./usr/bin/tool2", "./usr/bin/tool");
	tw_header(&w, &(struct hdr){.name = "./run/fifo", .type = '6', .mode = 0600});
	tw_link(&w, '2', "./etc/abs", "/proc/self/fd");
	tw_header(&w, &(struct hdr){.name = "./tmp/", .type = '5', .mode = 01777});
	tw_end(&w);
	assert_int_equal(stage(&w), 0);

	assert_content("usr/bin/tool", "#!/bin/sh\necho hi\n");
	sb = st_of("usr/bin/tool");
	assert_int_equal(sb.st_mode & 07777, 0755);
	assert_int_equal(sb.st_mtime, (time_t)EPOCH);
	assert_int_equal(sb.st_nlink, 2);
	assert_int_equal(st_of("usr/bin/tool2").st_ino, sb.st_ino);
	assert_true(S_ISLNK(st_of("bin").st_mode));
	assert_true(S_ISFIFO(st_of("run/fifo").st_mode));
	assert_int_equal(st_of("run").st_mode & 07777, 0755);  /* made for a parent */
	assert_int_equal(st_of("tmp").st_mode & 07777, 01777); /* sticky kept */
	/* Directories get the epoch last, after their entries were made. */
	assert_int_equal(st_of("usr/bin").st_mtime, (time_t)EPOCH);
	assert_int_equal(st_of("bin").st_mtime, (time_t)EPOCH);
	assert_int_equal(st_of(".").st_mtime, (time_t)EPOCH);
	/* / usr usr/bin usr/bin/tool bin usr/bin/tool2 run run/fifo etc etc/abs tmp */
	assert_int_equal(rep.entries, 11);
	assert_int_equal(rep.bytes, strlen("#!/bin/sh\necho hi\n"));
	assert_true(rep.from_tar);
	assert_int_equal(rep.nstripped, 0);
}

static void test_parents_are_made_in_any_order(void **state)
{
	struct tw w = {0};

	(void)state;
	tw_file(&w, "a/b/c/f1", 0644, "1");
	tw_file(&w, "x/y", 0644, "y");
	tw_file(&w, "a/b/c/f2", 0644, "2");
	tw_file(&w, "a/b/d/f3", 0644, "3");
	tw_dir(&w, "a/b/", 0750); /* a parent given after its children */
	tw_end(&w);
	assert_int_equal(stage(&w), 0);
	assert_content("a/b/c/f2", "2");
	assert_content("a/b/d/f3", "3");
	assert_int_equal(st_of("a").st_mode & 07777, 0755);
	assert_int_equal(st_of("a/b").st_mode & 07777, 0750);
	assert_int_equal(st_of("a/b/c").st_mode & 07777, 0755);
	assert_int_equal(st_of("a/b/c").st_mtime, (time_t)EPOCH);
	/* / a a/b a/b/c f1 x x/y f2 a/b/d f3 */
	assert_int_equal(rep.entries, 10);
}

static void test_tar_digest_is_the_stream_sha256(void **state)
{
	struct tw w = {0};
	/* sha256 of 1024 zero bytes: an empty archive */
	static const uint8_t want[32] = {0x5f, 0x70, 0xbf, 0x18, 0xa0, 0x86, 0x00, 0x70,
					 0x16, 0xe9, 0x48, 0xb0, 0x4a, 0xed, 0x3b, 0x82,
					 0x10, 0x3a, 0x36, 0xbe, 0xa4, 0x17, 0x55, 0xb6,
					 0xcd, 0xdf, 0xaf, 0x10, 0xac, 0xe3, 0xc6, 0xef};

	(void)state;
	tw_end(&w);
	assert_int_equal(stage(&w), 0);
	assert_memory_equal(rep.source_sha256, want, 32);
	assert_int_equal(rep.entries, 1);
}

static void test_same_type_duplicate_replaces_other_type_is_refused(void **state)
{
	struct tw w = {0};

	(void)state;
	tw_file(&w, "a", 0644, "first");
	tw_file(&w, "a", 0600, "second");
	tw_dir(&w, "d/", 0700);
	tw_dir(&w, "d/", 0750);
	tw_end(&w);
	assert_int_equal(stage(&w), 0);
	assert_content("a", "second");
	assert_int_equal(st_of("a").st_mode & 07777, 0600);
	assert_int_equal(st_of("d").st_mode & 07777, 0750);

	tw_file(&w, "x", 0644, "file");
	tw_dir(&w, "x/", 0755);
	tw_end(&w);
	assert_refused(&w, EEXIST, "/x: a directory, but an earlier entry made it a file");
}

/* ---- what is refused ----------------------------------------------------- */

static void test_dotdot_and_absolute_names_are_refused(void **state)
{
	struct tw w = {0};
	char name[300];

	(void)state;
	tw_file(&w, "ok", 0644, "");
	tw_file(&w, "a/../../pwned", 0644, "x");
	tw_end(&w);
	assert_refused(&w, EINVAL, "a \"..\" component");
	assert_true(outside_is_empty());

	snprintf(name, sizeof(name), "%s/pwned", outside);
	tw_file(&w, name, 0644, "x");
	tw_end(&w);
	assert_refused(&w, EINVAL, "an absolute name");
	assert_true(outside_is_empty());

	tw_file(&w, "..", 0644, "x");
	tw_end(&w);
	assert_refused(&w, EINVAL, "\"..\"");
}

static void test_file_under_a_symlink_is_refused(void **state)
{
	struct tw w = {0};

	(void)state;
	/* An absolute symlink is kept, but nothing may be created through it. */
	tw_link(&w, '2', "evil", outside);
	tw_file(&w, "evil/pwned", 0644, "x");
	tw_end(&w);
	assert_refused(&w, ENOTDIR, "/evil/pwned: placed under a symlink (/evil)");
	assert_true(outside_is_empty());

	/* Same through a pax path and a deeper parent. */
	tw_link(&w, '2', "evil", outside);
	tw_pax(&w, 'x', 1, "path=evil/sub/pwned");
	tw_file(&w, "short", 0644, "x");
	tw_end(&w);
	assert_refused(&w, ENOTDIR, "placed under a symlink");
	assert_true(outside_is_empty());

	/* A symlink then a hard link whose target goes through it. */
	tw_link(&w, '2', "evil", outside);
	tw_link(&w, '1', "pwned", "evil/passwd");
	tw_end(&w);
	assert_refused(&w, EINVAL, "not an earlier entry");
}

static void test_symlink_climbing_above_the_root_is_refused(void **state)
{
	struct tw w = {0};

	(void)state;
	tw_link(&w, '2', "usr/lib/up", "../../etc"); /* /etc: fine */
	tw_link(&w, '2', "usr/lib/abs", "/etc/passwd");
	tw_end(&w);
	assert_int_equal(stage(&w), 0);

	tw_link(&w, '2', "usr/lib/up", "../../../etc");
	tw_end(&w);
	assert_refused(&w, EINVAL, "climbs above the root");

	tw_link(&w, '2', "a", "b/../../x");
	tw_end(&w);
	assert_refused(&w, EINVAL, "climbs above the root");
}

static void test_hard_links_must_name_an_earlier_entry(void **state)
{
	struct tw w = {0};
	char target[300];

	(void)state;
	tw_link(&w, '1', "early", "late");
	tw_file(&w, "late", 0644, "x");
	tw_end(&w);
	assert_refused(&w, EINVAL, "/early: hard link to /late, which is not an earlier entry");

	snprintf(target, sizeof(target), "%s/pwned", outside);
	tw_link(&w, '1', "abs", target);
	tw_end(&w);
	assert_refused(&w, EINVAL, "hard link target");

	tw_link(&w, '1', "up", "../etc/passwd");
	tw_end(&w);
	assert_refused(&w, EINVAL, "a \"..\" component");

	tw_link(&w, '1', "self", "self");
	tw_end(&w);
	assert_refused(&w, EINVAL, "not an earlier entry");

	tw_dir(&w, "d", 0755);
	tw_link(&w, '1', "dlink", "d");
	tw_end(&w);
	assert_refused(&w, EINVAL, "or is a directory");
}

static void test_bad_text_in_names_is_refused(void **state)
{
	static const char *bad[] = {"bad\xff",     "esc\x1b[2J",   "new\nline",
				    "csi\xc2\x9b", "over\xc0\xaf", "del\x7f"};
	struct tw w = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tw_file(&w, bad[i], 0644, "x");
		tw_end(&w);
		assert_refused(&w, EINVAL, "not UTF-8 or holds a control character");
	}
	tw_link(&w, '2', "l", "t\x1b");
	tw_end(&w);
	assert_refused(&w, EINVAL, "symlink target is not UTF-8");

	tw_file(&w, "caf\xc3\xa9 \xe2\x9c\x93", 0644, "ok");
	tw_end(&w);
	assert_int_equal(stage(&w), 0);
	assert_true(exists("caf\xc3\xa9 \xe2\x9c\x93"));
}

/* ---- what is stripped ---------------------------------------------------- */

static void test_setid_bits_are_stripped_and_listed(void **state)
{
	struct tw w = {0};

	(void)state;
	tw_file(&w, "usr/bin/su", 04755, "su");
	tw_file(&w, "usr/bin/chage", 02755, "chage");
	tw_file(&w, "usr/bin/both", 06711, "both");
	tw_dir(&w, "var/mail/", 02775);
	tw_link(&w, '1', "usr/bin/su2", "usr/bin/su");
	tw_end(&w);
	assert_int_equal(stage(&w), 0);
	assert_int_equal(st_of("usr/bin/su").st_mode & 07777, 0755);
	assert_int_equal(st_of("usr/bin/chage").st_mode & 07777, 0755);
	assert_int_equal(st_of("usr/bin/both").st_mode & 07777, 0711);
	assert_int_equal(st_of("var/mail").st_mode & 07777, 0775);
	assert_int_equal(rep.stripped_setid, 4);
	assert_int_equal(rep.nstripped, 4);
	assert_string_equal(rep.stripped[0].path, "/usr/bin/su");
	assert_string_equal(rep.stripped[0].what, "setuid");
	assert_string_equal(rep.stripped[1].what, "setgid");
	assert_string_equal(rep.stripped[2].what, "setuid+setgid");
	assert_string_equal(rep.stripped[3].path, "/var/mail");
}

static void test_devices_are_left_out_and_caps_dropped(void **state)
{
	struct tw w = {0};

	(void)state;
	tw_header(&w,
		  &(struct hdr){
			  .name = "dev/null", .type = '3', .mode = 0666, .major = 1, .minor = 3});
	tw_header(&w, &(struct hdr){.name = "dev/sda", .type = '4', .mode = 0660, .major = 8});
	tw_pax(&w, 'x', 2, "SCHILY.xattr.security.capability=\x01\x00\x00\x02",
	       "SCHILY.xattr.user.other=1");
	tw_file(&w, "usr/bin/ping", 0755, "ping");
	tw_end(&w);
	assert_int_equal(stage(&w), 0);
	assert_false(exists("dev/null"));
	assert_false(exists("dev/sda"));
	assert_true(exists("usr/bin/ping"));
	assert_int_equal(rep.stripped_devices, 2);
	assert_int_equal(rep.dropped_caps, 1);
	assert_int_equal(rep.nstripped, 3);
	assert_string_equal(rep.stripped[0].what, "char-device");
	assert_string_equal(rep.stripped[1].what, "block-device");
	assert_string_equal(rep.stripped[2].path, "/usr/bin/ping");
	assert_string_equal(rep.stripped[2].what, "capability");
}

static void test_owners_kept_as_root_or_counted_for_all_root(void **state)
{
	struct tw w = {0};
	struct wd_rootfs_opts all = {.quiet = true, .all_root = true};

	(void)state;
	if (geteuid() != 0)
		skip();
	tw_header(&w,
		  &(struct hdr){
			  .name = "home/u/", .type = '5', .mode = 0750, .uid = 1000, .gid = 1000});
	tw_header(&w,
		  &(struct hdr){
			  .name = "home/u/f", .type = '0', .mode = 0640, .uid = 1000, .gid = 50});
	tw_link(&w, '2', "home/u/l", "f");
	tw_end(&w);
	assert_int_equal(stage(&w), 0);
	assert_int_equal(st_of("home/u").st_uid, 1000);
	assert_int_equal(st_of("home/u/f").st_gid, 50);
	assert_false(rep.all_root);
	assert_int_equal(rep.chowned, 0);

	tw_header(&w,
		  &(struct hdr){
			  .name = "home/u/", .type = '5', .mode = 0750, .uid = 1000, .gid = 1000});
	tw_header(&w,
		  &(struct hdr){
			  .name = "home/u/f", .type = '0', .mode = 0640, .uid = 1000, .gid = 50});
	tw_end(&w);
	assert_int_equal(stage_opts(&w, &all), 0);
	assert_true(rep.all_root);
	assert_int_equal(rep.chowned, 2);
	assert_int_equal(st_of("home/u/f").st_uid, 0);
}

/* ---- formats ------------------------------------------------------------- */

static void test_pax_overrides_and_gnu_long_names(void **state)
{
	struct tw w = {0};
	char longname[400], longlink[300], rec[500], gnuname[200];

	(void)state;
	/* 399 bytes, more than ustar's 100 + 155, components within NAME_MAX */
	memset(longname, 'n', sizeof(longname));
	memcpy(longname, "deep/", 5);
	longname[200] = '/';
	longname[sizeof(longname) - 1] = '\0';
	memset(gnuname, 'g', sizeof(gnuname));
	memcpy(gnuname, "gnu/long/", 9);
	gnuname[sizeof(gnuname) - 1] = '\0';
	memset(longlink, 't', sizeof(longlink));
	longlink[sizeof(longlink) - 1] = '\0';

	snprintf(rec, sizeof(rec), "path=%s", longname);
	tw_pax(&w, 'x', 3, rec, "size=3", "uid=7");
	tw_header(&w, &(struct hdr){.name = "ignored", .type = '0', .mode = 0644, .size = 99});
	tw_data(&w, "abc", 3);
	tw_gnu_long(&w, 'L', gnuname);
	tw_gnu_long(&w, 'K', longlink);
	tw_header(&w, &(struct hdr){.name = "gnu/short",
				    .type = '2',
				    .mode = 0777,
				    .link = "short",
				    .gnu = true});
	tw_header(&w,
		  &(struct hdr){.name = "file", .type = '0', .mode = 0644, .prefix = "pre/fix"});
	tw_pax(&w, 'g', 1, "comment=made by a test");
	tw_file(&w, "after-global", 0644, "");
	tw_end(&w);
	assert_int_equal(stage(&w), 0);
	assert_content(longname, "abc");
	{
		char target[400] = {0};

		assert_int_equal(readlinkat(stage_fd, gnuname, target, sizeof(target) - 1),
				 (ssize_t)strlen(longlink));
		assert_string_equal(target, longlink);
	}
	assert_true(exists("pre/fix/file"));
	assert_true(exists("after-global"));
}

static void test_ambiguous_and_unsupported_headers_are_refused(void **state)
{
	struct tw w = {0};

	(void)state;
	tw_gnu_long(&w, 'L', "one");
	tw_pax(&w, 'x', 1, "path=two");
	tw_file(&w, "x", 0644, "");
	tw_end(&w);
	assert_refused(&w, EINVAL, "both a GNU long name and a pax path");

	tw_gnu_long(&w, 'L', "one");
	tw_gnu_long(&w, 'L', "two");
	tw_file(&w, "x", 0644, "");
	tw_end(&w);
	assert_refused(&w, EINVAL, "a second one for the same entry");

	tw_header(&w, &(struct hdr){.name = "sparse", .type = 'S', .mode = 0644});
	tw_end(&w);
	assert_refused(&w, ENOTSUP, "sparse file");

	tw_pax(&w, 'x', 1, "GNU.sparse.major=1");
	tw_file(&w, "x", 0644, "");
	tw_end(&w);
	assert_refused(&w, ENOTSUP, "sparse file");

	tw_header(&w, &(struct hdr){.name = "what", .type = 'Z', .mode = 0644});
	tw_end(&w);
	assert_refused(&w, ENOTSUP, "an unknown entry type");

	tw_pax(&w, 'g', 1, "path=everything");
	tw_file(&w, "x", 0644, "");
	tw_end(&w);
	assert_refused(&w, EINVAL, "global pax header");

	tw_pax(&w, 'x', 1, "uid=12x");
	tw_file(&w, "x", 0644, "");
	tw_end(&w);
	assert_refused(&w, EINVAL, "bad uid");

	tw_header(&w, &(struct hdr){.name = "dirdata/", .type = '5', .mode = 0755, .size = 512});
	tw_data(&w, "x", 1);
	tw_end(&w);
	assert_refused(&w, EINVAL, "bytes of data");
}

static void test_malformed_pax_records_are_refused(void **state)
{
	static const char *bad[] = {"5 a=b\n",  "99 a=b\n", "6 =bb\n",
				    "7 abcd\n", "x a=b\n",  "6 a=bc"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tw w = {0};

		tw_header(&w, &(struct hdr){.name = "p", .type = 'x', .size = strlen(bad[i])});
		tw_data(&w, bad[i], strlen(bad[i]));
		tw_file(&w, "x", 0644, "");
		tw_end(&w);
		assert_refused(&w, EINVAL, "pax header");
	}
}

static void test_truncated_archives_are_refused(void **state)
{
	struct tw w = {0};
	size_t cut;

	(void)state;
	tw_file(&w, "a", 0644, "some data here");
	tw_file(&w, "b", 0644, "more");
	tw_end(&w);
	cut = 512 + 5; /* inside a's data */
	w.len = cut;
	assert_refused(&w, EIO, "truncated");

	tw_file(&w, "a", 0644, "x");
	w.len -= 100; /* inside the padding */
	assert_refused(&w, EIO, "truncated");

	tw_file(&w, "a", 0644, "x"); /* no end-of-archive marker at all */
	assert_refused(&w, EIO, "without the end-of-archive marker");

	tw_file(&w, "a", 0644, "x");
	tw_bytes(&w, (const uint8_t[512]){0}, 512); /* one zero block */
	assert_refused(&w, EIO, "one zero block");

	tw_file(&w, "a", 0644, "x");
	tw_bytes(&w, "short", 5);
	assert_refused(&w, EIO, "inside a header");
}

static void test_bad_headers_are_refused(void **state)
{
	struct tw w = {0};

	(void)state;
	tw_file(&w, "a", 0644, "x");
	tw_end(&w);
	w.buf[3] ^= 1; /* name changed, checksum not */
	assert_refused(&w, EINVAL, "bad checksum");

	tw_file(&w, "a", 0644, "x");
	tw_end(&w);
	w.buf[0] = 0x1f;
	w.buf[1] = (uint8_t)0x8b;
	assert_refused(&w, EINVAL, "gzip-compressed data, not a tar");

	/* A v7 header (no magic) with a right checksum. */
	tw_file(&w, "a", 0644, "x");
	tw_end(&w);
	memset(w.buf + 257, 0, 8);
	rechecksum(w.buf);
	assert_refused(&w, EINVAL, "not a ustar, pax or GNU tar header");
}

static void test_oversized_headers_are_refused(void **state)
{
	struct tw w = {0};
	char *big = malloc(WD_TAR_PAX_MAX + 16);

	(void)state;
	assert_non_null(big);
	memcpy(big, "comment=", 8);
	memset(big + 8, 'c', WD_TAR_PAX_MAX);
	big[WD_TAR_PAX_MAX] = '\0';
	tw_pax(&w, 'x', 1, big);
	tw_file(&w, "x", 0644, "");
	tw_end(&w);
	assert_refused(&w, E2BIG, "pax header at byte 0");

	memset(big, 'p', WD_TAR_PATH_MAX + 1);
	big[WD_TAR_PATH_MAX + 1] = '\0';
	tw_gnu_long(&w, 'L', big);
	tw_file(&w, "x", 0644, "");
	tw_end(&w);
	assert_refused(&w, ENAMETOOLONG, "longer than 4096 bytes");

	memcpy(big, "linkpath=", 9);
	memset(big + 9, 'l', WD_TAR_LINK_MAX + 1);
	big[9 + WD_TAR_LINK_MAX + 1] = '\0';
	tw_pax(&w, 'x', 1, big);
	tw_link(&w, '2', "l", "x");
	tw_end(&w);
	assert_refused(&w, ENAMETOOLONG, "linkpath of 4096 bytes");

	for (int i = 0; i <= WD_TAR_EXT_MAX; i++)
		tw_pax(&w, 'g', 1, "comment=again");
	tw_file(&w, "x", 0644, "");
	tw_end(&w);
	assert_refused(&w, E2BIG, "extension headers in a row");
	free(big);
}

static void test_entry_and_byte_limits(void **state)
{
	struct tw w = {0};
	struct wd_rootfs_opts few = {.quiet = true, .max_entries = 3};
	/* "/", "a" and its 5 bytes, "b" and 5 of its 6 bytes */
	struct wd_rootfs_opts small = {.quiet = true,
				       .max_bytes = WD_ROOTFS_ENTRY_BYTES + WD_ROOTFS_DIR_BYTES +
						    2 * (WD_ROOTFS_ENTRY_BYTES + 1) + 10};

	(void)state;
	tw_file(&w, "1", 0644, "");
	tw_file(&w, "2", 0644, "");
	tw_file(&w, "3", 0644, "");
	tw_end(&w);
	assert_int_equal(stage_opts(&w, &few), 0);

	tw_file(&w, "1", 0644, "");
	tw_file(&w, "2", 0644, "");
	tw_file(&w, "3", 0644, "");
	tw_header(&w, &(struct hdr){.name = "dev/null", .type = '3', .major = 1, .minor = 3});
	tw_end(&w);
	assert_int_equal(stage_opts(&w, &few), -E2BIG);
	assert_non_null(strstr(err.msg, "/dev/null: more than 3 entries"));

	/* Parents made for an entry count: the tree stays within the bound. */
	tw_file(&w, "a/b/c/d", 0644, "");
	tw_end(&w);
	assert_int_equal(stage_opts(&w, &few), -E2BIG);
	assert_non_null(strstr(err.msg, "/a/b/c/d: the tree would hold more than 3 entries"));

	tw_file(&w, "a", 0644, "12345");
	tw_file(&w, "b", 0644, "123456");
	tw_end(&w);
	assert_int_equal(stage_opts(&w, &small), -E2BIG);
	assert_non_null(strstr(err.msg, "/b: 6 bytes would take the tree past 4876 bytes"));
	assert_int_equal(rep.charged, small.max_bytes - 5);
}

/* Entries without file bytes are charged against max_bytes too: a path
 * WD_ROOTFS_ENTRY_BYTES and its name, a symlink its target, a directory a
 * block. Without that, a thousand 4000-byte symlinks (or directories) fit
 * under a 64 KiB bound. */
static void test_symlinks_and_directories_count_against_max_bytes(void **state)
{
	struct tw w = {0};
	struct wd_rootfs_opts small = {.quiet = true, .max_bytes = 64 << 10};
	char *target = malloc(4001), name[32], pax[4100];
	int rc;

	(void)state;
	assert_non_null(target);
	target[0] = '/';
	memset(target + 1, 'a', 3999);
	target[4000] = '\0';
	snprintf(pax, sizeof(pax), "linkpath=%s", target);
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "l%04d", i);
		tw_pax(&w, 'x', 1, pax);
		tw_link(&w, '2', name, "x");
	}
	tw_end(&w);
	rc = stage_opts(&w, &small);
	if (rc != -E2BIG || strstr(err.msg, ": 4261 bytes would take the tree past 65536 bytes "
					    "(--max-size)") == NULL)
		fail_msg("%d: %s", rc, err.msg);
	/* (65536 - 4352) / 4261: 14 links fit, the 15th is refused before it is made */
	assert_true(exists("l0013"));
	assert_false(exists("l0014"));
	assert_true(rep.charged <= small.max_bytes);

	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "d%04d/", i);
		tw_dir(&w, name, 0755);
	}
	tw_end(&w);
	assert_int_equal(stage_opts(&w, &small), -E2BIG);
	assert_true(exists("d0013")); /* 14 fit, 4357 bytes each */
	assert_false(exists("d0014"));

	/* Parents made for an entry are charged as directories. */
	tw_file(&w, "p/q/r/s/t/u/v/w/x/y/z/a/b/c/d/f", 0644, "");
	tw_end(&w);
	assert_int_equal(stage_opts(&w, &small), -E2BIG);
	assert_non_null(strstr(err.msg, "/p/q/r/s/t/u/v/w/x/y/z/a/b/c/d: 4353 bytes would take"));
	free(target);
}

static void test_staging_directory_must_be_empty_and_private(void **state)
{
	struct tw w = {0};
	int fd;

	(void)state;
	struct wd_rootfs_opts o = {.quiet = true};

	fd = openat(stage_fd, "leftover", O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	tw_end(&w);
	assert_int_equal(stage_raw(&w, &o), -ENOTEMPTY);
	assert_non_null(strstr(err.msg, "not empty"));
	assert_int_equal(unlinkat(stage_fd, "leftover", 0), 0);
	assert_int_equal(fchmod(stage_fd, 0777), 0);
	tw_end(&w);
	assert_int_equal(stage_raw(&w, &o), -EPERM);
	assert_non_null(strstr(err.msg, "writable by others"));
	assert_int_equal(fchmod(stage_fd, 0700), 0);
}

/* ---- the listing --------------------------------------------------------- */

static char *listing(int dirfd, bool all_root, uint8_t digest[32])
{
	int fd = memfd_create("list", MFD_CLOEXEC);
	off_t n;
	char *text;

	assert_true(fd >= 0);
	wd_err_clear(&err);
	if (wd_rootfs_tree(dirfd, all_root, 0, fd, digest, &err) != 0)
		fail_msg("listing: %s", err.msg);
	n = lseek(fd, 0, SEEK_END);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(pread(fd, text, (size_t)n, 0), n);
	close(fd);
	return text;
}

static void test_listing_is_exact_and_deterministic(void **state)
{
	struct tw w = {0};
	uint8_t d1[32], d2[32];
	char *text;
	struct wd_rootfs_opts all = {.quiet = true, .all_root = true};

	(void)state;
	tw_dir(&w, "./", 0755);
	tw_file(&w, "a b", 0644, "abc");
	tw_link(&w, '1', "z", "a b");
	tw_link(&w, '2', "a-l", "/x y%");
	tw_dir(&w, "a/", 0700);
	tw_header(&w, &(struct hdr){.name = "a/p", .type = '6', .mode = 0644});
	tw_end(&w);
	assert_int_equal(stage_opts(&w, &all), 0);
	text = listing(stage_fd, true, d1);
	/* sha256("abc") */
	assert_string_equal(text,
			    "warden-rootfs-tree 1\n"
			    "/ d 0755 0 0 0 -\n"
			    "/a d 0700 0 0 0 -\n"
			    "/a%20b f 0644 0 0 3 "
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
			    "/a-l l 0777 0 0 0 /x%20y%25\n"
			    "/a/p p 0644 0 0 0 -\n"
			    "/z h 0644 0 0 3 /a%20b\n");
	free(text);
	/* The same content staged again gives the same digest. */
	text = listing(stage_fd, true, d2);
	assert_memory_equal(d1, d2, 32);
	free(text);
}

/* ---- a directory source -------------------------------------------------- */

static void test_directory_source_by_the_same_rules(void **state)
{
	char src[300], path[700];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct wd_rootfs_opts o = {.quiet = true};
	int fd, s;
	uint8_t digest[32];
	struct stat sb;
	char *text;

	(void)state;
	snprintf(src, sizeof(src), "%s/src", outside);
	assert_int_equal(mkdir(src, 0755), 0);
	snprintf(path, sizeof(path), "%s/bin", src);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/bin/su", src);
	fd = open(path, O_CREAT | O_WRONLY, 0755);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "su!", 3), 3);
	assert_int_equal(fchmod(fd, 04755), 0);
	close(fd);
	assert_true(strlen(src) + 6 <= sizeof(sa.sun_path));
	memcpy(sa.sun_path, src, strlen(src));
	memcpy(sa.sun_path + strlen(src), "/sock", 6);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	snprintf(path, sizeof(path), "%s/fifo", src);
	assert_int_equal(mkfifo(path, 0640), 0);
	/* A symlink to outside the source is kept as a link and never followed. */
	snprintf(path, sizeof(path), "%s/escape", src);
	assert_int_equal(symlink(outside, path), 0);
	snprintf(path, sizeof(path), "%s/bin/su", src);
	{
		char l[700];

		snprintf(l, sizeof(l), "%s/bin/su-again", src);
		assert_int_equal(link(path, l), 0);
	}

	assert_int_equal(wd_rootfs_stage(src, stage_fd, EPOCH, &o, &rep, &err), 0);
	assert_false(rep.from_tar);
	assert_int_equal(st_of("bin/su").st_mode & 07777, 0755);
	assert_int_equal(st_of("bin/su").st_ino, st_of("bin/su-again").st_ino);
	assert_false(exists("sock"));
	assert_true(S_ISFIFO(st_of("fifo").st_mode));
	sb = st_of("escape");
	assert_true(S_ISLNK(sb.st_mode));
	assert_int_equal(rep.stripped_setid, 1);
	assert_int_equal(rep.stripped_sockets, 1);
	assert_int_equal(rep.entries, 6); /* / bin bin/su bin/su-again fifo escape */
	text = listing(stage_fd, rep.all_root, digest);
	assert_memory_equal(digest, rep.source_sha256, 32);
	free(text);

	/* A name the rules refuse, from a directory. */
	reset_stage();
	snprintf(path, sizeof(path), "%s/bad\x1bname", src);
	assert_int_equal(mkdir(path, 0755), 0);
	wd_rootfs_report_free(&rep);
	assert_int_equal(wd_rootfs_stage(src, stage_fd, EPOCH, &o, &rep, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "control character"));
}

/* A directory with more names than the entries left is refused while it is
 * listed: the error names the directory, and none of its names is staged
 * (staged one at a time, the first 46 would have been made first). */
static void test_directory_with_too_many_names_is_refused_while_listed(void **state)
{
	char src[300], path[700];
	struct wd_rootfs_opts few = {.quiet = true, .max_entries = 50};
	int fd;

	(void)state;
	snprintf(src, sizeof(src), "%s/src", outside);
	assert_int_equal(mkdir(src, 0755), 0);
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/d%d", src, i);
		assert_int_equal(mkdir(path, 0755), 0);
	}
	for (int i = 0; i < 500; i++) {
		snprintf(path, sizeof(path), "%s/d1/f%03d", src, i);
		fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		assert_true(fd >= 0);
		close(fd);
	}
	wd_err_clear(&err);
	assert_int_equal(wd_rootfs_stage(src, stage_fd, EPOCH, &few, &rep, &err), -E2BIG);
	if (strstr(err.msg, "/d1: more than 50 entries (it holds more names than the 46 left)") ==
	    NULL)
		fail_msg("%s", err.msg);
	assert_true(exists("d1"));
	assert_false(exists("d1/f000"));

	/* Exactly as many names as are left: staged. */
	for (int i = 46; i < 500; i++) {
		snprintf(path, sizeof(path), "%s/d1/f%03d", src, i);
		assert_int_equal(unlink(path), 0);
	}
	reset_stage();
	wd_rootfs_report_free(&rep);
	assert_int_equal(wd_rootfs_stage(src, stage_fd, EPOCH, &few, &rep, &err), 0);
	assert_int_equal(rep.entries, 50); /* / d0 d1 d2 and d1's 46 */
}

static void test_staged_unreadable_directories_can_be_removed(void **state)
{
	struct tw w = {0};

	(void)state;
	tw_dir(&w, "locked/", 0000);
	tw_file(&w, "locked/inner/f", 0000, "x");
	tw_dir(&w, "ro/", 0555);
	tw_file(&w, "ro/f", 0444, "x");
	tw_end(&w);
	assert_int_equal(stage(&w), 0);
	assert_int_equal(st_of("locked").st_mode & 07777, 0);
	assert_int_equal(st_of("ro").st_mode & 07777, 0555);
	/* teardown removes it */
}

/*
 * Without root: owners become 0:0 and are counted, and a staged 0000
 * directory can still be removed. As root, the check runs in a child that
 * has become nobody (65534).
 */
static int unprivileged_stage(const char *dir)
{
	struct tw w = {0};
	struct wd_rootfs_opts o = {.quiet = true};
	struct wd_rootfs_report r;
	struct wd_err e;
	int fd = memfd_create("tar", MFD_CLOEXEC), sfd, rc;

	tw_header(&w, &(struct hdr){.name = "./", .type = '5', .mode = 0555});
	tw_header(&w, &(struct hdr){.name = "home/", .type = '5', .mode = 0755, .uid = 1000});
	tw_header(&w, &(struct hdr){.name = "home/f", .type = '0', .mode = 0000, .gid = 5});
	tw_header(&w, &(struct hdr){.name = "locked/", .type = '5', .mode = 0000});
	tw_file(&w, "locked/inner/f", 0644, "x");
	tw_end(&w);
	if (fd < 0 || write(fd, w.buf, w.len) != (ssize_t)w.len || lseek(fd, 0, SEEK_SET) != 0)
		return 10;
	free(w.buf);
	if (mkdir(dir, 0700) != 0 || (sfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
		return 11;
	wd_err_clear(&e);
	rc = wd_rootfs_stage_tar(fd, "t", sfd, EPOCH, &o, &r, &e);
	if (rc != 0)
		return fprintf(stderr, "stage: %s\n", e.msg), 12;
	if (!r.all_root || r.chowned != 2)
		return 13;
	wd_rootfs_report_free(&r);
	close(sfd);
	if (wd_rootfs_remove(dir, &e) != 0)
		return fprintf(stderr, "remove: %s\n", e.msg), 14;
	return access(dir, F_OK) == 0 ? 15 : 0;
}

static void test_without_root_owners_become_root_and_all_is_removable(void **state)
{
	char dir[300];
	pid_t pid;
	int status;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/unpriv", outside);
	if (geteuid() != 0) {
		assert_int_equal(unprivileged_stage(dir), 0);
		return;
	}
	assert_int_equal(chown(outside, 65534, 65534), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
		    setresuid(65534, 65534, 65534) != 0)
			_exit(9);
		_exit(unprivileged_stage(dir));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_plain_tree_is_staged_with_epoch_times),
		T(test_parents_are_made_in_any_order),
		T(test_tar_digest_is_the_stream_sha256),
		T(test_same_type_duplicate_replaces_other_type_is_refused),
		T(test_dotdot_and_absolute_names_are_refused),
		T(test_file_under_a_symlink_is_refused),
		T(test_symlink_climbing_above_the_root_is_refused),
		T(test_hard_links_must_name_an_earlier_entry),
		T(test_bad_text_in_names_is_refused),
		T(test_setid_bits_are_stripped_and_listed),
		T(test_devices_are_left_out_and_caps_dropped),
		T(test_owners_kept_as_root_or_counted_for_all_root),
		T(test_pax_overrides_and_gnu_long_names),
		T(test_ambiguous_and_unsupported_headers_are_refused),
		T(test_malformed_pax_records_are_refused),
		T(test_truncated_archives_are_refused),
		T(test_bad_headers_are_refused),
		T(test_oversized_headers_are_refused),
		T(test_entry_and_byte_limits),
		T(test_symlinks_and_directories_count_against_max_bytes),
		T(test_staging_directory_must_be_empty_and_private),
		T(test_listing_is_exact_and_deterministic),
		T(test_directory_source_by_the_same_rules),
		T(test_directory_with_too_many_names_is_refused_while_listed),
		T(test_staged_unreadable_directories_can_be_removed),
		T(test_without_root_owners_become_root_and_all_is_removable),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
