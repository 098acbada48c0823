/* escape signal_init: kill the sandbox's PID 1 (which would end the job's
 * accounting) or stop it. */
#include <signal.h>

#include "escape.h"

int main(int argc, char **argv)
{
	static const int sigs[] = {SIGKILL, SIGTERM, SIGSTOP, SIGSEGV};

	(void)argc;
	escape_start(argv[0]);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		errno = 0;
		must_fail(kill(1, sigs[i]), EPERM, "kill(1)");
	}
	if (kill(1, 0) == 0 || errno != EPERM)
		escaped("PID 1 is gone or ours: %s", strerror(errno));
	blocked("kill(1, ...): EPERM for KILL, TERM, STOP, SEGV");
}
