/* escape add_key: add_key(2): store a key in a kernel keyring. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("add_key", EPERM, SYS_add_key, "user", "warden-escape", "x", 1, -3);
}
