/*
 * supervisor/measure.c - SHA-256 of files, for the HELLO
 * measurements (see measure.h).
 */
#include "measure.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "../common/sha256.h"
#include "../common/tlog.h"

int sup_sha256_file(const char *path, char hex[WD_SHA256_HEX], struct wd_err *err)
{
	static uint8_t chunk[SUP_MEASURE_CHUNK];
	uint8_t digest[SUP_SHA256_BYTES];
	struct wd_sha256 sha;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return wd_err_sys(err, errno, "measure %s: open", path);
	wd_sha256_init(&sha);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			(void)close(fd);
			return wd_err_sys(err, e, "measure %s: read", path);
		}
		if (n == 0)
			break;
		wd_sha256_update(&sha, chunk, (size_t)n);
	}
	(void)close(fd);
	wd_sha256_final(&sha, digest);
	wd_hex(digest, sizeof(digest), hex);
	return 0;
}
