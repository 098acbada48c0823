/*
 * tests/unit/test_sandbox_spawn.c - sandbox/spawn.c: where the
 * agent's command is searched for.
 *
 * The search itself runs in the child between fork and exec; what it walks
 * is tested here: the job's PATH or the default, every entry in order,
 * empty entries skipped (never "the current directory"), an entry too long
 * for the buffer skipped without ending the search.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "../../sandbox/spawn.h"

static void job_with_env(struct wd_job *job, const char **env, size_t envc)
{
	memset(job, 0, sizeof(*job));
	job->env = env;
	job->envc = envc;
}

static void test_job_path_is_searched(void **state)
{
	const char *env[] = {"HOME=/", "PATH=/opt/bin:/bin", "PATH=/second", NULL};
	struct wd_job job;

	(void)state;
	job_with_env(&job, env, 3);
	assert_string_equal(sup_spawn_path(&job), "/opt/bin:/bin");
}

static void test_default_path_without_one_in_the_job(void **state)
{
	const char *env[] = {"PATHX=/nope", "XPATH=/nope", NULL};
	struct wd_job job;

	(void)state;
	job_with_env(&job, env, 2);
	assert_string_equal(sup_spawn_path(&job), SUP_DEFAULT_PATH);
	job_with_env(&job, NULL, 0);
	assert_string_equal(sup_spawn_path(&job), "/usr/local/bin:/usr/bin:/bin");
}

static void test_candidates_follow_the_path_in_order(void **state)
{
	const char *cursor = "/a:/b/c:/d";
	char buf[64];

	(void)state;
	assert_int_equal(sup_path_next(&cursor, "ls", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "/a/ls");
	assert_int_equal(sup_path_next(&cursor, "ls", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "/b/c/ls");
	assert_int_equal(sup_path_next(&cursor, "ls", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "/d/ls");
	assert_int_equal(sup_path_next(&cursor, "ls", buf, sizeof(buf)), 0);
	assert_int_equal(sup_path_next(&cursor, "ls", buf, sizeof(buf)), 0);
}

static void test_empty_entries_are_not_the_current_directory(void **state)
{
	const char *cursor = ":/a::/b:";
	char buf[64];

	(void)state;
	assert_int_equal(sup_path_next(&cursor, "x", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "/a/x");
	assert_int_equal(sup_path_next(&cursor, "x", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "/b/x");
	assert_int_equal(sup_path_next(&cursor, "x", buf, sizeof(buf)), 0);
	cursor = "";
	assert_int_equal(sup_path_next(&cursor, "x", buf, sizeof(buf)), 0);
}

static void test_too_long_entry_is_skipped_not_fatal(void **state)
{
	const char *cursor = "/a-very-long-directory:/b";
	char buf[8];

	(void)state;
	assert_int_equal(sup_path_next(&cursor, "x", buf, sizeof(buf)), -ENAMETOOLONG);
	assert_int_equal(sup_path_next(&cursor, "x", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "/b/x");
	assert_int_equal(sup_path_next(&cursor, "x", buf, sizeof(buf)), 0);
}

static void test_candidate_exactly_fills_the_buffer(void **state)
{
	const char *cursor = "/ab";
	char buf[6]; /* "/ab/x" and its NUL */

	(void)state;
	assert_int_equal(sup_path_next(&cursor, "x", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "/ab/x");
	cursor = "/abc";
	assert_int_equal(sup_path_next(&cursor, "x", buf, sizeof(buf)), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_job_path_is_searched),
		cmocka_unit_test(test_default_path_without_one_in_the_job),
		cmocka_unit_test(test_candidates_follow_the_path_in_order),
		cmocka_unit_test(test_empty_entries_are_not_the_current_directory),
		cmocka_unit_test(test_too_long_entry_is_skipped_not_fatal),
		cmocka_unit_test(test_candidate_exactly_fills_the_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
