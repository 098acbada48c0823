/* escape process_vm_readv: process_vm_readv(2): read another process's memory (the sandbox's init). */
#include "escape.h"

int main(int argc, char **argv)
{
	char b[8];
	struct {
		void *base;
		size_t len;
	} local = {b, 8}, remote = {(void *)0x400000, 8};
	(void)argc;
	escape_start(argv[0]);
	DENIED("process_vm_readv", EPERM, SYS_process_vm_readv, 1, &local, 1, &remote, 1, 0);
}
