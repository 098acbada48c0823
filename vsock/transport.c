/* vsock/transport.c - see transport.h. */
#include "transport.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "../common/clock.h"
#include "../common/fileio.h"
#include "../common/parse.h"

int wd_virtio_port_find(const char *ports_dir, const char *name, char *dev, size_t size,
			struct wd_err *err)
{
	DIR *dir = opendir(ports_dir);
	struct dirent *de;

	if (dir == NULL)
		return wd_err_sys(err, errno, "virtio-serial: open %s", ports_dir);
	while ((de = readdir(dir)) != NULL) {
		char path[512], got[WD_CHANNEL_NAME_MAX_BYTES + 2];
		size_t len;
		struct wd_err ignored;

		if (de->d_name[0] == '.')
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s/name", ports_dir, de->d_name);
		if (wd_read_file(path, got, sizeof(got), &len, &ignored) < 0)
			continue; /* a port without a name, or with an over-long one */
		if (len > 0 && got[len - 1] == '\n')
			got[--len] = '\0';
		if (strcmp(got, name) != 0)
			continue;
		(void)snprintf(dev, size, "/dev/%s", de->d_name);
		(void)closedir(dir);
		return 0;
	}
	(void)closedir(dir);
	return wd_err_set(err, ENOENT, "virtio-serial: no port named '%s'", name);
}

static int open_serial(const char *name, struct wd_err *err)
{
	char dev[300];
	int fd;

	if (wd_virtio_port_find(WD_VIRTIO_PORTS_DIR, name, dev, sizeof(dev), err) < 0)
		return -err->code;
	fd = open(dev, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return wd_err_sys(err, errno, "virtio-serial: open %s", dev);
	return fd;
}

int wd_vsock_connect(unsigned cid, unsigned port, struct wd_err *err)
{
	struct sockaddr_vm addr;
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return wd_err_sys(err, errno, "vsock: socket");
	memset(&addr, 0, sizeof(addr));
	addr.svm_family = AF_VSOCK;
	addr.svm_cid = cid;
	addr.svm_port = port;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "vsock: connect to CID %u port %u", cid, port);
	}
	return fd;
}

int wd_vsock_listen(unsigned port, struct wd_err *err)
{
	struct sockaddr_vm addr;
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return wd_err_sys(err, errno, "vsock: socket");
	memset(&addr, 0, sizeof(addr));
	addr.svm_family = AF_VSOCK;
	addr.svm_cid = VMADDR_CID_ANY;
	addr.svm_port = port;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "vsock: listen on port %u", port);
	}
	return fd;
}

/* Milliseconds until `deadline_ns`, rounded up; 0 once it has passed. */
static int ms_left(uint64_t deadline_ns)
{
	uint64_t now = wd_mono_ns();

	if (now >= deadline_ns)
		return 0;
	return (int)((deadline_ns - now + WD_NS_PER_MS - 1) / WD_NS_PER_MS);
}

