/*
 * tests/vm/chanctl.c - the host end of the boot handshake, for tests and
 * the demo until `warden run` exists.
 *
 *   chanctl SOCKET TIMEOUT_SECONDS
 *
 * Connects to the QEMU chardev Unix socket (retrying while QEMU starts),
 * waits for "WARDEN-READY", checks "ping" -> "pong", sends "shutdown",
 * expects "bye", then waits for the guest to close the port as the VM
 * powers off. Prints every line received, prefixed "guest> ". Exit 0 only
 * if the whole exchange happened in time.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../common/clock.h"

static uint64_t deadline_ns;

static int remaining_ms(void)
{
	uint64_t now = wd_mono_ns();

	return now >= deadline_ns ? 0 : (int)((deadline_ns - now) / WD_NS_PER_MS);
}

static int connect_retry(const char *path)
{
	struct sockaddr_un addr;

	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr.sun_path))
		return -1;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	while (remaining_ms() > 0) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
			return fd;
		(void)close(fd);
		(void)usleep(50000);
	}
	return -1;
}

/* Next line into `line`; 1 = line, 0 = EOF, -1 = timeout or error. */
static int next_line(int fd, char *buf, size_t size, size_t *used, char *line, size_t line_size)
{
	for (;;) {
		char *nl = memchr(buf, '\n', *used);
		struct pollfd pfd = {.fd = fd, .events = POLLIN, .revents = 0};
		ssize_t n;

		if (nl != NULL) {
			size_t len = (size_t)(nl - buf);

			if (len >= line_size)
				len = line_size - 1;
			memcpy(line, buf, len);
			line[len] = '\0';
			memmove(buf, nl + 1, *used - (size_t)(nl - buf) - 1);
			*used -= (size_t)(nl - buf) + 1;
			printf("guest> %s\n", line);
			fflush(stdout);
			return 1;
		}
		if (*used + 1 >= size)
			*used = 0; /* garbage without newline: drop it */
		if (poll(&pfd, 1, remaining_ms()) <= 0)
			return -1;
		n = read(fd, buf + *used, size - *used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? 0 : -1;
		*used += (size_t)n;
	}
}

static int expect(int fd, char *buf, size_t size, size_t *used, const char *prefix)
{
	char line[1024];
	int rc;

	while ((rc = next_line(fd, buf, size, used, line, sizeof(line))) == 1) {
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			return 0;
	}
	fprintf(stderr, "chanctl: %s while waiting for '%s'\n", rc == 0 ? "EOF" : "timeout",
		prefix);
	return -1;
}

static int say(int fd, const char *text)
{
	return write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
}

int main(int argc, char **argv)
{
	char buf[4096], line[1024];
	size_t used = 0;
	int fd, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: chanctl SOCKET TIMEOUT_SECONDS\n");
		return 2;
	}
	deadline_ns = wd_mono_ns() + (uint64_t)strtoul(argv[2], NULL, 10) * WD_NS_PER_SEC;
	fd = connect_retry(argv[1]);
	if (fd < 0) {
		fprintf(stderr, "chanctl: cannot connect to %s\n", argv[1]);
		return 1;
	}
	if (expect(fd, buf, sizeof(buf), &used, "WARDEN-READY ") < 0 || say(fd, "ping\n") < 0 ||
	    expect(fd, buf, sizeof(buf), &used, "pong") < 0 || say(fd, "shutdown\n") < 0 ||
	    expect(fd, buf, sizeof(buf), &used, "bye") < 0)
		return 1;
	/* The guest closes its end when the VM goes down. */
	while ((rc = next_line(fd, buf, sizeof(buf), &used, line, sizeof(line))) == 1)
		;
	if (rc < 0) {
		fprintf(stderr, "chanctl: the guest did not go away in time\n");
		return 1;
	}
	return 0;
}
