/* common/err.c - see err.h. */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void wd_err_clear(struct wd_err *err)
{
	err->code = 0;
	err->msg[0] = '\0';
}

/* Append ": <text>" to msg, truncating at the buffer's end. */
static void append_suffix(char *msg, size_t size, const char *text)
{
	size_t used = strnlen(msg, size - 1);

	for (const char *p = ": "; *p != '\0' && used + 1 < size; p++)
		msg[used++] = *p;
	for (const char *p = text; *p != '\0' && used + 1 < size; p++)
		msg[used++] = *p;
	msg[used] = '\0';
}

static int err_vset(struct wd_err *err, int code, const char *suffix, const char *fmt, va_list ap)
	WD_PRINTF(4, 0);

static int err_vset(struct wd_err *err, int code, const char *suffix, const char *fmt, va_list ap)
{
	int n;

	if (code <= 0)
		code = EIO;
	err->code = code;
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (n < 0)
		err->msg[0] = '\0';
	else if (suffix != NULL)
		append_suffix(err->msg, sizeof(err->msg), suffix);
	return -code;
}

int wd_err_set(struct wd_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = err_vset(err, code, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

int wd_err_sys(struct wd_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = err_vset(err, code, strerror(code > 0 ? code : EIO), fmt, ap);
	va_end(ap);
	return rc;
}

int wd_err_wrap(struct wd_err *err, const char *fmt, ...)
{
	char prev[WD_ERR_MSG_BYTES];
	va_list ap;
	int n;

	memcpy(prev, err->msg, sizeof(prev));
	prev[sizeof(prev) - 1] = '\0';
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		err->msg[0] = '\0';
	append_suffix(err->msg, sizeof(err->msg), prev);
	if (err->code <= 0)
		err->code = EIO;
	return -err->code;
}
