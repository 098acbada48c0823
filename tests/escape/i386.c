/* escape i386: a syscall through int $0x80 (the i386 ABI, other numbers,
 * another audit arch) from a 64-bit process. */
#include "escape.h"

int main(int argc, char **argv)
{
	long rc = 20; /* i386 getpid */

	(void)argc;
	escape_start(argv[0]);
	expect_record("getpid");
	__asm__ volatile("int $0x80" : "+a"(rc) : : "memory");
	if (rc >= 0)
		escaped("an i386 syscall ran (%ld)", rc);
	if (rc != -ENOSYS)
		escaped("the i386 syscall failed with %ld, not -ENOSYS", rc);
	blocked("int $0x80: ENOSYS");
}
