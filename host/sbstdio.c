/* host/sbstdio.c - see sbstdio.h. */
#include "sbstdio.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

enum { IN, OUT, ERR };

bool wd_sb_stdio_wanted(void)
{
	return isatty(STDIN_FILENO) || isatty(STDOUT_FILENO) || isatty(STDERR_FILENO);
}

static void copy_init(struct wd_sb_copy *c, int from, int to, bool own_from)
{
	memset(c, 0, sizeof(*c));
	c->from = from;
	c->to = to;
	c->own_from = own_from;
}

void wd_sb_stdio_init(struct wd_sb_stdio *s, struct sup_agent *a)
{
	/* A write to a reader that is gone is EPIPE here, handled below. */
	(void)signal(SIGPIPE, SIG_IGN);
	memset(s->p, 0, sizeof(s->p));
	copy_init(&s->c[IN], STDIN_FILENO, a->in, false);
	copy_init(&s->c[OUT], a->out, STDOUT_FILENO, true);
	copy_init(&s->c[ERR], a->err, STDERR_FILENO, true);
	a->in = a->out = a->err = -1;
}

/* The copy is over: the command's end closed, ours left as it is. */
static void copy_end(struct wd_sb_copy *c)
{
	if (c->own_from && c->from >= 0)
		(void)close(c->from);
	if (!c->own_from && c->to >= 0)
		(void)close(c->to);
	c->from = c->to = -1;
	c->off = c->len = 0;
}

size_t wd_sb_stdio_poll(struct wd_sb_stdio *s, struct pollfd *p)
{
	size_t n = 0;

	for (int i = IN; i <= ERR; i++) {
		struct wd_sb_copy *c = &s->c[i];

		s->p[i] = NULL;
		if (c->len > 0 && c->to >= 0) {
			p[n] = (struct pollfd){.fd = c->to, .events = POLLOUT, .revents = 0};
		} else if (c->len == 0 && c->from >= 0) {
			p[n] = (struct pollfd){.fd = c->from, .events = POLLIN, .revents = 0};
		} else {
			continue;
		}
		s->p[i] = &p[n++];
	}
	return n;
}

/* One read or one write, as poll allowed. */
static void copy_step(struct wd_sb_copy *c)
{
	ssize_t n;

	if (c->len > 0) {
		n = write(c->to, c->buf + c->off, c->len);
		if (n > 0) {
			c->off += (size_t)n;
			c->len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			copy_end(c); /* the reader is gone */
		}
		return;
	}
	n = read(c->from, c->buf, sizeof(c->buf));
	if (n > 0) {
		c->off = 0;
		c->len = (size_t)n;
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		copy_end(c); /* end of file: passed on by the close */
	}
}

void wd_sb_stdio_run(struct wd_sb_stdio *s, bool exited)
{
	if (exited)
		copy_end(&s->c[IN]);
	for (int i = IN; i <= ERR; i++)
		if (s->p[i] != NULL && s->p[i]->revents != 0 &&
		    (s->c[i].from >= 0 || s->c[i].to >= 0))
			copy_step(&s->c[i]);
}

bool wd_sb_stdio_open(const struct wd_sb_stdio *s)
{
	for (int i = OUT; i <= ERR; i++)
		if (s->c[i].from >= 0 || (s->c[i].len > 0 && s->c[i].to >= 0))
			return true;
	return false;
}

void wd_sb_stdio_close(struct wd_sb_stdio *s)
{
	for (int i = IN; i <= ERR; i++)
		copy_end(&s->c[i]);
}
