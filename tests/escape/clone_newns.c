/* escape clone_newns: clone(2) with namespace flags: a user namespace with
 * a network namespace (full capabilities over both; a host kernel that
 * allows unprivileged user namespaces grants it), then a mount namespace
 * of its own (and with it, mount(2) on its copy of the tree). */
#include <sched.h>
#include <signal.h>

#include "escape.h"

/* Raw clone with no stack: a fork with flags; the new process exits at once. */
static void clone_denied(unsigned long flags, const char *what)
{
	long rc = syscall(SYS_clone, flags | SIGCHLD, 0UL, 0UL, 0UL, 0UL);

	if (rc == 0)
		_exit(0);
	must_fail(rc, EPERM, what);
}

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	expect_record("clone");
	clone_denied(CLONE_NEWUSER | CLONE_NEWNET, "clone(CLONE_NEWUSER | CLONE_NEWNET)");
	clone_denied(CLONE_NEWNS, "clone(CLONE_NEWNS)");
	blocked("clone with namespace flags: EPERM");
}
