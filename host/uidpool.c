/* host/uidpool.c - see uidpool.h. */
#include "uidpool.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/parse.h"

#define LOCK_PARENT "/run/warden"

int wd_uid_range(const char *text, uint32_t *first, uint32_t *last, struct wd_err *err)
{
	char buf[WD_UID_TEXT_BYTES];
	uint64_t a, b;
	char *dash;

	if (text == NULL) {
		*first = WD_UID_RANGE_FIRST;
		*last = WD_UID_RANGE_LAST;
		return 0;
	}
	if (strlen(text) >= sizeof(buf))
		return wd_err_set(err, EINVAL, "'%.32s': not FIRST-LAST", text);
	memcpy(buf, text, strlen(text) + 1);
	dash = strchr(buf, '-');
	if (dash == NULL)
		return wd_err_set(err, EINVAL, "'%s': not FIRST-LAST", text);
	*dash = '\0';
	if (wd_parse_u64(buf, 1, 0xfffffffeULL, &a, err) < 0 ||
	    wd_parse_u64(dash + 1, 1, 0xfffffffeULL, &b, err) < 0)
		return wd_err_wrap(err, "'%s'", text);
	if (a > b)
		return wd_err_set(err, EINVAL, "'%s': FIRST is above LAST", text);
	if (b - a + 1 > WD_UID_RANGE_MAX_IDS)
		return wd_err_set(err, EINVAL, "'%s': more than %u ids", text,
				  WD_UID_RANGE_MAX_IDS);
	/* 65534 is nobody, 65535 the 16-bit "-1"; 2^32-1 is above the parse's bound. */
	if (a <= 65535 && b >= 65534)
		return wd_err_set(err, EINVAL, "'%s': holds 65534 or 65535 (nobody, 16-bit -1)",
				  text);
	*first = (uint32_t)a;
	*last = (uint32_t)b;
	return 0;
}

/* The lock directory, made if missing; refused unless only we can write it. */
static int open_dir(const char *dir, struct wd_err *err)
{
	struct stat st;
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return wd_err_sys(err, errno, "mkdir %s", dir);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return wd_err_sys(err, errno, "open %s", dir);
	if (fstat(fd, &st) < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "stat %s", dir);
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
		(void)close(fd);
		return wd_err_set(err, EPERM, "%s: not ours alone (owner %u, mode %04o)", dir,
				  (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
	}
	return fd;
}

/* Lock `id`'s file into *out: 1, 0 when another job holds it, or -errno. */
static int try_lock(int dirfd, uint32_t id, int *out, struct wd_err *err)
{
	char name[16];
	int fd, e;

	(void)snprintf(name, sizeof(name), "%u", (unsigned)id);
	fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
	if (fd < 0)
		return wd_err_sys(err, errno, "open the lock of uid %u", (unsigned)id);
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		*out = fd;
		return 1;
	}
	e = errno;
	(void)close(fd);
	return e == EWOULDBLOCK ? 0 : wd_err_sys(err, e, "lock uid %u", (unsigned)id);
}

static uint32_t random_below(uint32_t n)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint32_t)getpid();
	return r % n;
}

int wd_uid_lease_in(const char *dir, uint32_t first, uint32_t last, struct wd_uid_lease *l,
		    struct wd_err *err)
{
	uint32_t n = last - first + 1, start = random_below(n);
	int dirfd = open_dir(dir, err);

	l->fd = -1;
	l->id = 0;
	if (dirfd < 0)
		return dirfd;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t id = first + (uint32_t)(((uint64_t)start + i) % n);
		int rc;

		if (getpwuid(id) != NULL || getgrgid(id) != NULL)
			continue;
		rc = try_lock(dirfd, id, &l->fd, err);
		if (rc != 0) {
			(void)close(dirfd);
			if (rc > 0)
				l->id = id;
			return rc < 0 ? rc : 0;
		}
	}
	(void)close(dirfd);
	return wd_err_set(err, EAGAIN,
			  "every uid of %u-%u is taken by a running job or named in "
			  "/etc/passwd or /etc/group (%s widens the range)",
			  (unsigned)first, (unsigned)last, WD_UID_RANGE_ENV);
}

int wd_uid_lease(struct wd_uid_lease *l, struct wd_err *err)
{
	uint32_t first = 0, last = 0;

	l->fd = -1;
	l->id = 0;
	if (wd_uid_range(getenv(WD_UID_RANGE_ENV), &first, &last, err) < 0)
		return wd_err_wrap(err, "%s", WD_UID_RANGE_ENV);
	if (mkdir(LOCK_PARENT, 0755) < 0 && errno != EEXIST)
		return wd_err_sys(err, errno, "mkdir %s", LOCK_PARENT);
	if (wd_uid_lease_in(WD_UID_LOCK_DIR, first, last, l, err) < 0)
		return wd_err_wrap(err, "a uid for the job");
	return 0;
}

void wd_uid_release(struct wd_uid_lease *l)
{
	if (l->fd >= 0)
		(void)close(l->fd);
	l->fd = -1;
}
