/* escape clone3: clone3(2) hides its flags behind a pointer the filter
 * cannot read, so it must not exist for the agent (ENOSYS: C libraries
 * fall back to clone, whose flags are checked). */
#include "escape.h"

int main(int argc, char **argv)
{
	unsigned long long args[11] = {0x00020000ULL /* CLONE_NEWNS */, 0, 0, 0, 17 /* SIGCHLD */};
	long rc;

	(void)argc;
	escape_start(argv[0]);
	rc = syscall(SYS_clone3, args, sizeof(args));
	if (rc == 0)
		_exit(0);
	must_fail(rc, ENOSYS, "clone3");
	blocked("clone3: ENOSYS");
}
