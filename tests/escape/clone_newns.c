/* escape clone_newns: clone(2) with namespace flags, for a mount namespace
 * of its own (and with it, mount(2) on its copy of the tree). */
#include <sched.h>
#include <signal.h>

#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	/* Raw clone with no stack: a fork with flags; a child would exit at once. */
	DENIED("clone", EPERM, SYS_clone, (unsigned long)(CLONE_NEWNS | SIGCHLD), 0UL, 0UL, 0UL,
	       0UL);
}
