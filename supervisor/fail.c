/* supervisor/fail.c - see fail.h. */
#include "fail.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void sup_fail_clear(struct sup_fail *f)
{
	f->kind = SUP_FAIL_INTERNAL;
	wd_err_clear(&f->err);
}

int sup_fail_set(struct sup_fail *f, enum sup_fail_kind kind, int code, const char *fmt, ...)
{
	va_list ap;

	f->kind = kind;
	f->err.code = code > 0 ? code : EIO;
	va_start(ap, fmt);
	(void)vsnprintf(f->err.msg, sizeof(f->err.msg), fmt, ap);
	va_end(ap);
	return -f->err.code;
}

int sup_fail_sys(struct sup_fail *f, enum sup_fail_kind kind, int code, const char *fmt, ...)
{
	char what[WD_ERR_MSG_BYTES];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	f->kind = kind;
	return wd_err_sys(&f->err, code > 0 ? code : EIO, "%s", what);
}

int sup_fail_wrap(struct sup_fail *f, enum sup_fail_kind kind, const char *fmt, ...)
{
	char old[WD_ERR_MSG_BYTES];
	size_t len;
	va_list ap;
	int n;

	f->kind = kind;
	if (f->err.code <= 0)
		f->err.code = EIO;
	memcpy(old, f->err.msg, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	va_start(ap, fmt);
	n = vsnprintf(f->err.msg, sizeof(f->err.msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		f->err.msg[0] = '\0';
	len = strlen(f->err.msg);
	/* "<context>: <previous>", cut to fit. */
	if (len + 2 < sizeof(f->err.msg)) {
		memcpy(f->err.msg + len, ": ", 3);
		len += 2;
		size_t n_old = strnlen(old, sizeof(f->err.msg) - len - 1);

		memcpy(f->err.msg + len, old, n_old);
		f->err.msg[len + n_old] = '\0';
	}
	return -f->err.code;
}

const char *sup_fail_code(enum sup_fail_kind kind)
{
	switch (kind) {
	case SUP_FAIL_PROTOCOL:
		return "protocol";
	case SUP_FAIL_JOB:
		return "job";
	case SUP_FAIL_TIMEOUT:
		return "timeout";
	case SUP_FAIL_INTEGRITY:
		return "integrity";
	case SUP_FAIL_CHANNEL:
	case SUP_FAIL_SHUTDOWN:
	case SUP_FAIL_INTERNAL:
		break;
	}
	return "internal";
}

int sup_fail_exit_status(enum sup_fail_kind kind)
{
	switch (kind) {
	case SUP_FAIL_CHANNEL:
	case SUP_FAIL_TIMEOUT:
		return SUP_EXIT_CHANNEL;
	case SUP_FAIL_PROTOCOL:
		return SUP_EXIT_PROTOCOL;
	case SUP_FAIL_JOB:
		return SUP_EXIT_JOB;
	case SUP_FAIL_INTEGRITY:
		return SUP_EXIT_INTEGRITY;
	case SUP_FAIL_SHUTDOWN:
		return SUP_EXIT_OK;
	case SUP_FAIL_INTERNAL:
		break;
	}
	return SUP_EXIT_INTERNAL;
}
