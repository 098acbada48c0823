/*
 * tests/unit/test_modules.c - init_modules_parse(): the image's module list.
 *
 * The list is written by the image build, but PID 1 still treats it as
 * input: a path must stay below /lib/modules/VERSION, the file and its
 * lines are bounded, and modules are handed on in the order written (the
 * build resolved dependencies; init must not reorder them). Also
 * init_module_params(): the "NAME.key=value" tokens of the kernel command
 * line that init passes to module NAME, as modprobe would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../init/init.h"

#define SEEN_MAX (INIT_MODULES_MAX + 8)

struct seen {
	unsigned count;
	unsigned fail_at;    /* 1-based module call that fails; 0: never */
	unsigned kver_calls; /* calls of the version callback */
	bool fail_kver;      /* the version callback fails */
	char kver[128];      /* as given to the version callback */
	char paths[SEEN_MAX][512];
};

static int record_kver(const char *kver, void *ctx, struct wd_err *err)
{
	struct seen *s = ctx;

	/* Once, before any module. */
	assert_int_equal(s->count, 0);
	s->kver_calls++;
	(void)snprintf(s->kver, sizeof(s->kver), "%s", kver);
	if (s->fail_kver)
		return wd_err_set(err, EINVAL, "modules are for kernel %s", kver);
	return 0;
}

static int record(const char *kver, const char *relpath, void *ctx, struct wd_err *err)
{
	struct seen *s = ctx;

	assert_true(s->count < SEEN_MAX);
	assert_int_equal(s->kver_calls, 1);
	assert_string_equal(kver, s->kver);
	(void)snprintf(s->paths[s->count], sizeof(s->paths[0]), "%s", relpath);
	s->count++;
	if (s->fail_at != 0 && s->count == s->fail_at)
		return wd_err_set(err, ENOEXEC, "module %s refused", relpath);
	return 0;
}

static struct seen *seen_new(void)
{
	struct seen *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	return s;
}

/* Parse `len` bytes from an exact-size heap copy, so ASan sees overreads. */
static int parse_n(const char *text, size_t len, struct seen *s, struct wd_err *err)
{
	char *copy = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, text, len);
	/* What one parse saw; the failure switches stay. */
	s->count = 0;
	s->kver_calls = 0;
	s->kver[0] = '\0';
	wd_err_clear(err);
	rc = init_modules_parse(copy, len, record_kver, record, s, err);
	free(copy);
	if (rc < 0)
		assert_int_equal(err->code, -rc);
	return rc;
}

static int parse(const char *text, struct seen *s, struct wd_err *err)
{
	return parse_n(text, strlen(text), s, err);
}

static void test_modules_are_listed_in_file_order(void **state)
{
	struct seen *s = seen_new();
	struct wd_err err;

	(void)state;
	assert_int_equal(parse("kver 6.1.0-warden\n"
			       "kernel/drivers/char/virtio_console.ko\n"
			       "kernel/net/vmw_vsock/vsock.ko.xz\n"
			       "kernel/net/vmw_vsock/vmw_vsock_virtio_transport_common.ko\n",
			       s, &err),
			 0);
	assert_int_equal(s->count, 3);
	assert_string_equal(s->kver, "6.1.0-warden");
	assert_string_equal(s->paths[0], "kernel/drivers/char/virtio_console.ko");
	assert_string_equal(s->paths[1], "kernel/net/vmw_vsock/vsock.ko.xz");
	assert_string_equal(s->paths[2],
			    "kernel/net/vmw_vsock/vmw_vsock_virtio_transport_common.ko");
	free(s);
}

static void test_kver_alone_lists_no_module(void **state)
{
	struct seen *s = seen_new();
	struct wd_err err;

	(void)state;
	assert_int_equal(parse("kver 6.1.0\n", s, &err), 0);
	assert_int_equal(s->count, 0);
	assert_int_equal(s->kver_calls, 1);
	assert_string_equal(s->kver, "6.1.0");
	free(s);
}

