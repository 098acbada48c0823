/* escape bpf: bpf(2): load code into the kernel. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("bpf", EPERM, SYS_bpf, 0 /* BPF_MAP_CREATE */, NULL, 0);
}
