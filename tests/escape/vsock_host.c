/* escape vsock_host: connect to the host (CID 2) over AF_VSOCK, around the
 * authenticated channel. */
#include <sys/socket.h>

#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("socket", EPERM, SYS_socket, 40 /* AF_VSOCK */, SOCK_STREAM, 0);
}
