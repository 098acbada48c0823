/*
 * fdcut PID SUFFIX: break a process's channel from outside it. Every
 * connected Unix stream socket of process PID whose own or peer address
 * ends with SUFFIX is shut down in both directions (pidfd_getfd gives this process the
 * same socket; shutdown acts on the socket, not on the copy), so both ends
 * see the connection end as if the path between them failed. Prints how
 * many were cut; exit 1 when none was.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static int ends_with(const struct sockaddr_un *a, const char *suffix)
{
	size_t n = strnlen(a->sun_path, sizeof(a->sun_path)), k = strlen(suffix);

	return a->sun_family == AF_UNIX && n >= k && memcmp(a->sun_path + n - k, suffix, k) == 0;
}

static int names_path(int fd, const char *suffix)
{
	struct sockaddr_un a;
	socklen_t len = sizeof(a);

	memset(&a, 0, sizeof(a));
	if (getsockname(fd, (struct sockaddr *)&a, &len) == 0 && ends_with(&a, suffix))
		return 1;
	memset(&a, 0, sizeof(a));
	len = sizeof(a);
	return getpeername(fd, (struct sockaddr *)&a, &len) == 0 && ends_with(&a, suffix);
}

int main(int argc, char **argv)
{
	char dir[64];
	struct dirent *e;
	DIR *d;
	int pidfd, cut = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: fdcut PID SUFFIX\n");
		return 2;
	}
	pidfd = (int)syscall(SYS_pidfd_open, atoi(argv[1]), 0);
	(void)snprintf(dir, sizeof(dir), "/proc/%d/fd", atoi(argv[1]));
	d = opendir(dir);
	if (pidfd < 0 || d == NULL) {
		fprintf(stderr, "fdcut: process %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	while ((e = readdir(d)) != NULL) {
		int listening = 0, fd;
		socklen_t len = sizeof(listening);

		if (e->d_name[0] == '.')
			continue;
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(e->d_name), 0);
		if (fd < 0)
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 &&
		    !listening && names_path(fd, argv[2]) && shutdown(fd, SHUT_RDWR) == 0)
			cut++;
		(void)close(fd);
	}
	(void)closedir(d);
	printf("%d\n", cut);
	return cut > 0 ? 0 : 1;
}
