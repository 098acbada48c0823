/*
 * host/tarread.c - the bounded streaming tar reader (contract in tarread.h).
 *
 * Layout of a header block (POSIX.1-1988 ustar; GNU differs after byte 345,
 * where it keeps atime/ctime and sparse maps instead of a prefix):
 *
 *   0 name[100]  100 mode[8]  108 uid[8]  116 gid[8]  124 size[12]
 *   136 mtime[12]  148 chksum[8]  156 typeflag  157 linkname[100]
 *   257 magic[6]  263 version[2]  265 uname[32]  297 gname[32]
 *   329 devmajor[8]  337 devminor[8]  345 prefix[155]
 *
 * The reader is strict where tools disagree (a lone zero block, data on a
 * link, two long names) so that what is staged is what any careful reader
 * of the same bytes would see, or nothing.
 */
#include "tarread.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	OFF_NAME = 0,
	OFF_MODE = 100,
	OFF_UID = 108,
	OFF_GID = 116,
	OFF_SIZE = 124,
	OFF_MTIME = 136,
	OFF_CHKSUM = 148,
	OFF_TYPE = 156,
	OFF_LINK = 157,
	OFF_MAGIC = 257,
	OFF_DEVMAJOR = 329,
	OFF_DEVMINOR = 337,
	OFF_PREFIX = 345,
	LEN_NAME = 100,
	LEN_PREFIX = 155,
};

/* What the extension headers in front of one entry said. */
struct ext {
	unsigned count; /* extension headers read for this entry */
	bool pax, gnu_name, gnu_link;
	bool has_path, has_link, has_size, has_uid, has_gid, has_mtime, has_caps;
	uint64_t size, uid, gid;
	int64_t mtime;
	char path[WD_TAR_PATH_MAX + 1];
	char link[WD_TAR_LINK_MAX + 1];
};

/* What global ('g') headers said: they last until the end of the archive. */
struct global {
	bool has_uid, has_gid, has_mtime, has_caps;
	uint64_t uid, gid;
	int64_t mtime;
};

struct wd_tar {
	int fd;
	uint64_t off;    /* bytes of the stream consumed */
	uint64_t remain; /* data bytes of the current entry not yet read */
	uint64_t pad;    /* padding bytes after them */
	bool ended;      /* the end-of-archive marker was read */
	struct wd_sha256 sha;
	struct global g;
	struct ext x;
	uint8_t block[WD_TAR_BLOCK];
	char buf[WD_TAR_PAX_MAX + 1]; /* one pax or GNU long-name header's data; skip scratch */
};

/* Read exactly n bytes, or fewer only at end of file (*got says). */
static int read_some(struct wd_tar *t, void *buf, size_t n, size_t *got, struct wd_err *err)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = read(t->fd, (char *)buf + done, n - done);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return wd_err_sys(err, errno, "read at byte %llu",
					  (unsigned long long)t->off + done);
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	wd_sha256_update(&t->sha, buf, done);
	t->off += done;
	*got = done;
	return 0;
}

static int read_exact(struct wd_tar *t, void *buf, size_t n, const char *what, struct wd_err *err)
{
	size_t got;
	int rc = read_some(t, buf, n, &got, err);

	if (rc < 0)
		return rc;
	if (got != n)
		return wd_err_set(err, EIO, "truncated archive: end of file at byte %llu inside %s",
				  (unsigned long long)t->off, what);
	return 0;
}

/* Consume n bytes that nobody needs (the rest of an entry's data, padding). */
static int skip(struct wd_tar *t, uint64_t n, const char *what, struct wd_err *err)
{
	while (n > 0) {
		size_t chunk = n < sizeof(t->buf) ? (size_t)n : sizeof(t->buf);
		int rc = read_exact(t, t->buf, chunk, what, err);

		if (rc < 0)
			return rc;
		n -= chunk;
	}
	return 0;
}

/* The padding after data: into the header block, whose content is used by
 * then, so that t->buf keeps the extension data just read. */
static int skip_pad(struct wd_tar *t, uint64_t n, const char *what, struct wd_err *err)
{
	return n == 0 ? 0 : read_exact(t, t->block, (size_t)n, what, err);
}

