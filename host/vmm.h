/*
 * host/vmm.h - where the guest runs: one interface, two back ends.
 *
 *   qemu  (host/vmm_qemu.c)   a QEMU microvm; the channel is a virtio-serial
 *                             port whose host end is a chardev Unix socket
 *   local (host/vmm_local.c)  warden-init as PID 1 of new PID, mount, UTS
 *                             and IPC namespaces on this kernel; the channel
 *                             is a Unix socket the launcher listens on
 *
 * Both give the session (host/run.c) the same things: a connected byte
 * stream to the supervisor, a pidfd that becomes readable when the guest is
 * gone, the guest's console log for diagnostics, and a stop that always
 * works. Everything lives in the job's private directory (host/tmpdir.h):
 *
 *   chan.sock     the channel's socket
 *   console.log   the guest's console (kernel, warden-init, supervisor)
 *   vmm.log       QEMU's own messages (qemu only)
 *   work/         the agent's working directory (local only)
 *
 * Failure: start() and connect() fill `err`; after either failed, or at
 * any later point, stop() kills what was started and reaps it. stop() is
 * idempotent and is called on every path out of the session.
 */
#ifndef WARDEN_HOST_VMM_H
#define WARDEN_HOST_VMM_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/err.h"
#include "proc.h"
#include "sigfd.h"
#include "tmpdir.h"
#include "uidpool.h"

#define WD_VMM_PATH_BYTES (WD_TMPDIR_MAX_BYTES + 32)
#define WD_VMM_CONSOLE_TAIL_LINES 20 /* shown when the guest fails */
/* How warden-init finds the image's two drives: each block device's
 * serial in sysfs, against the pin's data-serial and hash-serial
 * (docs/image.md). */
#define WD_VMM_ROOTFS_SERIAL "warden-rootfs"
#define WD_VMM_VERITY_SERIAL "warden-verity"

/* qemu: how the channel reaches the guest (warden run --channel). */
enum wd_channel_choice {
	WD_CHANNEL_AUTO = 0, /* vhost-vsock when /dev/vhost-vsock opens, else virtio-serial */
	WD_CHANNEL_VIRTIO_SERIAL = 1, /* a virtio-serial port and a chardev Unix socket */
	WD_CHANNEL_VSOCK = 2,         /* vhost-vsock: the guest connects to the host's CID */
};

struct wd_vmm_config {
	const char *tmpdir;
	const char *kernel, *image; /* qemu: by path, when kernel_fd / image_fd is -1 */
	/* qemu: the kernel and the initramfs as open files (an image
	 * directory's sealed copies, host/image.h), -1: by path. QEMU inherits
	 * them and reads /proc/self/fd/N: what the launcher checked, not what
	 * a path names by the time QEMU opens it. Every field is set by the
	 * caller (0 is an fd). */
	int kernel_fd, image_fd;
	/* qemu: an image directory's root filesystem and its dm-verity tree,
	 * open read-only (host/image.h), given to QEMU the same way: two
	 * read-only virtio-blk drives, serials WD_VMM_ROOTFS_SERIAL and
	 * WD_VMM_VERITY_SERIAL; -1: none */
	int rootfs_fd, verity_fd;
	const char *init, *supervisor; /* local */
	uint64_t mem_mib;
	unsigned cpus;
	unsigned verbose;               /* 2 or more: the guest logs at debug level too */
	const char *const *kernel_args; /* qemu: extra "warden.KEY=VALUE", checked by the CLI */
	enum wd_channel_choice channel;
	size_t nkernel_args;
	const struct wd_intr *intr;
};

struct wd_vmm {
	const struct wd_vmm_ops *ops;
	struct wd_child child; /* QEMU, or the namespace's outer process */
	int listen_fd;         /* local, and qemu with vsock: the channel's listening socket */
	unsigned guest_cid;    /* qemu with vsock: the guest's context id; 0 otherwise */
	unsigned vsock_port;   /* qemu with vsock: the port the guest connects to */
	char sock_path[WD_VMM_PATH_BYTES];
	char console_path[WD_VMM_PATH_BYTES];
	char vmm_log_path[WD_VMM_PATH_BYTES];
	uint64_t started_ns;          /* CLOCK_MONOTONIC when the VMM (or init) was started */
	struct wd_uid_lease agent_id; /* local: the agent's host uid, held until stop() */
};

struct wd_vmm_ops {
	const char *name;       /* "qemu", "local" */
	const char *hello_mode; /* what the guest's HELLO must say: "vm", "ns" */
	int (*start)(struct wd_vmm *v, const struct wd_vmm_config *c, struct wd_err *err);
	/* The channel, connected, by deadline_ns (CLOCK_MONOTONIC). Returns an fd. */
	int (*connect)(struct wd_vmm *v, uint64_t deadline_ns, const struct wd_intr *intr,
		       struct wd_err *err);
	void (*stop)(struct wd_vmm *v);
};

extern const struct wd_vmm_ops wd_vmm_qemu_ops;
extern const struct wd_vmm_ops wd_vmm_local_ops;

/* Zero the state and fill the paths inside `tmpdir`. */
void wd_vmm_init(struct wd_vmm *v, const struct wd_vmm_ops *ops, const char *tmpdir);

/* Readable when the guest has ended; -1 when nothing runs. */
int wd_vmm_fd(const struct wd_vmm *v);

/* Has it ended? Reaps it if so. */
bool wd_vmm_ended(struct wd_vmm *v);

/*
 * The last `lines` lines of the file at `path` on stderr, each prefixed,
 * at most TAIL_BYTES of it; CR dropped, every other byte that is not
 * printable ASCII, tab or newline shown as '?'. Nothing if it is missing.
 */
void wd_vmm_print_tail(const char *path, const char *prefix, int lines);

/*
 * Print the last lines of QEMU's own log and of the console log on stderr,
 * every byte that is not printable ASCII shown as '?': what a failed
 * guest said, without letting it drive the terminal.
 */
void wd_vmm_print_logs(const struct wd_vmm *v);

/* The channel socket's address. -ENAMETOOLONG if the path does not fit. */
struct sockaddr_un;
int wd_vmm_sockaddr(const struct wd_vmm *v, struct sockaddr_un *addr, struct wd_err *err);

/* Poll for up to `ms` on fd (POLLIN), the guest's end and intr. -EINTR: stop. */
int wd_vmm_pause(struct wd_vmm *v, int fd, int ms, const struct wd_intr *intr);

#endif