static void test_kver_callback_failure_stops_before_any_module(void **state)
{
	struct seen *s = seen_new();
	struct wd_err err;

	(void)state;
	s->fail_kver = true;
	assert_int_equal(parse("kver 5.10.0\na.ko\nb.ko\n", s, &err), -EINVAL);
	assert_string_equal(err.msg, "modules are for kernel 5.10.0");
	assert_int_equal(s->kver_calls, 1);
	assert_int_equal(s->count, 0);
	free(s);
}

static void test_kver_callback_is_optional(void **state)
{
	static const char text[] = "kver 6.1\na.ko\n";
	struct seen *s = seen_new();
	struct wd_err err;

	(void)state;
	/* Without the version callback, modules still see the version. */
	s->kver_calls = 1;
	(void)snprintf(s->kver, sizeof(s->kver), "6.1");
	wd_err_clear(&err);
	assert_int_equal(init_modules_parse(text, sizeof(text) - 1, NULL, record, s, &err), 0);
	assert_int_equal(s->count, 1);
	free(s);
}

static void test_kver_must_come_first(void **state)
{
	struct seen *s = seen_new();
	struct wd_err err;

	(void)state;
	assert_int_equal(parse("kernel/a.ko\nkver 6.1.0\n", s, &err), -EINVAL);
	assert_string_equal(err.msg, "line 1: expected 'kver VERSION' first");
	assert_int_equal(s->count, 0);
	assert_int_equal(parse("kver\tx\na.ko\n", s, &err), -EINVAL);
	assert_int_equal(parse("kver\na.ko\n", s, &err), -EINVAL);
	assert_int_equal(parse("KVER 6.1\na.ko\n", s, &err), -EINVAL);
	free(s);
}

static void test_missing_kver_is_rejected(void **state)
{
	struct seen *s = seen_new();
	struct wd_err err;

	(void)state;
	assert_int_equal(parse("", s, &err), -EINVAL);
	assert_string_equal(err.msg, "no 'kver VERSION' line");
	assert_int_equal(parse("# only a comment\n\n", s, &err), -EINVAL);
	free(s);
}

static void test_kver_must_be_one_plain_component(void **state)
{
	struct seen *s = seen_new();
	struct wd_err err;
	char text[300];

	(void)state;
	assert_int_equal(parse("kver 6.1/../../etc\na.ko\n", s, &err), -EINVAL);
	assert_int_equal(parse("kver ..\na.ko\n", s, &err), -EINVAL);
	assert_int_equal(parse("kver /6.1\na.ko\n", s, &err), -EINVAL);
	assert_int_equal(parse("kver 6.1 x\na.ko\n", s, &err), -EINVAL);
	/* 127 characters fit, 128 do not. */
	(void)snprintf(text, sizeof(text), "kver %0127d\na.ko\n", 0);
	assert_int_equal(parse(text, s, &err), 0);
	(void)snprintf(text, sizeof(text), "kver %0128d\na.ko\n", 0);
	assert_int_equal(parse(text, s, &err), -EINVAL);
	free(s);
}

static void test_comments_and_blank_lines_are_skipped(void **state)
{
	struct seen *s = seen_new();
	struct wd_err err;

	(void)state;
	assert_int_equal(parse("# generated by image/resolve-modules.sh\n"
			       "\n"
			       "   \t\n"
			       "kver 6.1.0\n"
			       "  # indented comment\n"
			       "\n"
			       "\ta.ko  \n"
			       "#b.ko\n"
			       "c.ko\n",
			       s, &err),
			 0);
	assert_int_equal(s->count, 2);
	assert_string_equal(s->paths[0], "a.ko");
	assert_string_equal(s->paths[1], "c.ko");
	free(s);
}

