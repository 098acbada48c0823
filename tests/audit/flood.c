/*
 * tests/audit/flood.c - an agent that floods the audit log: T threads loop
 * on the same denied system call (unshare(CLONE_NEWUSER) with every other
 * argument 0, which the sandbox answers with EPERM) for S seconds, each
 * counting its own answers, then "flood: N denied" on stdout: the number
 * the log's seccomp/deny records must add up to (their counts). Any other
 * answer is printed and fails (exit 1).
 *
 *   flood S [T]
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64

static atomic_bool stop;

struct tally {
	long denied, other;
};

static void *flood(void *arg)
{
	struct tally *t = arg;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		/* Every argument said: the same call each time, not what the
		 * registers happen to hold. */
		long rc = syscall(SYS_unshare, CLONE_NEWUSER, 0L, 0L, 0L, 0L, 0L);

		if (rc == -1 && errno == EPERM)
			t->denied++;
		else
			t->other++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[MAX_THREADS];
	struct tally t[MAX_THREADS] = {{0, 0}};
	long seconds, threads = 16, denied = 0, other = 0;
	struct timespec span;

	if (argc < 2 || argc > 3 || (seconds = strtol(argv[1], NULL, 10)) <= 0 || seconds > 600 ||
	    (argc == 3 && ((threads = strtol(argv[2], NULL, 10)) < 1 || threads > MAX_THREADS))) {
		fprintf(stderr, "usage: flood SECONDS (1-600) [THREADS (1-%d)]\n", MAX_THREADS);
		return 2;
	}
	for (long i = 0; i < threads; i++)
		if (pthread_create(&th[i], NULL, flood, &t[i]) != 0) {
			perror("flood: pthread_create");
			return 1;
		}
	span.tv_sec = seconds;
	span.tv_nsec = 0;
	while (nanosleep(&span, &span) < 0 && errno == EINTR)
		;
	atomic_store(&stop, true);
	for (long i = 0; i < threads; i++) {
		(void)pthread_join(th[i], NULL);
		denied += t[i].denied;
		other += t[i].other;
	}
	printf("flood: %ld denied\n", denied);
	if (other > 0) {
		printf("flood: %ld calls were not answered EPERM\n", other);
		return 1;
	}
	return 0;
}
