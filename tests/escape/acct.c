/* escape acct: acct(2): process accounting to a file. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("acct", EPERM, SYS_acct, "/tmp/acct");
}
