/*
 * sandbox/sbexec.c - the exec watcher (sandbox.h, "audited execs: what
 * ran"): a fanotify group that sees each file the kernel opens to execute
 * in the sandbox, reads it, records it with what the caller asked, and only
 * then lets the exec go on.
 *
 * Runs in the supervisor (and in warden sandbox on the host), as root. What
 * comes from the agent: the files (their names, sizes and bytes), the
 * threads' ids, and the "requested" objects sbnotify.c made from the
 * agent's memory. Everything a record holds is bounded (SUP_SB_EXEC_SHOWN
 * per path, SUP_SB_EXEC_RECORD_MAX in all).
 *
 * Why fanotify: the seccomp notification of an exec shows the caller's
 * memory, which another thread can change before the kernel reads it; the
 * FAN_OPEN_EXEC_PERM event comes with the file the kernel actually opened,
 * and the exec waits for the answer. Its marks are per mount (the sandbox's
 * own mounts, not the host's or the guest's filesystems, so nobody else's
 * execs wait for this process) and per inode for the memfds the agent gets
 * (a memfd lives on the kernel's internal tmpfs, which takes no mount mark;
 * sbnotify.c makes them and asks sup_sb_exec_watch).
 */
#include "sandbox_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/fanotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../common/jcanon.h"
#include "../common/json.h"
#include "../common/sha256.h"
#include "../common/tlog.h"

#ifndef FANOTIFY_METADATA_VERSION /* musl's sys/fanotify.h has neither */
#define FANOTIFY_METADATA_VERSION 3
#endif
#ifndef FAN_MARK_EVICTABLE
#define FAN_MARK_EVICTABLE 0x00000200 /* 5.19: the mark does not pin the inode */
#endif

#define EVENTS_PER_READ 32
#define READ_CHUNK 65536

/* An exec call continued by the listener whose file has not been seen yet,
 * or has (then later files of the same exec are its interpreters). */
struct pending {
	pid_t tid; /* 0: free */
	uint64_t seq;
	bool opened;
	char requested[SUP_SB_EXEC_REQUEST_MAX];
};

/* A file whose digest holds while its read lease does. */
struct cached {
	int fd; /* -1: free; the file, leased unless on a read-only mount */
	bool leased;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	uint64_t used;
	uint8_t sha256[WD_HASH_BYTES];
};

struct sup_sb_exec {
	int fan, sigfd, epfd;
	uint64_t clock; /* orders pending calls and cache uses */
	struct pending pending[SUP_SB_EXEC_PENDING];
	struct cached cache[SUP_SB_EXEC_CACHE];
};

/* What the watcher found out about one opened file. */
struct facts {
	bool stat_ok, hashed;
	struct stat st;
	uint8_t sha256[WD_HASH_BYTES];
	char path[PATH_MAX];
	ssize_t path_len; /* -1: unknown */
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
	*fd = -1;
}

