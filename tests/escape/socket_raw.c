/* escape socket_raw: a raw IP socket (forged packets): allowed family, but
 * CAP_NET_RAW is gone. */
#include <netinet/in.h>
#include <sys/socket.h>

#include "escape.h"

int main(int argc, char **argv)
{
	(void)argc;
	escape_start(argv[0]);
	must_fail(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), EPERM, "socket(AF_INET, SOCK_RAW)");
	must_fail(socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6), EPERM, "socket(AF_INET6, SOCK_RAW)");
	blocked("raw sockets: EPERM (no CAP_NET_RAW)");
}
