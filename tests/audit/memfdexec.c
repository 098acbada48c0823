/*
 * tests/audit/memfdexec.c - programs run from a memfd: SRC (a static
 * program) copied into a memfd, then run twice, each in a child: with
 * execveat(fd, "", AT_EMPTY_PATH) and with execve("/proc/self/fd/N").
 * Prints "memfdexec: empty-path S1 proc-fd S2" (the children's exit
 * statuses, or 128+signal), exits 0 (1 on a setup error).
 *
 *   memfdexec SRC
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

static int status_of(pid_t pid)
{
	int ws;

	if (pid < 0 || waitpid(pid, &ws, 0) != pid)
		return -1;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

int main(int argc, char **argv)
{
	static char buf[65536];
	static char arg0[] = "memfd-child";
	char *child_argv[] = {arg0, NULL}, *child_env[] = {NULL}, proc[64];
	int src, mfd, s1, s2;
	ssize_t n;
	pid_t pid;

	if (argc != 2 || (src = open(argv[1], O_RDONLY | O_CLOEXEC)) < 0 ||
	    (mfd = memfd_create("memfdexec", MFD_CLOEXEC)) < 0) {
		perror("memfdexec: setup");
		return 1;
	}
	while ((n = read(src, buf, sizeof(buf))) > 0)
		if (write(mfd, buf, (size_t)n) != n) {
			perror("memfdexec: copy");
			return 1;
		}
	(void)close(src);
	pid = fork();
	if (pid == 0) {
		syscall(SYS_execveat, mfd, "", child_argv, child_env, AT_EMPTY_PATH);
		_exit(127);
	}
	s1 = status_of(pid);
	(void)snprintf(proc, sizeof(proc), "/proc/self/fd/%d", mfd);
	pid = fork();
	if (pid == 0) {
		/* Without MFD_CLOEXEC's effect on this path: the fd is the file. */
		execve(proc, child_argv, child_env);
		_exit(127);
	}
	s2 = status_of(pid);
	printf("memfdexec: empty-path %d proc-fd %d\n", s1, s2);
	return 0;
}
