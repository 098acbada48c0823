/* escape unknown_syscall: a syscall number the kernel may get later: answered ENOSYS, recorded. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("?", ENOSYS, 1000);
}