static uint64_t padding(uint64_t size)
{
	return (WD_TAR_BLOCK - size % WD_TAR_BLOCK) % WD_TAR_BLOCK;
}

/*
 * A numeric header field: octal digits, optionally led by spaces and ended
 * by NUL or space (anything after the end must be NUL or space), or GNU
 * base-256 (first byte 0x80, then big-endian; 0xff: negative, two's
 * complement over the field). An all-NUL or all-space field is 0.
 */
static int parse_num(const uint8_t *f, size_t len, int64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] == 0x80 || f[0] == 0xff) {
		bool neg = f[0] == 0xff;

		/* Only the last 8 bytes may carry value bits; the rest is sign. */
		for (i = 1; i + 8 < len; i++) {
			if (f[i] != (neg ? 0xff : 0x00))
				return -ERANGE;
		}
		for (; i < len; i++)
			v = v << 8 | f[i];
		if (neg ? v <= (uint64_t)INT64_MAX : v > (uint64_t)INT64_MAX)
			return -ERANGE;
		/* Two's complement: the bits are already the negative value's. */
		memcpy(out, &v, sizeof(*out));
		return 0;
	}
	while (i < len && f[i] == ' ')
		i++;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v > (UINT64_MAX >> 3))
			return -ERANGE;
		v = v << 3 | (uint64_t)(f[i] - '0');
	}
	for (; i < len; i++) {
		if (f[i] != '\0' && f[i] != ' ')
			return -EINVAL;
	}
	if (v > (uint64_t)INT64_MAX)
		return -ERANGE;
	*out = (int64_t)v;
	return 0;
}

static int field_u64(struct wd_tar *t, uint64_t hdr, size_t off, size_t len, const char *name,
		     uint64_t max, uint64_t *out, struct wd_err *err)
{
	int64_t v;
	int rc = parse_num(t->block + off, len, &v);

	if (rc < 0 || v < 0 || (uint64_t)v > max)
		return wd_err_set(err, EINVAL, "header at byte %llu: bad %s field",
				  (unsigned long long)hdr, name);
	*out = (uint64_t)v;
	return 0;
}

/* A NUL-terminated copy of a fixed-size name field (a full field has no NUL). */
static size_t field_str(const uint8_t *f, size_t len, char *out)
{
	size_t n = strnlen((const char *)f, len);

	memcpy(out, f, n);
	out[n] = '\0';
	return n;
}

static bool all_zero(const uint8_t *b)
{
	for (size_t i = 0; i < WD_TAR_BLOCK; i++) {
		if (b[i] != 0)
			return false;
	}
	return true;
}

static bool checksum_ok(const uint8_t *b)
{
	uint64_t want;
	int64_t v;
	uint64_t sum_u = 0;
	int64_t sum_s = 0;

	if (parse_num(b + OFF_CHKSUM, 8, &v) < 0 || v < 0)
		return false;
	want = (uint64_t)v;
	for (size_t i = 0; i < WD_TAR_BLOCK; i++) {
		uint8_t c = (i >= OFF_CHKSUM && i < OFF_CHKSUM + 8) ? ' ' : b[i];

		sum_u += c;
		sum_s += (int8_t)c; /* some old writers summed signed chars */
	}
	return want == sum_u || (sum_s >= 0 && want == (uint64_t)sum_s);
}

/* Compressed data has a recognisable start; say so instead of "bad header". */
static const char *compressed(const uint8_t *b)
{
	if (b[0] == 0x1f && b[1] == 0x8b)
		return "gzip";
	if (memcmp(b,
		   "\xfd"
		   "7zXZ",
		   5) == 0)
		return "xz";
	if (memcmp(b, "\x28\xb5\x2f\xfd", 4) == 0)
		return "zstd";
	if (memcmp(b, "BZh", 3) == 0)
		return "bzip2";
	return NULL;
}

