/*
 * tests/unit/test_sandbox_coalesce.c - sandbox/coalesce.c: repeated
 * identical denials become one record per interval with an exact count,
 * and nothing is ever lost (the counts of the records made add up to the
 * denials given, whatever the order, the keys and the flushes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "../../common/clock.h"
#include "../../sandbox/coalesce.h"

#define MS WD_NS_PER_MS
#define T0 (1000 * MS) /* a monotonic time to start from */

/* What emit was asked to record. */
struct emitted {
	size_t n;         /* records */
	uint64_t counted; /* the sum of their counts */
	size_t at_once;   /* of them, single denials (c NULL) */
	struct sup_sb_denial last;
	struct sup_sb_denial_count last_count;
	bool last_at_once;
	int fail; /* nonzero: the next calls return -fail */
};

static int emit(void *ctx, const struct sup_sb_denial *d, const struct sup_sb_denial_count *c)
{
	struct emitted *e = ctx;

	if (e->fail != 0)
		return -e->fail;
	e->n++;
	e->counted += c != NULL ? c->count : 1;
	e->at_once += c == NULL;
	e->last = *d;
	e->last_at_once = c == NULL;
	if (c != NULL)
		e->last_count = *c;
	return 0;
}

static struct sup_sb_denial denial(int pid, int nr, uint64_t arg0)
{
	struct sup_sb_denial d;

	memset(&d, 0, sizeof(d));
	d.pid = pid;
	d.nr = nr;
	d.name = "unshare";
	d.abi = "x86_64";
	d.err = EPERM;
	d.args[0] = arg0;
	return d;
}

static void test_first_denial_is_recorded_at_once_and_repeats_are_counted(void **state)
{
	static struct sup_coalesce c;
	struct emitted e = {0};
	struct sup_sb_denial d = denial(5, 272, 0x10000000);

	(void)state;
	sup_coalesce_init(&c, SUP_COALESCE_MS);
	assert_int_equal(sup_coalesce_add(&c, &d, T0, 5000, emit, &e), 0);
	assert_int_equal(e.n, 1);
	assert_true(e.last_at_once);
	assert_string_equal(e.last.name, "unshare");
	for (int i = 1; i <= 999; i++)
		assert_int_equal(sup_coalesce_add(&c, &d, T0 + (uint64_t)i * MS, 5000 + (uint64_t)i,
						  emit, &e),
				 0);
	assert_int_equal(e.n, 1); /* counted, not recorded yet */
	assert_int_equal(sup_coalesce_pending(&c), 999);
	assert_int_equal(sup_coalesce_next_ns(&c), T0 + SUP_COALESCE_MS * MS);
	/* Before the interval's end: nothing. */
	assert_int_equal(sup_coalesce_flush(&c, T0 + 999 * MS, false, emit, &e), 0);
	assert_int_equal(e.n, 1);
	/* At its end: one record with the count and the first and last time. */
	assert_int_equal(sup_coalesce_flush(&c, T0 + 1000 * MS, false, emit, &e), 0);
	assert_int_equal(e.n, 2);
	assert_false(e.last_at_once);
	assert_int_equal(e.last_count.count, 999);
	assert_int_equal(e.last_count.first_ms, 5001);
	assert_int_equal(e.last_count.last_ms, 5999);
	assert_int_equal(e.last.pid, 5);
	assert_int_equal(c.given, 1000);
	assert_int_equal(c.recorded, 1000);
	/* The key stays for the next interval: a repeat is counted. */
	assert_int_equal(sup_coalesce_add(&c, &d, T0 + 1500 * MS, 6500, emit, &e), 0);
	assert_int_equal(e.n, 2);
	assert_int_equal(sup_coalesce_flush(&c, T0 + 2000 * MS, false, emit, &e), 0);
	assert_int_equal(e.n, 3);
	assert_int_equal(e.last_count.count, 1);
	/* A quiet interval: the key is forgotten, its next denial recorded at once. */
	assert_int_equal(sup_coalesce_flush(&c, T0 + 3000 * MS, false, emit, &e), 0);
	assert_int_equal(e.n, 3);
	assert_int_equal(sup_coalesce_next_ns(&c), 0);
	assert_int_equal(sup_coalesce_add(&c, &d, T0 + 3100 * MS, 8100, emit, &e), 0);
	assert_int_equal(e.n, 4);
	assert_true(e.last_at_once);
}

