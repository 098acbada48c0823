/* escape daemon: leave a daemonised grandchild behind (its own session,
 * stdio closed) that outlives the agent and its deadline.
 * escape-job: own
 * escape-expect: verdict */
#include "escape.h"

int main(int argc, char **argv)
{
	pid_t p;

	(void)argc;
	escape_start(argv[0]);
	p = fork();
	if (p < 0)
		escaped("fork: %s (cannot test)", strerror(errno));
	if (p == 0) {
		(void)setsid();
		if (fork() != 0)
			_exit(0);
		/* The grandchild: still alive 3 s after the agent exited? */
		sleep(3);
		escaped("the grandchild is alive 3 s after the agent exited");
	}
	blocked("a grandchild is left running; it must end with the agent");
}
