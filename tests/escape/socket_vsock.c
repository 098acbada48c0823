/* escape socket_vsock: a AF_VSOCK socket (family 40), outside the families the
 * agent may use (AF_UNIX, AF_INET, AF_INET6). */
#include <sys/socket.h>

#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	DENIED("socket", EPERM, SYS_socket, 40, SOCK_RAW, 0);
}
