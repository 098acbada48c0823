/*
 * tests/unit/test_host_console_tail.c - what a failed guest wrote on its
 * console reaches the user's terminal as printable ASCII only: a guest
 * that was taken over cannot drive the host terminal with escape
 * sequences (C0, DEL, C1 in both encodings).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../host/vmm.h"

/* Run wd_vmm_print_tail on `content` and return what it wrote on stderr. */
static char *tail_of(const char *content, size_t len, int lines)
{
	static char out[8192];
	char log[] = "/tmp/warden-tail-log.XXXXXX", cap[] = "/tmp/warden-tail-out.XXXXXX";
	int lfd = mkstemp(log), cfd = mkstemp(cap), saved = dup(STDERR_FILENO);
	ssize_t n;

	assert_true(lfd >= 0 && cfd >= 0 && saved >= 0);
	assert_int_equal(write(lfd, content, len), (ssize_t)len);
	(void)close(lfd);
	assert_int_equal(dup2(cfd, STDERR_FILENO), STDERR_FILENO);
	wd_vmm_print_tail(log, "| ", lines);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	(void)close(saved);
	n = pread(cfd, out, sizeof(out) - 1, 0);
	assert_true(n >= 0);
	out[n] = '\0';
	(void)close(cfd);
	(void)unlink(log);
	(void)unlink(cap);
	return out;
}

static void test_escape_sequences_are_shown_as_question_marks(void **state)
{
	static const char log[] = "boot\r\n\x1b]0;owned\x07\x1b[31mred\x7f\n\xc2\x9b"
				  "2J\x9b"
				  "H done\n";
	const char *out;

	(void)state;
	out = tail_of(log, sizeof(log) - 1, 10);
	assert_string_equal(out, "| boot\n| ?]0;owned??[31mred?\n| ??2J?H done\n");
	for (const char *p = out; *p != '\0'; p++)
		assert_true(*p == '\n' || (*p >= 0x20 && *p < 0x7f));
}

static void test_only_the_last_lines_are_shown(void **state)
{
	static const char log[] = "one\ntwo\nthree\nfour\n";

	(void)state;
	assert_string_equal(tail_of(log, sizeof(log) - 1, 2), "| three\n| four\n");
}

static void test_a_missing_log_prints_nothing(void **state)
{
	int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);

	(void)state;
	assert_true(saved >= 0 && null >= 0);
	assert_int_equal(dup2(null, STDERR_FILENO), STDERR_FILENO);
	wd_vmm_print_tail("/nonexistent/warden/console.log", "| ", 5);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	(void)close(saved);
	(void)close(null);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_sequences_are_shown_as_question_marks),
		cmocka_unit_test(test_only_the_last_lines_are_shown),
		cmocka_unit_test(test_a_missing_log_prints_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
