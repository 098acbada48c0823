/* escape mount: mount(2): remount or cover the sandbox's own filesystem. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("mount", EPERM, SYS_mount, "none", "/tmp", "tmpfs", 0UL, NULL);
}
