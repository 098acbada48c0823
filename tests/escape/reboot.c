/* escape reboot: reboot(2): end the machine. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("reboot", EPERM, SYS_reboot, 0xfee1dead, 672274793, 0x01234567 /* RB_AUTOBOOT */,
	       NULL);
}