/* Wait until `fd` is readable. 0, -ETIMEDOUT, or -errno. */
static int wait_readable(int fd, int timeout_ms, uint64_t deadline_ns)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	for (;;) {
		int wait = timeout_ms < 0 ? -1 : ms_left(deadline_ns);
		int n = poll(&pfd, 1, wait);

		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int wd_accept_one(int listen_fd, int timeout_ms, struct wd_err *err)
{
	uint64_t deadline =
		wd_mono_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * WD_NS_PER_MS;

	for (;;) {
		int rc = wait_readable(listen_fd, timeout_ms, deadline);
		int fd;

		if (rc == -ETIMEDOUT)
			return wd_err_set(err, ETIMEDOUT, "accept: no connection within %d ms",
					  timeout_ms);
		if (rc < 0)
			return wd_err_sys(err, -rc, "accept: poll");
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
		/* The peer gave up between poll and accept: wait for the next one. */
		if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
			return wd_err_sys(err, errno, "accept");
	}
}

static int open_vsock(const char *port_text, bool listen_side, struct wd_err *err)
{
	uint64_t port;
	int lfd, fd;

	if (wd_parse_u64(port_text, 1, 0xfffffffeULL, &port, err) < 0)
		return wd_err_wrap(err, "vsock port");
	if (!listen_side)
		return wd_vsock_connect(WD_VSOCK_CID_HOST, (unsigned)port, err);
	lfd = wd_vsock_listen((unsigned)port, err);
	if (lfd < 0)
		return lfd;
	fd = wd_accept_one(lfd, -1, err);
	(void)close(lfd);
	if (fd < 0)
		return wd_err_wrap(err, "vsock port %llu", (unsigned long long)port);
	return fd;
}

/* Fill a sockaddr_un; -EINVAL unless `path` is absolute and fits. */
static int unix_addr(const char *path, struct sockaddr_un *addr, struct wd_err *err)
{
	size_t len = strlen(path);

	if (path[0] != '/' || len >= sizeof(addr->sun_path))
		return wd_err_set(err, EINVAL, "unix: '%s' is not an absolute path under %zu bytes",
				  path, sizeof(addr->sun_path));
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	memcpy(addr->sun_path, path, len + 1);
	return 0;
}

/* Connect without wrapping errno, so callers can tell "not yet" from "never". */
static int unix_connect(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0) {
		int e = errno;

		(void)close(fd);
		return -e;
	}
	return fd;
}

static int open_unix(const char *path, struct wd_err *err)
{
	struct sockaddr_un addr;
	int fd;

	if (unix_addr(path, &addr, err) < 0)
		return -err->code;
	fd = unix_connect(&addr);
	if (fd < 0)
		return wd_err_sys(err, -fd, "unix: connect %s", path);
	return fd;
}

/* The reply as it may appear in a message: printable ASCII only. */
static void shown_reply(const char *in, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[len] = '\0';
}

