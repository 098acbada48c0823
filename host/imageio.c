/* host/imageio.c - see imageio.h. */
#include "imageio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/fileio.h"
#include "../common/sha256.h"
#include "../common/tlog.h"
#include "toolrun.h"

#define DIGEST_CHUNK ((size_t)256 << 10) /* bytes read at once */
#define BZIMAGE_HEADER_BYTES 0x10000     /* read to find the version string */

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int wd_img_unhex32(const char *s, uint8_t out[32])
{
	if (strlen(s) != 64)
		return -EINVAL;
	for (size_t i = 0; i < 32; i++) {
		int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void wd_img_digest_buf(const void *p, size_t n, char hex[WD_IMAGE_HEX])
{
	uint8_t d[32];

	wd_sha256(p, n, d);
	wd_hex(d, sizeof(d), hex);
}

/* Hash what `fd` reads (at most `max` bytes), writing a copy to `copy`
 * unless it is -1. */
static int digest_copy(int fd, int copy, uint64_t max, uint64_t *size, char hex[WD_IMAGE_HEX],
		       const char *what, struct wd_err *err)
{
	uint8_t *buf = malloc(DIGEST_CHUNK), d[32];
	struct wd_sha256 c;
	uint64_t total = 0;
	int rc = 0;

	if (buf == NULL)
		return wd_err_set(err, ENOMEM, "%s: out of memory", what);
	wd_sha256_init(&c);
	while (rc == 0) {
		ssize_t r = read(fd, buf, DIGEST_CHUNK);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r < 0)
				rc = wd_err_sys(err, errno, "read %s", what);
			break;
		}
		total += (uint64_t)r;
		if (total > max)
			rc = wd_err_set(err, E2BIG, "%s: over %llu bytes", what,
					(unsigned long long)max);
		else if (copy >= 0 && (rc = wd_write_all(copy, buf, (size_t)r)) < 0)
			rc = wd_err_sys(err, -rc, "%s: copy to memory", what);
		else
			wd_sha256_update(&c, buf, (size_t)r);
	}
	free(buf);
	if (rc < 0)
		return rc;
	wd_sha256_final(&c, d);
	wd_hex(d, sizeof(d), hex);
	if (size != NULL)
		*size = total;
	return 0;
}

int wd_img_digest_fd(int fd, uint64_t max, uint64_t *size, char hex[WD_IMAGE_HEX], const char *what,
		     struct wd_err *err)
{
	return digest_copy(fd, -1, max, size, hex, what, err);
}

int wd_img_open_regular(const char *path, uint64_t *size, struct wd_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	struct stat st;

	if (fd < 0)
		return wd_err_sys(err, errno, "%s", path);
	if (fstat(fd, &st) < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "%s: fstat", path);
	}
	if (!S_ISREG(st.st_mode)) {
		(void)close(fd);
		return wd_err_set(err, EINVAL, "%s: not a regular file", path);
	}
	if (size != NULL)
		*size = (uint64_t)st.st_size;
	return fd;
}

int wd_img_digest_file(const char *path, uint64_t max, uint64_t *size, char hex[WD_IMAGE_HEX],
		       struct wd_err *err)
{
	int fd = wd_img_open_regular(path, NULL, err);
	int rc;

	if (fd < 0)
		return fd;
	rc = wd_img_digest_fd(fd, max, size, hex, path, err);
	(void)close(fd);
	return rc;
}

int wd_img_snapshot(const char *path, uint64_t max, uint64_t *size, char hex[WD_IMAGE_HEX],
		    struct wd_err *err)
{
	int in = wd_img_open_regular(path, NULL, err), mfd, rc;