static void test_crlf_line_ends_are_accepted(void **state)
{
	struct seen *s = seen_new();
	struct wd_err err;

	(void)state;
	assert_int_equal(parse("kver 6.1.0\r\nkernel/a.ko\r\n\r\nkernel/b.ko\r\n", s, &err), 0);
	assert_string_equal(s->kver, "6.1.0");
	assert_int_equal(s->count, 2);
	assert_string_equal(s->paths[0], "kernel/a.ko");
	assert_string_equal(s->paths[1], "kernel/b.ko");
	free(s);
}

static void test_last_line_needs_no_newline(void **state)
{
	struct seen *s = seen_new();
	struct wd_err err;

	(void)state;
	assert_int_equal(parse("kver 6.1.0\na.ko\nb.ko", s, &err), 0);
	assert_int_equal(s->count, 2);
	assert_string_equal(s->paths[1], "b.ko");
	free(s);
}

static void test_absolute_paths_are_rejected(void **state)
{
	struct seen *s = seen_new();
	struct wd_err err;

	(void)state;
	assert_int_equal(parse("kver 6.1.0\n/lib/modules/6.1.0/a.ko\n", s, &err), -EINVAL);
	assert_string_equal(err.msg,
			    "line 2: '/lib/modules/6.1.0/a.ko' is not a relative module path");
	assert_int_equal(s->count, 0);
	free(s);
}

static void test_dotdot_components_are_rejected(void **state)
{
	static const char *const bad[] = {"..",   "../a.ko",           "a/../b.ko",
					  "a/..", "a/b/../../../c.ko", "./../a.ko"};
	struct seen *s = seen_new();
	struct wd_err err;
	char text[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(text, sizeof(text), "kver 6.1.0\n%s\n", bad[i]);
		if (parse(text, s, &err) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
	}
	assert_int_equal(s->count, 0);
	free(s);
}

static void test_names_containing_dotdot_are_accepted(void **state)
{
	static const char *const ok[] = {"a..b.ko", "..a/b.ko",   "a/b..",
					 "a/...",   "x/..y/z.ko", ".../a.ko"};
	struct seen *s = seen_new();
	struct wd_err err;
	char text[128];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		(void)snprintf(text, sizeof(text), "kver 6.1.0\n%s\n", ok[i]);
		if (parse(text, s, &err) != 0)
			fail_msg("'%s' was rejected: %s", ok[i], err.msg);
		assert_int_equal(s->count, 1);
		assert_string_equal(s->paths[0], ok[i]);
	}
	free(s);
}

static void test_blanks_and_control_bytes_in_a_path_are_rejected(void **state)
{
	static const char *const bad[] = {"a b.ko",   "a\tb.ko",      "a\rb.ko",
					  "a\x7f.ko", "a\xc3\xa9.ko", "a.ko # loaded first"};
	struct seen *s = seen_new();
	struct wd_err err;
	char text[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(text, sizeof(text), "kver 6.1.0\n%s\n", bad[i]);
		assert_int_equal(parse(text, s, &err), -EINVAL);
	}
	assert_int_equal(s->count, 0);
	free(s);
}

static void test_nul_byte_is_rejected(void **state)
{
	static const char text[] = "kver 6.1.0\na\0b.ko\n";
	struct seen *s = seen_new();
	struct wd_err err;

	(void)state;
	assert_int_equal(parse_n(text, sizeof(text) - 1, s, &err), -EINVAL);
	assert_string_equal(err.msg, "line 2: NUL byte");
	assert_int_equal(s->count, 0);
	free(s);
}

static void test_line_of_511_bytes_is_accepted(void **state)
{
	struct seen *s = seen_new();
	struct wd_err err;
	char text[600];

	(void)state;
	memcpy(text, "kver 6.1\n", 9);
	memset(text + 9, 'm', 511);
	memcpy(text + 9 + 511, "\n", 2);
	assert_int_equal(parse(text, s, &err), 0);
	assert_int_equal(strlen(s->paths[0]), 511);
	free(s);
}

