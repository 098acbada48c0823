/*
 * common/log.h - one line per event on standard error.
 *
 * Format: "<program>: <level>: <message>\n", written with a single write(2)
 * so that lines from PID 1, the supervisor and the kernel console do not
 * interleave mid-line. Lines longer than WD_LOG_LINE_BYTES are truncated.
 * The message's control characters (C0 with LF and tab, DEL, C1) and bytes
 * that are not UTF-8 are written as visible escapes (common/safetext.h):
 * messages quote text the guest or the agent chose, and a line must
 * neither drive the terminal nor split into a forged second line.
 * Nothing sensitive is ever logged (secrets appear as name + digest only);
 * callers are responsible for that.
 */
#ifndef WARDEN_COMMON_LOG_H
#define WARDEN_COMMON_LOG_H

#include "err.h"

#define WD_LOG_LINE_BYTES 1024

enum wd_log_level {
	WD_LOG_ERROR = 0,
	WD_LOG_WARN = 1,
	WD_LOG_INFO = 2,
	WD_LOG_DEBUG = 3,
};

/* Program name shown on every line and the most verbose level printed. */
void wd_log_init(const char *program, enum wd_log_level level);
void wd_log_set_level(enum wd_log_level level);

/* Parse "error", "warn", "info" or "debug". Returns 0, or -EINVAL. */
int wd_log_level_parse(const char *s, enum wd_log_level *out);
const char *wd_log_level_name(enum wd_log_level level);

void wd_log(enum wd_log_level level, const char *fmt, ...) WD_PRINTF(2, 3);

/* The same line with ": strerror(code)" after the message, for a failed
 * system call whose error goes no further (like wd_err_sys; `code` is a
 * positive errno, 0 for none). */
void wd_log_sys(enum wd_log_level level, int code, const char *fmt, ...) WD_PRINTF(3, 4);

#define wd_error(...) wd_log(WD_LOG_ERROR, __VA_ARGS__)
#define wd_warn(...) wd_log(WD_LOG_WARN, __VA_ARGS__)
#define wd_info(...) wd_log(WD_LOG_INFO, __VA_ARGS__)
#define wd_debug(...) wd_log(WD_LOG_DEBUG, __VA_ARGS__)
#define wd_error_sys(code, ...) wd_log_sys(WD_LOG_ERROR, code, __VA_ARGS__)
#define wd_warn_sys(code, ...) wd_log_sys(WD_LOG_WARN, code, __VA_ARGS__)
#define wd_debug_sys(code, ...) wd_log_sys(WD_LOG_DEBUG, code, __VA_ARGS__)

#endif
