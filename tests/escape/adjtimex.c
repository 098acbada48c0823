/* escape adjtimex: adjtimex(2): slew the clock. */
#include "escape.h"

int main(int argc, char **argv)
{
	static char buf[512];
	(void)argc;
	escape_start(argv[0]);
	DENIED("adjtimex", EPERM, SYS_adjtimex, buf);
}
