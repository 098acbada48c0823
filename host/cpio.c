/* host/cpio.c - see cpio.h. */
#include "cpio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/fileio.h"

#define HDR_BYTES 110 /* "070701" and 13 fields of 8 hex digits */
#define TRAILER "TRAILER!!!"
#define BLOCK 512                  /* the archive is padded to a multiple of this */
#define NAME_SHOWN 64              /* bytes of a name in a message */
#define OUT_BUF ((size_t)64 << 10) /* the writer's buffer */

static size_t pad4(size_t n)
{
	return (4 - (n & 3)) & 3;
}

/* A name for a message: printable ASCII, cut. */
static const char *shown(const char *s, char buf[NAME_SHOWN + 4])
{
	size_t i;

	for (i = 0; i < NAME_SHOWN && s[i] != '\0'; i++)
		buf[i] = s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (s[i] != '\0') {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

static bool hex8(const uint8_t *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		uint8_t c = p[i];
		uint32_t d;

		if (c >= '0' && c <= '9')
			d = (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (uint32_t)(c - 'A' + 10);
		else
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

/* Relative, no empty, "." or ".." component, no trailing '/'. */
static bool name_ok(const char *s)
{
	const char *p = s;

	if (*s == '\0' || *s == '/')
		return false;
	while (*p != '\0') {
		const char *end = strchr(p, '/');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (end == NULL)
			break;
		p = end + 1;
		if (*p == '\0')
			return false; /* trailing '/' */
	}
	return true;
}

static bool type_ok(uint32_t mode)
{
	uint32_t t = mode & S_IFMT;

	return t == S_IFREG || t == S_IFDIR || t == S_IFLNK || t == S_IFCHR;
}

void wd_cpio_free(struct wd_cpio *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].own_name);
		free(c->e[i].own_data);
	}
	free(c->e);
	memset(c, 0, sizeof(*c));
}

static int grow(struct wd_cpio *c, struct wd_err *err)
{
	struct wd_cpio_entry *e;
	size_t cap;

	if (c->n < c->cap)
		return 0;
	if (c->n >= WD_CPIO_MAX_ENTRIES)
		return wd_err_set(err, E2BIG, "cpio: over %d entries", WD_CPIO_MAX_ENTRIES);
	cap = c->cap == 0 ? 256 : c->cap * 2;
	if (cap > WD_CPIO_MAX_ENTRIES)
		cap = WD_CPIO_MAX_ENTRIES;
	e = realloc(c->e, cap * sizeof(*e));
	if (e == NULL)
		return wd_err_set(err, ENOMEM, "cpio: out of memory");
	c->e = e;
	c->cap = cap;
	return 0;
}

/* The content checks shared by the reader and wd_cpio_add. */
static int check_entry(const struct wd_cpio_entry *e, uint32_t nlink, struct wd_err *err)
{
	char buf[NAME_SHOWN + 4];
	uint32_t t = e->mode & S_IFMT;

	if (!name_ok(e->name))
		return wd_err_set(err, EINVAL,
				  "cpio entry '%s': not a relative path of plain components",
				  shown(e->name, buf));
	if (!type_ok(e->mode))
		return wd_err_set(err, EINVAL,
				  "cpio entry '%s': type %#o is not a file, directory, symlink or "
				  "character device",
				  shown(e->name, buf), (unsigned)t);
	if ((e->mode & ~(uint32_t)(S_IFMT | 0777)) != 0)
		return wd_err_set(err, EINVAL, "cpio entry '%s': setuid, setgid or sticky bits",
				  shown(e->name, buf));
	if (t != S_IFDIR && nlink > 1)
		return wd_err_set(err, EINVAL, "cpio entry '%s': a hard link (nlink %u)",
				  shown(e->name, buf), nlink);
	if ((t == S_IFDIR || t == S_IFCHR) && e->size != 0)
		return wd_err_set(err, EINVAL, "cpio entry '%s': a %s with data",
				  shown(e->name, buf), t == S_IFDIR ? "directory" : "device");
	if (t == S_IFREG && e->size > WD_CPIO_FILE_MAX)
		return wd_err_set(err, E2BIG, "cpio entry '%s': %zu bytes, over %zu",
				  shown(e->name, buf), e->size, WD_CPIO_FILE_MAX);
	if (t == S_IFLNK && (e->size == 0 || e->size > WD_CPIO_TARGET_MAX ||
			     memchr(e->data, '\0', e->size) != NULL))
		return wd_err_set(err, EINVAL,
				  "cpio entry '%s': a symlink target must be 1 to %d bytes, no NUL",
				  shown(e->name, buf), WD_CPIO_TARGET_MAX);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct wd_cpio_entry *)a)->name,
		      ((const struct wd_cpio_entry *)b)->name);
}

