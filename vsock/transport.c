/* vsock/transport.c - see transport.h. */
#include "transport.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

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

static int open_vsock(const char *port_text, struct wd_err *err)
{
	struct sockaddr_vm addr;
	uint64_t port;
	int fd;

	if (wd_parse_u64(port_text, 1, 0xfffffffeULL, &port, err) < 0)
		return wd_err_wrap(err, "vsock port");
	fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return wd_err_sys(err, errno, "vsock: socket");
	memset(&addr, 0, sizeof(addr));
	addr.svm_family = AF_VSOCK;
	addr.svm_cid = WD_VSOCK_CID_HOST;
	addr.svm_port = (unsigned)port;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "vsock: connect to CID %u port %llu", WD_VSOCK_CID_HOST,
				  (unsigned long long)port);
	}
	return fd;
}

static int open_unix(const char *path, struct wd_err *err)
{
	struct sockaddr_un addr;
	int fd;

	if (path[0] != '/' || strlen(path) >= sizeof(addr.sun_path))
		return wd_err_set(err, EINVAL, "unix: '%s' is not an absolute path under %zu bytes",
				  path, sizeof(addr.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return wd_err_sys(err, errno, "unix: socket");
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "unix: connect %s", path);
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
		return open_vsock(colon + 1, err);
	if (strncmp(spec, "unix:", 5) == 0)
		return open_unix(colon + 1, err);
	return wd_err_set(err, EINVAL, "channel '%s': unknown transport", spec);
}
