/* escape iopl: iopl(2): raw I/O port access. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("iopl", EPERM, SYS_iopl, 3);
}
