/*
 * tests/unit/test_host_uidpool.c - host/uidpool.c: the range's syntax and
 * bounds, and leases that never share an id while held, run out with a
 * clear error, come back when released, and refuse a lock directory
 * someone else could write.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../host/uidpool.h"

static struct wd_err err;

static int range(const char *text, uint32_t *a, uint32_t *b)
{
	wd_err_clear(&err);
	return wd_uid_range(text, a, b, &err);
}

static void test_range_default_and_syntax(void **state)
{
	uint32_t a, b;

	(void)state;
	assert_int_equal(range(NULL, &a, &b), 0);
	assert_int_equal(a, WD_UID_RANGE_FIRST);
	assert_int_equal(b, WD_UID_RANGE_LAST);
	assert_int_equal(range("70000-70009", &a, &b), 0);
	assert_int_equal(a, 70000);
	assert_int_equal(b, 70009);
	assert_int_equal(range("5000-5000", &a, &b), 0);
	assert_int_equal(a, b);
	static const char *const bad[] = {"",
					  "70000",
					  "-5",
					  "5-",
					  "9-1",
					  "0-10",
					  "1-4294967295",
					  "a-b",
					  " 1-2",
					  "1-2 ",
					  "60000-65534",
					  "65535-70000",
					  "1-1000000",
					  "+1-2",
					  "123456789012345678901234-1"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_true(range(bad[i], &a, &b) < 0);
		assert_true(err.msg[0] != '\0');
	}
}

static char dir[64];

static void make_dir(void)
{
	char tmpl[] = "/tmp/warden-uidpool-XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	(void)snprintf(dir, sizeof(dir), "%s/uids", tmpl);
}

static void remove_dir(void)
{
	char cmd[160];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf -- '%.*s'", (int)(strrchr(dir, '/') - dir), dir);
	assert_int_equal(system(cmd), 0);
}

/* Ids far from any real user, so that /etc/passwd names none of them. */
#define T_FIRST 3900000000U

static void test_leases_are_exclusive_until_released(void **state)
{
	struct wd_uid_lease a, b, c;

	(void)state;
	make_dir();
	assert_int_equal(wd_uid_lease_in(dir, T_FIRST, T_FIRST + 1, &a, &err), 0);
	assert_int_equal(wd_uid_lease_in(dir, T_FIRST, T_FIRST + 1, &b, &err), 0);
	assert_true(a.id != b.id);
	assert_true(a.id >= T_FIRST && a.id <= T_FIRST + 1);
	assert_true(b.id >= T_FIRST && b.id <= T_FIRST + 1);
	/* Both held: nothing left, said clearly, nothing held. */
	assert_int_equal(wd_uid_lease_in(dir, T_FIRST, T_FIRST + 1, &c, &err), -EAGAIN);
	assert_non_null(strstr(err.msg, WD_UID_RANGE_ENV));
	assert_int_equal(c.fd, -1);
	/* Given back: the same id is free again. */
	wd_uid_release(&a);
	assert_int_equal(a.fd, -1);
	wd_uid_release(&a);
	assert_int_equal(wd_uid_lease_in(dir, T_FIRST, T_FIRST + 1, &c, &err), 0);
	assert_true(c.id != b.id);
	wd_uid_release(&b);
	wd_uid_release(&c);
	remove_dir();
}

static void test_lock_dir_writable_by_others_is_refused(void **state)
{
	struct wd_uid_lease l;

	(void)state;
	make_dir();
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(wd_uid_lease_in(dir, T_FIRST, T_FIRST, &l, &err), -EPERM);
	assert_int_equal(l.fd, -1);
	remove_dir();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_default_and_syntax),
		cmocka_unit_test(test_leases_are_exclusive_until_released),
		cmocka_unit_test(test_lock_dir_writable_by_others_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
