/*
 * supervisor/measure.c - SHA-256 of files and hex rendering, for the HELLO
 * measurements (see measure.h).
 */
#include "measure.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <bearssl_hash.h>

void sup_hex(const uint8_t *raw, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[raw[i] >> 4];
		out[2 * i + 1] = digits[raw[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

int sup_sha256_file(const char *path, char hex[WD_SHA256_HEX], struct wd_err *err)
{
	static uint8_t chunk[SUP_MEASURE_CHUNK];
	uint8_t digest[SUP_SHA256_BYTES];
	br_sha256_context sha;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return wd_err_sys(err, errno, "measure %s: open", path);
	br_sha256_init(&sha);
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
		br_sha256_update(&sha, chunk, (size_t)n);
	}
	(void)close(fd);
	br_sha256_out(&sha, digest);
	sup_hex(digest, sizeof(digest), hex);
	return 0;
}
