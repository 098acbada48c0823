/* escape kexec_load: kexec_load(2): boot another kernel. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("kexec_load", EPERM, SYS_kexec_load, 0, 0, NULL, 0);
}
