/*
 * tests/sandbox/flood.c - a flood of seccomp denials: FLOOD_THREADS
 * threads (and the main one) call unshare(0), denied by the sandbox and
 * so one notification each, as fast as they can, forever. Prints
 * "flooding N" once N threads run (fewer if a limit stops them). Used by
 * tests/sandbox/run.sh: the deadline and the signals of `warden sandbox`
 * must still be served. So many threads that the notifications never
 * run out while one listener answers them (on a 2-core machine, 400
 * kept a loop that drained until none was left busy for over a minute).
 * Static, libc only.
 */
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FLOOD_THREADS 480 /* below the test policy's nproc and pids */

static void *deny(void *unused)
{
	(void)unused;
	for (;;)
		(void)syscall(SYS_unshare, 0);
	return NULL;
}

int main(void)
{
	pthread_attr_t small;
	pthread_t t;
	int n = 0;

	/* Small stacks: the threads only loop. */
	if (pthread_attr_init(&small) != 0 || pthread_attr_setstacksize(&small, 65536) != 0)
		return 1;
	while (n < FLOOD_THREADS && pthread_create(&t, &small, deny, NULL) == 0)
		n++;
	printf("flooding %d\n", n);
	(void)fflush(stdout);
	return deny(NULL) == NULL ? 0 : 1;
}
