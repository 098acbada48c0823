/*
 * tests/unit/test_policy.c - policy/policy.c: the document read once into
 * one structure; each section's errors name their field; derived settings
 * follow what the document says.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../common/tlog.h"
#include "../../policy/policy.h"

static struct wd_policy pol;
static struct wd_err err;

static int read_policy(const char *text)
{
	wd_err_clear(&err);
	return wd_policy_read(text, strlen(text), &pol, &err);
}

static void test_empty_policy_is_every_default(void **state)
{
	(void)state;
	assert_int_equal(read_policy(""), 0);
	assert_int_equal(pol.audit.checkpoint_every, WD_POLICY_CHECKPOINT_EVERY);
	assert_int_equal(pol.audit.checkpoint_ms, WD_POLICY_CHECKPOINT_MS);
	assert_int_equal(pol.audit.memory_bytes, WD_POLICY_MEMORY_BYTES);
	assert_int_equal(pol.audit.spill_bytes, WD_POLICY_SPILL_BYTES);
	assert_true(pol.audit.exec);
	assert_false(pol.sandbox.exec_audit_off);
	assert_false(pol.sandbox.seccomp_off);
	assert_int_equal(pol.sandbox.uid, 65534);
	assert_int_equal(pol.bytes, 0);
	wd_policy_free(&pol);
}

static void test_unknown_top_level_member_is_refused(void **state)
{
	(void)state;
	assert_int_equal(read_policy("{\"egres\": {}}"), -EINVAL);
	assert_non_null(strstr(err.msg, "egres"));
	wd_policy_free(&pol);
}

static void test_both_sections_come_from_one_read(void **state)
{
	(void)state;
	assert_int_equal(read_policy("{\"sandbox\": {\"uid\": 1234, \"landlock\": false},"
				     " \"audit\": {\"checkpoint_every\": 7, \"spill_bytes\": 0}}"),
			 0);
	assert_int_equal(pol.sandbox.uid, 1234);
	assert_true(pol.sandbox.landlock_off);
	assert_int_equal(pol.audit.checkpoint_every, 7);
	assert_int_equal(pol.audit.spill_bytes, 0);
	assert_int_equal(pol.audit.checkpoint_ms, WD_POLICY_CHECKPOINT_MS);
	wd_policy_free(&pol);
}

static void test_audit_exec_false_turns_the_sandbox_exec_audit_off(void **state)
{
	(void)state;
	assert_int_equal(read_policy("{\"audit\": {\"exec\": false}}"), 0);
	assert_false(pol.audit.exec);
	assert_true(pol.sandbox.exec_audit_off);
	wd_policy_free(&pol);
}

static void test_audit_errors_name_their_field(void **state)
{
	static const struct {
		const char *text, *field;
	} bad[] = {
		{"{\"audit\": {\"memory_bytes\": 1024}}", "audit.memory_bytes"},
		{"{\"audit\": {\"memory_bytes\": 1073741825}}", "audit.memory_bytes"},
		{"{\"audit\": {\"checkpoint_every\": 0}}", "checkpoint_every"},
		{"{\"audit\": {\"checkpoint_ms\": 3600001}}", "audit.checkpoint_ms"},
		{"{\"audit\": {\"spill_bytes\": 4294967297}}", "audit.spill_bytes"},
		{"{\"audit\": {\"exec\": 1}}", "audit.exec"},
		{"{\"audit\": {\"execs\": true}}", "execs"},
		{"{\"audit\": []}", "policy: audit"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_true(read_policy(bad[i].text) < 0);
		if (strstr(err.msg, bad[i].field) == NULL)
			fail_msg("%s: '%s' does not name %s", bad[i].text, err.msg, bad[i].field);
		wd_policy_free(&pol);
	}
}

static void test_sandbox_error_names_its_field_and_leaves_defaults(void **state)
{
	(void)state;
	assert_true(read_policy("{\"sandbox\": {\"rlimits\": {\"stack\": 1}}}") < 0);
	assert_non_null(strstr(err.msg, "sandbox.rlimits"));
	assert_false(pol.sandbox.has_profile);
	assert_int_equal(pol.audit.checkpoint_every, WD_POLICY_CHECKPOINT_EVERY);
	wd_policy_free(&pol);
}

static void test_digest_is_of_the_text_as_read(void **state)
{
	const char *text = "{\"audit\": {\"exec\": true}}";
	uint8_t want[32];

	(void)state;
	wd_sha256(text, strlen(text), want);
	assert_int_equal(read_policy(text), 0);
	assert_memory_equal(pol.sha256, want, sizeof(want));
	assert_int_equal(pol.bytes, strlen(text));
	wd_policy_free(&pol);
}

static void test_oversized_document_is_refused(void **state)
{
	static char text[WD_POLICY_MAX_BYTES + 64];

	(void)state;
	memset(text, ' ', sizeof(text) - 1);
	text[0] = '{';
	text[sizeof(text) - 2] = '}';
	assert_int_equal(read_policy(text), -E2BIG);
	wd_policy_free(&pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_policy_is_every_default),
		cmocka_unit_test(test_unknown_top_level_member_is_refused),
		cmocka_unit_test(test_both_sections_come_from_one_read),
		cmocka_unit_test(test_audit_exec_false_turns_the_sandbox_exec_audit_off),
		cmocka_unit_test(test_audit_errors_name_their_field),
		cmocka_unit_test(test_sandbox_error_names_its_field_and_leaves_defaults),
		cmocka_unit_test(test_digest_is_of_the_text_as_read),
		cmocka_unit_test(test_oversized_document_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
