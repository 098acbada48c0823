/* escape open_by_handle_at: open_by_handle_at(2): the shocker escape, open any inode by handle. */
#include "escape.h"

int main(int argc, char **argv)
{
	struct {
		unsigned bytes;
		int type;
		unsigned char f[8];
	} h = {8, 1, {2, 0, 0, 0, 0, 0, 0, 0}};
	(void)argc;
	escape_start(argv[0]);
	DENIED("open_by_handle_at", EPERM, SYS_open_by_handle_at, -100, &h, 0);
}
