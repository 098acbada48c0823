/*
 * tests/fuzz/fuzz_rootfs_pin.c - init_rootfs_pin_parse() on arbitrary bytes.
 *
 * The pin tells PID 1 which devices hold the root filesystem and which
 * root hash its tree must have. Beyond "no crash, no undefined behaviour,
 * no read past `size`", an accepted pin must keep rootfs.h's promises:
 * the input was within its bound; both serials are 1-20 characters of
 * [A-Za-z0-9._-] and differ; data-blocks is in range; the salt and root
 * hash are 64 lower-case hex digits that are exactly the bytes kept. A
 * refused one has its error code and a message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../init/rootfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_serial(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > INIT_ROOTFS_SERIAL_MAX)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			   s[i]) == NULL)
			abort();
	}
}

static void check_hex(const char *hex, const uint8_t *bytes, size_t n)
{
	char again[3];

	if (strlen(hex) != 2 * n)
		abort();
	for (size_t i = 0; i < n; i++) {
		(void)snprintf(again, sizeof(again), "%02x", bytes[i]);
		if (memcmp(again, hex + 2 * i, 2) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct init_rootfs_pin pin;
	struct wd_err err;
	int rc;

	wd_err_clear(&err);
	rc = init_rootfs_pin_parse((const char *)data, size, &pin, &err);
	if (rc < 0) {
		if (err.code != -rc || err.msg[0] == '\0')
			abort();
		return 0;
	}
	if (rc != 0 || size > INIT_ROOTFS_PIN_MAX_BYTES)
		abort();
	check_serial(pin.data_serial);
	check_serial(pin.hash_serial);
	if (strcmp(pin.data_serial, pin.hash_serial) == 0)
		abort();
	if (pin.data_blocks == 0 || pin.data_blocks > INIT_ROOTFS_MAX_DATA_BLOCKS)
		abort();
	check_hex(pin.salt_hex, pin.salt, sizeof(pin.salt));
	check_hex(pin.root_hash_hex, pin.root_hash, sizeof(pin.root_hash));
	return 0;
}