int sup_sb_exec_open(struct sup_sb_exec **out, struct wd_err *err)
{
	struct sup_sb_exec *x = calloc(1, sizeof(*x));
	struct epoll_event ev = {.events = EPOLLIN};
	sigset_t io;
	int e;

	*out = NULL;
	if (x == NULL)
		return wd_err_set(err, ENOMEM, "exec audit: watcher");
	x->sigfd = x->epfd = -1;
	for (size_t i = 0; i < SUP_SB_EXEC_CACHE; i++)
		x->cache[i].fd = -1;
	x->fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_TID |
				       FAN_UNLIMITED_QUEUE | FAN_UNLIMITED_MARKS,
			       O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (x->fan < 0) {
		e = errno;
		free(x);
		return wd_err_sys(err, e,
				  "exec audit: no fanotify permission events here (the kernel "
				  "needs CONFIG_FANOTIFY_ACCESS_PERMISSIONS; the policy can turn "
				  "exec audit off: \"audit\": {\"exec\": false}): fanotify_init");
	}
	/* A lease being broken is a SIGIO to the lease's holder, this process. */
	(void)sigemptyset(&io);
	(void)sigaddset(&io, SIGIO);
	if (sigprocmask(SIG_BLOCK, &io, NULL) < 0 ||
	    (x->sigfd = signalfd(-1, &io, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
	    (x->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    epoll_ctl(x->epfd, EPOLL_CTL_ADD, x->fan, &ev) < 0 ||
	    epoll_ctl(x->epfd, EPOLL_CTL_ADD, x->sigfd, &ev) < 0) {
		e = errno;
		sup_sb_exec_close(x);
		return wd_err_sys(err, e, "exec audit: the watcher's signals");
	}
	*out = x;
	return 0;
}

void sup_sb_exec_close(struct sup_sb_exec *x)
{
	if (x == NULL)
		return;
	for (size_t i = 0; i < SUP_SB_EXEC_CACHE; i++)
		close_fd(&x->cache[i].fd);
	close_fd(&x->epfd);
	close_fd(&x->sigfd);
	close_fd(&x->fan);
	free(x);
}

int sup_sb_exec_fd(const struct sup_sb_exec *x)
{
	return x->epfd;
}

int sup_sb_exec_watch(const struct sup_sb_exec *x, int fd)
{
	/* Evictable: the mark goes with the memfd, it does not keep it alive. */
	if (fanotify_mark(x->fan, FAN_MARK_ADD | FAN_MARK_EVICTABLE, FAN_OPEN_EXEC_PERM, fd, NULL) <
	    0)
		return -errno;
	return 0;
}

/* ---- the marks (in the sandbox's init) ----------------------------------- */

/* A mountinfo path field, its \ooo escapes undone. */
static bool unescape(const char *s, size_t n, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			c = (char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 |
				   (s[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= size)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return true;
}

/* Is `opt` one of the comma-separated options in s[0..n)? */
static bool has_option(const char *s, size_t n, const char *opt)
{
	size_t len = strlen(opt);

	for (size_t i = 0; i < n;) {
		size_t end = i;

		while (end < n && s[end] != ',')
			end++;
		if (end - i == len && memcmp(s + i, opt, len) == 0)
			return true;
		i = end + 1;
	}
	return false;
}

/* One line of mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ...". */
static int mark_line(int fan, const char *line, size_t n, struct wd_err *err)
{
	const char *field[6];
	size_t len[6], k = 0;
	char path[PATH_MAX];

	for (size_t i = 0; i < n && k < 6;) {
		size_t end = i;

		while (end < n && line[end] != ' ')
			end++;
		field[k] = line + i;
		len[k++] = end - i;
		i = end + 1;
	}
	if (k < 6 || !unescape(field[4], len[4], path, sizeof(path)))
		return wd_err_set(err, EINVAL, "exec audit: a mount table line it cannot read");
	if (has_option(field[5], len[5], "noexec"))
		return 0;
	if (fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_MOUNT | FAN_MARK_DONT_FOLLOW,
			  FAN_OPEN_EXEC_PERM, AT_FDCWD, path) < 0)
		return wd_err_sys(err, errno, "exec audit: watch the mount on %.200s", path);
	return 0;
}

/* /proc/self/mountinfo, whole, into a buffer of SUP_SB_MOUNTINFO_MAX. */
static char *read_mountinfo(size_t *len, struct wd_err *err)
{
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	char *buf;
	size_t got = 0;

	if (fd < 0) {
		(void)wd_err_sys(err, errno, "exec audit: open /proc/self/mountinfo");
		return NULL;
	}
	buf = malloc(SUP_SB_MOUNTINFO_MAX);
	while (buf != NULL && got < SUP_SB_MOUNTINFO_MAX) {
		ssize_t n = read(fd, buf + got, SUP_SB_MOUNTINFO_MAX - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0) {
				(void)wd_err_sys(err, errno, "exec audit: read the mount table");
				free(buf);
				buf = NULL;
			}
			break;
		}
		got += (size_t)n;
	}
	(void)close(fd);
	if (buf == NULL && err->code == 0)
		(void)wd_err_set(err, ENOMEM, "exec audit: mount table buffer");
	if (buf != NULL && got >= SUP_SB_MOUNTINFO_MAX) {
		(void)wd_err_set(err, E2BIG, "exec audit: the mount table is over %u bytes",
				 SUP_SB_MOUNTINFO_MAX);
		free(buf);
		buf = NULL;
	}
	*len = got;
	return buf;
}

int sup_sb_exec_mark_mounts(const struct sup_sb_exec *x, struct wd_err *err)
{
	size_t len = 0;
	char *buf;
	int rc = 0;

	wd_err_clear(err);
	buf = read_mountinfo(&len, err);
	if (buf == NULL)
		rc = -1;
	for (size_t i = 0; buf != NULL && i < len && rc == 0;) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - buf) : len;

		rc = mark_line(x->fan, buf + i, end - i, err);
		i = end + 1;
	}
	free(buf);
	/* This process's copies: the group and its state are the watcher's. */
	(void)close(x->epfd);
	(void)close(x->sigfd);
	(void)close(x->fan);
	for (size_t i = 0; i < SUP_SB_EXEC_CACHE; i++)
		if (x->cache[i].fd >= 0)
			(void)close(x->cache[i].fd);
	return rc;
}

/* ---- exec calls on their way ------------------------------------------- */

static struct pending *pending_of(struct sup_sb_exec *x, pid_t tid)
{
	for (size_t i = 0; tid > 0 && i < SUP_SB_EXEC_PENDING; i++)
		if (x->pending[i].tid == tid)
			return &x->pending[i];
	return NULL;
}

/* The thread's own slot, a free one, else the oldest whose file was seen,
 * else the oldest. */
static struct pending *slot_for(struct sup_sb_exec *x, pid_t tid)
{
	struct pending *p = pending_of(x, tid), *opened = NULL, *any = NULL;

	for (size_t i = 0; p == NULL && i < SUP_SB_EXEC_PENDING; i++) {
		struct pending *c = &x->pending[i];

		if (c->tid == 0)
			return c;
		if (c->opened && (opened == NULL || c->seq < opened->seq))
			opened = c;
		if (any == NULL || c->seq < any->seq)
			any = c;
	}
	return p != NULL ? p : opened != NULL ? opened : any;
}

void sup_sb_exec_expect(struct sup_sb_exec *x, int listener, const struct sup_sb_denial *d)
{
	struct pending *p;

	if (d->pid <= 0) /* not in our pid namespace: its file will find nothing */
		return;
	p = slot_for(x, d->pid);
	p->tid = d->pid;
	p->seq = ++x->clock;
	p->opened = false;
	if (sup_sb_exec_json(listener, d, p->requested, sizeof(p->requested)) < 0)
		(void)snprintf(p->requested, sizeof(p->requested), "{\"unreadable\":true}");
}

/* ---- digests, kept while their lease holds ----------------------------- */

static bool same_file(const struct stat *a, const struct cached *c)
{
	return a->st_dev == c->dev && a->st_ino == c->ino && a->st_size == c->size &&
	       a->st_mtim.tv_sec == c->mtime.tv_sec && a->st_mtim.tv_nsec == c->mtime.tv_nsec &&
	       a->st_ctim.tv_sec == c->ctime.tv_sec && a->st_ctim.tv_nsec == c->ctime.tv_nsec;
}

static bool still_leased(const struct cached *c)
{
	/* While a break is under way F_GETLEASE says what it goes to: F_UNLCK. */
	return !c->leased || fcntl(c->fd, F_GETLEASE) == F_RDLCK;
}

static void drop(struct cached *c)
{
	close_fd(&c->fd);
}

static struct cached *cached_of(struct sup_sb_exec *x, const struct stat *st)
{
	for (size_t i = 0; i < SUP_SB_EXEC_CACHE; i++) {
		struct cached *c = &x->cache[i];

		if (c->fd < 0 || c->dev != st->st_dev || c->ino != st->st_ino)
			continue;
		if (same_file(st, c) && still_leased(c)) {
			c->used = ++x->clock;
			return c;
		}
		drop(c);
	}
	return NULL;
}

static void keep(struct sup_sb_exec *x, int fd, bool leased, const struct stat *st,
		 const uint8_t sha256[WD_HASH_BYTES])
{
	struct cached *c = &x->cache[0];

	/* A free entry, else the one used longest ago. */
	for (size_t i = 0; i < SUP_SB_EXEC_CACHE; i++) {
		if (x->cache[i].fd < 0) {
			c = &x->cache[i];
			break;
		}
		if (x->cache[i].used < c->used)
			c = &x->cache[i];
	}
	drop(c);
	c->fd = fd;
	c->leased = leased;
	c->dev = st->st_dev;
	c->ino = st->st_ino;
	c->size = st->st_size;
	c->mtime = st->st_mtim;
	c->ctime = st->st_ctim;
	c->used = ++x->clock;
	memcpy(c->sha256, sha256, WD_HASH_BYTES);
}

/* SIGIO: someone wants to write a file whose digest is kept; let go of
 * every lease under a break (the writer waits until then). */
static void take_breaks(struct sup_sb_exec *x)
{
	struct signalfd_siginfo si;
	bool any = false;

	while (read(x->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		any = true;
	for (size_t i = 0; any && i < SUP_SB_EXEC_CACHE; i++)
		if (x->cache[i].fd >= 0 && !still_leased(&x->cache[i]))
			drop(&x->cache[i]);
}

static int hash_file(int fd, uint8_t out[WD_HASH_BYTES])
{
	static uint8_t chunk[READ_CHUNK];
	struct wd_sha256 c;
	off_t at = 0;

	wd_sha256_init(&c);
	for (;;) {
		ssize_t n = pread(fd, chunk, sizeof(chunk), at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		wd_sha256_update(&c, chunk, (size_t)n);
		at += n;
		if ((uint64_t)at > SUP_SB_EXEC_FILE_MAX)
			return -EFBIG;
	}
	wd_sha256_final(&c, out);
	return 0;
}

/*
 * The file at `fd` read and its digest kept, or why the exec is refused.
 * *kept: the fd now belongs to the cache.
 */
static const char *verify(struct sup_sb_exec *x, int fd, struct facts *f, bool *kept)
{
	const struct cached *c = cached_of(x, &f->st);
	struct statvfs v;
	struct stat after;
	bool leased = true;

	*kept = false;
	if (c != NULL) {
		memcpy(f->sha256, c->sha256, WD_HASH_BYTES);
		f->hashed = true;
		return NULL;
	}
	if ((uint64_t)f->st.st_size > SUP_SB_EXEC_FILE_MAX)
		return "larger than the 1 GiB an exec may run";
	if (fcntl(fd, F_SETLEASE, F_RDLCK) < 0) {
		if (errno == EAGAIN)
			return "open for writing";
		if (fstatvfs(fd, &v) < 0 || !(v.f_flag & ST_RDONLY))
			return "on a writable filesystem without leases";
		leased = false; /* nobody in the sandbox can write it */
	}
	if (hash_file(fd, f->sha256) < 0)
		return "unreadable";
	if (fstat(fd, &after) < 0 || after.st_size != f->st.st_size ||
	    after.st_mtim.tv_sec != f->st.st_mtim.tv_sec ||
	    after.st_mtim.tv_nsec != f->st.st_mtim.tv_nsec ||
	    after.st_ctim.tv_sec != f->st.st_ctim.tv_sec ||
	    after.st_ctim.tv_nsec != f->st.st_ctim.tv_nsec)
		return "changed while it was read";
	f->hashed = true;
	keep(x, fd, leased, &f->st, f->sha256);
	*kept = true;
	return NULL;
}

/* ---- records --------------------------------------------------------------- */

static void file_json(struct wd_jw *w, const struct facts *f)
{
	char dev[24], num[24], hex[2 * WD_HASH_BYTES + 1];

	wd_jw_object(w, "file");
	if (f->stat_ok) {
		(void)snprintf(dev, sizeof(dev), "%u:%u", major(f->st.st_dev), minor(f->st.st_dev));
		wd_jw_str(w, "dev", dev);
		/* A number while JSON holds it exactly, else its decimal text. */
		if ((uint64_t)f->st.st_ino <= WD_JSON_MAX_INT) {
			wd_jw_uint(w, "ino", (uint64_t)f->st.st_ino);
		} else {
			(void)snprintf(num, sizeof(num), "%llu", (unsigned long long)f->st.st_ino);
			wd_jw_str(w, "ino", num);
		}
	}
	if (f->path_len >= 0)
		wd_jw_str_bounded(w, "path", f->path, (size_t)f->path_len, SUP_SB_EXEC_SHOWN);
	if (f->hashed) {
		wd_hex(f->sha256, sizeof(f->sha256), hex);
		wd_jw_str(w, "sha256", hex);
	}
	if (f->stat_ok)
		wd_jw_uint(w, "size", (uint64_t)f->st.st_size);
	wd_jw_close(w);
}

static int record_json(const struct facts *f, const struct pending *p, const char *refused,
		       char *out, size_t size)
{
	struct wd_jw w;

	wd_jw_init(&w, out, size);
	file_json(&w, f);
	if (p != NULL && p->opened)
		wd_jw_bool(&w, "interpreter", true);
	if (refused != NULL)
		wd_jw_str(&w, "refused", refused);
	if (p != NULL && !p->opened)
		wd_jw_raw(&w, "requested", p->requested, strlen(p->requested));
	return wd_jw_end(&w);
}

/* The longest record: the file with a cut path and every member at its
 * widest, the longest reason, the longest "requested" object. */
_Static_assert(SUP_SB_EXEC_SHOWN + WD_JW_BOUNDED_EXTRA + 200 + 100 + SUP_SB_EXEC_REQUEST_MAX + 20 <=
		       SUP_SB_EXEC_RECORD_MAX,
	       "an exec record's bound");

static void answer(int fan, int fd, bool allow)
{
	struct fanotify_response r = {.fd = fd, .response = allow ? FAN_ALLOW : FAN_DENY};

	/* ENOENT: the exec went away (killed) meanwhile. */
	(void)!write(fan, &r, sizeof(r));
}

/* One opened file: verified, recorded, answered. */
static int one_file(struct sup_sb_exec *x, int fd, pid_t tid,
		    int (*record)(void *ctx, const struct sup_sb_exec_record *r), void *ctx)
{
	static struct facts f;
	char link[32], data[SUP_SB_EXEC_RECORD_MAX];
	struct pending *p = pending_of(x, tid);
	struct sup_sb_exec_record r = {.pid = tid, .allowed = false, .data = data};
	const char *refused = NULL;
	bool kept = false;
	int rc;

	memset(&f, 0, sizeof(f));
	f.stat_ok = fstat(fd, &f.st) == 0;
	(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	f.path_len = readlink(link, f.path, sizeof(f.path));
	if (p == NULL)
		refused = "no exec call of this thread is on its way";
	else if (!f.stat_ok)
		refused = "unreadable";
	else
		refused = verify(x, fd, &f, &kept);
	rc = record_json(&f, p, refused, data, sizeof(data));
	r.allowed = refused == NULL;
	if (rc >= 0)
		rc = record(ctx, &r);
	answer(x->fan, fd, r.allowed && rc >= 0);
	if (p != NULL)
		p->opened = true;
	if (!kept)
		(void)close(fd);
	return rc < 0 ? rc : 0;
}

int sup_sb_exec_serve(struct sup_sb_exec *x, int max,
		      int (*record)(void *ctx, const struct sup_sb_exec_record *r), void *ctx)
{
	struct fanotify_event_metadata ev[EVENTS_PER_READ];
	int want = max < EVENTS_PER_READ ? max : EVENTS_PER_READ, rc = 0;
	ssize_t n;

	take_breaks(x);
	if (want <= 0)
		return 0;
	n = read(x->fan, ev, (size_t)want * sizeof(ev[0]));
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	for (struct fanotify_event_metadata *m = ev; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
		if (m->vers != FANOTIFY_METADATA_VERSION) {
			/* A layout this program does not know: nothing here can be read. */
			if (m->fd >= 0)
				(void)close(m->fd);
			rc = -EPROTO;
			continue;
		}
		if (m->fd < 0) /* an overflow: not with an unlimited queue */
			continue;
		if (rc < 0) { /* a record failed: the rest is refused, unrecorded */
			answer(x->fan, m->fd, false);
			(void)close(m->fd);
			continue;
		}
		rc = one_file(x, m->fd, (pid_t)m->pid, record, ctx);
	}
	return rc;
}
