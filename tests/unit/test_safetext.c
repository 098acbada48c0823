/*
 * tests/unit/test_safetext.c - common/safetext.c: text from the guest and
 * the agent made safe for a terminal, and common/log.c's lines, which go
 * through it.
 *
 * The inputs are the attacks: ESC [ 2 J (clear the screen), OSC 52 (write
 * the clipboard), the C1 controls CSI (U+009B) and OSC (U+009D) as UTF-8,
 * a lone 0x9b byte (CSI to a terminal that takes 8-bit controls), DEL, a
 * CR that would let later text overwrite the line, and a line feed that
 * would forge a second log line. No raw control byte may come out, the
 * escaped form must, and the stream form must give the same bytes however
 * its input is split.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/log.h"
#include "../../common/safetext.h"

static char out[4096];

/* No byte a terminal acts on: C0 but `allow`, DEL, C1 as UTF-8, or a
 * byte over 0x7f that is not part of valid UTF-8 past U+009F. */
static void assert_terminal_safe(const char *s, size_t n, const char *allow)
{
	const uint8_t *p = (const uint8_t *)s;

	for (size_t i = 0; i < n; i++) {
		if ((p[i] < 0x20 && strchr(allow, p[i]) == NULL) || p[i] == 0x7f)
			fail_msg("raw control 0x%02x at byte %zu", p[i], i);
		if (p[i] == 0xc2 && i + 1 < n && p[i + 1] < 0xa0)
			fail_msg("raw C1 control at byte %zu", i);
		if (p[i] >= 0x80 && p[i] < 0xc0)
			fail_msg("a byte 0x%02x outside a character at %zu", p[i], i);
		if (p[i] >= 0xc0) {
			size_t k = p[i] >= 0xf0 ? 4 : p[i] >= 0xe0 ? 3 : 2;

			i += k - 1; /* the continuation bytes of a character */
		}
	}
}

static const char attacks[] = "clear\x1b[2Jclip\x1b]52;c;aGk=\x07"
			      "csi\xc2\x9b"
			      "31m osc\xc2\x9d"
			      "0;t\xc2\x9c lone\x9b"
			      "x del\x7f cr\roverwrite nl\nforged é\xc2\xa0";

static void test_line_escapes_every_control_and_keeps_text(void **state)
{
	size_t n;

	(void)state;
	n = wd_safe_line(attacks, sizeof(attacks) - 1, out, sizeof(out));
	assert_terminal_safe(out, n, "");
	out[n] = '\0';
	assert_string_equal(out, "clear\\u001b[2Jclip\\u001b]52;c;aGk=\\u0007"
				 "csi\\u009b31m osc\\u009d0;t\\u009c lone\\x9bx del\\u007f cr"
				 "\\u000doverwrite nl\\u000aforged é\xc2\xa0");
}

static void test_line_is_cut_before_an_escape_that_does_not_fit(void **state)
{
	(void)state;
	/* "ab" fits, "\u001b" (6 bytes) would not fit in the 5 left. */
	assert_int_equal(wd_safe_line("ab\x1b", 3, out, 7), 2);
	/* A character is never cut either. */
	assert_int_equal(wd_safe_line("a\xc3\xa9", 3, out, 2), 1);
	assert_int_equal(wd_safe_line("\x1b", 1, out, 6), 6);
}

static void test_json_keeps_json_and_its_meaning(void **state)
{
	static const char line[] = "{\"a\":\t\"x\\\"\xc2\x9b\x7f\\\\\",\r\"b\":\"\\u001b\"}";
	size_t n;

	(void)state;
	n = wd_safe_json(line, sizeof(line) - 1, out, sizeof(out));
	assert_terminal_safe(out, n, "");
	out[n] = '\0';
	/* Whitespace between tokens is a space; in strings, escapes JSON reads. */
	assert_string_equal(out, "{\"a\": \"x\\\"\\u009b\\u007f\\\\\", \"b\":\"\\u001b\"}");
	/* A line without controls comes out byte for byte. */
	n = wd_safe_json("{\"a\":\"\\u009b é\"}", 17, out, sizeof(out));
	assert_int_equal(n, 17);
	assert_memory_equal(out, "{\"a\":\"\\u009b é\"}", 17);
}

/* The whole input through the stream form in pieces of `step` bytes. */
static size_t stream_in_steps(const char *in, size_t n, size_t step, char *dst)
{
	struct wd_safe_stream st = {{0}, 0};
	size_t o = 0;

	for (size_t i = 0; i < n; i += step) {
		size_t k = n - i < step ? n - i : step;

		o += wd_safe_stream(&st, (const uint8_t *)in + i, k, dst + o);
	}
	o += wd_safe_stream_end(&st, dst + o);
	return o;
}

