/*
 * tests/unit/test_supervisor_agent.c - supervisor/agent.c: the exit the
 * host is told about.
 *
 * The status follows the shell's convention (0-255, 128+N for signal N),
 * the signal and core flag come from the wait status, and the job's usage
 * adds up CPU time over every reaped process and keeps the largest RSS.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "../../supervisor/agent.h"

/* Wait statuses as the kernel encodes them (wait(2)). */
#define EXITED(code) (((code)&0xff) << 8)
#define KILLED(sig) ((sig)&0x7f)
#define CORE 0x80

static void test_exit_code_is_the_status(void **state)
{
	struct wd_exit e;

	(void)state;
	memset(&e, 0, sizeof(e));
	sup_exit_from_wait(EXITED(0), &e);
	assert_int_equal(e.status, 0);
	assert_int_equal(e.signal, 0);
	sup_exit_from_wait(EXITED(7), &e);
	assert_int_equal(e.status, 7);
	sup_exit_from_wait(EXITED(255), &e);
	assert_int_equal(e.status, 255);
	assert_false(e.core_dumped);
}

static void test_signal_n_is_128_plus_n(void **state)
{
	struct wd_exit e;

	(void)state;
	memset(&e, 0, sizeof(e));
	sup_exit_from_wait(KILLED(SIGKILL), &e);
	assert_int_equal(e.status, 137);
	assert_int_equal(e.signal, SIGKILL);
	assert_false(e.core_dumped);
	sup_exit_from_wait(KILLED(SIGTERM), &e);
	assert_int_equal(e.status, 143);
	sup_exit_from_wait(KILLED(64), &e);
	assert_int_equal(e.status, 192);
	assert_int_equal(e.signal, 64);
}

static void test_core_dump_is_reported(void **state)
{
	struct wd_exit e;

	(void)state;
	memset(&e, 0, sizeof(e));
	sup_exit_from_wait(KILLED(SIGSEGV) | CORE, &e);
	assert_int_equal(e.status, 139);
	assert_int_equal(e.signal, SIGSEGV);
	assert_true(e.core_dumped);
}

static void test_usage_sums_cpu_and_keeps_the_largest_rss(void **state)
{
	struct rusage a, b;
	struct wd_exit e;

	(void)state;
	memset(&e, 0, sizeof(e));
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.ru_utime.tv_sec = 1;
	a.ru_utime.tv_usec = 500000;
	a.ru_stime.tv_usec = 250;
	a.ru_maxrss = 4096;
	b.ru_utime.tv_usec = 600000;
	b.ru_stime.tv_sec = 2;
	b.ru_maxrss = 1024;
	sup_exit_add_usage(&a, &e);
	sup_exit_add_usage(&b, &e);
	assert_int_equal(e.utime_us, 2100000);
	assert_int_equal(e.stime_us, 2000250);
	assert_int_equal(e.maxrss_kib, 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_code_is_the_status),
		cmocka_unit_test(test_signal_n_is_128_plus_n),
		cmocka_unit_test(test_core_dump_is_reported),
		cmocka_unit_test(test_usage_sums_cpu_and_keeps_the_largest_rss),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
