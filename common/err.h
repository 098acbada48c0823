/*
 * common/err.h - the one error style of the project.
 *
 * Every fallible function takes a `struct wd_err *` and returns 0 on
 * success or a negative errno on failure, after filling the error with what
 * it was doing. Each caller that adds meaning wraps the message with its own
 * context ("mount /proc: ..." becomes "early mounts: mount /proc: ..."), so
 * the top level prints one line saying what failed, while doing what, and why.
 *
 * Used by every program in the tree (guest and host). No allocation: the
 * message lives in the caller-owned struct and is truncated at
 * WD_ERR_MSG_BYTES, never overflowed.
 */
#ifndef WARDEN_COMMON_ERR_H
#define WARDEN_COMMON_ERR_H

#include <errno.h>
#include <stddef.h>

#define WD_ERR_MSG_BYTES 512 /* longest message kept, NUL included */

struct wd_err {
	int code;                   /* positive errno, 0 when no error */
	char msg[WD_ERR_MSG_BYTES]; /* "what failed: why" */
};

#define WD_PRINTF(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))

/* Reset to "no error". */
void wd_err_clear(struct wd_err *err);

/*
 * Record a failure described by a message only (bad input, limits).
 * `code` is a positive errno (EINVAL, E2BIG, ...). Returns -code.
 */
int wd_err_set(struct wd_err *err, int code, const char *fmt, ...) WD_PRINTF(3, 4);

/*
 * Record a failed system call: the message becomes "<fmt>: <strerror(code)>".
 * Returns -code.
 */
int wd_err_sys(struct wd_err *err, int code, const char *fmt, ...) WD_PRINTF(3, 4);

/*
 * The failure a callee left in `err`, as this function's return value:
 * -code, or -EIO when none was recorded (never 0, which would mean success).
 */
static inline int wd_err_ret(const struct wd_err *err)
{
	return err->code > 0 ? -err->code : -EIO;
}

/*
 * Prefix the current message with context: "<fmt>: <previous message>".
 * Keeps the code. Returns -code (or -EIO if no code was set).
 */
int wd_err_wrap(struct wd_err *err, const char *fmt, ...) WD_PRINTF(2, 3);

#endif
