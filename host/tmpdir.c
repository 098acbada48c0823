/* host/tmpdir.c - see tmpdir.h. */
#include "tmpdir.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEMPLATE_NAME "warden.XXXXXX"

int wd_tmpdir_make(const char *tmpdir_env, char *out, size_t size, struct wd_err *err)
{
	const char *base = tmpdir_env != NULL && tmpdir_env[0] != '\0' ? tmpdir_env : "/tmp";
	size_t blen = strlen(base);
	int n;

	while (blen > 1 && base[blen - 1] == '/')
		blen--;
	if (base[0] != '/')
		return wd_err_set(err, EINVAL, "TMPDIR '%s' is not an absolute path", base);
	/* QEMU's option syntax gives ',' a meaning; such a path cannot be passed safely. */
	if (memchr(base, ',', blen) != NULL)
		return wd_err_set(err, EINVAL, "TMPDIR '%s' contains a ','", base);
	n = snprintf(out, size, "%.*s/%s", (int)blen, base, TEMPLATE_NAME);
	if (n < 0 || (size_t)n >= size || (size_t)n > WD_TMPDIR_MAX_BYTES)
		return wd_err_set(err, ENAMETOOLONG,
				  "TMPDIR '%s' is too long for a Unix socket path inside it", base);
	if (mkdtemp(out) == NULL) {
		int e = errno;

		out[0] = '\0';
		return wd_err_sys(err, e, "create a private directory in %.*s", (int)blen, base);
	}
	/* mkdtemp makes it 0700 already; say so whatever the umask was. */
	if (chmod(out, 0700) < 0) {
		int e = errno;

		(void)wd_err_sys(err, e, "chmod %s", out);
		(void)rmdir(out);
		out[0] = '\0';
		return -e;
	}
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int wd_tmpdir_remove(const char *path, struct wd_err *err)
{
	if (path == NULL || path[0] == '\0')
		return 0;
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 && errno != ENOENT)
		return wd_err_sys(err, errno, "remove %s", path);
	return 0;
}
