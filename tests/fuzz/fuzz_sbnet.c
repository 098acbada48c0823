/*
 * tests/fuzz/fuzz_sbnet.c - sandbox/sbnet.c's sup_sb_net_classify() on
 * arbitrary socket addresses: what an agent passes to connect, sendto,
 * sendmsg and sendmmsg with egress on. The first byte says connect (odd)
 * or a send; the rest is the address, its length the rest's.
 *
 * Beyond "no crash, no undefined behaviour": the answer is one of go on,
 * EINVAL, ENETUNREACH, EAFNOSUPPORT; a refusal names a family and its
 * strings end within their bounds; an IPv4 address outside 127/8 and
 * 0.0.0.0 never goes on.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../../sandbox/sandbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sup_sb_bypass b;
	uint16_t family;
	int rc;

	if (size < 1)
		return 0;
	rc = sup_sb_net_classify((data[0] & 1) != 0, data + 1, size - 1, &b);
	if (rc != 0 && rc != EINVAL && rc != ENETUNREACH && rc != EAFNOSUPPORT)
		abort();
	if (memchr(b.family, '\0', sizeof(b.family)) == NULL ||
	    memchr(b.address, '\0', sizeof(b.address)) == NULL)
		abort();
	if ((rc == ENETUNREACH || rc == EAFNOSUPPORT) && b.family[0] == '\0')
		abort();
	if (size - 1 >= sizeof(struct sockaddr_in)) {
		memcpy(&family, data + 1, sizeof(family));
		if (family == AF_INET && rc == 0 && data[5] != 127 &&
		    (data[5] | data[6] | data[7] | data[8]) != 0)
			abort();
	}
	return 0;
}
