/*
 * tests/unit/test_host_launchrec.c - host/launchrec.c: the launcher's own
 * records in --audit-dir/launcher.jsonl. Each is one canonical JSON line
 * (the guest's record form, checked by wd_jcanon_check), appended, mode
 * 0600; a record that does not fit is not written at all; a symlink put
 * where the file goes is not followed (the directory's owner is the only
 * writer, and a planted link must not turn a record into a write
 * elsewhere).
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

#include <cjson/cJSON.h>

#include "../../common/jcanon.h"
#include "../../host/launchrec.h"

static char dir[64], file[128];

static int setup(void **state)
{
	(void)state;
	(void)snprintf(dir, sizeof(dir), "/tmp/warden-launchrec-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	(void)snprintf(file, sizeof(file), "%s/%s", dir, WD_LAUNCHREC_FILE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	(void)unlink(file);
	return rmdir(dir);
}

static const struct wd_launchrec mismatch = {
	"image",           "root-hash-mismatch",
	"failure",         "critical",
	"vm-1/audit/0123", "{\"expected\":\"aa\",\"image\":\"/img\",\"reported\":\"\"}",
};

/* The file's lines, each checked canonical; returns how many. */
static int lines(char text[8192])
{
	int fd = open(file, O_RDONLY | O_CLOEXEC), n = 0;
	ssize_t len = fd >= 0 ? read(fd, text, 8191) : -1;

	assert_true(len >= 0);
	text[len] = '\0';
	(void)close(fd);
	for (char *l = text, *nl; (nl = strchr(l, '\n')) != NULL; l = nl + 1, n++) {
		struct wd_err err;

		assert_int_equal(wd_jcanon_check(l, (size_t)(nl - l), 8192, NULL, &err), 0);
	}
	return n;
}

static void test_records_are_canonical_lines_appended(void **state)
{
	char text[8192];
	struct wd_err err;
	struct stat st;

	(void)state;
	assert_int_equal(wd_launchrec_write(dir, &mismatch, &err), 0);
	assert_int_equal(wd_launchrec_write(dir, &mismatch, &err), 0);
	assert_int_equal(lines(text), 2);
	assert_non_null(strstr(text, "{\"activity\":\"root-hash-mismatch\",\"actor\":{\"pid\":"));
	assert_non_null(strstr(text, ",\"process\":\"warden-run\"},\"class\":\"image\",\"data\":{"
				     "\"expected\":\"aa\",\"image\":\"/img\",\"reported\":\"\"},"
				     "\"origin\":\"vm-1/audit/0123\",\"outcome\":\"failure\","
				     "\"severity\":\"critical\",\"time\":"));
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

/* What a guest said (its origin) is written escaped, never raw. */
static void test_control_characters_are_escaped(void **state)
{
	struct wd_launchrec r = mismatch;
	char text[8192];
	struct wd_err err;

	(void)state;
	r.origin = "vm\x1b[2J/audit/\x9b";
	assert_int_equal(wd_launchrec_write(dir, &r, &err), 0);
	assert_int_equal(lines(text), 1);
	assert_null(strchr(text, '\x1b'));
	assert_non_null(strstr(text, "vm\\u001b[2J/audit/"));
}

static void test_a_record_too_long_is_not_written(void **state)
{
	static char data[WD_LAUNCHREC_MAX + 64];
	struct wd_launchrec r = mismatch;
	struct wd_err err;
	struct stat st;

	(void)state;
	(void)snprintf(data, sizeof(data), "{\"x\":\"%0*d\"}", WD_LAUNCHREC_MAX, 0);
	r.data = data;
	assert_true(wd_launchrec_write(dir, &r, &err) < 0);
	assert_int_equal(stat(file, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_a_planted_symlink_is_not_followed(void **state)
{
	char target[128];
	struct wd_err err;
	struct stat st;

	(void)state;
	(void)snprintf(target, sizeof(target), "%s/elsewhere", dir);
	assert_int_equal(symlink(target, file), 0);
	assert_int_equal(wd_launchrec_write(dir, &mismatch, &err), -ELOOP);
	assert_non_null(strstr(err.msg, WD_LAUNCHREC_FILE));
	assert_int_equal(stat(target, &st), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_records_are_canonical_lines_appended, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_control_characters_are_escaped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_record_too_long_is_not_written, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_planted_symlink_is_not_followed, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
