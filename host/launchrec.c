/* host/launchrec.c - see launchrec.h. */
#include "launchrec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/fileio.h"
#include "../common/jcanon.h"

int wd_launchrec_write(const char *dir, const struct wd_launchrec *r, struct wd_err *err)
{
	char line[WD_LAUNCHREC_MAX], path[4096];
	struct timespec now;
	struct wd_jw w;
	int fd, n, rc;

	(void)clock_gettime(CLOCK_REALTIME, &now);
	wd_jw_init(&w, line, sizeof(line) - 1);
	wd_jw_str(&w, "activity", r->activity);
	wd_jw_object(&w, "actor");
	wd_jw_uint(&w, "pid", (uint64_t)getpid());
	wd_jw_str(&w, "process", "warden-run");
	wd_jw_close(&w);
	wd_jw_str(&w, "class", r->cls);
	wd_jw_raw(&w, "data", r->data, strlen(r->data));
	wd_jw_str(&w, "origin", r->origin);
	wd_jw_str(&w, "outcome", r->outcome);
	wd_jw_str(&w, "severity", r->severity);
	wd_jw_uint(&w, "time", (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000);
	n = wd_jw_end(&w);
	if (n < 0)
		return wd_err_set(err, -n, "%s: the record does not fit %d bytes",
				  WD_LAUNCHREC_FILE, WD_LAUNCHREC_MAX);
	line[n++] = '\n';
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, WD_LAUNCHREC_FILE) >= sizeof(path))
		return wd_err_set(err, ENAMETOOLONG, "%s/%s: path too long", dir,
				  WD_LAUNCHREC_FILE);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0)
		return wd_err_sys(err, errno, "%s", path);
	rc = wd_write_all(fd, line, (size_t)n);
	if (rc == 0 && fdatasync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc < 0 ? wd_err_sys(err, -rc, "%s", path) : 0;
}
