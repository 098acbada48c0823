/* escape move_mount: move_mount(2): attach a mount. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("move_mount", EPERM, SYS_move_mount, -1, "", -100, "/tmp", 4);
}
