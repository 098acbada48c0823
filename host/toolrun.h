/*
 * host/toolrun.h - the external programs the image tool runs (gzip,
 * mkfs.erofs, veritysetup), run the same careful way.
 *
 *   - found only in WD_TOOL_DIRS, never through the caller's $PATH, and
 *     run with execve(2) and a fixed environment (WD_TOOL_ENV: PATH of
 *     those directories, LC_ALL=C, TZ=UTC), so the caller's environment
 *     cannot change what runs or what it writes;
 *   - a child of host/proc.h (dies with warden, its own process group);
 *   - stdin and stdout are the given descriptors (-1: /dev/null), or
 *     stdout is captured into a bounded buffer; stderr is always captured,
 *     its last WD_TOOL_STDERR_BYTES kept, and its last non-empty line ends
 *     the error message when the tool fails;
 *   - `fsize_max` (when not 0) is the child's RLIMIT_FSIZE: a tool whose
 *     output grows beyond it is stopped by the kernel (SIGXFSZ), which is
 *     how `gzip -dc` of a hostile archive is bounded.
 *
 * Success is exit status 0 and nothing else; a signal, another status or a
 * failed exec is an error naming the tool.
 */
#ifndef WARDEN_HOST_TOOLRUN_H
#define WARDEN_HOST_TOOLRUN_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "proc.h"

#define WD_TOOL_DIRS "/usr/sbin:/usr/bin:/sbin:/bin"
#define WD_TOOL_STDERR_BYTES 4096 /* of a tool's stderr, kept for the message */

struct wd_tool {
	int in_fd;          /* -1: /dev/null */
	int out_fd;         /* -1: /dev/null, or captured when `out` is set */
	char *out;          /* capture stdout here (NUL-terminated) when not NULL */
	size_t out_size;    /* its size; more output is an error */
	size_t out_len;     /* bytes captured */
	uint64_t fsize_max; /* RLIMIT_FSIZE of the child, bytes; 0: unlimited */
};

/* Run a->v[0] (a bare name, looked up in WD_TOOL_DIRS) with its arguments. */
int wd_tool_run(struct wd_tool *t, const struct wd_argv *a, struct wd_err *err);

/* Is the tool `name` there (an executable in WD_TOOL_DIRS)? 0 or -ENOENT. */
int wd_tool_find(const char *name, char *path, size_t size, struct wd_err *err);

#endif
