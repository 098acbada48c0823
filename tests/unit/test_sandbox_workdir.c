/*
 * tests/unit/test_sandbox_workdir.c - sandbox/workdir.c: the job's
 * cwd, resolved below the working directory.
 *
 * Every component must be a real directory reached without following a
 * symlink and without climbing out. (Mounting the tmpfs needs root and a
 * mount namespace: the namespace-mode runs cover it.)
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

#include "../../sandbox/workdir.h"

struct tree {
	char root[64];
	int fd;
};

/* root/ with a/b/, a file f, a symlink up -> .., and a symlink ab -> a/b */
static int tree_setup(void **state)
{
	static struct tree t;
	char path[128];

	(void)snprintf(t.root, sizeof(t.root), "/tmp/warden-workdir-XXXXXX");
	assert_non_null(mkdtemp(t.root));
	t.fd = open(t.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(t.fd >= 0);
	assert_int_equal(mkdirat(t.fd, "a", 0755), 0);
	assert_int_equal(mkdirat(t.fd, "a/b", 0755), 0);
	(void)snprintf(path, sizeof(path), "%s/f", t.root);
	assert_int_equal(close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)), 0);
	assert_int_equal(symlinkat("..", t.fd, "up"), 0);
	assert_int_equal(symlinkat("a/b", t.fd, "ab"), 0);
	*state = &t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;

	(void)unlinkat(t->fd, "ab", 0);
	(void)unlinkat(t->fd, "up", 0);
	(void)unlinkat(t->fd, "f", 0);
	(void)unlinkat(t->fd, "a/b", AT_REMOVEDIR);
	(void)unlinkat(t->fd, "a", AT_REMOVEDIR);
	(void)close(t->fd);
	(void)rmdir(t->root);
	return 0;
}

/* Open `rel` and return its inode, or the negative errno. */
static long long open_ino(struct tree *t, const char *rel, struct wd_err *err)
{
	struct stat st;
	int fd, rc;

	wd_err_clear(err);
	rc = sup_workdir_open_dir(t->fd, rel, &fd, err);
	if (rc < 0) {
		assert_int_equal(fd, -1);
		assert_int_equal(err->code, -rc);
		return rc;
	}
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(close(fd), 0);
	return (long long)st.st_ino;
}

static long long ino_of(struct tree *t, const char *rel)
{
	struct stat st;

	assert_int_equal(fstatat(t->fd, rel, &st, AT_SYMLINK_NOFOLLOW), 0);
	return (long long)st.st_ino;
}

static void test_empty_and_dot_are_the_working_directory(void **state)
{
	struct tree *t = *state;
	struct wd_err err;

	assert_int_equal(open_ino(t, "", &err), ino_of(t, "."));
	assert_int_equal(open_ino(t, ".", &err), ino_of(t, "."));
	assert_int_equal(open_ino(t, "./", &err), ino_of(t, "."));
}

static void test_nested_directory_is_reached(void **state)
{
	struct tree *t = *state;
	struct wd_err err;

	assert_int_equal(open_ino(t, "a/b", &err), ino_of(t, "a/b"));
	assert_int_equal(open_ino(t, "a//./b/", &err), ino_of(t, "a/b"));
}

static void test_symlink_component_is_refused(void **state)
{
	struct tree *t = *state;
	struct wd_err err;

	assert_true(open_ino(t, "ab", &err) < 0);
	assert_true(open_ino(t, "up", &err) < 0);
	assert_true(open_ino(t, "up/a", &err) < 0);
}

static void test_dotdot_and_absolute_are_refused(void **state)
{
	struct tree *t = *state;
	struct wd_err err;

	assert_int_equal(open_ino(t, "..", &err), -EINVAL);
	assert_int_equal(open_ino(t, "a/../a", &err), -EINVAL);
	assert_int_equal(open_ino(t, "/tmp", &err), -EINVAL);
}

static void test_missing_or_not_a_directory_is_refused(void **state)
{
	struct tree *t = *state;
	struct wd_err err;

	assert_int_equal(open_ino(t, "nope", &err), -ENOENT);
	assert_non_null(strstr(err.msg, "nope"));
	assert_int_equal(open_ino(t, "f", &err), -ENOTDIR);
	assert_int_equal(open_ino(t, "a/b/c", &err), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_and_dot_are_the_working_directory),
		cmocka_unit_test(test_nested_directory_is_reached),
		cmocka_unit_test(test_symlink_component_is_refused),
		cmocka_unit_test(test_dotdot_and_absolute_are_refused),
		cmocka_unit_test(test_missing_or_not_a_directory_is_refused),
	};

	return cmocka_run_group_tests(tests, tree_setup, tree_teardown);
}
