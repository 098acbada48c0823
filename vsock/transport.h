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
 *   vsock-listen:PORT   guest: listen on PORT (any CID) and accept one
 *                       connection from the host, then close the listener
 *   unix:/PATH          either side: connect to a Unix stream socket (tests,
 *                       namespace mode)
 *
 * The result is one blocking, close-on-exec fd. Limits: names up to
 * WD_CHANNEL_NAME_MAX_BYTES, paths up to the sockaddr_un limit.
 *
 * The host reaches a guest's AF_VSOCK port either directly (QEMU
 * vhost-vsock: wd_vsock_connect to the guest's CID) or through the
 * Firecracker / Cloud Hypervisor "hybrid vsock" Unix socket that the VMM
 * creates at UDS:
 *
 *   host -> guest port P   connect to UDS, send "CONNECT P\n", read
 *                          "OK <host port>\n"; from then on the socket is
 *                          the stream. While nothing in the guest listens
 *                          on P the VMM closes the connection instead, so
 *                          wd_hybrid_connect() retries with backoff.
 *   guest -> host port P   the VMM connects to the Unix socket
 *                          "UDS_P", which the host must be listening on
 *                          (wd_hybrid_listen) before the guest connects.
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

/* Connect to an AF_VSOCK (cid, port). Returns a blocking fd or -errno. */
int wd_vsock_connect(unsigned cid, unsigned port, struct wd_err *err);

/* Listen on AF_VSOCK `port` for any CID. Returns the listening fd or -errno. */
int wd_vsock_listen(unsigned port, struct wd_err *err);

/*
 * Accept one connection on a listening socket (any family), waiting up to
 * timeout_ms (-1: forever). Returns a blocking, close-on-exec fd, or
 * -ETIMEDOUT / -errno. The listener stays open: the caller closes it.
 */
int wd_accept_one(int listen_fd, int timeout_ms, struct wd_err *err);

#define WD_HYBRID_LINE_MAX 64         /* longest "OK <port>\n" reply read, bytes */
#define WD_HYBRID_BACKOFF_FIRST_MS 10 /* first wait before a retry */
#define WD_HYBRID_BACKOFF_MAX_MS 500  /* waits double up to this */

/*
 * Host: open a stream to guest `port` through the hybrid vsock socket at
 * `uds_path` (see above). Retries while the socket does not exist yet or
 * refuses (the VMM is starting), and while the VMM closes the connection
 * without a reply (the guest is not listening yet), until timeout_ms has
 * passed (-ETIMEDOUT). A reply that is not exactly "OK <1..10 digits>\n"
 * within WD_HYBRID_LINE_MAX bytes is -EPROTO, without retrying. Returns a
 * blocking, close-on-exec fd positioned just after the reply line.
 */
int wd_hybrid_connect(const char *uds_path, unsigned port, int timeout_ms, struct wd_err *err);

/*
 * Host: listen for guest-initiated connections to host `port`, which the
 * VMM delivers on the Unix socket "<uds_path>_<port>". Fails with
 * -EADDRINUSE if that path exists (nothing stale is removed here: the
 * caller unlinks the path when it is done). Returns the listening fd.
 */
int wd_hybrid_listen(const char *uds_path, unsigned port, struct wd_err *err);

#endif
