/* host/output.c - see output.h. */
#include "output.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

static const char *fd_name(int fd)
{
	return fd == STDOUT_FILENO ? "output" : "error";
}

bool wd_output_pending(const struct wd_session *s)
{
	return s->out_off < s->out_len;
}

int wd_output_push(struct wd_session *s, struct wd_err *err)
{
	while (s->out_off < s->out_len) {
		struct pollfd pfd = {.fd = s->out_fd, .events = POLLOUT, .revents = 0};
		size_t left = s->out_len - s->out_off;
		ssize_t n;

		if (poll(&pfd, 1, 0) == 0)
			return 0;
		n = write(s->out_fd, s->out + s->out_off, left < PIPE_BUF ? left : PIPE_BUF);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0 && errno == EPIPE) {
			wd_session_end(s, WD_END_OUTPUT_CLOSED);
			return wd_err_set(err, EPIPE, "standard %s was closed; the job was stopped",
					  fd_name(s->out_fd));
		}
		if (n <= 0) {
			wd_session_end(s, WD_END_FAILED);
			return wd_err_sys(err, n < 0 ? errno : EIO, "write to standard %s",
					  fd_name(s->out_fd));
		}
		s->out_off += (size_t)n;
	}
	s->out_len = s->out_off = 0;
	return 0;
}

/* The sanitizer of stream `fd` (--sanitize-output): one each, so that what
 * one holds back is never finished by the other's bytes. */
static struct wd_safe_stream *safe_of(struct wd_session *s, int fd)
{
	return &s->safe[fd == STDOUT_FILENO ? 0 : 1];
}

int wd_output_start(struct wd_session *s, int fd, const uint8_t *p, size_t len, struct wd_err *err)
{
	if (s->o->sanitize_output) {
		s->out_len = wd_safe_stream(safe_of(s, fd), p, len, (char *)s->out);
	} else {
		memcpy(s->out, p, len);
		s->out_len = len;
	}
	s->out_off = 0;
	s->out_fd = fd;
	return wd_output_push(s, err);
}

int wd_output_end(struct wd_session *s, int fd, struct wd_err *err)
{
	if (!s->o->sanitize_output)
		return 0;
	s->out_len = wd_safe_stream_end(safe_of(s, fd), (char *)s->out);
	s->out_off = 0;
	s->out_fd = fd;
	return wd_output_push(s, err);
}