/* "OK <1..10 digits, at most 2^32-1>" exactly. */
static bool reply_ok(const char *line, size_t len)
{
	uint64_t v = 0;

	if (len < 4 || len > 13 || memcmp(line, "OK ", 3) != 0)
		return false;
	for (size_t i = 3; i < len; i++) {
		if (line[i] < '0' || line[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(line[i] - '0');
	}
	return v <= UINT32_MAX;
}

/*
 * Read the VMM's reply line one byte at a time: what follows the newline
 * is the guest's stream and must stay in the socket. Returns 0, -EAGAIN
 * when the VMM closed without a reply (nobody listens in the guest yet),
 * or -errno with `err` set.
 */
static int hybrid_read_reply(int fd, unsigned port, uint64_t deadline, struct wd_err *err)
{
	char line[WD_HYBRID_LINE_MAX], shown[WD_HYBRID_LINE_MAX];
	size_t len = 0;

	for (;;) {
		ssize_t n;
		int rc = wait_readable(fd, 0, deadline);

		if (rc == -ETIMEDOUT)
			return wd_err_set(err, ETIMEDOUT, "no reply to CONNECT %u in time", port);
		if (rc < 0)
			return wd_err_sys(err, -rc, "poll");
		n = recv(fd, line + len, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if ((n == 0 || (n < 0 && errno == ECONNRESET)) && len == 0)
			return -EAGAIN;
		if (n < 0)
			return wd_err_sys(err, errno, "reading the reply to CONNECT %u", port);
		if (n == 0)
			return wd_err_set(err, EPROTO,
					  "connection closed in the middle of the reply");
		if (line[len] == '\n')
			break;
		if (++len == sizeof(line))
			return wd_err_set(err, EPROTO, "reply to CONNECT %u over %d bytes", port,
					  WD_HYBRID_LINE_MAX);
	}
	if (!reply_ok(line, len)) {
		shown_reply(line, len, shown);
		return wd_err_set(err, EPROTO, "unexpected reply '%s' to CONNECT %u", shown, port);
	}
	return 0;
}

/* One attempt: the fd, -EAGAIN to retry later, or -errno with `err` set. */
static int hybrid_try(const struct sockaddr_un *addr, unsigned port, uint64_t deadline,
		      struct wd_err *err)
{
	char req[32];
	int fd = unix_connect(addr), rc, len;

	if (fd == -ENOENT || fd == -ECONNREFUSED)
		return -EAGAIN; /* the VMM has not created or opened its socket yet */
	if (fd < 0)
		return wd_err_sys(err, -fd, "connect");
	len = snprintf(req, sizeof(req), "CONNECT %u\n", port);
	if (send(fd, req, (size_t)len, MSG_NOSIGNAL) != len) {
		/* A short send of a few bytes to a fresh socket: only a vanished peer. */
		rc = errno == EPIPE || errno == ECONNRESET ? -EAGAIN
							   : wd_err_sys(err, errno, "send CONNECT");
		(void)close(fd);
		return rc;
	}
	rc = hybrid_read_reply(fd, port, deadline, err);
	if (rc < 0) {
		(void)close(fd);
		return rc;
	}
	return fd;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int wd_hybrid_connect(const char *uds_path, unsigned port, int timeout_ms, struct wd_err *err)
{
	struct sockaddr_un addr;
	uint64_t deadline;
	unsigned backoff = WD_HYBRID_BACKOFF_FIRST_MS;
	unsigned attempts = 0;

	if (timeout_ms < 0)
		return wd_err_set(err, EINVAL, "hybrid vsock: a timeout is required");
	if (unix_addr(uds_path, &addr, err) < 0)
		return wd_err_wrap(err, "hybrid vsock");
	deadline = wd_mono_ns() + (uint64_t)timeout_ms * WD_NS_PER_MS;
	for (;;) {
		int fd = hybrid_try(&addr, port, deadline, err);
		int left;

		attempts++;
		if (fd >= 0)
			return fd;
		left = ms_left(deadline);
		if (fd == -ETIMEDOUT || (fd == -EAGAIN && left == 0))
			return wd_err_set(
				err, ETIMEDOUT,
				"hybrid vsock %s: guest port %u not reachable within %d ms "
				"(%u attempts)",
				uds_path, port, timeout_ms, attempts);
		if (fd != -EAGAIN)
			return wd_err_wrap(err, "hybrid vsock %s port %u", uds_path, port);
		sleep_ms(backoff < (unsigned)left ? backoff : (unsigned)left);
		backoff = backoff * 2 > WD_HYBRID_BACKOFF_MAX_MS ? WD_HYBRID_BACKOFF_MAX_MS
								 : backoff * 2;
	}
}

int wd_hybrid_listen(const char *uds_path, unsigned port, struct wd_err *err)
{
	struct sockaddr_un addr;
	char path[sizeof(addr.sun_path)];
	int fd, n;

	n = snprintf(path, sizeof(path), "%s_%u", uds_path, port);
	if (n < 0 || (size_t)n >= sizeof(path))
		return wd_err_set(err, ENAMETOOLONG, "hybrid vsock: '%s_%u' over %zu bytes",
				  uds_path, port, sizeof(path) - 1);
	if (unix_addr(path, &addr, err) < 0)
		return wd_err_wrap(err, "hybrid vsock");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return wd_err_sys(err, errno, "hybrid vsock: socket");
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 4) < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "hybrid vsock: listen on %s", path);
	}
	return fd;
}

int wd_channel_open(const char *spec, struct wd_err *err)
{
	const char *colon = strchr(spec, ':');

	if (colon == NULL)
		return wd_err_set(err, EINVAL, "channel '%s': expected TRANSPORT:ADDRESS", spec);
	if (strncmp(spec, "virtio-serial:", 14) == 0)
		return open_serial(colon + 1, err);
	if (strncmp(spec, "vsock:", 6) == 0)
		return open_vsock(colon + 1, false, err);
	if (strncmp(spec, "vsock-listen:", 13) == 0)
		return open_vsock(colon + 1, true, err);
	if (strncmp(spec, "unix:", 5) == 0)
		return open_unix(colon + 1, err);
	return wd_err_set(err, EINVAL, "channel '%s': unknown transport", spec);
}
