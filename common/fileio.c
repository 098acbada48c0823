/* common/fileio.c - see fileio.h. */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int wd_read_file(const char *path, char *buf, size_t size, size_t *len, struct wd_err *err)
{
	size_t used = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return wd_err_sys(err, errno, "open %s", path);
	for (;;) {
		ssize_t n = read(fd, buf + used, size - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			(void)close(fd);
			return wd_err_sys(err, e, "read %s", path);
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used == size) {
			(void)close(fd);
			return wd_err_set(err, E2BIG, "%s: over %zu bytes", path, size - 1);
		}
	}
	(void)close(fd);
	buf[used] = '\0';
	*len = used;
	return 0;
}

int wd_write_file(const char *path, const char *value, struct wd_err *err)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t len = strlen(value);
	ssize_t n;

	if (fd < 0)
		return wd_err_sys(err, errno, "open %s", path);
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len) {
		int e = n < 0 ? errno : EIO;

		(void)close(fd);
		return wd_err_sys(err, e, "write %s", path);
	}
	if (close(fd) < 0)
		return wd_err_sys(err, errno, "close %s", path);
	return 0;
}

int wd_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
