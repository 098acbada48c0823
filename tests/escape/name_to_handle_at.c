/* escape name_to_handle_at: name_to_handle_at(2): the handle half of the shocker escape. */
#include "escape.h"

int main(int argc, char **argv)
{
	struct {
		unsigned bytes;
		int type;
		unsigned char f[128];
	} h = {128, 0, {0}};
	int m = 0;
	(void)argc;
	escape_start(argv[0]);
	DENIED("name_to_handle_at", EPERM, SYS_name_to_handle_at, -100, "/", &h, &m, 0);
}
