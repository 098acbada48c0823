/* escape dev_nodes: reach a device: memory, disks, the host channel
 * (virtio-serial, vsock), the console, the kernel log; or make one. */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "escape.h"

int main(int argc, char **argv)
{
	static const char *const nodes[] = {
		"/dev/mem",
		"/dev/kmem",
		"/dev/port",
		"/dev/sda",
		"/dev/vda",
		"/dev/vport0p1",
		"/dev/virtio-ports/warden",
		"/dev/hvc0",
		"/dev/vsock",
		"/dev/vhost-vsock",
		"/dev/kmsg",
		"/dev/console",
		"/dev/ttyS0",
		"/dev/tty1",
	};

	(void)argc;
	escape_start(argv[0]);
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		int fd = open(nodes[i], O_RDWR);

		if (fd >= 0)
			escaped("opened %s", nodes[i]);
	}
	/* EPERM (no CAP_MKNOD), or EACCES where Landlock sees it first. */
	must_fail(mknod("/tmp/mem", S_IFCHR | 0666, makedev(1, 1)), 0, "mknod /dev/mem's twin");
	if (open("/dev/tty", O_RDWR) >= 0)
		escaped("a controlling terminal without --tty");
	blocked("no device node beyond null, zero, full, random, urandom, tty, ptmx");
}
