/* host/paths.c - see paths.h. */
#include "paths.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct asset_rule {
	const char *what;      /* for messages */
	const char *option;    /* the option that overrides it, or NULL */
	const char *build;     /* relative to the parent of the binary's directory */
	const char *installed; /* the same, after `make install` */
	bool beside;           /* also <bin>/<name>, first */
	int access_mode;       /* R_OK or X_OK */
};

static const struct asset_rule rules[] = {
	[WD_ASSET_KERNEL] = {"guest kernel", "--kernel", "kernel/vmlinuz", "share/warden/vmlinuz",
			     false, R_OK},
	[WD_ASSET_IMAGE] = {"guest image", "--image", "image/initramfs.cpio.gz",
			    "share/warden/initramfs.cpio.gz", false, R_OK},
	[WD_ASSET_INIT] = {"warden-init", NULL, NULL, "lib/warden/warden-init", true, X_OK},
	[WD_ASSET_SUPERVISOR] = {"warden-supervisor", NULL, NULL, "lib/warden/warden-supervisor",
				 true, X_OK},
};

int wd_exe_dir(char *out, size_t size, struct wd_err *err)
{
	ssize_t n = readlink("/proc/self/exe", out, size - 1);
	char *slash;

	if (n < 0)
		return wd_err_sys(err, errno, "readlink /proc/self/exe");
	if ((size_t)n >= size - 1)
		return wd_err_set(err, ENAMETOOLONG, "readlink /proc/self/exe: path too long");
	out[n] = '\0';
	slash = strrchr(out, '/');
	if (slash == NULL)
		return wd_err_set(err, EINVAL, "/proc/self/exe: '%s' is not absolute", out);
	if (slash == out)
		slash[1] = '\0';
	else
		*slash = '\0';
	return 0;
}

static bool usable(const char *path, int mode)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, mode) == 0;
}

/* `dir` without its last component ("/a/b/bin" -> "/a/b"). */
static void parent_of(const char *dir, char *out, size_t size)
{
	const char *slash = strrchr(dir, '/');
	size_t n = slash == NULL || slash == dir ? 1 : (size_t)(slash - dir);

	if (n >= size)
		n = size - 1;
	memcpy(out, slash == NULL ? "/" : dir, n);
	out[n] = '\0';
}

/* dir/name into out (WD_PATH_BYTES); 1, or 0 when it does not fit. */
static size_t join(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, WD_PATH_BYTES, "%s/%s", dir, name);

	return n >= 0 && n < WD_PATH_BYTES ? 1 : 0;
}

int wd_find_asset(const char *exe_dir, enum wd_asset asset, char *out, size_t size,
		  struct wd_err *err)
{
	const struct asset_rule *r = &rules[asset];
	char parent[WD_PATH_BYTES], tried[3][WD_PATH_BYTES];
	const char *base = strcmp(exe_dir, "/") == 0 ? "" : exe_dir;
	const char *pbase;
	size_t n = 0;

	parent_of(exe_dir, parent, sizeof(parent));
	pbase = strcmp(parent, "/") == 0 ? "" : parent;
	if (r->beside)
		n += join(tried[n], base, r->what);
	if (r->build != NULL)
		n += join(tried[n], pbase, r->build);
	n += join(tried[n], pbase, r->installed);
	for (size_t i = 0; i < n; i++) {
		if (!usable(tried[i], r->access_mode))
			continue;
		if (strlen(tried[i]) >= size)
			return wd_err_set(err, ENAMETOOLONG, "%s: path too long", r->what);
		memcpy(out, tried[i], strlen(tried[i]) + 1);
		return 0;
	}
	if (n == 0)
		return wd_err_set(err, ENAMETOOLONG, "no %s: the binary's path is too long",
				  r->what);
	if (n == 1)
		return wd_err_set(err, ENOENT, "no %s: %s does not exist", r->what, tried[0]);
	if (n == 2)
		return wd_err_set(err, ENOENT, "no %s: neither %s nor %s exists%s%s%s", r->what,
				  tried[0], tried[1], r->option != NULL ? "; give " : "",
				  r->option != NULL ? r->option : "",
				  r->option != NULL ? " PATH" : "");
	return wd_err_set(err, ENOENT, "no %s: none of %s, %s, %s exists", r->what, tried[0],
			  tried[1], tried[2]);
}

int wd_check_input_file(const char *what, const char *path, struct wd_err *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return wd_err_sys(err, errno, "%s %s", what, path);
	if (fstat(fd, &st) < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "%s %s: fstat", what, path);
	}
	(void)close(fd);
	if (!S_ISREG(st.st_mode))
		return wd_err_set(err, EINVAL, "%s %s: not a regular file", what, path);
	return 0;
}
