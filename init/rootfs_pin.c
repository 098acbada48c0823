/*
 * init/rootfs_pin.c - the parser of /etc/warden/rootfs (rootfs.h).
 *
 * The pin comes from the initramfs, which the host built and measured, but
 * PID 1 still reads it as input: it is bounded, strict and fuzzed
 * (tests/fuzz/fuzz_rootfs_pin.c). Values that format 1 fixes (block
 * sizes, hash offset, algorithm, file system) must be exactly those: a pin
 * asking for anything else is refused rather than half-honoured.
 * Pure code: no system calls.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../common/parse.h"
#include "rootfs.h"

#define LINE_MAX_BYTES 160 /* "root-hash " + 64 hex fits with room to spare */
#define KEY_MAX_BYTES 32

enum key {
	K_FORMAT,
	K_FS,
	K_DATA_SERIAL,
	K_HASH_SERIAL,
	K_DATA_BLOCKS,
	K_DATA_BLOCK_SIZE,
	K_HASH_BLOCK_SIZE,
	K_HASH_OFFSET,
	K_ALGORITHM,
	K_SALT,
	K_ROOT_HASH,
	K_COUNT,
};

/* Every key of format 1; `fixed` is the only value a key may have, if any. */
static const struct {
	const char *name;
	const char *fixed;
} keys[K_COUNT] = {
	[K_FORMAT] = {"format", "1"},
	[K_FS] = {"fs", "erofs"},
	[K_DATA_SERIAL] = {"data-serial", NULL},
	[K_HASH_SERIAL] = {"hash-serial", NULL},
	[K_DATA_BLOCKS] = {"data-blocks", NULL},
	[K_DATA_BLOCK_SIZE] = {"data-block-size", "4096"},
	[K_HASH_BLOCK_SIZE] = {"hash-block-size", "4096"},
	[K_HASH_OFFSET] = {"hash-offset", "0"},
	[K_ALGORITHM] = {"algorithm", "sha256"},
	[K_SALT] = {"salt", NULL},
	[K_ROOT_HASH] = {"root-hash", NULL},
};

static int serial_value(const char *v, char *out, struct wd_err *err)
{
	size_t n = strlen(v);

	if (n == 0 || n > INIT_ROOTFS_SERIAL_MAX)
		return wd_err_set(err, EINVAL, "a serial is 1 to %d characters",
				  INIT_ROOTFS_SERIAL_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = v[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return wd_err_set(err, EINVAL, "a serial is made of [A-Za-z0-9._-]");
	}
	memcpy(out, v, n + 1);
	return 0;
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly 2*n lower-case hex digits into out[n], and the text into hex. */
static int hex_value(const char *v, uint8_t *out, size_t n, char *hex, struct wd_err *err)
{
	if (strlen(v) != 2 * n)
		return wd_err_set(err, EINVAL, "expected %zu lower-case hex digits", 2 * n);
	for (size_t i = 0; i < n; i++) {
		int hi = nibble(v[2 * i]), lo = nibble(v[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return wd_err_set(err, EINVAL, "expected %zu lower-case hex digits", 2 * n);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(hex, v, 2 * n + 1);
	return 0;
}

static int apply(enum key k, const char *v, struct init_rootfs_pin *pin, struct wd_err *err)
{
	if (keys[k].fixed != NULL) {
		if (strcmp(v, keys[k].fixed) != 0)
			return wd_err_set(err, EINVAL, "only %s is supported", keys[k].fixed);
		return 0;
	}
	switch (k) {
	case K_DATA_SERIAL:
		return serial_value(v, pin->data_serial, err);
	case K_HASH_SERIAL:
		return serial_value(v, pin->hash_serial, err);
	case K_DATA_BLOCKS:
		/* wd_parse_u64: decimal digits only, no sign, nothing left over. */
		return wd_parse_u64(v, 1, INIT_ROOTFS_MAX_DATA_BLOCKS, &pin->data_blocks, err);
	case K_SALT:
		return hex_value(v, pin->salt, sizeof(pin->salt), pin->salt_hex, err);
	case K_ROOT_HASH:
		return hex_value(v, pin->root_hash, sizeof(pin->root_hash), pin->root_hash_hex,
				 err);
	default:
		return wd_err_set(err, EINVAL, "internal: key without a value rule");
	}
}

/* One non-comment line "key value" (NUL-terminated, no newline). */
static int parse_line(char *line, unsigned lineno, bool seen[K_COUNT], struct init_rootfs_pin *pin,
		      struct wd_err *err)
{
	char *sp = strchr(line, ' ');
	const char *value;

	if (sp == NULL || sp == line)
		return wd_err_set(err, EINVAL, "line %u: expected 'key value'", lineno);
	*sp = '\0';
	value = sp + 1;
	if (value[0] == '\0' || strchr(value, ' ') != NULL)
		return wd_err_set(err, EINVAL, "line %u: %s: expected one value after one space",
				  lineno, line);
	for (int k = 0; k < K_COUNT; k++) {
		if (strcmp(line, keys[k].name) != 0)
			continue;
		if (seen[k])
			return wd_err_set(err, EINVAL, "line %u: %s given twice", lineno, line);
		seen[k] = true;
		if (apply((enum key)k, value, pin, err) < 0)
			return wd_err_wrap(err, "line %u: %s", lineno, keys[k].name);
		return 0;
	}
	/* The key is printable ASCII without spaces (checked by the caller). */
	return wd_err_set(err, EINVAL, "line %u: unknown key '%.*s'", lineno, KEY_MAX_BYTES, line);
}

int init_rootfs_pin_parse(const char *text, size_t len, struct init_rootfs_pin *pin,
			  struct wd_err *err)
{
	bool seen[K_COUNT] = {false};
	char line[LINE_MAX_BYTES];
	unsigned lineno = 0;
	size_t pos = 0;

	memset(pin, 0, sizeof(*pin));
	if (len > INIT_ROOTFS_PIN_MAX_BYTES)
		return wd_err_set(err, E2BIG, "over %d bytes", INIT_ROOTFS_PIN_MAX_BYTES);
	while (pos < len) {
		size_t n = 0;

		lineno++;
		for (; pos < len && text[pos] != '\n'; pos++) {
			unsigned char c = (unsigned char)text[pos];

			/* Printable ASCII only: no NUL, tab, CR or other control bytes. */
			if (c < 0x20 || c > 0x7e)
				return wd_err_set(err, EINVAL, "line %u: byte 0x%02x", lineno, c);
			if (n + 1 >= sizeof(line))
				return wd_err_set(err, E2BIG, "line %u: over %d bytes", lineno,
						  LINE_MAX_BYTES - 1);
			line[n++] = (char)c;
		}
		pos++; /* the newline */
		line[n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if (parse_line(line, lineno, seen, pin, err) < 0)
			return wd_err_ret(err);
	}
	for (int k = 0; k < K_COUNT; k++) {
		if (!seen[k])
			return wd_err_set(err, EINVAL, "no '%s' line", keys[k].name);
	}
	if (strcmp(pin->data_serial, pin->hash_serial) == 0)
		return wd_err_set(err, EINVAL, "data-serial and hash-serial are the same (%s)",
				  pin->data_serial);
	return 0;
}