static void test_denials_that_differ_in_any_field_are_distinct(void **state)
{
	static struct sup_coalesce c;
	struct emitted e = {0};
	struct sup_sb_denial base = denial(5, 272, 0x10000000), d;

	(void)state;
	sup_coalesce_init(&c, SUP_COALESCE_MS);
	assert_int_equal(sup_coalesce_add(&c, &base, T0, 1, emit, &e), 0);
	d = base;
	d.pid = 6;
	assert_int_equal(sup_coalesce_add(&c, &d, T0, 1, emit, &e), 0);
	d = base;
	d.nr = 101;
	assert_int_equal(sup_coalesce_add(&c, &d, T0, 1, emit, &e), 0);
	d = base;
	d.err = ENOSYS;
	assert_int_equal(sup_coalesce_add(&c, &d, T0, 1, emit, &e), 0);
	d = base;
	d.abi = "i386";
	assert_int_equal(sup_coalesce_add(&c, &d, T0, 1, emit, &e), 0);
	for (size_t i = 0; i < 6; i++) {
		d = base;
		d.args[i] ^= 1;
		assert_int_equal(sup_coalesce_add(&c, &d, T0, 1, emit, &e), 0);
	}
	assert_int_equal(e.n, 11);
	assert_int_equal(e.at_once, 11);
	/* The notification's id is no part of what happened. */
	d = base;
	d.id = 12345;
	assert_int_equal(sup_coalesce_add(&c, &d, T0, 1, emit, &e), 0);
	assert_int_equal(e.n, 11);
	assert_int_equal(sup_coalesce_pending(&c), 1);
}

static void test_full_table_flushes_the_oldest_to_make_room(void **state)
{
	static struct sup_coalesce c;
	struct emitted e = {0};
	struct sup_sb_denial d;

	(void)state;
	sup_coalesce_init(&c, SUP_COALESCE_MS);
	/* Every slot taken, key i at T0 + i ms, each with a repeat counted. */
	for (int i = 0; i < SUP_COALESCE_SLOTS; i++) {
		d = denial(100 + i, 272, 0);
		assert_int_equal(sup_coalesce_add(&c, &d, T0 + (uint64_t)i * MS, 1, emit, &e), 0);
		assert_int_equal(sup_coalesce_add(&c, &d, T0 + (uint64_t)i * MS, 2, emit, &e), 0);
	}
	assert_int_equal(e.n, SUP_COALESCE_SLOTS);
	/* One more key: the oldest (pid 100) gives its count up, then the new one is recorded. */
	d = denial(999, 272, 0);
	assert_int_equal(sup_coalesce_add(&c, &d, T0 + 50 * MS, 3, emit, &e), 0);
	assert_int_equal(e.n, SUP_COALESCE_SLOTS + 2);
	assert_true(e.last_at_once);
	assert_int_equal(e.last.pid, 999);
	assert_int_equal(sup_coalesce_pending(&c), SUP_COALESCE_SLOTS - 1);
	/* pid 100 is gone: its next denial is recorded at once. */
	d = denial(100, 272, 0);
	assert_int_equal(sup_coalesce_add(&c, &d, T0 + 60 * MS, 4, emit, &e), 0);
	assert_true(e.last_at_once);
	assert_int_equal(e.last.pid, 100);
	assert_int_equal(sup_coalesce_flush(&c, T0 + 60 * MS, true, emit, &e), 0);
	assert_int_equal(sup_coalesce_pending(&c), 0);
	assert_int_equal(e.counted, c.given);
	assert_int_equal(c.given, 2 * SUP_COALESCE_SLOTS + 2);
}

