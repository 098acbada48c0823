/* escape request_key: request_key(2): may make the kernel run an upcall. */
#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("request_key", EPERM, SYS_request_key, "user", "warden-escape", NULL, 0);
}
