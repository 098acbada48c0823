/*
 * tests/lib/fanotify-perm.c - print 1 when this kernel gives fanotify
 * permission events (the exec watcher's FAN_CLASS_CONTENT group, which
 * needs CONFIG_FANOTIFY_ACCESS_PERMISSIONS and root), 0 otherwise: asked
 * the way sandbox/sbexec.c asks.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/fanotify.h>
#include <unistd.h>

int main(void)
{
	int fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY);

	printf("%d\n", fd >= 0);
	return 0;
}
