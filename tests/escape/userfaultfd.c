/* escape userfaultfd: userfaultfd(2): the race-widening primitive of many kernel exploits. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("userfaultfd", EPERM, SYS_userfaultfd, 0);
}
