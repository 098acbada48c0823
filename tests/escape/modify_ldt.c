/* escape modify_ldt: modify_ldt(2): a rarely used x86 path with a history of bugs. */
#include "escape.h"

int main(int argc, char **argv)
{
	static char buf[16];
	(void)argc;
	escape_start(argv[0]);
	DENIED("modify_ldt", EPERM, SYS_modify_ldt, 0, buf, 16);
}
