/* escape swapon: swapon(2): swap the sandbox's memory to a file. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("swapon", EPERM, SYS_swapon, "/tmp/swap", 0);
}