static int by_name_ptr(const void *a, const void *b)
{
	return strcmp((*(const struct wd_cpio_entry *const *)a)->name,
		      (*(const struct wd_cpio_entry *const *)b)->name);
}

/* In `sorted` (pointers, by name), the entry called name[0..len). */
static const struct wd_cpio_entry *lookup(struct wd_cpio_entry *const *sorted, size_t n,
					  const char *name, size_t len)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *m = sorted[mid]->name;
		int c = strncmp(m, name, len);

		if (c == 0 && m[len] != '\0')
			c = 1;
		if (c == 0)
			return sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Each name once, each parent a directory of the archive. */
static int check_tree(const struct wd_cpio *c, struct wd_err *err)
{
	struct wd_cpio_entry **s;
	char buf[NAME_SHOWN + 4];
	int rc = 0;

	if (c->n == 0)
		return 0;
	s = malloc(c->n * sizeof(struct wd_cpio_entry *));
	if (s == NULL)
		return wd_err_set(err, ENOMEM, "cpio: out of memory");
	for (size_t i = 0; i < c->n; i++)
		s[i] = &c->e[i];
	qsort(s, c->n, sizeof(struct wd_cpio_entry *), by_name_ptr);
	for (size_t i = 0; i < c->n && rc == 0; i++) {
		const char *slash = strrchr(s[i]->name, '/');
		const struct wd_cpio_entry *parent;

		if (i > 0 && strcmp(s[i - 1]->name, s[i]->name) == 0) {
			rc = wd_err_set(err, EINVAL, "cpio entry '%s': given twice",
					shown(s[i]->name, buf));
			break;
		}
		if (slash == NULL)
			continue;
		parent = lookup(s, c->n, s[i]->name, (size_t)(slash - s[i]->name));
		if (parent == NULL || (parent->mode & S_IFMT) != S_IFDIR)
			rc = wd_err_set(
				err, EINVAL,
				"cpio entry '%s': its parent is not a directory of the archive",
				shown(s[i]->name, buf));
	}
	free(s);
	return rc;
}

/* One entry at p[*off]: 1 an entry, 0 the trailer. */
static int parse_one(const uint8_t *p, size_t len, size_t *off, struct wd_cpio *c,
		     struct wd_err *err)
{
	uint32_t f
		[13]; /* ino mode uid gid nlink mtime filesize devmaj devmin rmaj rmin namesize check */
	size_t at = *off, name_at, data_at, entry = c->n;
	struct wd_cpio_entry e;

	if (len - at < HDR_BYTES)
		return wd_err_set(err, EINVAL, "cpio: truncated header at byte %zu (no TRAILER!!!)",
				  at);
	if (memcmp(p + at, "070701", 6) != 0)
		return wd_err_set(err, EINVAL, "cpio: bad magic at byte %zu (newc 070701 only)",
				  at);
	for (int i = 0; i < 13; i++)
		if (!hex8(p + at + 6 + 8 * (size_t)i, &f[i]))
			return wd_err_set(err, EINVAL, "cpio: bad hex field %d at byte %zu", i, at);
	if (f[11] < 2 || f[11] > WD_CPIO_NAME_MAX)
		return wd_err_set(err, EINVAL, "cpio: entry %zu: name size %u, expected 2 to %d",
				  entry, f[11], WD_CPIO_NAME_MAX);
	name_at = at + HDR_BYTES;
	if (len - name_at < f[11])
		return wd_err_set(err, EINVAL, "cpio: entry %zu: name beyond the end", entry);
	if (p[name_at + f[11] - 1] != '\0' || memchr(p + name_at, '\0', f[11] - 1) != NULL)
		return wd_err_set(err, EINVAL,
				  "cpio: entry %zu: name not NUL-terminated at its size", entry);
	data_at = name_at + f[11];
	data_at += pad4(data_at);
	if (data_at > len || len - data_at < f[6])
		return wd_err_set(err, EINVAL, "cpio: entry %zu: data beyond the end", entry);
	*off = data_at + f[6] + pad4(data_at + f[6]);
	if (*off > len)
		*off = len; /* the last padding may be cut; nothing follows then */
	if (strcmp((const char *)p + name_at, TRAILER) == 0)
		return 0;
	memset(&e, 0, sizeof(e));
	e.name = (const char *)p + name_at;
	e.mode = f[1];
	e.uid = f[2];
	e.gid = f[3];
	e.mtime = f[5];
	e.data = p + data_at;
	e.size = f[6];
	e.rmajor = f[9];
	e.rminor = f[10];
	if (check_entry(&e, f[4], err) < 0 || grow(c, err) < 0)
		return wd_err_ret(err);
	c->e[c->n++] = e;
	return 1;
}

