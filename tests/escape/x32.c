/* escape x32: a syscall through the x32 ABI (bit 30 of the number), which a
 * filter written for x86_64 numbers would not match. */
#include "escape.h"

int main(int argc, char **argv)
{
	long rc;

	(void)argc;
	escape_start(argv[0]);
	expect_record("getpid");
	rc = syscall(0x40000000L | 39 /* getpid */);
	denied_syscall("x32 getpid", rc, errno, ENOSYS);
}