static void test_stream_passes_lines_and_tabs_and_escapes_the_rest(void **state)
{
	static const char in[] = "ok\tline\r\n\x1b]52;c;aGk=\x07"
				 "bad\rcr \xc2\x9b"
				 "2J\x9b\n";
	size_t n;

	(void)state;
	n = stream_in_steps(in, sizeof(in) - 1, sizeof(in), out);
	assert_terminal_safe(out, n, "\t\r\n");
	out[n] = '\0';
	assert_string_equal(out,
			    "ok\tline\r\n\\u001b]52;c;aGk=\\u0007bad\\u000dcr \\u009b2J\\x9b\n");
}

static void test_stream_split_anywhere_gives_the_same_bytes(void **state)
{
	static char whole[4096], split[4096];
	static const char in[] = "a\xc2\x9b"
				 "b\xe2\x82\xac\xf0\x9f\x98\x80\r\n\r\xe2\x82"
				 "x\xf4\x90\x80\x80\xc2";
	size_t n, m;

	(void)state;
	n = stream_in_steps(in, sizeof(in) - 1, sizeof(in), whole);
	assert_terminal_safe(whole, n, "\t\r\n");
	for (size_t step = 1; step < sizeof(in); step++) {
		m = stream_in_steps(in, sizeof(in) - 1, step, split);
		assert_int_equal(m, n);
		assert_memory_equal(split, whole, n);
	}
	/* The cut character and the lone C2 at the end are bytes, not text. */
	whole[n] = '\0';
	assert_non_null(strstr(whole, "\\u009b"));
	assert_non_null(strstr(whole, "\xe2\x82\xac\xf0\x9f\x98\x80\r\n\\u000d\\xe2\\x82x"));
	assert_non_null(strstr(whole, "\\xf4\\x90\\x80\\x80\\xc2"));
}

static void test_stream_holds_a_split_character_until_it_is_whole(void **state)
{
	struct wd_safe_stream st = {{0}, 0};

	(void)state;
	/* C2 alone may be the start of CSI: nothing comes out yet. */
	assert_int_equal(wd_safe_stream(&st, (const uint8_t *)"x\xc2", 2, out), 1);
	assert_int_equal(wd_safe_stream(&st, (const uint8_t *)"\x9b", 1, out), 6);
	assert_memory_equal(out, "\\u009b", 6);
	/* A CR waits for what follows it. */
	assert_int_equal(wd_safe_stream(&st, (const uint8_t *)"\r", 1, out), 0);
	assert_int_equal(wd_safe_stream(&st, (const uint8_t *)"\n", 1, out), 2);
	assert_memory_equal(out, "\r\n", 2);
	assert_int_equal(wd_safe_stream(&st, (const uint8_t *)"\r", 1, out), 0);
	assert_int_equal(wd_safe_stream_end(&st, out), 6);
	assert_memory_equal(out, "\\u000d", 6);
}

/* A log line, as written on fd 2. */
static size_t log_line(char *buf, size_t size, const char *msg)
{
	int p[2] = {-1, -1}, saved = dup(STDERR_FILENO);
	ssize_t n;

	assert_true(saved >= 0);
	assert_int_equal(pipe(p), 0);
	assert_true(dup2(p[1], STDERR_FILENO) == STDERR_FILENO);
	wd_log_init("warden", WD_LOG_INFO);
	wd_error("the guest said: %s", msg);
	assert_true(dup2(saved, STDERR_FILENO) == STDERR_FILENO);
	(void)close(saved);
	(void)close(p[1]);
	n = read(p[0], buf, size);
	(void)close(p[0]);
	assert_true(n > 0);
	return (size_t)n;
}

static void test_log_line_escapes_what_it_quotes(void **state)
{
	static char line[2048];
	size_t n;

	(void)state;
	n = log_line(line, sizeof(line), attacks);
	/* One line: the only LF is the last byte. */
	assert_terminal_safe(line, n - 1, "");
	assert_int_equal(line[n - 1], '\n');
	line[n] = '\0';
	assert_non_null(strstr(line, "warden: error: the guest said: clear\\u001b[2J"));
	assert_non_null(strstr(line, "csi\\u009b31m"));
	assert_non_null(strstr(line, "nl\\u000aforged"));
}

static void test_log_line_stays_within_its_bound(void **state)
{
	static char line[4096], msg[2000];
	size_t n;

	(void)state;
	memset(msg, 0x1b, sizeof(msg) - 1);
	n = log_line(line, sizeof(line), msg);
	assert_true(n <= WD_LOG_LINE_BYTES);
	assert_int_equal(line[n - 1], '\n');
	assert_terminal_safe(line, n - 1, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_escapes_every_control_and_keeps_text),
		cmocka_unit_test(test_line_is_cut_before_an_escape_that_does_not_fit),
		cmocka_unit_test(test_json_keeps_json_and_its_meaning),
		cmocka_unit_test(test_stream_passes_lines_and_tabs_and_escapes_the_rest),
		cmocka_unit_test(test_stream_split_anywhere_gives_the_same_bytes),
		cmocka_unit_test(test_stream_holds_a_split_character_until_it_is_whole),
		cmocka_unit_test(test_log_line_escapes_what_it_quotes),
		cmocka_unit_test(test_log_line_stays_within_its_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
