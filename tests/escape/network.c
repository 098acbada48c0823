/* escape network: reach the host or the internet; only loopback exists. */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "escape.h"

int main(int argc, char **argv)
{
	static const char *const targets[] = {"10.0.2.2", "1.1.1.1", "192.168.0.1"};
	struct if_nameindex *ifs;
	int n = 0;

	(void)argc;
	escape_start(argv[0]);
	ifs = if_nameindex();
	for (struct if_nameindex *i = ifs; i != NULL && i->if_index != 0; i++, n++)
		if (strcmp(i->if_name, "lo") != 0)
			escaped("interface %s exists", i->if_name);
	if_freenameindex(ifs);
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53)};
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0)
			escaped("socket: %s (cannot test)", strerror(errno));
		(void)inet_pton(AF_INET, targets[i], &sa.sin_addr);
		errno = 0;
		must_fail(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ENETUNREACH, targets[i]);
		(void)close(fd);
	}
	blocked("%d interface (lo); every outside address is unreachable", n);
}