/* Decimal digits only, no overflow. */
static bool dec_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* A pax time: [-]digits[.digits]; the fraction is dropped. */
static bool pax_time(const char *s, size_t n, int64_t *out)
{
	bool neg = n > 0 && s[0] == '-';
	size_t i = neg ? 1 : 0, dot = n;
	uint64_t v;

	for (size_t j = i; j < n; j++) {
		if (s[j] == '.') {
			dot = j;
			break;
		}
	}
	for (size_t j = dot + 1; j < n; j++) {
		if (s[j] < '0' || s[j] > '9')
			return false;
	}
	if (!dec_u64(s + i, dot - i, &v) || v > (uint64_t)INT64_MAX)
		return false;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

static bool has_prefix(const char *s, size_t n, const char *p)
{
	size_t pn = strlen(p);

	return n >= pn && memcmp(s, p, pn) == 0;
}

static bool key_is(const char *k, size_t kn, const char *want)
{
	return kn == strlen(want) && memcmp(k, want, kn) == 0;
}

/* A path-like pax value: NUL-free, at most max bytes; empty means "unset". */
static int pax_str(const char *v, size_t vn, size_t max, char *out, bool *has, uint64_t hdr,
		   const char *key, struct wd_err *err)
{
	if (memchr(v, '\0', vn) != NULL)
		return wd_err_set(err, EINVAL, "pax header at byte %llu: %s holds a NUL byte",
				  (unsigned long long)hdr, key);
	if (vn > max)
		return wd_err_set(err, ENAMETOOLONG,
				  "pax header at byte %llu: %s of %zu bytes (at most %zu)",
				  (unsigned long long)hdr, key, vn, max);
	memcpy(out, v, vn);
	out[vn] = '\0';
	*has = vn > 0;
	return 0;
}

static int pax_record(struct wd_tar *t, bool global, const char *k, size_t kn, const char *v,
		      size_t vn, uint64_t hdr, struct wd_err *err)
{
	struct ext *x = &t->x;
	struct global *g = &t->g;
	uint64_t u;
	int64_t s;

	if (has_prefix(k, kn, "GNU.sparse."))
		return wd_err_set(
			err, ENOTSUP,
			"pax header at byte %llu: sparse file (GNU.sparse.*): not supported",
			(unsigned long long)hdr);
	if (key_is(k, kn, "path") || key_is(k, kn, "linkpath") || key_is(k, kn, "size")) {
		if (global)
			return wd_err_set(
				err, EINVAL,
				"global pax header at byte %llu sets %.*s for every entry",
				(unsigned long long)hdr, (int)kn, k);
	}
	if (key_is(k, kn, "path"))
		return pax_str(v, vn, WD_TAR_PATH_MAX, x->path, &x->has_path, hdr, "path", err);
	if (key_is(k, kn, "linkpath"))
		return pax_str(v, vn, WD_TAR_LINK_MAX, x->link, &x->has_link, hdr, "linkpath", err);
	if (key_is(k, kn, "size") || key_is(k, kn, "uid") || key_is(k, kn, "gid")) {
		if (!dec_u64(v, vn, &u))
			return wd_err_set(err, EINVAL, "pax header at byte %llu: bad %.*s",
					  (unsigned long long)hdr, (int)kn, k);
		if (k[0] == 's') {
			x->has_size = true;
			x->size = u;
		} else if (k[0] == 'u') {
			*(global ? &g->has_uid : &x->has_uid) = true;
			*(global ? &g->uid : &x->uid) = u;
		} else {
			*(global ? &g->has_gid : &x->has_gid) = true;
			*(global ? &g->gid : &x->gid) = u;
		}
		return 0;
	}
	if (key_is(k, kn, "mtime")) {
		if (!pax_time(v, vn, &s))
			return wd_err_set(err, EINVAL, "pax header at byte %llu: bad mtime",
					  (unsigned long long)hdr);
		*(global ? &g->has_mtime : &x->has_mtime) = true;
		*(global ? &g->mtime : &x->mtime) = s;
		return 0;
	}
	if (key_is(k, kn, "SCHILY.xattr.security.capability") ||
	    key_is(k, kn, "LIBARCHIVE.xattr.security.capability")) {
		*(global ? &g->has_caps : &x->has_caps) = true;
		return 0;
	}
	return 0; /* POSIX: a reader ignores keywords it does not know */
}

/*
 * The records "LEN KEY=VALUE\n" of one pax header (t->buf[0..n)). LEN counts
 * the whole record, its own digits and the newline included.
 */
static int parse_pax(struct wd_tar *t, size_t n, bool global, uint64_t hdr, struct wd_err *err)
{
	const char *p = t->buf, *end = t->buf + n;

	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p)), *eq, *rec_end;
		uint64_t len;

		if (sp == NULL || !dec_u64(p, (size_t)(sp - p), &len) ||
		    len > (uint64_t)(end - p) || len < (uint64_t)(sp - p) + 4)
			return wd_err_set(err, EINVAL,
					  "pax header at byte %llu: malformed record at offset %zu",
					  (unsigned long long)hdr, (size_t)(p - t->buf));
		rec_end = p + len - 1; /* the newline */
		eq = memchr(sp + 1, '=', (size_t)(rec_end - (sp + 1)));
		if (*rec_end != '\n' || eq == NULL || eq == sp + 1)
			return wd_err_set(err, EINVAL,
					  "pax header at byte %llu: malformed record at offset %zu",
					  (unsigned long long)hdr, (size_t)(p - t->buf));
		int rc = pax_record(t, global, sp + 1, (size_t)(eq - (sp + 1)), eq + 1,
				    (size_t)(rec_end - (eq + 1)), hdr, err);
		if (rc < 0)
			return rc;
		p = rec_end + 1;
	}
	return 0;
}

