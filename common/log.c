/* common/log.c - see log.h. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "safetext.h"

static const char *log_program = "warden";
static enum wd_log_level log_level = WD_LOG_INFO;

static const char *const level_names[] = {
	[WD_LOG_ERROR] = "error",
	[WD_LOG_WARN] = "warn",
	[WD_LOG_INFO] = "info",
	[WD_LOG_DEBUG] = "debug",
};

void wd_log_init(const char *program, enum wd_log_level level)
{
	log_program = program;
	log_level = level;
}

void wd_log_set_level(enum wd_log_level level)
{
	log_level = level;
}

int wd_log_level_parse(const char *s, enum wd_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum wd_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *wd_log_level_name(enum wd_log_level level)
{
	if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]))
		return "?";
	return level_names[level];
}

/* One line: "PROGRAM: LEVEL: MESSAGE[: strerror(code)]"; code 0: no cause. */
static void vlog(enum wd_log_level level, int code, const char *fmt, va_list ap) WD_PRINTF(3, 0);
static void vlog(enum wd_log_level level, int code, const char *fmt, va_list ap)
{
	char line[WD_LOG_LINE_BYTES], msg[WD_LOG_LINE_BYTES];
	int saved_errno = errno;
	size_t len, mlen = 0;
	int n;

	if (level > log_level)
		return;
	n = snprintf(line, sizeof(line), "%s: %s: ", log_program, wd_log_level_name(level));
	if (n < 0)
		return;
	len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n > 0)
		mlen = (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
	if (code != 0 && mlen < sizeof(msg) - 1) {
		n = snprintf(msg + mlen, sizeof(msg) - mlen, ": %s", strerror(code));
		if (n > 0)
			mlen += (size_t)n < sizeof(msg) - mlen ? (size_t)n : sizeof(msg) - mlen - 1;
	}
	/* Messages quote what the guest and the agent chose (paths, records,
	 * errors): no control character of theirs reaches the terminal. */
	len += wd_safe_line(msg, mlen, line + len, sizeof(line) - 1 - len);
	line[len++] = '\n';
	/* One write per line; a console that is gone is not worth dying for. */
	(void)!write(STDERR_FILENO, line, len);
	errno = saved_errno;
}

void wd_log(enum wd_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, 0, fmt, ap);
	va_end(ap);
}

void wd_log_sys(enum wd_log_level level, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, code, fmt, ap);
	va_end(ap);
}
