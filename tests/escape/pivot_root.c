/* escape pivot_root: pivot_root(2): swap the root again. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("pivot_root", EPERM, SYS_pivot_root, "/tmp", "/tmp");
}
