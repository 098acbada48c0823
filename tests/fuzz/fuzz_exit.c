/*
 * tests/fuzz/fuzz_exit.c - the small guest and host reports on arbitrary
 * bytes: EXIT, ERROR and STARTED, chosen by the first byte (modulo 3).
 *
 * Beyond "no crash, no undefined behaviour, no leak": an error has a code
 * and a message; what decodes encodes again and decodes to the same value
 * (an EXIT's audit_budget to the very same constant).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../vsock/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const struct wd_err *err)
{
	if (err->code <= 0 || err->msg[0] == '\0')
		abort();
}

static void exit_case(const uint8_t *p, size_t n)
{
	struct wd_exit e, again;
	char out[1024];
	struct wd_err err;
	int len;

	if (wd_exit_decode(p, n, &e, &err) < 0) {
		check_error(&err);
		return;
	}
	len = wd_exit_encode(&e, out, sizeof(out), &err);
	if (len < 0 || wd_exit_decode((const uint8_t *)out, (size_t)len, &again, &err) < 0 ||
	    e.status != again.status || e.signal != again.signal ||
	    e.core_dumped != again.core_dumped || e.oom_killed != again.oom_killed ||
	    e.timed_out != again.timed_out || e.utime_us != again.utime_us ||
	    e.stime_us != again.stime_us || e.maxrss_kib != again.maxrss_kib ||
	    e.audit_budget != again.audit_budget)
		abort();
}

static void error_case(const uint8_t *p, size_t n)
{
	struct wd_error_msg e, again;
	char out[4096];
	struct wd_err err;
	int len;

	if (wd_error_decode(p, n, &e, &err) < 0) {
		check_error(&err);
		return;
	}
	len = wd_error_encode(e.code, e.message, out, sizeof(out), &err);
	if (len < 0 || wd_error_decode((const uint8_t *)out, (size_t)len, &again, &err) < 0 ||
	    strcmp(e.code, again.code) != 0 || strcmp(e.message, again.message) != 0)
		abort();
}

static void started_case(const uint8_t *p, size_t n)
{
	char out[64];
	struct wd_err err;
	int pid, again, len;

	if (wd_started_decode(p, n, &pid, &err) < 0) {
		check_error(&err);
		return;
	}
	len = wd_started_encode(pid, out, sizeof(out), &err);
	if (len < 0 || wd_started_decode((const uint8_t *)out, (size_t)len, &again, &err) < 0 ||
	    pid != again)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		exit_case(data + 1, size - 1);
		break;
	case 1:
		error_case(data + 1, size - 1);
		break;
	default:
		started_case(data + 1, size - 1);
		break;
	}
	return 0;
}
