/*
 * init/console.c - make sure fds 0, 1 and 2 are the console.
 *
 * The kernel opens /dev/console for init only if the initramfs has that
 * node; without it init starts with no stdio at all and every message would
 * be lost. So: mount devtmpfs on /dev (which has a console node), or, if
 * that fails, make the node by hand, and open it. This runs before /proc
 * exists and must not depend on it. Any fd that is already open is kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "init.h"

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0 || errno != EBADF;
}

void init_console_setup(void)
{
	int fd;

	if (fd_is_open(0) && fd_is_open(1) && fd_is_open(2))
		return;
	(void)mkdir("/dev", 0755);
	(void)mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755");
	fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		/* No devtmpfs: the console is character device 5:1. */
		(void)mknod("/dev/console", S_IFCHR | 0600, makedev(5, 1));
		fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
	}
	if (fd < 0)
		return; /* Nowhere to write; carry on, the host still sees power-off. */
	for (int i = 0; i <= 2; i++) {
		if (i == fd)
			(void)fcntl(fd, F_SETFD, 0);
		else if (!fd_is_open(i))
			(void)dup2(fd, i);
	}
	if (fd > 2)
		(void)close(fd);
}
