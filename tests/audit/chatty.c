/*
 * tests/audit/chatty.c - an agent that makes records: N denied system
 * calls (unshare(CLONE_NEWUSER), which the sandbox answers with EPERM and
 * records), spread over T threads, then "chatty: N denied" on stdout.
 * Each call's second argument is its number, so no two are identical and
 * each is a record of its own (identical ones would be coalesced).
 * Any other answer is printed and fails (exit 1). With L, the main thread
 * meanwhile writes L numbered lines ("chatty: line I") to stdout.
 *
 *   chatty N [T [L]]
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_THREADS 16

static long per_thread;

static void *deny(void *arg)
{
	long *bad = arg;

	for (long i = 0; i < per_thread; i++) {
		long rc = syscall(SYS_unshare, CLONE_NEWUSER, i);

		if (rc != -1 || errno != EPERM)
			(*bad)++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[MAX_THREADS];
	long bad[MAX_THREADS] = {0}, n, threads = 1, total_bad = 0, lines = 0;

	if (argc < 2 || argc > 4 || (n = strtol(argv[1], NULL, 10)) <= 0 ||
	    (argc >= 3 && ((threads = strtol(argv[2], NULL, 10)) < 1 || threads > MAX_THREADS)) ||
	    (argc == 4 && (lines = strtol(argv[3], NULL, 10)) < 0)) {
		fprintf(stderr, "usage: chatty N [THREADS (1-%d) [LINES]]\n", MAX_THREADS);
		return 2;
	}
	per_thread = n / threads;
	for (long i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, deny, &bad[i]) != 0) {
			perror("chatty: pthread_create");
			return 1;
		}
	for (long i = 0; i < lines; i++)
		printf("chatty: line %ld\n", i);
	for (long i = 0; i < threads; i++) {
		(void)pthread_join(t[i], NULL);
		total_bad += bad[i];
	}
	printf("chatty: %ld denied\n", per_thread * threads - total_bad);
	if (total_bad > 0) {
		printf("chatty: %ld calls were not answered EPERM\n", total_bad);
		return 1;
	}
	return 0;
}
