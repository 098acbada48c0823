/*
 * tests/sandbox/forkhold.c - the processes of one uid, used up or not.
 *
 *   forkhold hold   fork children that wait, until fork fails; print
 *                   "held N: ERROR" and wait, holding them, until killed
 *   forkhold once   fork one child; print "forked" (status 0), or
 *                   "fork: ERROR" (status 1)
 *
 * Two jobs on one kernel (tests/sandbox/run.sh, tests/run/run.sh): while
 * one holds every process its RLIMIT_NPROC allows, the other must still
 * fork, which it can only if the two are different uids. Static, libc only.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CHILDREN 4096 /* above any limit the tests set */

static int hold(void)
{
	int n = 0, e = 0;

	while (n < MAX_CHILDREN) {
		pid_t p = fork();

		if (p == 0) {
			pause();
			_exit(0);
		}
		if (p < 0) {
			e = errno;
			break;
		}
		n++;
	}
	printf("held %d: %s\n", n, e != 0 ? strerror(e) : "no limit");
	(void)fflush(stdout);
	for (;;)
		pause();
}

static int once(void)
{
	int status;
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	if (p < 0) {
		printf("fork: %s\n", strerror(errno));
		return 1;
	}
	(void)waitpid(p, &status, 0);
	printf("forked\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "hold") == 0)
		return hold();
	if (argc == 2 && strcmp(argv[1], "once") == 0)
		return once();
	fprintf(stderr, "usage: forkhold hold | once\n");
	return 2;
}