static void test_a_failed_record_loses_nothing(void **state)
{
	static struct sup_coalesce c;
	struct emitted e = {0};
	struct sup_sb_denial d = denial(5, 272, 0);

	(void)state;
	sup_coalesce_init(&c, SUP_COALESCE_MS);
	/* The first record cannot be made: the denial is not taken. */
	e.fail = EDQUOT;
	assert_int_equal(sup_coalesce_add(&c, &d, T0, 1, emit, &e), -EDQUOT);
	assert_int_equal(c.given, 0);
	assert_int_equal(sup_coalesce_next_ns(&c), 0);
	e.fail = 0;
	assert_int_equal(sup_coalesce_add(&c, &d, T0, 1, emit, &e), 0);
	assert_int_equal(sup_coalesce_add(&c, &d, T0, 2, emit, &e), 0);
	/* A count that cannot be recorded is kept for the next try. */
	e.fail = ENOBUFS;
	assert_int_equal(sup_coalesce_flush(&c, T0, true, emit, &e), -ENOBUFS);
	assert_int_equal(sup_coalesce_pending(&c), 1);
	e.fail = 0;
	assert_int_equal(sup_coalesce_flush(&c, T0, true, emit, &e), 0);
	assert_int_equal(e.counted, 2);
	assert_int_equal(c.given, 2);
}

/* A deterministic stream of denials over more keys than slots, at
 * irregular times, with flushes of both kinds between them: after the
 * last flush the counts add up exactly, and no record counts nothing. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int emit_checked(void *ctx, const struct sup_sb_denial *d,
			const struct sup_sb_denial_count *c)
{
	if (c != NULL && (c->count == 0 || c->first_ms > c->last_ms))
		fail_msg("a count record of %llu", (unsigned long long)c->count);
	return emit(ctx, d, c);
}

static void test_counts_add_up_to_the_denials_given(void **state)
{
	static struct sup_coalesce c;
	struct emitted e = {0};
	uint64_t now = T0, given = 0;

	(void)state;
	sup_coalesce_init(&c, SUP_COALESCE_MS);
	for (int i = 0; i < 200000; i++) {
		uint64_t r = next_rand();
		/* Mostly a few hot keys, sometimes one of many. */
		int pid = (r & 63) != 0 ? (int)(r >> 8) % 4
					: (int)(r >> 8) % (3 * SUP_COALESCE_SLOTS);
		struct sup_sb_denial d = denial(10 + pid, 272, (r >> 20) % 2);

		now += (r >> 32) % (2 * MS);
		assert_int_equal(sup_coalesce_add(&c, &d, now, now / MS, emit_checked, &e), 0);
		given++;
		if ((r >> 40) % 64 == 0)
			assert_int_equal(sup_coalesce_flush(&c, now, false, emit_checked, &e), 0);
		if ((r >> 48) % 5000 == 0) /* a checkpoint */
			assert_int_equal(sup_coalesce_flush(&c, now, true, emit_checked, &e), 0);
		assert_int_equal(e.counted + sup_coalesce_pending(&c), given);
	}
	assert_int_equal(sup_coalesce_flush(&c, now, true, emit_checked, &e), 0);
	assert_int_equal(e.counted, given);
	assert_int_equal(c.recorded, given);
	assert_int_equal(c.given, given);
	/* Coalescing did its work: far fewer records than denials. */
	assert_true(e.n < given / 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_denial_is_recorded_at_once_and_repeats_are_counted),
		cmocka_unit_test(test_denials_that_differ_in_any_field_are_distinct),
		cmocka_unit_test(test_full_table_flushes_the_oldest_to_make_room),
		cmocka_unit_test(test_a_failed_record_loses_nothing),
		cmocka_unit_test(test_counts_add_up_to_the_denials_given),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
