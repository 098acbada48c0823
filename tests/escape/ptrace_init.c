/* escape ptrace_init: attach to PID 1 of the sandbox (root, forked from the
 * supervisor). */
#include <sys/ptrace.h>

#include "escape.h"

int main(int argc, char **argv)
{
	long rc;

	(void)argc;
	escape_start(argv[0]);
	expect_record("ptrace");
	rc = ptrace(PTRACE_SEIZE, 1, NULL, NULL);
	denied_syscall("ptrace", rc, errno, EPERM);
}
