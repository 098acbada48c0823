/*
 * bench/ready-listen.c - the host end of the boot handshake over a Unix
 * socket, for bench/run.sh's namespace-mode runs.
 *
 *   ready-listen SOCKET COUNT TIMEOUT_SECONDS
 *
 * Listens on SOCKET (bound under a temporary name, then renamed, so that a
 * supervisor never finds the path without a listener behind it) and
 * serves COUNT connections one after the other: reads lines up to the
 * supervisor's "WARDEN-READY ..." line, prints that line on stdout, answers
 * "shutdown\n" and waits for the supervisor to close its end. Each wait is
 * bounded by TIMEOUT_SECONDS. Exit 0 only if all COUNT handshakes happened.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define LINE_BYTES 1024
#define READY_PREFIX "WARDEN-READY "

static int wait_in(int fd, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN, .revents = 0};
	int rc;

	do
		rc = poll(&pfd, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	return rc;
}

static int listen_at(const char *path)
{
	struct sockaddr_un addr, tmp;
	int fd;

	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	tmp = addr;
	if (strlen(path) + 5 >= sizeof(addr.sun_path)) {
		(void)fprintf(stderr, "ready-listen: socket path too long: %s\n", path);
		return -1;
	}
	(void)snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	(void)snprintf(tmp.sun_path, sizeof(tmp.sun_path), "%s.new", path);
	(void)unlink(tmp.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&tmp, sizeof(tmp)) < 0 || listen(fd, 16) < 0 ||
	    rename(tmp.sun_path, addr.sun_path) < 0) {
		(void)fprintf(stderr, "ready-listen: listen on %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			(void)close(fd);
		return -1;
	}
	return fd;
}

/* One handshake on an accepted connection; 0 = done, -1 = failed. */
static int serve(int fd, int timeout_ms)
{
	char buf[LINE_BYTES] = {0};
	size_t used = 0;
	ssize_t n;

	for (;;) {
		char *nl = memchr(buf, '\n', used);

		if (nl != NULL) {
			size_t len = (size_t)(nl - buf) + 1;

			if (strncmp(buf, READY_PREFIX, strlen(READY_PREFIX)) == 0) {
				(void)fwrite(buf, 1, len, stdout);
				(void)fflush(stdout);
				break;
			}
			memmove(buf, buf + len, used - len);
			used -= len;
			continue;
		}
		if (used + 1 >= sizeof(buf))
			used = 0; /* no newline in a full buffer: drop it */
		if (wait_in(fd, timeout_ms) <= 0) {
			(void)fprintf(stderr, "ready-listen: no ready line in time\n");
			return -1;
		}
		n = read(fd, buf + used, sizeof(buf) - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			(void)fprintf(stderr,
				      "ready-listen: connection closed before the ready line\n");
			return -1;
		}
		used += (size_t)n;
	}
	if (write(fd, "shutdown\n", 9) != 9) {
		(void)fprintf(stderr, "ready-listen: write: %s\n", strerror(errno));
		return -1;
	}
	/* "bye", then EOF when PID 1 ends the namespace. */
	for (;;) {
		if (wait_in(fd, timeout_ms) <= 0) {
			(void)fprintf(stderr,
				      "ready-listen: the supervisor did not go away in time\n");
			return -1;
		}
		n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return 0;
		if (n < 0 && errno != EINTR) {
			(void)fprintf(stderr, "ready-listen: read: %s\n", strerror(errno));
			return -1;
		}
	}
}

int main(int argc, char **argv)
{
	long count, timeout_s;
	int lfd, timeout_ms;

	if (argc != 4) {
		(void)fprintf(stderr, "usage: ready-listen SOCKET COUNT TIMEOUT_SECONDS\n");
		return 2;
	}
	count = strtol(argv[2], NULL, 10);
	timeout_s = strtol(argv[3], NULL, 10);
	if (count < 1 || timeout_s < 1 || timeout_s > 3600) {
		(void)fprintf(stderr, "ready-listen: COUNT and TIMEOUT_SECONDS must be positive\n");
		return 2;
	}
	timeout_ms = (int)timeout_s * 1000;
	lfd = listen_at(argv[1]);
	if (lfd < 0)
		return 1;
	for (long i = 0; i < count; i++) {
		int fd;

		if (wait_in(lfd, timeout_ms) <= 0) {
			(void)fprintf(stderr, "ready-listen: no connection %ld of %ld in time\n",
				      i + 1, count);
			return 1;
		}
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			(void)fprintf(stderr, "ready-listen: accept: %s\n", strerror(errno));
			return 1;
		}
		if (serve(fd, timeout_ms) < 0) {
			(void)close(fd);
			return 1;
		}
		(void)close(fd);
	}
	(void)close(lfd);
	(void)unlink(argv[1]);
	return 0;
}
