/* host/imagetext.c - see imagetext.h. */
#include "imagetext.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "imageio.h"

#define MANIFEST_HEADER                                                                            \
	"# warden-manifest 1: path type mode size sha256|target|major:minor (docs/image.md)\n"
#define SOURCES_FIELDS 5

/* What image/mkinitramfs.sh's PATH_RE allows after the leading '/':
 * [][A-Za-z0-9._+@/-]. */
static bool manifest_chars(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("][._+@/-", *s) != NULL))
			return false;
	return true;
}

/* A growing text buffer; errors stick. */
struct text {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void append(struct text *t, const char *fmt, ...) WD_PRINTF(2, 3);
static void append(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap * 2 + (size_t)n + 1;
		char *b = realloc(t->buf, cap);

		if (b == NULL) {
			t->oom = true;
			return;
		}
		t->buf = b;
		t->cap = cap;
	}
}

int wd_imgtext_manifest(const struct wd_cpio *c, char **out, size_t *len, struct wd_err *err)
{
	struct text t = {.buf = malloc(4096), .len = 0, .cap = 4096, .oom = false};
	char hex[WD_IMAGE_HEX], target[WD_CPIO_TARGET_MAX + 1];

	*out = NULL;
	if (t.buf == NULL)
		return wd_err_set(err, ENOMEM, "manifest: out of memory");
	append(&t, "%s", MANIFEST_HEADER);
	for (size_t i = 0; i < c->n; i++) {
		const struct wd_cpio_entry *e = &c->e[i];
		unsigned mode = e->mode & 07777;

		if (strcmp(e->name, WD_IMGTEXT_MANIFEST_PATH) == 0)
			continue;
		if (!manifest_chars(e->name)) {
			free(t.buf);
			return wd_err_set(err, EINVAL,
					  "/%.64s: the manifest's paths hold only A-Z a-z 0-9 "
					  "._+@[]/-",
					  e->name);
		}
		switch (e->mode & S_IFMT) {
		case S_IFREG:
			wd_img_digest_buf(e->data, e->size, hex);
			append(&t, "/%s f %04o %zu %s\n", e->name, mode, e->size, hex);
			break;
		case S_IFLNK:
			/* The target is not NUL-terminated in the archive. */
			memcpy(target, e->data, e->size);
			target[e->size] = '\0';
			if (!manifest_chars(target)) {
				free(t.buf);
				return wd_err_set(err, EINVAL,
						  "/%.64s: a symlink target the manifest cannot "
						  "carry",
						  e->name);
			}
			append(&t, "/%s l %04o %zu %s\n", e->name, mode, e->size, target);
			break;
		case S_IFDIR:
			append(&t, "/%s d %04o - -\n", e->name, mode);
			break;
		default: /* S_IFCHR: the reader lets nothing else through */
			append(&t, "/%s c %04o - %u:%u\n", e->name, mode, e->rmajor, e->rminor);
			break;
		}
	}
	if (t.oom) {
		free(t.buf);
		return wd_err_set(err, ENOMEM, "manifest: out of memory");
	}
	*out = t.buf;
	*len = t.len;
	return 0;
}