/* Read an extension header's data (size bytes, then its padding) into t->buf. */
static int read_ext_data(struct wd_tar *t, uint64_t size, uint64_t max, const char *what,
			 uint64_t hdr, struct wd_err *err)
{
	int rc;

	if (size > max)
		return wd_err_set(err, E2BIG, "%s at byte %llu: %llu bytes (at most %llu)", what,
				  (unsigned long long)hdr, (unsigned long long)size,
				  (unsigned long long)max);
	rc = read_exact(t, t->buf, (size_t)size, what, err);
	if (rc < 0)
		return rc;
	t->buf[size] = '\0';
	return skip_pad(t, padding(size), what, err);
}

/* A GNU 'L' or 'K' header: the name is its data, up to the first NUL. */
static int gnu_long(struct wd_tar *t, uint64_t size, bool link, uint64_t hdr, struct wd_err *err)
{
	size_t max = link ? WD_TAR_LINK_MAX : WD_TAR_PATH_MAX;
	const char *what = link ? "GNU long link name" : "GNU long name";
	bool *seen = link ? &t->x.gnu_link : &t->x.gnu_name;
	size_t n;
	int rc;

	if (*seen)
		return wd_err_set(err, EINVAL, "%s at byte %llu: a second one for the same entry",
				  what, (unsigned long long)hdr);
	*seen = true;
	/* max bytes of name, then its NUL. */
	rc = read_ext_data(t, size, max + 1, what, hdr, err);
	if (rc < 0)
		return rc == -E2BIG ? wd_err_set(err, ENAMETOOLONG,
						 "%s at byte %llu: longer than %zu bytes", what,
						 (unsigned long long)hdr, max)
				    : rc;
	n = strnlen(t->buf, (size_t)size);
	if (n == 0)
		return wd_err_set(err, EINVAL, "%s at byte %llu: empty", what,
				  (unsigned long long)hdr);
	if (n > max)
		return wd_err_set(err, ENAMETOOLONG, "%s at byte %llu: longer than %zu bytes", what,
				  (unsigned long long)hdr, max);
	memcpy(link ? t->x.link : t->x.path, t->buf, n + 1);
	return 0;
}

static int end_marker(struct wd_tar *t, uint64_t hdr, struct wd_err *err)
{
	size_t got;
	int rc;

	if (t->x.count > 0)
		return wd_err_set(err, EINVAL,
				  "end of archive at byte %llu right after an extension header",
				  (unsigned long long)hdr);
	rc = read_some(t, t->block, WD_TAR_BLOCK, &got, err);
	if (rc < 0)
		return rc;
	if (got != WD_TAR_BLOCK)
		return wd_err_set(
			err, EIO,
			"truncated archive: one zero block at byte %llu, then end of file "
			"(the end-of-archive marker is two)",
			(unsigned long long)hdr);
	if (!all_zero(t->block))
		return wd_err_set(err, EINVAL,
				  "a lone zero block at byte %llu in the middle of the archive",
				  (unsigned long long)hdr);
	t->ended = true;
	return 0;
}

