/* escape ioperm: ioperm(2): raw I/O port access. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("ioperm", EPERM, SYS_ioperm, 0x60, 8, 1);
}
