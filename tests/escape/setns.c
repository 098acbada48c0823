/* escape setns: setns(2): join another namespace (the guest's, through /proc). */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("setns", EPERM, SYS_setns, 0, 0);
}
