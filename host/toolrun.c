/* host/toolrun.c - see toolrun.h. */
#include "toolrun.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char env_path[] = "PATH=" WD_TOOL_DIRS, env_lc[] = "LC_ALL=C", env_tz[] = "TZ=UTC";
static char *const tool_env[] = {env_path, env_lc, env_tz, NULL};

int wd_tool_find(const char *name, char *path, size_t size, struct wd_err *err)
{
	const char *dirs = WD_TOOL_DIRS;

	if (strchr(name, '/') != NULL)
		return wd_err_set(err, EINVAL, "%s: a tool is named, not a path", name);
	while (*dirs != '\0') {
		size_t n = strcspn(dirs, ":");
		struct stat st;
		int k = snprintf(path, size, "%.*s/%s", (int)n, dirs, name);

		if (k > 0 && (size_t)k < size && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(path, X_OK) == 0)
			return 0;
		dirs += n;
		if (*dirs == ':')
			dirs++;
	}
	return wd_err_set(err, ENOENT, "%s not found in %s (install it: see docs/image.md)", name,
			  WD_TOOL_DIRS);
}

/* In the child: stdio in place, limits, exec. Never returns. */
static void child(struct wd_launch *l, const char *path, const struct wd_argv *a,
		  const struct wd_tool *t, int out_w, int err_w)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int in = t->in_fd >= 0 ? t->in_fd : null;
	int out = t->out != NULL ? out_w : t->out_fd >= 0 ? t->out_fd : null;

	if (null < 0)
		wd_launch_fail(l, errno, "open /dev/null");
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err_w, 2) < 0)
		wd_launch_fail(l, errno, "dup2");
	if (t->fsize_max > 0) {
		struct rlimit rl = {.rlim_cur = t->fsize_max, .rlim_max = t->fsize_max};

		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			wd_launch_fail(l, errno, "setrlimit RLIMIT_FSIZE");
	}
	/* The input starts at its beginning whatever the parent did with it. */
	if (t->in_fd >= 0)
		(void)lseek(0, 0, SEEK_SET);
	execve(path, a->v, tool_env);
	wd_launch_fail(l, errno, "exec %s", path);
}

/* Keep the last WD_TOOL_STDERR_BYTES of stderr. */
static void keep_tail(char *buf, size_t *len, const char *p, size_t n)
{
	const size_t cap = WD_TOOL_STDERR_BYTES - 1;

	if (n >= cap) {
		memcpy(buf, p + n - cap, cap);
		*len = cap;
	} else {
		if (*len + n > cap) {
			size_t drop = *len + n - cap;

			memmove(buf, buf + drop, *len - drop);
			*len -= drop;
		}
		memcpy(buf + *len, p, n);
		*len += n;
	}
	buf[*len] = '\0';
}

/* The last non-empty line of `s`, in place. */
static const char *last_line(char *s)
{
	size_t n = strlen(s);
	char *nl;

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
	nl = strrchr(s, '\n');
	return nl != NULL ? nl + 1 : s;
}

/* Read both pipes to their ends. */
static int drain(struct wd_tool *t, int out_r, int err_r, char *ebuf, size_t *elen, bool *overflow)
{
	char chunk[4096];

	while (out_r >= 0 || err_r >= 0) {
		struct pollfd p[2] = {{.fd = out_r, .events = POLLIN, .revents = 0},
				      {.fd = err_r, .events = POLLIN, .revents = 0}};

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t r;

			if (p[i].revents == 0)
				continue;
			r = read(p[i].fd, chunk, sizeof(chunk));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				(void)close(p[i].fd);
				if (i == 0)
					out_r = -1;
				else
					err_r = -1;
				continue;
			}
			if (i == 1) {
				keep_tail(ebuf, elen, chunk, (size_t)r);
			} else if (t->out != NULL && t->out_len + (size_t)r < t->out_size) {
				memcpy(t->out + t->out_len, chunk, (size_t)r);
				t->out_len += (size_t)r;
				t->out[t->out_len] = '\0';
			} else {
				*overflow = true;
			}
		}
	}
	return 0;
}

int wd_tool_run(struct wd_tool *t, const struct wd_argv *a, struct wd_err *err)
{
	char path[256], ebuf[WD_TOOL_STDERR_BYTES] = "", how[96];
	struct wd_child c = WD_CHILD_INIT;
	int outp[2] = {-1, -1}, errp[2] = {-1, -1};
	bool overflow = false;
	struct wd_launch l;
	size_t elen = 0;
	int rc;

	if (a->overflow || a->n == 0)
		return wd_err_set(err, E2BIG, "a command line too long to run");
	if (wd_tool_find(a->v[0], path, sizeof(path), err) < 0)
		return wd_err_ret(err);
	t->out_len = 0;
	if (t->out != NULL) {
		if (t->out_size == 0)
			return wd_err_set(err, EINVAL, "%s: no room for its output", a->v[0]);
		t->out[0] = '\0';
		if (pipe2(outp, O_CLOEXEC) < 0)
			return wd_err_sys(err, errno, "pipe");
	}
	if (pipe2(errp, O_CLOEXEC) < 0) {
		rc = wd_err_sys(err, errno, "pipe");
		goto close_out;
	}
	if (wd_launch_open(&l, err) < 0) {
		rc = wd_err_ret(err);
		goto close_all;
	}
	if (wd_child_fork(&c, err) < 0) {
		wd_launch_close(&l);
		rc = wd_err_ret(err);
		goto close_all;
	}
	if (c.pid == 0)
		child(&l, path, a, t, outp[1], errp[1]);
	(void)close(errp[1]);
	errp[1] = -1;
	if (outp[1] >= 0)
		(void)close(outp[1]);
	outp[1] = -1;
	if (wd_launch_result(&l, err) < 0) {
		wd_child_kill(&c);
		rc = wd_err_wrap(err, "%s", a->v[0]);
		goto close_all;
	}
	rc = drain(t, outp[0], errp[0], ebuf, &elen, &overflow);
	outp[0] = errp[0] = -1; /* closed by drain */
	while (wd_child_wait(&c, 60000, NULL) == 0)
		;
	if (rc < 0) {
		wd_child_kill(&c);
		return wd_err_sys(err, -rc, "%s: poll", a->v[0]);
	}
	if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0) {
		wd_wait_status_text(c.status, how, sizeof(how));
		if (WIFSIGNALED(c.status) && WTERMSIG(c.status) == SIGXFSZ)
			return wd_err_set(err, EFBIG, "%s: its output grew over %llu bytes",
					  a->v[0], (unsigned long long)t->fsize_max);
		return wd_err_set(err, EIO, "%s %s%s%s", a->v[0], how, ebuf[0] != '\0' ? ": " : "",
				  last_line(ebuf));
	}
	if (overflow)
		return wd_err_set(err, E2BIG, "%s: more output than the %zu bytes expected",
				  a->v[0], t->out_size);
	return 0;
close_all:
	for (int i = 0; i < 2; i++)
		if (errp[i] >= 0)
			(void)close(errp[i]);
close_out:
	for (int i = 0; i < 2; i++)
		if (outp[i] >= 0)
			(void)close(outp[i]);
	return rc;
}
