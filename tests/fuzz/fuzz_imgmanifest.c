/*
 * tests/fuzz/fuzz_imgmanifest.c - the manifest.json reader
 * (host/imagemanifest.c) on arbitrary bytes, as `warden run --image` and
 * `warden image inspect|verify` take them from an image directory.
 *
 * Beyond "no crash, no undefined behaviour, no leak": a refusal has a code
 * and a message and leaves nothing allocated; an accepted manifest,
 * written canonically and read back, is accepted again and gives the same
 * bytes when written again, and its verity parameters agree with each
 * other (rootfs size = data blocks * 4096, tree size for that many
 * blocks). Seeds: tests/fuzz/corpus/fuzz_imgmanifest (manifests made by
 * `warden image build`).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../host/imagemanifest.h"
#include "../../host/verity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wd_imgman m, r;
	struct wd_err err;
	char *a, *b;
	size_t alen, blen;

	if (wd_imgman_read((const char *)data, size, &m, &err) < 0) {
		if (err.code <= 0 || err.msg[0] == '\0' || m.initramfs.entries != NULL ||
		    m.sources != NULL || m.rootfs.stripped != NULL)
			abort();
		return 0;
	}
	if (m.rootfs.size != m.rootfs.verity.data_blocks * WD_VERITY_BLOCK ||
	    m.rootfs.verity.size != wd_verity_tree_bytes(m.rootfs.verity.data_blocks))
		abort();
	if (wd_imgman_write(&m, &a, &alen, &err) < 0 || wd_imgman_read(a, alen, &r, &err) < 0 ||
	    wd_imgman_write(&r, &b, &blen, &err) < 0)
		abort();
	if (alen != blen || memcmp(a, b, alen) != 0)
		abort();
	wd_imgman_free(&r);
	wd_imgman_free(&m);
	free(a);
	free(b);
	return 0;
}