/* The type flags taken, as data: anything else is refused. */
static const struct {
	uint8_t flag;
	enum wd_tar_type type;
} taken_types[] = {
	{'0', WD_TAR_FILE},     {'\0', WD_TAR_FILE},   {'7', WD_TAR_FILE}, /* contiguous */
	{'1', WD_TAR_HARDLINK}, {'2', WD_TAR_SYMLINK}, {'3', WD_TAR_CHAR},
	{'4', WD_TAR_BLOCKDEV}, {'5', WD_TAR_DIR},     {'6', WD_TAR_FIFO},
};

/* Known types that are refused, named in the error. */
static const struct {
	uint8_t flag;
	const char *what;
} refused_types[] = {
	{'S', "a sparse file (not supported)"},
	{'M', "a multi-volume continuation (not supported)"},
	{'D', "a GNU dump directory (not supported)"},
	{'N', "an old GNU long name (not supported)"},
};

static int entry_type(uint8_t tf, uint64_t hdr, enum wd_tar_type *out, struct wd_err *err)
{
	const char *what = "an unknown entry type";

	for (size_t i = 0; i < sizeof(taken_types) / sizeof(taken_types[0]); i++) {
		if (taken_types[i].flag == tf) {
			*out = taken_types[i].type;
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(refused_types) / sizeof(refused_types[0]); i++) {
		if (refused_types[i].flag == tf)
			what = refused_types[i].what;
	}
	return wd_err_set(err, ENOTSUP, "header at byte %llu: type '%c' (0x%02x) is %s",
			  (unsigned long long)hdr, tf >= 0x21 && tf < 0x7f ? tf : '?', tf, what);
}

/* Fill the entry from the header block and what the extensions said. */
static int fill_entry(struct wd_tar *t, struct wd_tar_entry *e, uint64_t hdr, bool ustar,
		      struct wd_err *err)
{
	const uint8_t *b = t->block;
	uint8_t tf = b[OFF_TYPE];
	uint64_t v = 0, size = 0;
	int64_t mt;
	int rc;

	/* The two name buffers are 8 KiB: set their first byte, not all of it. */
	e->path[0] = e->link[0] = '\0';
	e->mode = e->devmajor = e->devminor = 0;
	e->uid = e->gid = e->size = 0;
	e->mtime = 0;
	e->has_caps = false;
	e->header_offset = hdr;
	rc = entry_type(tf, hdr, &e->type, err);
	if (rc < 0)
		return rc;

	/* The name: pax path, or a GNU long name, or prefix "/" name. */
	if (t->x.has_path && t->x.gnu_name)
		return wd_err_set(err, EINVAL,
				  "header at byte %llu: both a GNU long name and a pax path",
				  (unsigned long long)hdr);
	if (t->x.has_path || t->x.gnu_name) {
		memcpy(e->path, t->x.path, strlen(t->x.path) + 1);
	} else {
		size_t n = 0;

		if (ustar && b[OFF_PREFIX] != '\0') {
			n = field_str(b + OFF_PREFIX, LEN_PREFIX, e->path);
			e->path[n++] = '/';
		}
		field_str(b + OFF_NAME, LEN_NAME, e->path + n);
	}
	if (e->path[0] == '\0')
		return wd_err_set(err, EINVAL, "header at byte %llu: an entry with no name",
				  (unsigned long long)hdr);

	if (t->x.has_link && t->x.gnu_link)
		return wd_err_set(err, EINVAL,
				  "%s (header at byte %llu): both a GNU long link name and a pax "
				  "linkpath",
				  e->path, (unsigned long long)hdr);
	if (e->type == WD_TAR_HARDLINK || e->type == WD_TAR_SYMLINK) {
		if (t->x.has_link || t->x.gnu_link)
			memcpy(e->link, t->x.link, strlen(t->x.link) + 1);
		else
			field_str(b + OFF_LINK, LEN_NAME, e->link);
		if (e->link[0] == '\0')
			return wd_err_set(err, EINVAL,
					  "%s (header at byte %llu): a link to nothing", e->path,
					  (unsigned long long)hdr);
	}

	rc = field_u64(t, hdr, OFF_MODE, 8, "mode", UINT64_MAX, &v, err);
	if (rc < 0)
		return rc;
	e->mode = (uint32_t)(v & 07777);
	if (t->x.has_uid)
		e->uid = t->x.uid;
	else if (t->g.has_uid)
		e->uid = t->g.uid;
	else if ((rc = field_u64(t, hdr, OFF_UID, 8, "uid", UINT64_MAX, &e->uid, err)) < 0)
		return rc;
	if (t->x.has_gid)
		e->gid = t->x.gid;
	else if (t->g.has_gid)
		e->gid = t->g.gid;
	else if ((rc = field_u64(t, hdr, OFF_GID, 8, "gid", UINT64_MAX, &e->gid, err)) < 0)
		return rc;
	if (t->x.has_size)
		size = t->x.size;
	else if ((rc = field_u64(t, hdr, OFF_SIZE, 12, "size", UINT64_MAX, &size, err)) < 0)
		return rc;
	if (t->x.has_mtime) {
		e->mtime = t->x.mtime;
	} else if (t->g.has_mtime) {
		e->mtime = t->g.mtime;
	} else {
		if (parse_num(b + OFF_MTIME, 12, &mt) < 0)
			return wd_err_set(err, EINVAL, "header at byte %llu: bad mtime field",
					  (unsigned long long)hdr);
		e->mtime = mt;
	}
	if (e->type == WD_TAR_CHAR || e->type == WD_TAR_BLOCKDEV) {
		rc = field_u64(t, hdr, OFF_DEVMAJOR, 8, "devmajor", UINT32_MAX, &v, err);
		if (rc < 0)
			return rc;
		e->devmajor = (uint32_t)v;
		rc = field_u64(t, hdr, OFF_DEVMINOR, 8, "devminor", UINT32_MAX, &v, err);
		if (rc < 0)
			return rc;
		e->devminor = (uint32_t)v;
	}
	/* Only files carry data; tools disagree on skipping it for the others. */
	if (e->type != WD_TAR_FILE && size != 0)
		return wd_err_set(err, EINVAL,
				  "%s (header at byte %llu): a '%c' entry with %llu "
				  "bytes of data",
				  e->path, (unsigned long long)hdr, (char)e->type,
				  (unsigned long long)size);
	e->size = size;
	e->has_caps = t->x.has_caps || t->g.has_caps;
	return 0;
}

/* One extension header ('x', 'g', 'L', 'K' or 'V') whose data is `size` bytes. */
static int ext_header(struct wd_tar *t, uint8_t tf, uint64_t size, uint64_t hdr, struct wd_err *err)
{
	int rc;

	if (tf == 'L' || tf == 'K')
		return gnu_long(t, size, tf == 'K', hdr, err);
	if (tf == 'V') /* a volume label: nothing in it matters here */
		return read_ext_data(t, size, WD_TAR_PAX_MAX, "volume label", hdr, err);
	if (tf == 'x' && t->x.pax)
		return wd_err_set(err, EINVAL,
				  "pax header at byte %llu: a second one for the same entry",
				  (unsigned long long)hdr);
	t->x.pax = t->x.pax || tf == 'x';
	rc = read_ext_data(t, size, WD_TAR_PAX_MAX, "pax header", hdr, err);
	return rc < 0 ? rc : parse_pax(t, (size_t)size, tf == 'g', hdr, err);
}

int wd_tar_open(int fd, struct wd_tar **out, struct wd_err *err)
{
	struct wd_tar *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return wd_err_sys(err, ENOMEM, "tar reader");
	t->fd = fd;
	wd_sha256_init(&t->sha);
	*out = t;
	return 0;
}

int wd_tar_next(struct wd_tar *t, struct wd_tar_entry *e, struct wd_err *err)
{
	int rc;

	if (t->ended)
		return 0;
	rc = skip(t, t->remain + t->pad, "an entry's data", err);
	if (rc < 0)
		return rc;
	t->remain = t->pad = 0;
	memset(&t->x, 0, offsetof(struct ext, path));
	t->x.path[0] = t->x.link[0] = '\0';

	for (;;) {
		uint64_t hdr = t->off, size = 0;
		bool ustar;
		size_t got;
		uint8_t tf;

		rc = read_some(t, t->block, WD_TAR_BLOCK, &got, err);
		if (rc < 0)
			return rc;
		if (got == 0)
			return wd_err_set(err, EIO,
					  "truncated archive: end of file at byte %llu without the "
					  "end-of-archive marker",
					  (unsigned long long)hdr);
		if (got != WD_TAR_BLOCK)
			return wd_err_set(
				err, EIO,
				"truncated archive: end of file at byte %llu inside a header",
				(unsigned long long)t->off);
		if (all_zero(t->block)) {
			rc = end_marker(t, hdr, err);
			return rc < 0 ? rc : 0;
		}
		if (hdr == 0 && compressed(t->block) != NULL)
			return wd_err_set(err, EINVAL,
					  "%s-compressed data, not a tar: decompress it first",
					  compressed(t->block));
		if (!checksum_ok(t->block))
			return wd_err_set(err, EINVAL, "header at byte %llu: bad checksum",
					  (unsigned long long)hdr);
		ustar = memcmp(t->block + OFF_MAGIC,
			       "ustar\0"
			       "00",
			       8) == 0;
		if (!ustar && memcmp(t->block + OFF_MAGIC, "ustar  \0", 8) != 0)
			return wd_err_set(err, EINVAL,
					  "header at byte %llu: not a ustar, pax or GNU tar header",
					  (unsigned long long)hdr);
		tf = t->block[OFF_TYPE];
		if (tf != 'x' && tf != 'g' && tf != 'L' && tf != 'K' && tf != 'V') {
			rc = fill_entry(t, e, hdr, ustar, err);
			if (rc < 0)
				return rc;
			t->remain = e->size;
			t->pad = padding(e->size);
			return 1;
		}

		/* An extension header: its data describes what follows. */
		if (++t->x.count > WD_TAR_EXT_MAX)
			return wd_err_set(
				err, E2BIG,
				"header at byte %llu: more than %d extension headers in a row",
				(unsigned long long)hdr, WD_TAR_EXT_MAX);
		rc = field_u64(t, hdr, OFF_SIZE, 12, "size", UINT64_MAX, &size, err);
		if (rc < 0)
			return rc;
		rc = ext_header(t, tf, size, hdr, err);
		if (rc < 0)
			return rc;
	}
}

int wd_tar_read(struct wd_tar *t, void *buf, size_t n, size_t *got, struct wd_err *err)
{
	int rc;

	*got = 0;
	if (t->remain == 0)
		return 0;
	if (n > t->remain)
		n = (size_t)t->remain;
	rc = read_exact(t, buf, n, "an entry's data", err);
	if (rc < 0)
		return rc;
	t->remain -= n;
	*got = n;
	if (t->remain == 0) {
		rc = skip_pad(t, t->pad, "an entry's padding", err);
		if (rc < 0)
			return rc;
		t->pad = 0;
	}
	return 0;
}

int wd_tar_finish(struct wd_tar *t, uint8_t sha256[32], struct wd_err *err)
{
	uint64_t trailer = 0;

	if (!t->ended)
		return wd_err_set(err, EINVAL,
				  "the archive was not read to its end-of-archive marker");
	for (;;) {
		size_t got;
		int rc = read_some(t, t->buf, sizeof(t->buf), &got, err);

		if (rc < 0)
			return rc;
		if (got == 0)
			break;
		trailer += got;
		if (trailer > WD_TAR_TRAILER_MAX)
			return wd_err_set(err, E2BIG,
					  "more than %lu bytes after the end-of-archive marker",
					  WD_TAR_TRAILER_MAX);
	}
	wd_sha256_final(&t->sha, sha256);
	return 0;
}

void wd_tar_close(struct wd_tar *t)
{
	free(t);
}
