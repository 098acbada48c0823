/* escape finit_module: finit_module(2): load a kernel module from a file. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("finit_module", EPERM, SYS_finit_module, 0, "", 0);
}
