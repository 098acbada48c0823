/*
 * tests/escape/escape.h - what every escape program shares.
 *
 * Each program in tests/escape/ runs as the agent and tries one way out.
 * It prints exactly one verdict line and exits with it:
 *   escape NAME: blocked: HOW     exit 0 (the attempt failed as it must)
 *   escape NAME: ESCAPED: WHAT    exit 1 (the sandbox let it through)
 * Before an attempt the sandbox must answer through its seccomp listener,
 * it prints "escape NAME: expect-record: SYSCALL": the runner then also
 * requires a seccomp record naming SYSCALL. Static, libc only.
 */
#ifndef WARDEN_TESTS_ESCAPE_H
#define WARDEN_TESTS_ESCAPE_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *escape_name = "?";

static inline void escape_start(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	escape_name = slash != NULL ? slash + 1 : argv0;
	setvbuf(stdout, NULL, _IONBF, 0);
}

static inline void __attribute__((noreturn, format(printf, 2, 3)))
verdict(int code, const char *fmt, ...)
{
	va_list ap;

	printf("escape %s: %s: ", escape_name, code == 0 ? "blocked" : "ESCAPED");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(code);
}
#define blocked(...) verdict(0, __VA_ARGS__)
#define escaped(...) verdict(1, __VA_ARGS__)

static inline void expect_record(const char *syscall_name)
{
	printf("escape %s: expect-record: %s\n", escape_name, syscall_name);
}

/* A call that must fail, with `want` (0: any errno). Returns on failure as
 * wanted; a success or another errno is an escape. */
static inline void must_fail(long rc, int want, const char *what)
{
	int e = errno;

	if (rc >= 0)
		escaped("%s succeeded (%ld)", what, rc);
	if (want != 0 && e != want)
		escaped("%s failed with %s, not the sandbox's %s", what, strerror(e),
			strerror(want));
}

/* A denied syscall: must fail with `want` and be recorded. */
static inline void __attribute__((noreturn))
denied_syscall(const char *name, long rc_of_call, int e, int want)
{
	errno = e;
	must_fail(rc_of_call, want, name);
	blocked("%s: %s", name, strerror(want));
}

/*
 * Write 1 MiB chunks to `path` until the filesystem refuses (ENOSPC, or
 * EFBIG from RLIMIT_FSIZE; SIGXFSZ must be ignored), then remove it.
 * Returns the MiB written; reaching `limit_mib`, or any other way of
 * stopping, is an escape.
 */
static inline long fill_until_full(const char *path, long limit_mib)
{
	static char chunk[1 << 20];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	long mib = 0;

	if (fd < 0)
		escaped("open %s: %s (cannot test)", path, strerror(errno));
	memset(chunk, 'x', sizeof(chunk));
	for (; mib < limit_mib; mib++) {
		ssize_t n = write(fd, chunk, sizeof(chunk));

		if (n > 0 && n < (ssize_t)sizeof(chunk))
			continue; /* the last bytes that fit; the next write says why */
		if (n < (ssize_t)sizeof(chunk)) {
			if (n >= 0 || (errno != ENOSPC && errno != EFBIG))
				escaped("%s: stopped by %s, not the cap", path,
					n >= 0 ? "a short write" : strerror(errno));
			break;
		}
	}
	(void)close(fd);
	(void)unlink(path);
	if (mib >= limit_mib)
		escaped("%s took %ld MiB", path, limit_mib);
	return mib;
}

#define DENIED(name, want, ...)                                                                    \
	do {                                                                                       \
		long rc_;                                                                          \
		expect_record(name);                                                               \
		rc_ = syscall(__VA_ARGS__);                                                        \
		denied_syscall(name, rc_, errno, want);                                            \
	} while (0)

#endif
