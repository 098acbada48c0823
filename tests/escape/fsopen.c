/* escape fsopen: fsopen(2): the new mount API, a way around a filter on mount(2). */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("fsopen", EPERM, SYS_fsopen, "tmpfs", 0);
}