	if (in < 0)
		return in;
	mfd = memfd_create("warden-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0) {
		rc = wd_err_sys(err, errno, "memfd_create");
		(void)close(in);
		return rc;
	}
	rc = digest_copy(in, mfd, max, size, hex, path, err);
	(void)close(in);
	if (rc == 0 && (fcntl(mfd, F_ADD_SEALS,
			      F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0 ||
			lseek(mfd, 0, SEEK_SET) < 0))
		rc = wd_err_sys(err, errno, "%s: seal the copy", path);
	if (rc < 0) {
		(void)close(mfd);
		return rc;
	}
	return mfd;
}

int wd_img_gunzip(int in_fd, uint64_t max, uint8_t **out, size_t *len, struct wd_err *err)
{
	int mfd = memfd_create("warden-gunzip", MFD_CLOEXEC);
	struct wd_tool t = {.in_fd = in_fd, .out_fd = mfd, .fsize_max = max + 1};
	struct wd_argv a;
	uint8_t *buf;
	off_t end;
	size_t got = 0;

	*out = NULL;
	*len = 0;
	if (mfd < 0)
		return wd_err_sys(err, errno, "memfd_create");
	wd_argv_init(&a);
	wd_argv_add(&a, "gzip");
	wd_argv_add(&a, "-dc");
	if (wd_tool_run(&t, &a, err) < 0) {
		(void)close(mfd);
		if (err->code == EFBIG)
			return wd_err_set(err, E2BIG, "decompressed over %llu bytes",
					  (unsigned long long)max);
		return wd_err_ret(err);
	}
	end = lseek(mfd, 0, SEEK_END);
	if (end < 0 || (uint64_t)end > max || lseek(mfd, 0, SEEK_SET) < 0) {
		(void)close(mfd);
		return end < 0 ? wd_err_sys(err, errno, "lseek")
			       : wd_err_set(err, E2BIG, "decompressed over %llu bytes",
					    (unsigned long long)max);
	}
	buf = malloc(end > 0 ? (size_t)end : 1);
	if (buf == NULL) {
		(void)close(mfd);
		return wd_err_set(err, ENOMEM, "out of memory");
	}
	while (got < (size_t)end) {
		ssize_t r = read(mfd, buf + got, (size_t)end - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			(void)close(mfd);
			free(buf);
			return wd_err_sys(err, r < 0 ? errno : EIO, "read the decompressed data");
		}
		got += (size_t)r;
	}
	(void)close(mfd);
	*out = buf;
	*len = got;
	return 0;
}

/* See imageio.h. The release in the bzImage's version string (boot protocol 2.00+:
 * "HdrS" at 0x202, the string's offset - 0x200 at 0x20e). */
int wd_img_bzimage_kver(int fd, char *kver, size_t size, struct wd_err *err)
{
	uint8_t *h = malloc(BZIMAGE_HEADER_BYTES);
	ssize_t n;
	size_t off, len = 0;

	if (h == NULL)
		return wd_err_set(err, ENOMEM, "out of memory");
	n = pread(fd, h, BZIMAGE_HEADER_BYTES, 0);
	if (n < 0x210 || memcmp(h + 0x202, "HdrS", 4) != 0) {
		free(h);
		return wd_err_set(err, EINVAL, "vmlinuz: not a bzImage (no HdrS header)");
	}
	off = (size_t)(h[0x20e] | h[0x20f] << 8) + 0x200;
	while (off + len < (size_t)n && h[off + len] > 0x20 && h[off + len] < 0x7f &&
	       len + 1 < size)
		len++;
	if (off >= (size_t)n || len == 0 || len + 1 >= size) {
		free(h);
		return wd_err_set(err, EINVAL, "vmlinuz: no readable kernel version string");
	}
	memcpy(kver, h + off, len);
	kver[len] = '\0';
	free(h);
	return 0;
}

int wd_img_read_file(const char *path, size_t max, bool follow, char **out, size_t *len,
		     struct wd_err *err)
{
	int fd = open(path,
		      O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW));
	struct stat st;
	char *buf;
	size_t got = 0;

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return wd_err_sys(err, errno, "%s", path);
	if (fstat(fd, &st) < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "%s: fstat", path);
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		(void)close(fd);
		if (!S_ISREG(st.st_mode))
			return wd_err_set(err, EINVAL, "%s: not a regular file", path);
		return wd_err_set(err, E2BIG, "%s: %lld bytes, over %zu", path,
				  (long long)st.st_size, max);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		(void)close(fd);
		return wd_err_set(err, ENOMEM, "%s: out of memory", path);
	}
	/* One byte more than fstat said: a file that grew is caught. */
	while (got <= (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size + 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	(void)close(fd);
	if (got != (size_t)st.st_size) {
		free(buf);
		return wd_err_set(err, EIO, "%s: a read error, or it changed while it was read",
				  path);
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}
