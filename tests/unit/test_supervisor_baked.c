/*
 * tests/unit/test_supervisor_baked.c - supervisor/baked.c: an image's own
 * policy (/etc/warden/policy.json) against the job's.
 *
 * The job's policy is what the guest's JOB decoder hands on (compact JSON),
 * so each case makes the job as the host does: its policy text through
 * wd_job_encode and wd_job_decode. The same policy written another way in
 * the image still matches; another policy, a policy of one more member,
 * or none at all is refused (-EPERM) with both digests in the message; an
 * image's file that is not a JSON object, or too large, fails too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/fileio.h"
#include "../../common/tlog.h"
#include "../../policy/policy.h"
#include "../../supervisor/baked.h"

#define POLICY_FILE                                                                                \
	"{\n  \"sandbox\": {\"uid\": 1000, \"gid\": 1000,\n   \"ro_binds\": [\"/usr\", "           \
	"\"/etc\"]},\n"                                                                            \
	"  \"audit\": {\"max_records\": 1e4}\n}\n"
#define POLICY_COMPACT                                                                             \
	"{\"sandbox\":{\"uid\":1000,\"gid\":1000,\"ro_binds\":[\"/usr\",\"/etc\"]},\"audit\":{"    \
	"\"max_records\":10000}}"

static char path[64];
static char job_text[4096];
static alignas(max_align_t) unsigned char arena[WD_JOB_ARENA_BYTES];

static int setup(void **state)
{
	(void)state;
	(void)snprintf(path, sizeof(path), "/tmp/warden-baked-XXXXXX");
	{
		int fd = mkstemp(path);

		if (fd < 0)
			return -1;
		(void)close(fd);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	(void)unlink(path);
	return 0;
}

static void bake(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* The policy text as the guest gets it: through a JOB, both ways. */
static const char *through_job(const char *policy)
{
	static const char *argv[] = {"/bin/true", NULL};
	struct wd_job job = {.argv = argv, .argc = 1, .policy = policy}, back;
	struct wd_err err;
	int n = wd_job_encode(&job, job_text, sizeof(job_text), &err);

	assert_true(n > 0);
	assert_int_equal(wd_job_decode((const uint8_t *)job_text, (size_t)n, &back, arena,
				       sizeof(arena), &err),
			 0);
	return back.policy;
}

static void test_no_image_policy_lets_any_job_through(void **state)
{
	struct sup_baked b;
	struct wd_err err;

	(void)state;
	assert_int_equal(sup_baked_policy("/nonexistent/warden/policy.json",
					  through_job("{\"sandbox\":{}}"), &b, &err),
			 0);
	assert_false(b.pinned);
	assert_int_equal(sup_baked_policy("/nonexistent/warden/policy.json", "", &b, &err), 0);
}

/* The image's file, pretty-printed, and the job's compact text: one policy. */
static void test_same_policy_written_differently_matches(void **state)
{
	char file[WD_SHA256_HEX];
	uint8_t h[WD_HASH_BYTES];
	struct sup_baked b;
	struct wd_err err;

	(void)state;
	bake(POLICY_FILE);
	assert_int_equal(sup_baked_policy(path, through_job(POLICY_FILE), &b, &err), 0);
	assert_true(b.pinned);
	assert_string_equal(b.sha256, b.job);
	wd_sha256(POLICY_FILE, strlen(POLICY_FILE), h);
	wd_hex(h, sizeof(h), file);
	assert_string_equal(b.file, file); /* the bytes, as manifest.json pins them */
	assert_string_not_equal(b.file, b.sha256);
	assert_int_equal(sup_baked_policy(path, through_job(POLICY_COMPACT), &b, &err), 0);
}

static void test_another_policy_is_refused(void **state)
{
	struct sup_baked b;
	struct wd_err err;
	const char *looser = "{\"sandbox\":{\"uid\":1000,\"gid\":1000,\"ro_binds\":[\"/usr\","
			     "\"/etc\"],\"seccomp\":false},\"audit\":{\"max_records\":10000}}";

	(void)state;
	bake(POLICY_FILE);
	assert_int_equal(sup_baked_policy(path, through_job(looser), &b, &err), -EPERM);
	assert_true(b.pinned);
	assert_string_not_equal(b.sha256, b.job);
	assert_non_null(strstr(err.msg, b.sha256));
	assert_non_null(strstr(err.msg, b.job));
	/* The members in another order are another text: refused too (the
	 * digest is of the text, as manifest.json pins it). */
	assert_int_equal(sup_baked_policy(path,
					  through_job("{\"audit\":{\"max_records\":10000},"
						      "\"sandbox\":{\"uid\":1000,\"gid\":1000,"
						      "\"ro_binds\":[\"/usr\",\"/etc\"]}}"),
					  &b, &err),
			 -EPERM);
}

/* The image has its policy, the host sent none: the defaults would be
 * looser than the image's owner asked. */
static void test_a_job_without_a_policy_is_refused(void **state)
{
	struct sup_baked b;
	struct wd_err err;

	(void)state;
	bake(POLICY_FILE);
	assert_int_equal(sup_baked_policy(path, through_job(""), &b, &err), -EPERM);
	assert_true(b.pinned);
	assert_string_equal(b.job, "");
	assert_non_null(strstr(err.msg, "brings none"));
}

static void test_broken_image_policy_fails_closed(void **state)
{
	struct sup_baked b;
	struct wd_err err;
	char *big;

	(void)state;
	bake("{\"sandbox\": ");
	assert_true(sup_baked_policy(path, through_job(POLICY_COMPACT), &b, &err) < 0);
	assert_true(b.pinned);
	bake("[1, 2]");
	assert_true(sup_baked_policy(path, "", &b, &err) < 0);
	assert_non_null(strstr(err.msg, "image's policy"));
	big = malloc(WD_POLICY_MAX_BYTES + 2);
	assert_non_null(big);
	memset(big, ' ', WD_POLICY_MAX_BYTES + 1);
	big[0] = '{';
	big[WD_POLICY_MAX_BYTES] = '}';
	big[WD_POLICY_MAX_BYTES + 1] = '\0';
	bake(big);
	free(big);
	assert_int_equal(sup_baked_policy(path, through_job(POLICY_COMPACT), &b, &err), -E2BIG);
}

/* The digest is of the compact text the JOB hands on, whatever the input's layout. */
static void test_policy_digest_is_of_the_compact_text(void **state)
{
	char a[WD_SHA256_HEX], c[WD_SHA256_HEX], want[WD_SHA256_HEX];
	uint8_t h[WD_HASH_BYTES];
	struct wd_err err;

	(void)state;
	assert_int_equal(wd_job_policy_sha256(POLICY_FILE, strlen(POLICY_FILE), a, &err), 0);
	assert_int_equal(wd_job_policy_sha256(POLICY_COMPACT, strlen(POLICY_COMPACT), c, &err), 0);
	wd_sha256(POLICY_COMPACT, strlen(POLICY_COMPACT), h);
	wd_hex(h, sizeof(h), want);
	assert_string_equal(a, want);
	assert_string_equal(c, want);
	assert_int_equal(wd_job_policy_sha256("[]", 2, a, &err), -EINVAL);
	assert_int_equal(wd_job_policy_sha256("{} {}", 5, a, &err), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_image_policy_lets_any_job_through),
		cmocka_unit_test(test_same_policy_written_differently_matches),
		cmocka_unit_test(test_another_policy_is_refused),
		cmocka_unit_test(test_a_job_without_a_policy_is_refused),
		cmocka_unit_test(test_broken_image_policy_fails_closed),
		cmocka_unit_test(test_policy_digest_is_of_the_compact_text),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
