/*
 * tests/unit/test_supervisor_wallclock.c - supervisor/wallclock.c: when the
 * guest's clock counts as off from the host's.
 *
 * Setting the clock itself needs CAP_SYS_TIME and would change the test
 * machine's time: only the decision is tested here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../supervisor/wallclock.h"

#define SEC 1000000000ULL

static void test_within_a_second_is_left_alone(void **state)
{
	(void)state;
	assert_false(sup_clock_off(100 * SEC, 100 * SEC, SUP_CLOCK_MAX_SKEW_NS));
	assert_false(sup_clock_off(101 * SEC, 100 * SEC, SUP_CLOCK_MAX_SKEW_NS));
	assert_false(sup_clock_off(100 * SEC, 101 * SEC, SUP_CLOCK_MAX_SKEW_NS));
}

static void test_over_a_second_either_way_is_off(void **state)
{
	(void)state;
	assert_true(sup_clock_off(101 * SEC + 1, 100 * SEC, SUP_CLOCK_MAX_SKEW_NS));
	assert_true(sup_clock_off(100 * SEC, 101 * SEC + 1, SUP_CLOCK_MAX_SKEW_NS));
	assert_true(sup_clock_off(0, UINT64_MAX, SUP_CLOCK_MAX_SKEW_NS));
	assert_true(sup_clock_off(UINT64_MAX, 0, SUP_CLOCK_MAX_SKEW_NS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_within_a_second_is_left_alone),
		cmocka_unit_test(test_over_a_second_either_way_is_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