int wd_cpio_parse(const uint8_t *p, size_t len, struct wd_cpio *c, struct wd_err *err)
{
	size_t off = 0;
	int r;

	memset(c, 0, sizeof(*c));
	if (len > WD_CPIO_MAX_BYTES)
		return wd_err_set(err, E2BIG, "cpio: %zu bytes, over %zu", len, WD_CPIO_MAX_BYTES);
	while ((r = parse_one(p, len, &off, c, err)) > 0)
		;
	if (r == 0) {
		for (size_t i = off; i < len; i++)
			if (p[i] != 0) {
				r = wd_err_set(err, EINVAL,
					       "cpio: bytes other than padding after TRAILER!!! "
					       "(byte %zu)",
					       i);
				break;
			}
	}
	if (r == 0)
		r = check_tree(c, err);
	if (r < 0)
		wd_cpio_free(c);
	return r < 0 ? r : 0;
}

const struct wd_cpio_entry *wd_cpio_find(const struct wd_cpio *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].name, name) == 0)
			return &c->e[i];
	return NULL;
}

bool wd_cpio_remove(struct wd_cpio *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->e[i].name, name) != 0)
			continue;
		free(c->e[i].own_name);
		free(c->e[i].own_data);
		memmove(&c->e[i], &c->e[i + 1], (c->n - i - 1) * sizeof(c->e[0]));
		c->n--;
		return true;
	}
	return false;
}

static int parent_is_dir(const struct wd_cpio *c, const char *name)
{
	const char *slash = strrchr(name, '/');
	char parent[WD_CPIO_NAME_MAX];
	const struct wd_cpio_entry *e;

	if (slash == NULL)
		return 1;
	memcpy(parent, name, (size_t)(slash - name));
	parent[slash - name] = '\0';
	e = wd_cpio_find(c, parent);
	return e != NULL && (e->mode & S_IFMT) == S_IFDIR;
}

int wd_cpio_add(struct wd_cpio *c, const char *name, uint32_t mode, const void *data, size_t size,
		struct wd_err *err)
{
	struct wd_cpio_entry e;
	char buf[NAME_SHOWN + 4];
	char *n;
	uint8_t *d = NULL;

	memset(&e, 0, sizeof(e));
	e.name = name;
	e.mode = mode;
	e.data = data;
	e.size = size;
	if (strlen(name) >= WD_CPIO_NAME_MAX)
		return wd_err_set(err, ENAMETOOLONG, "cpio entry '%s': name too long",
				  shown(name, buf));
	if (check_entry(&e, 1, err) < 0)
		return wd_err_ret(err);
	if (wd_cpio_find(c, name) != NULL)
		return wd_err_set(err, EEXIST, "cpio entry '%s': already in the archive",
				  shown(name, buf));
	if (!parent_is_dir(c, name))
		return wd_err_set(err, ENOTDIR, "cpio entry '%s': its parent is not a directory",
				  shown(name, buf));
	if (grow(c, err) < 0)
		return wd_err_ret(err);
	n = strdup(name);
	if (n == NULL || (size > 0 && (d = malloc(size)) == NULL)) {
		free(n);
		return wd_err_set(err, ENOMEM, "cpio: out of memory");
	}
	if (size > 0)
		memcpy(d, data, size);
	e.name = e.own_name = n;
	e.data = e.own_data = d;
	c->e[c->n++] = e;
	return 0;
}

int wd_cpio_add_dirs(struct wd_cpio *c, const char *name, struct wd_err *err)
{
	char path[WD_CPIO_NAME_MAX];
	size_t len = strlen(name);

	if (len >= sizeof(path))
		return wd_err_set(err, ENAMETOOLONG, "cpio: name too long");
	memcpy(path, name, len + 1);
	for (char *p = strchr(path, '/'); p != NULL; p = strchr(p + 1, '/')) {
		const struct wd_cpio_entry *e;

		*p = '\0';
		e = wd_cpio_find(c, path);
		if (e == NULL && wd_cpio_add(c, path, S_IFDIR | 0755, NULL, 0, err) < 0)
			return wd_err_ret(err);
		if (e != NULL && (e->mode & S_IFMT) != S_IFDIR)
			return wd_err_set(err, ENOTDIR, "cpio: /%s is not a directory", path);
		*p = '/';
	}
	return 0;
}

