/* escape keyctl: keyctl(2): the kernel keyring, shared beyond the sandbox. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("keyctl", EPERM, SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
}
