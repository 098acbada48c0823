/* escape unshare_user: unshare(CLONE_NEWUSER): a user namespace, full capabilities over new namespaces. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("unshare", EPERM, SYS_unshare, 0x10000000 /* CLONE_NEWUSER */);
}
