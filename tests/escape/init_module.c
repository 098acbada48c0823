/* escape init_module: init_module(2): load a kernel module. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("init_module", EPERM, SYS_init_module, "", 0, "");
}
