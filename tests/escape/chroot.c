/* escape chroot: chroot(2): the first step of the classic chroot escape. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("chroot", EPERM, SYS_chroot, "/tmp");
}
