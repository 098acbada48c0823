/* escape umount: umount2(2): uncover what a mount hides (the masked /proc files). */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("umount2", EPERM, SYS_umount2, "/proc/kcore", 2 /* MNT_DETACH */);
}
