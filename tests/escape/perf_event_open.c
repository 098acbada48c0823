/* escape perf_event_open: perf_event_open(2): kernel profiling, a classic exploit surface. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("perf_event_open", EPERM, SYS_perf_event_open, NULL, 0, -1, -1, 0);
}
