/*
 * tests/unit/test_supervisor_upload.c - supervisor/upload.c: a file of the
 * job, written into the working directory and verified.
 *
 * Byte-exact content gets the declared mode; a file that is longer,
 * shorter or different from its declaration fails and keeps no permission
 * bits; a name already taken (even by a symlink) or with a '/' is refused.
 * Files are owned by the test's own uid, so this runs unprivileged too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../supervisor/upload.h"

/* SHA-256("hello\n") */
#define HELLO_SHA "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"

struct dir {
	char root[64];
	int fd;
};

static int dir_setup(void **state)
{
	static struct dir d;

	(void)snprintf(d.root, sizeof(d.root), "/tmp/warden-upload-XXXXXX");
	assert_non_null(mkdtemp(d.root));
	d.fd = open(d.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(d.fd >= 0);
	*state = &d;
	return 0;
}

static int dir_teardown(void **state)
{
	struct dir *d = *state;
	static const char *const names[] = {"ok", "long", "short", "bad", "taken", "link"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		(void)unlinkat(d->fd, names[i], 0);
	(void)close(d->fd);
	(void)rmdir(d->root);
	return 0;
}

static void declare(struct wd_job_file *f, const char *name, uint64_t size, const char *sha,
		    uint32_t mode)
{
	memset(f, 0, sizeof(*f));
	f->name = name;
	f->size = size;
	f->mode = mode;
	(void)snprintf(f->sha256, sizeof(f->sha256), "%s", sha);
}

static mode_t mode_of(struct dir *d, const char *name)
{
	struct stat st;

	assert_int_equal(fstatat(d->fd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_mode & 07777;
}

static void test_exact_file_gets_its_mode(void **state)
{
	struct dir *d = *state;
	struct wd_job_file f;
	struct sup_upload u;
	struct wd_err err;
	char back[16];
	int fd;

	declare(&f, "ok", 6, HELLO_SHA, 0750);
	assert_int_equal(sup_upload_begin(&u, d->fd, &f, getuid(), getgid(), &err), 0);
	assert_int_equal(sup_upload_write(&u, (const uint8_t *)"hel", 3, &err), 0);
	assert_int_equal(sup_upload_write(&u, (const uint8_t *)"lo\n", 3, &err), 0);
	assert_int_equal(mode_of(d, "ok"), 0); /* nothing usable until verified */
	assert_int_equal(sup_upload_finish(&u, &err), 0);
	sup_upload_abort(&u);
	assert_int_equal(mode_of(d, "ok"), 0750);
	fd = openat(d->fd, "ok", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, back, sizeof(back)), 6);
	assert_memory_equal(back, "hello\n", 6);
	assert_int_equal(close(fd), 0);
}

static void test_bytes_beyond_the_declared_size_are_refused(void **state)
{
	struct dir *d = *state;
	struct wd_job_file f;
	struct sup_upload u;
	struct wd_err err;

	declare(&f, "long", 5, HELLO_SHA, 0755);
	assert_int_equal(sup_upload_begin(&u, d->fd, &f, getuid(), getgid(), &err), 0);
	assert_int_equal(sup_upload_write(&u, (const uint8_t *)"hello\n", 6, &err), -E2BIG);
	sup_upload_abort(&u);
	assert_int_equal(mode_of(d, "long"), 0);
}

static void test_short_file_is_refused(void **state)
{
	struct dir *d = *state;
	struct wd_job_file f;
	struct sup_upload u;
	struct wd_err err;

	declare(&f, "short", 7, HELLO_SHA, 0755);
	assert_int_equal(sup_upload_begin(&u, d->fd, &f, getuid(), getgid(), &err), 0);
	assert_int_equal(sup_upload_write(&u, (const uint8_t *)"hello\n", 6, &err), 0);
	assert_int_equal(sup_upload_finish(&u, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "6 bytes, 7 declared"));
	sup_upload_abort(&u);
	assert_int_equal(mode_of(d, "short"), 0);
}

static void test_different_content_is_refused(void **state)
{
	struct dir *d = *state;
	struct wd_job_file f;
	struct sup_upload u;
	struct wd_err err;

	declare(&f, "bad", 6, HELLO_SHA, 0755);
	assert_int_equal(sup_upload_begin(&u, d->fd, &f, getuid(), getgid(), &err), 0);
	assert_int_equal(sup_upload_write(&u, (const uint8_t *)"hellO\n", 6, &err), 0);
	assert_int_equal(sup_upload_finish(&u, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "SHA-256"));
	sup_upload_abort(&u);
	assert_int_equal(mode_of(d, "bad"), 0);
}

static void test_existing_name_or_symlink_is_not_overwritten(void **state)
{
	struct dir *d = *state;
	struct wd_job_file f;
	struct sup_upload u;
	struct wd_err err;

	assert_int_equal(close(openat(d->fd, "taken", O_WRONLY | O_CREAT | O_CLOEXEC, 0600)), 0);
	assert_int_equal(symlinkat("/tmp/warden-upload-target", d->fd, "link"), 0);
	declare(&f, "taken", 6, HELLO_SHA, 0755);
	assert_int_equal(sup_upload_begin(&u, d->fd, &f, getuid(), getgid(), &err), -EEXIST);
	sup_upload_abort(&u);
	declare(&f, "link", 6, HELLO_SHA, 0755);
	assert_int_equal(sup_upload_begin(&u, d->fd, &f, getuid(), getgid(), &err), -EEXIST);
	sup_upload_abort(&u);
	assert_int_equal(access("/tmp/warden-upload-target", F_OK), -1);
}

static void test_name_with_a_slash_is_refused(void **state)
{
	struct dir *d = *state;
	struct wd_job_file f;
	struct sup_upload u;
	struct wd_err err;

	declare(&f, "../escape", 6, HELLO_SHA, 0755);
	assert_int_equal(sup_upload_begin(&u, d->fd, &f, getuid(), getgid(), &err), -EINVAL);
	sup_upload_abort(&u);
	declare(&f, "..", 6, HELLO_SHA, 0755);
	assert_int_equal(sup_upload_begin(&u, d->fd, &f, getuid(), getgid(), &err), -EINVAL);
	sup_upload_abort(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_file_gets_its_mode),
		cmocka_unit_test(test_bytes_beyond_the_declared_size_are_refused),
		cmocka_unit_test(test_short_file_is_refused),
		cmocka_unit_test(test_different_content_is_refused),
		cmocka_unit_test(test_existing_name_or_symlink_is_not_overwritten),
		cmocka_unit_test(test_name_with_a_slash_is_refused),
	};

	return cmocka_run_group_tests(tests, dir_setup, dir_teardown);
}
