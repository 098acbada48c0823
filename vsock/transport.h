/*
 * vsock/transport.h - opening the byte stream between guest and host.
 *
 * Shared by both sides. A channel is named by a string
 * "<transport>:<address>":
 *
 *   virtio-serial:NAME  guest: the virtio-serial port whose name (under
 *                       /sys/class/virtio-ports/ * /name) is NAME;
 *                       the host side is a QEMU chardev Unix socket
 *   vsock:PORT          guest: connect to the host (CID 2) on PORT
 *   unix:/PATH          either side: connect to a Unix stream socket (tests,
 *                       namespace mode)
 *
 * The result is one blocking, close-on-exec fd. Limits: names up to
 * WD_CHANNEL_NAME_MAX_BYTES, paths up to the sockaddr_un limit.
 */
#ifndef WARDEN_VSOCK_TRANSPORT_H
#define WARDEN_VSOCK_TRANSPORT_H

#include "../common/err.h"

#define WD_CHANNEL_NAME_MAX_BYTES 64
#define WD_VIRTIO_PORTS_DIR "/sys/class/virtio-ports"
#define WD_VSOCK_CID_HOST 2U

/*
 * Find the /dev path of the virtio-serial port called `name`, searching
 * `ports_dir` (WD_VIRTIO_PORTS_DIR, or a test directory). Returns 0, or
 * -ENOENT when no port has that name.
 */
int wd_virtio_port_find(const char *ports_dir, const char *name, char *dev, size_t size,
			struct wd_err *err);

/* Open the channel named by `spec`. Returns an fd >= 0, or a negative errno. */
int wd_channel_open(const char *spec, struct wd_err *err);

#endif
