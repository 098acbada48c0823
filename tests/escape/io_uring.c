/* escape io_uring: io_uring: a second syscall interface that bypasses the filter's view. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("io_uring_setup", EPERM, SYS_io_uring_setup, 8, NULL);
}