static void test_line_of_512_bytes_is_rejected(void **state)
{
	struct seen *s = seen_new();
	struct wd_err err;
	char text[600];

	(void)state;
	memcpy(text, "kver 6.1\n", 9);
	memset(text + 9, 'm', 512);
	memcpy(text + 9 + 512, "\n", 2);
	assert_int_equal(parse(text, s, &err), -E2BIG);
	assert_string_equal(err.msg, "line 2: over 511 bytes");
	assert_int_equal(s->count, 0);
	free(s);
}

static void test_file_over_64k_is_rejected(void **state)
{
	size_t len = INIT_MODULES_FILE_MAX_BYTES + 1;
	char *text = malloc(len);
	struct seen *s = seen_new();
	struct wd_err err;

	(void)state;
	assert_non_null(text);
	memset(text, '\n', len);
	memcpy(text, "kver 6.1", 8);
	assert_int_equal(parse_n(text, len, s, &err), -E2BIG);
	assert_int_equal(parse_n(text, len - 1, s, &err), 0);
	free(text);
	free(s);
}

/* "kver 6.1\n" then `count` lines "mNNN.ko". */
static char *list_of(unsigned count, size_t *len)
{
	char *text = malloc(16 + (size_t)count * 16);
	size_t used;

	assert_non_null(text);
	used = (size_t)sprintf(text, "kver 6.1\n");
	for (unsigned i = 0; i < count; i++)
		used += (size_t)sprintf(text + used, "m%03u.ko\n", i);
	*len = used;
	return text;
}

static void test_256_modules_are_accepted(void **state)
{
	struct seen *s = seen_new();
	struct wd_err err;
	size_t len;
	char *text = list_of(INIT_MODULES_MAX, &len);

	(void)state;
	assert_int_equal(parse_n(text, len, s, &err), 0);
	assert_int_equal(s->count, INIT_MODULES_MAX);
	for (unsigned i = 0; i < INIT_MODULES_MAX; i++) {
		char want[16];

		(void)snprintf(want, sizeof(want), "m%03u.ko", i);
		assert_string_equal(s->paths[i], want);
	}
	free(text);
	free(s);
}

static void test_more_than_256_modules_are_rejected(void **state)
{
	struct seen *s = seen_new();
	struct wd_err err;
	size_t len;
	char *text = list_of(INIT_MODULES_MAX + 1, &len);

	(void)state;
	assert_int_equal(parse_n(text, len, s, &err), -E2BIG);
	assert_string_equal(err.msg, "more than 256 modules");
	assert_int_equal(s->count, INIT_MODULES_MAX);
	free(text);
	free(s);
}

static void test_callback_failure_stops_the_walk(void **state)
{
	struct seen *s = seen_new();
	struct wd_err err;

	(void)state;
	s->fail_at = 2;
	assert_int_equal(parse("kver 6.1\na.ko\nb.ko\nc.ko\n", s, &err), -ENOEXEC);
	assert_string_equal(err.msg, "module b.ko refused");
	assert_int_equal(s->count, 2);
	free(s);
}

/* ---- init_module_params ---------------------------------------------------- */

static int params(const char *cmdline, const char *name, char *out, size_t size, struct wd_err *err)
{
	size_t len = strlen(cmdline);
	char *copy = malloc(len + 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, cmdline, len + 1);
	wd_err_clear(err);
	rc = init_module_params(copy, name, out, size, err);
	free(copy);
	return rc;
}

static void test_params_collects_the_tokens_of_one_module(void **state)
{
	char out[256];
	struct wd_err err;

	(void)state;
	assert_int_equal(params("console=ttyS0 virtio_mmio.device=4K@0xd0000000:5 quiet "
				"virtio_mmio.device=4K@0xd0001000:6\n",
				"virtio_mmio", out, sizeof(out), &err),
			 0);
	assert_string_equal(out, "device=4K@0xd0000000:5 device=4K@0xd0001000:6");
}

static void test_params_treats_dash_and_underscore_alike(void **state)
{
	char out[256];
	struct wd_err err;

	(void)state;
	assert_int_equal(params("virtio-mmio.device=1 virtio_mmio.force=y", "virtio_mmio", out,
				sizeof(out), &err),
			 0);
	assert_string_equal(out, "device=1 force=y");
}

