/*
 * tests/audit/execrace.c - a caller that changes an exec's path while the
 * supervisor reads it. One thread flips a buffer between "/bin/true" and
 * "./evil" without pause; the main thread starts N children that execve
 * the buffer, each with clone(CLONE_VM | CLONE_VFORK) as vfork does, so
 * that the child shares the memory the other thread writes, as another
 * thread of the caller would. A child's status says what ran:
 * 0 /bin/true, 42 ./evil (which also appends to ./evil.log), 127 nothing
 * (the exec failed: a torn path). At the end it prints
 *   execrace: true T evil E failed F marks M
 * with M the lines in ./evil.log, and exits 0 (1 on a setup error).
 *
 *   execrace [N]    (N: 200)
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char path[16] = "/bin/true";
static atomic_bool done;

static void *flip(void *arg)
{
	static const char *const names[2] = {"/bin/true", "./evil"};
	unsigned i = 0;

	(void)arg;
	while (!atomic_load_explicit(&done, memory_order_relaxed)) {
		const char *n = names[i++ & 1];

		memcpy(path, n, strlen(n) + 1);
	}
	return NULL;
}

static char *child_argv[2], *child_env[2];

static int child(void *arg)
{
	(void)arg;
	execve(path, child_argv, child_env);
	_exit(127);
}

static long marks(void)
{
	FILE *f = fopen("evil.log", "r");
	long n = 0;
	int c;

	if (f == NULL)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	(void)fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	static char arg0[] = "true", env0[] = "PATH=/usr/bin:/bin", stack[65536];
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200, ran_true = 0, ran_evil = 0, failed = 0;
	pthread_t t;

	child_argv[0] = arg0;
	child_env[0] = env0;
	if (n <= 0 || pthread_create(&t, NULL, flip, NULL) != 0) {
		fprintf(stderr, "execrace: setup failed\n");
		return 1;
	}
	for (long i = 0; i < n; i++) {
		int ws;
		pid_t pid =
			clone(child, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);

		if (pid < 0 || waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws)) {
			fprintf(stderr, "execrace: child %ld: %s\n", i, strerror(errno));
			return 1;
		}
		if (WEXITSTATUS(ws) == 0)
			ran_true++;
		else if (WEXITSTATUS(ws) == 42)
			ran_evil++;
		else
			failed++;
	}
	atomic_store(&done, true);
	(void)pthread_join(t, NULL);
	printf("execrace: true %ld evil %ld failed %ld marks %ld\n", ran_true, ran_evil, failed,
	       marks());
	return 0;
}
