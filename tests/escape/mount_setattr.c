/* escape mount_setattr: mount_setattr(2): make a read-only mount writable. */
#include "escape.h"

int main(int argc, char **argv)
{
	static char buf[32];
	(void)argc;
	escape_start(argv[0]);
	DENIED("mount_setattr", EPERM, SYS_mount_setattr, -100, "/usr", 0x8000 /* AT_RECURSIVE */,
	       buf, 32);
}