static void test_params_ignores_other_modules_and_prefixes(void **state)
{
	char out[256];
	struct wd_err err;

	(void)state;
	assert_int_equal(params("virtio.x=1 virtio_mmiox.y=2 virtio_mmio=3 virtio_mmio. "
				"xvirtio_mmio.z=4 warden.grace=1s",
				"virtio_mmio", out, sizeof(out), &err),
			 0);
	assert_string_equal(out, "");
	assert_int_equal(params("", "vsock", out, sizeof(out), &err), 0);
	assert_string_equal(out, "");
}

static void test_params_stop_at_double_dash(void **state)
{
	char out[256];
	struct wd_err err;

	(void)state;
	assert_int_equal(params("vsock.a=1 -- vsock.b=2", "vsock", out, sizeof(out), &err), 0);
	assert_string_equal(out, "a=1");
	assert_int_equal(params("vsock.a=1 --x vsock.b=2", "vsock", out, sizeof(out), &err), 0);
	assert_string_equal(out, "a=1 b=2");
}

static void test_params_keep_quoted_blanks_in_one_token(void **state)
{
	char out[256];
	struct wd_err err;

	(void)state;
	assert_int_equal(params("m.opt=\"a b\"\tm.x=1", "m", out, sizeof(out), &err), 0);
	assert_string_equal(out, "opt=\"a b\" x=1");
}

static void test_params_over_the_buffer_are_rejected(void **state)
{
	char out[8];
	struct wd_err err;

	(void)state;
	/* "a=1 b=2" and its NUL fill 8 bytes exactly; one more byte does not fit. */
	assert_int_equal(params("m.a=1 m.b=2", "m", out, sizeof(out), &err), 0);
	assert_string_equal(out, "a=1 b=2");
	assert_int_equal(params("m.a=1 m.b=22", "m", out, sizeof(out), &err), -E2BIG);
	assert_int_equal(err.code, E2BIG);
	assert_non_null(strstr(err.msg, "module m"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modules_are_listed_in_file_order),
		cmocka_unit_test(test_kver_alone_lists_no_module),
		cmocka_unit_test(test_kver_callback_failure_stops_before_any_module),
		cmocka_unit_test(test_kver_callback_is_optional),
		cmocka_unit_test(test_kver_must_come_first),
		cmocka_unit_test(test_missing_kver_is_rejected),
		cmocka_unit_test(test_kver_must_be_one_plain_component),
		cmocka_unit_test(test_comments_and_blank_lines_are_skipped),
		cmocka_unit_test(test_crlf_line_ends_are_accepted),
		cmocka_unit_test(test_last_line_needs_no_newline),
		cmocka_unit_test(test_absolute_paths_are_rejected),
		cmocka_unit_test(test_dotdot_components_are_rejected),
		cmocka_unit_test(test_names_containing_dotdot_are_accepted),
		cmocka_unit_test(test_blanks_and_control_bytes_in_a_path_are_rejected),
		cmocka_unit_test(test_nul_byte_is_rejected),
		cmocka_unit_test(test_line_of_511_bytes_is_accepted),
		cmocka_unit_test(test_line_of_512_bytes_is_rejected),
		cmocka_unit_test(test_file_over_64k_is_rejected),
		cmocka_unit_test(test_256_modules_are_accepted),
		cmocka_unit_test(test_more_than_256_modules_are_rejected),
		cmocka_unit_test(test_callback_failure_stops_the_walk),
		cmocka_unit_test(test_params_collects_the_tokens_of_one_module),
		cmocka_unit_test(test_params_treats_dash_and_underscore_alike),
		cmocka_unit_test(test_params_ignores_other_modules_and_prefixes),
		cmocka_unit_test(test_params_stop_at_double_dash),
		cmocka_unit_test(test_params_keep_quoted_blanks_in_one_token),
		cmocka_unit_test(test_params_over_the_buffer_are_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
