/* escape fork_bomb: fork until the guest has no pids or memory left. The
 * cgroup's pids.max (or RLIMIT_NPROC) stops it; the bomb then cleans up. */
#include <signal.h>
#include <sys/wait.h>

#include "escape.h"

#define MAX_CHILDREN 4096 /* beyond every limit the sandbox sets */

int main(int argc, char **argv)
{
	static pid_t kids[MAX_CHILDREN];
	int n = 0, e = 0;

	(void)argc;
	escape_start(argv[0]);
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
		kids[n++] = p;
	}
	for (int i = 0; i < n; i++)
		(void)kill(kids[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	if (n >= MAX_CHILDREN)
		escaped("%d processes started", n);
	if (e != EAGAIN)
		escaped("fork stopped by %s, not a process limit", strerror(e));
	blocked("fork refused (EAGAIN) after %d processes", n);
}
