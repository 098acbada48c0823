/* escape ptrace_sibling: attach to another process of the job (read its
 * memory, steer its syscalls). */
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "escape.h"

int main(int argc, char **argv)
{
	pid_t child;
	long rc;
	int e;

	(void)argc;
	escape_start(argv[0]);
	child = fork();
	if (child < 0)
		escaped("fork failed: %s (cannot test)", strerror(errno));
	if (child == 0) {
		pause();
		_exit(0);
	}
	expect_record("ptrace");
	rc = ptrace(PTRACE_ATTACH, child, NULL, NULL);
	e = errno;
	(void)kill(child, SIGKILL);
	(void)waitpid(child, NULL, 0);
	denied_syscall("ptrace", rc, e, EPERM);
}