int wd_imgtext_rootfs_pin(const struct wd_imgverity *v, char *buf, size_t size)
{
	int n = snprintf(buf, size,
			 "# warden rootfs pin (docs/image.md)\n"
			 "format 1\n"
			 "fs erofs\n"
			 "data-serial " WD_IMGTEXT_DATA_SERIAL "\n"
			 "hash-serial " WD_IMGTEXT_HASH_SERIAL "\n"
			 "data-blocks %llu\n"
			 "data-block-size 4096\n"
			 "hash-block-size 4096\n"
			 "hash-offset 0\n"
			 "algorithm sha256\n"
			 "salt %s\n"
			 "root-hash %s\n",
			 (unsigned long long)v->data_blocks, v->salt, v->root_hash);

	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

int wd_imgtext_image_pin(const char *hex, char *buf, size_t size)
{
	int n = snprintf(buf, size,
			 "# warden image pin (docs/image.md): sha256 of manifest.json without "
			 "its initramfs member\n"
			 "format 1\n"
			 "manifest-sha256 %s\n",
			 hex);

	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

/* Split a line into at most `max` space-separated fields, in place. */
static size_t split(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *tok = strtok_r(line, " \t", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return max + 1;
		f[n++] = tok;
	}
	return n;
}

static bool printable_token(const char *s)
{
	if (*s == '\0' || strlen(s) > WD_IMGMAN_TEXT_MAX)
		return false;
	for (; *s != '\0'; s++)
		if (*s <= 0x20 || *s >= 0x7f)
			return false;
	return true;
}

static int add_source(char **f, struct wd_imgsource **src, size_t *n, struct wd_err *err)
{
	struct wd_imgsource *s, *grown;

	grown = realloc(*src, (*n + 1) * sizeof(**src));
	if (grown == NULL)
		return wd_err_set(err, ENOMEM, "out of memory");
	*src = grown;
	s = &grown[*n];
	memset(s, 0, sizeof(*s));
	s->what = strdup(f[0]);
	s->name = strdup(f[1]);
	s->version = strcmp(f[2], "-") == 0 ? NULL : strdup(f[2]);
	s->file = strcmp(f[3], "-") == 0 ? NULL : strdup(f[3]);
	memcpy(s->sha256, f[4], WD_IMAGE_HEX);
	(*n)++;
	if (s->what == NULL || s->name == NULL || (s->version == NULL && strcmp(f[2], "-") != 0) ||
	    (s->file == NULL && strcmp(f[3], "-") != 0))
		return wd_err_set(err, ENOMEM, "out of memory");
	return 0;
}

int wd_imgtext_sources(const char *text, size_t len, struct wd_imgsource **src, size_t *n,
		       struct wd_err *err)
{
	char line[WD_IMGTEXT_LINE_MAX + 1];
	size_t at = 0, lineno = 0, added = 0;
	bool format = false;

	if (len > WD_IMGTEXT_SOURCES_MAX_BYTES)
		return wd_err_set(err, E2BIG, "/etc/warden/sources: %zu bytes, over %d", len,
				  WD_IMGTEXT_SOURCES_MAX_BYTES);
	if (len > 0 && text[len - 1] != '\n')
		return wd_err_set(err, EINVAL, "/etc/warden/sources: no newline at the end");
	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t l = (size_t)(nl - (text + at));
		char *f[SOURCES_FIELDS + 1];
		size_t nf;

		lineno++;
		if (l > WD_IMGTEXT_LINE_MAX || memchr(text + at, '\0', l) != NULL)
			return wd_err_set(err, EINVAL,
					  "/etc/warden/sources line %zu: too long or "
					  "holds a NUL",
					  lineno);
		memcpy(line, text + at, l);
		line[l] = '\0';
		at += l + 1;
		nf = split(line, f, SOURCES_FIELDS);
		if (nf == 0 || f[0][0] == '#')
			continue;
		if (!format) {
			if (nf != 2 || strcmp(f[0], "format") != 0 || strcmp(f[1], "1") != 0)
				return wd_err_set(err, EINVAL,
						  "/etc/warden/sources line %zu: expected 'format "
						  "1'",
						  lineno);
			format = true;
			continue;
		}
		if (nf != SOURCES_FIELDS)
			return wd_err_set(err, EINVAL,
					  "/etc/warden/sources line %zu: expected KIND NAME "
					  "VERSION FILE SHA256",
					  lineno);
		for (size_t i = 0; i < nf; i++)
			if (!printable_token(f[i]))
				return wd_err_set(err, EINVAL,
						  "/etc/warden/sources line %zu: field %zu is not "
						  "printable ASCII of at most %d bytes",
						  lineno, i + 1, WD_IMGMAN_TEXT_MAX);
		if (strspn(f[0], "abcdefghijklmnopqrstuvwxyz-") != strlen(f[0]) ||
		    strlen(f[0]) > 32 || !wd_imgman_is_hex64(f[4]))
			return wd_err_set(err, EINVAL,
					  "/etc/warden/sources line %zu: KIND must be a lower-case "
					  "word, SHA256 64 hex digits",
					  lineno);
		if (++added > WD_IMGTEXT_SOURCES_MAX)
			return wd_err_set(err, E2BIG, "/etc/warden/sources: over %d entries",
					  WD_IMGTEXT_SOURCES_MAX);
		if (add_source(f, src, n, err) < 0)
			return wd_err_ret(err);
	}
	if (!format)
		return wd_err_set(err, EINVAL, "/etc/warden/sources: no 'format 1' line");
	return 0;
}

int wd_imgtext_entries(const struct wd_cpio *c, struct wd_imgentry **out, size_t *n,
		       struct wd_err *err)
{
	struct wd_imgentry *v = calloc(c->n > 0 ? c->n : 1, sizeof(*v));

	*out = NULL;
	*n = 0;
	if (v == NULL)
		return wd_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < c->n; i++) {
		const struct wd_cpio_entry *e = &c->e[i];
		struct wd_imgentry *d = &v[i];
		size_t nl = strlen(e->name);

		d->path = malloc(nl + 2);
		if (d->path == NULL)
			goto oom;
		d->path[0] = '/';
		memcpy(d->path + 1, e->name, nl + 1);
		d->mode = e->mode & 07777;
		switch (e->mode & S_IFMT) {
		case S_IFREG:
			d->type = 'f';
			d->size = e->size;
			wd_img_digest_buf(e->data, e->size, d->sha256);
			break;
		case S_IFLNK:
			d->type = 'l';
			d->size = e->size;
			d->target = malloc(e->size + 1);
			if (d->target == NULL)
				goto oom;
			memcpy(d->target, e->data, e->size);
			d->target[e->size] = '\0';
			break;
		case S_IFDIR:
			d->type = 'd';
			break;
		default:
			d->type = 'c';
			d->major = e->rmajor;
			d->minor = e->rminor;
			break;
		}
	}
	*out = v;
	*n = c->n;
	return 0;
oom:
	for (size_t i = 0; i < c->n; i++) {
		free(v[i].path);
		free(v[i].target);
	}
	free(v);
	return wd_err_set(err, ENOMEM, "out of memory");
}

int wd_imgtext_modules_kver(const char *text, size_t len, char *kver, size_t size,
			    struct wd_err *err)
{
	size_t at = 0;

	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t l = nl != NULL ? (size_t)(nl - (text + at)) : len - at;
		const char *p = text + at, *end = p + l;

		at += l + 1;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			end--;
		if (p == end || *p == '#')
			continue;
		if ((size_t)(end - p) <= 5 || memcmp(p, "kver ", 5) != 0)
			break;
		p += 5;
		if ((size_t)(end - p) >= size || (size_t)(end - p) == 0 ||
		    memchr(p, '/', (size_t)(end - p)) != NULL || memchr(p, ' ', (size_t)(end - p)))
			break;
		memcpy(kver, p, (size_t)(end - p));
		kver[end - p] = '\0';
		return 0;
	}
	return wd_err_set(err, EINVAL, "/etc/warden/modules: no 'kver RELEASE' line first");
}
