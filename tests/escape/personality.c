/* escape personality: READ_IMPLIES_EXEC and ADDR_NO_RANDOMIZE weaken the
 * process's own exploit defences (and old kernels' checks). */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("personality", EPERM, SYS_personality,
	       0x0400000UL /* READ_IMPLIES_EXEC */ | 0x0040000UL /* ADDR_NO_RANDOMIZE */);
}
