/*
 * tests/unit/test_host_job.c - host/job.c: a policy that comes from
 * elsewhere than a --policy file (an image's baked policy) is read as a
 * file would be: a valid one becomes the job's, its audit budget the
 * one the host enforces; an invalid one is refused naming where it came
 * from, and the plan keeps what it had.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../host/job.h"

static char *dup_text(const char *s)
{
	char *t = strdup(s);

	assert_non_null(t);
	return t;
}

static void test_baked_policy_becomes_the_jobs(void **state)
{
	struct wd_job_plan p;
	struct wd_err err;
	char *text = dup_text("{\"audit\": {\"max_records\": 1000}}");

	(void)state;
	memset(&p, 0, sizeof(p));
	wd_policy_audit_defaults(&p.audit);
	assert_int_equal(wd_job_plan_set_policy(&p, text, strlen(text), "baked", &err), 0);
	assert_ptr_equal(p.policy, text);
	assert_int_equal(p.audit.max_records, 1000);
	free(p.policy);
}

static void test_invalid_baked_policy_is_refused(void **state)
{
	struct wd_job_plan p;
	struct wd_err err;
	char *bad = dup_text("{\"sandbox\": {\"uid\": -1}}");
	char *empty = dup_text("");

	(void)state;
	memset(&p, 0, sizeof(p));
	wd_policy_audit_defaults(&p.audit);
	assert_true(wd_job_plan_set_policy(&p, bad, strlen(bad), "the image's policy", &err) < 0);
	assert_non_null(strstr(err.msg, "the image's policy"));
	assert_non_null(strstr(err.msg, "sandbox.uid"));
	assert_null(p.policy);
	assert_int_equal(wd_job_plan_set_policy(&p, empty, 0, "baked", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "empty"));
	assert_int_equal(p.audit.max_records, WD_POLICY_BUDGET_RECORDS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baked_policy_becomes_the_jobs),
		cmocka_unit_test(test_invalid_baked_policy_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