void wd_cpio_sort(struct wd_cpio *c)
{
	if (c->n > 1)
		qsort(c->e, c->n, sizeof(c->e[0]), by_name);
}

struct out {
	int fd;
	uint8_t buf[OUT_BUF];
	size_t len;
	uint64_t total;
	int err;
};

static void put(struct out *o, const void *p, size_t n)
{
	const uint8_t *s = p;

	while (n > 0 && o->err == 0) {
		size_t k = OUT_BUF - o->len < n ? OUT_BUF - o->len : n;

		memcpy(o->buf + o->len, s, k);
		o->len += k;
		o->total += k;
		s += k;
		n -= k;
		if (o->len == OUT_BUF) {
			o->err = wd_write_all(o->fd, o->buf, o->len);
			o->len = 0;
		}
	}
}

static void put_zeros(struct out *o, size_t n)
{
	static const uint8_t zeros[BLOCK];

	while (n > 0) {
		size_t k = n < BLOCK ? n : BLOCK;

		put(o, zeros, k);
		n -= k;
	}
}

static void put_header(struct out *o, uint32_t ino, uint32_t mode, uint32_t nlink, uint32_t mtime,
		       uint32_t size, uint32_t rmaj, uint32_t rmin, const char *name)
{
	char h[HDR_BYTES + 1];
	size_t namesize = strlen(name) + 1;

	(void)snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		       ino, mode, 0u, 0u, nlink, mtime, size, 0u, 0u, rmaj, rmin,
		       (uint32_t)namesize, 0u);
	put(o, h, HDR_BYTES);
	put(o, name, namesize);
	put_zeros(o, pad4(HDR_BYTES + namesize));
}

/* A directory's link count: 2 and one per subdirectory (what GNU cpio
 * copies from the staging tree's stat). */
static uint32_t *dir_links(const struct wd_cpio *c)
{
	uint32_t *links = calloc(c->n > 0 ? c->n : 1, sizeof(*links));
	struct wd_cpio_entry **s;

	if (links == NULL)
		return NULL;
	s = malloc((c->n > 0 ? c->n : 1) * sizeof(struct wd_cpio_entry *));
	if (s == NULL) {
		free(links);
		return NULL;
	}
	for (size_t i = 0; i < c->n; i++)
		s[i] = &c->e[i];
	qsort(s, c->n, sizeof(struct wd_cpio_entry *), by_name_ptr);
	for (size_t i = 0; i < c->n; i++) {
		const char *slash = strrchr(c->e[i].name, '/');
		const struct wd_cpio_entry *p;

		links[i] += (c->e[i].mode & S_IFMT) == S_IFDIR ? 2 : 1;
		if ((c->e[i].mode & S_IFMT) != S_IFDIR || slash == NULL)
			continue;
		p = lookup(s, c->n, c->e[i].name, (size_t)(slash - c->e[i].name));
		if (p != NULL)
			links[p - c->e]++;
	}
	free(s);
	return links;
}

int wd_cpio_write(const struct wd_cpio *c, uint64_t mtime, int fd, struct wd_err *err)
{
	struct out *o;
	uint32_t *links;
	int rc;

	if (mtime > UINT32_MAX)
		return wd_err_set(err, ERANGE, "cpio: mtime %llu does not fit newc's 32 bits",
				  (unsigned long long)mtime);
	o = malloc(sizeof(*o));
	links = dir_links(c);
	if (o == NULL || links == NULL) {
		free(o);
		free(links);
		return wd_err_set(err, ENOMEM, "cpio: out of memory");
	}
	o->fd = fd;
	o->len = 0;
	o->total = 0;
	o->err = 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct wd_cpio_entry *e = &c->e[i];

		put_header(o, (uint32_t)i, e->mode, links[i], (uint32_t)mtime, (uint32_t)e->size,
			   e->rmajor, e->rminor, e->name);
		put(o, e->data, e->size);
		put_zeros(o, pad4(e->size));
	}
	put_header(o, 0, 0, 1, 0, 0, 0, 0, TRAILER);
	put_zeros(o, (BLOCK - o->total % BLOCK) % BLOCK);
	if (o->err == 0 && o->len > 0)
		o->err = wd_write_all(fd, o->buf, o->len);
	rc = o->err;
	free(o);
	free(links);
	if (rc < 0)
		return wd_err_sys(err, -rc, "write the cpio archive");
	return 0;
}
