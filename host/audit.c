/* host/audit.c - `warden audit` (see audit.h). */
#include "audit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../common/fileio.h"
#include "../common/json.h"
#include "../common/log.h"
#include "../common/parse.h"
#include "../common/safetext.h"
#include "auditverify.h"
#include "exitcodes.h"

#define READ_CHUNK (1U << 20)
#define TIME_TEXT 64

static const char usage[] =
	"usage: warden audit verify DIR|FILE [--pubkey PEM] [--checkpoint FILE]\n"
	"       warden audit show DIR|FILE [--class C] [--outcome O] [--since T] [--until T]\n"
	"                         [--json]\n"
	"       warden audit prune DIR --older-than AGE [--apply]\n"
	"\n"
	"  verify   check the chain, the Merkle roots and every checkpoint's signature;\n"
	"           exit 0 intact, 1 not intact (the first bad record is named), 2 intact\n"
	"           but its last records are not covered by a checkpoint\n"
	"  show     print records (not verified), filtered by class, outcome, time\n"
	"           (T: 2026-11-27T10:00:00Z, or an age such as 30m, 2h, 7d)\n"
	"  prune    remove segments older than AGE that verified to a checkpoint at\n"
	"           their end (never a log's last); without --apply only the plan\n"
	"\n"
	"See docs/audit.md.\n";

/* ---- the files -------------------------------------------------------------- */

struct segment {
	char path[4096];
	char boot[WD_AUDIT_BOOT_HEX];
	uint64_t index;
	time_t mtime;
	bool verified; /* every line checked, the last a verified checkpoint */
	uint64_t first, last;
};

struct logset {
	struct segment *seg;
	size_t n;
	char dir[4096]; /* "" for a single file */
};

/* "audit-<32 hex>.<6 digits>.jsonl" */
static bool segment_name(const char *name, char boot[WD_AUDIT_BOOT_HEX], uint64_t *index)
{
	size_t n = strlen(name);
	char digits[8];
	struct wd_err err;

	if (n != 6 + 32 + 1 + 6 + 6 || strncmp(name, "audit-", 6) != 0 ||
	    strcmp(name + n - 6, ".jsonl") != 0 || name[38] != '.' ||
	    strspn(name + 6, "0123456789abcdef") != 32 || strspn(name + 39, "0123456789") != 6)
		return false;
	memcpy(boot, name + 6, 32);
	boot[32] = '\0';
	memcpy(digits, name + 39, 6);
	digits[6] = '\0';
	while (digits[0] == '0' && digits[1] != '\0')
		memmove(digits, digits + 1, strlen(digits));
	return wd_parse_u64(digits, 1, 999999, index, &err) == 0;
}

static int by_log(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;
	int c = strcmp(x->boot, y->boot);

	return c != 0 ? c : x->index < y->index ? -1 : x->index > y->index;
}

static int add_segment(struct logset *ls, const char *path, const char *name, struct wd_err *err)
{
	struct segment *s;
	struct stat st;

	if (ls->n == WD_AUDIT_MAX_LOGS * (size_t)16)
		return wd_err_set(err, E2BIG, "more than %d segments", WD_AUDIT_MAX_LOGS * 16);
	s = realloc(ls->seg, (ls->n + 1) * sizeof(*s));
	if (s == NULL)
		return wd_err_set(err, ENOMEM, "out of memory");
	ls->seg = s;
	s = &ls->seg[ls->n];
	memset(s, 0, sizeof(*s));
	if (!segment_name(name, s->boot, &s->index))
		return wd_err_set(err, EINVAL,
				  "%s: not an audit log segment (audit-<boot>.NNNNNN.jsonl)", path);
	if ((size_t)snprintf(s->path, sizeof(s->path), "%s", path) >= sizeof(s->path))
		return wd_err_set(err, ENAMETOOLONG, "%s: path too long", path);
	if (stat(path, &st) < 0)
		return wd_err_sys(err, errno, "%s", path);
	s->mtime = st.st_mtime;
	ls->n++;
	return 0;
}

static int list_logs(const char *path, struct logset *ls, struct wd_err *err)
{
	struct stat st;
	DIR *d;
	struct dirent *e;

	memset(ls, 0, sizeof(*ls));
	if (stat(path, &st) < 0)
		return wd_err_sys(err, errno, "%s", path);
	if (!S_ISDIR(st.st_mode)) {
		const char *slash = strrchr(path, '/');

		return add_segment(ls, path, slash != NULL ? slash + 1 : path, err);
	}
	(void)snprintf(ls->dir, sizeof(ls->dir), "%s", path);
	d = opendir(path);
	if (d == NULL)
		return wd_err_sys(err, errno, "%s", path);
	while ((e = readdir(d)) != NULL) {
		char full[4096];
		char boot[WD_AUDIT_BOOT_HEX];
		uint64_t idx;

		if (!segment_name(e->d_name, boot, &idx))
			continue;
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", path, e->d_name) >=
			    sizeof(full) ||
		    add_segment(ls, full, e->d_name, err) < 0) {
			(void)closedir(d);
			return err->code != 0 ? -err->code : -ENAMETOOLONG;
		}
	}
	(void)closedir(d);
	if (ls->n == 0)
		return wd_err_set(err, ENOENT, "%s: no audit log (audit-<boot>.NNNNNN.jsonl) in it",
				  path);
	qsort(ls->seg, ls->n, sizeof(ls->seg[0]), by_log);
	return 0;
}

/* ---- bounded lines ------------------------------------------------------------ */

struct lines {
	int fd;
	char *buf;
	size_t len, off;
	bool eof;
	uint64_t no; /* the line's number in its file */
};

static int lines_open(struct lines *l, const char *path, struct wd_err *err)
{
	memset(l, 0, sizeof(*l));
	l->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (l->fd < 0)
		return wd_err_sys(err, errno, "%s", path);
	l->buf = malloc(READ_CHUNK);
	if (l->buf == NULL) {
		(void)close(l->fd);
		return wd_err_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

static void lines_close(struct lines *l)
{
	if (l->fd >= 0)
		(void)close(l->fd);
	free(l->buf);
	l->fd = -1;
	l->buf = NULL;
}

/* The next line without its newline: 1, 0 at the end, or -errno (E2BIG: a
 * line over WD_AUDIT_LINE_MAX; EBADMSG: the file ends inside a line). */
static int lines_next(struct lines *l, const char **line, size_t *len, struct wd_err *err)
{
	if (l->buf == NULL)
		return wd_err_set(err, EINVAL, "no file open");
	for (;;) {
		char *nl = memchr(l->buf + l->off, '\n', l->len - l->off);
		ssize_t n;

		if (nl != NULL) {
			*line = l->buf + l->off;
			*len = (size_t)(nl - *line);
			l->off += *len + 1;
			l->no++;
			if (*len > WD_AUDIT_LINE_MAX)
				return wd_err_set(err, E2BIG, "line %llu: over %d bytes",
						  (unsigned long long)l->no, WD_AUDIT_LINE_MAX);
			return 1;
		}
		if (l->len - l->off > WD_AUDIT_LINE_MAX)
			return wd_err_set(err, E2BIG, "line %llu: over %d bytes",
					  (unsigned long long)l->no + 1, WD_AUDIT_LINE_MAX);
		if (l->eof)
			return l->len == l->off
				       ? 0
				       : wd_err_set(err, EBADMSG,
						    "line %llu: cut short (no newline at the "
						    "end of the file)",
						    (unsigned long long)l->no + 1);
		memmove(l->buf, l->buf + l->off, l->len - l->off);
		l->len -= l->off;
		l->off = 0;
		do
			n = read(l->fd, l->buf + l->len, READ_CHUNK - l->len);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return wd_err_sys(err, errno, "read");
		if (n == 0)
			l->eof = true;
		l->len += (size_t)n;
	}
}

/* ---- verify ------------------------------------------------------------------- */

struct verify_opts {
	const char *path;
	const char *pubkey;     /* PEM file, or NULL */
	const char *checkpoint; /* signed note file, or NULL */
	bool quiet;             /* prune: no report lines */
};

static int read_small(const char *path, char *buf, size_t size, size_t *len, struct wd_err *err)
{
	if (wd_read_file(path, buf, size, len, err) < 0)
		return wd_err_wrap(err, "%s", path);
	return 0;
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

/* One log's segments [from, to): 0, 1 (bad) or 2 (unsigned tail). */
static int verify_log(struct logset *ls, size_t from, size_t to, const struct verify_opts *o,
		      const struct wd_pubkey *pinned)
{
	struct wd_verify v;
	struct wd_err err;
	char final[WD_NOTE_MAX + 1], final_path[4200];
	size_t final_len = 0;
	int rc = WD_AUDIT_EXIT_INTACT;
	const char *final_from = NULL;

	wd_verify_init(&v, pinned);
	for (size_t i = from; i < to; i++) {
		struct segment *s = &ls->seg[i];
		struct lines l;
		const char *line = NULL;
		size_t len = 0;
		int r;

		if (i > from && s->index != ls->seg[i - 1].index + 1) {
			wd_error("%s: segment %llu is missing before it", base(s->path),
				 (unsigned long long)(ls->seg[i - 1].index + 1));
			rc = WD_AUDIT_EXIT_BAD;
			break;
		}
		if (lines_open(&l, s->path, &err) < 0) {
			wd_error("%s", err.msg);
			rc = WD_AUDIT_EXIT_BAD;
			break;
		}
		s->first = v.seq + 1;
		while ((r = lines_next(&l, &line, &len, &err)) == 1) {
			if (l.no == 1 && !wd_verify_is_header(line, len)) {
				r = wd_err_set(&err, EBADMSG, "line 1: not a segment header");
				break;
			}
			if (wd_verify_line(&v, line, len, &err) < 0) {
				r = -err.code;
				(void)wd_err_wrap(&err, "line %llu", (unsigned long long)l.no);
				break;
			}
		}
		lines_close(&l);
		if (r < 0) {
			wd_error("%s: %s", base(s->path), err.msg);
			rc = WD_AUDIT_EXIT_BAD;
			break;
		}
		s->last = v.seq;
		s->verified = v.last_was_checkpoint;
	}
	if (rc == WD_AUDIT_EXIT_INTACT) {
		if (o->checkpoint != NULL) {
			final_from = o->checkpoint;
		} else if (ls->dir[0] != '\0') {
			(void)snprintf(final_path, sizeof(final_path), "%s/audit-%s.checkpoint",
				       ls->dir, ls->seg[from].boot);
			if (access(final_path, F_OK) == 0)
				final_from = final_path;
		}
		if (final_from != NULL &&
		    (read_small(final_from, final, sizeof(final), &final_len, &err) < 0 ||
		     wd_verify_final(&v, final, final_len, &err) < 0)) {
			wd_error("%s: %s", base(ls->seg[to - 1].path), err.msg);
			rc = WD_AUDIT_EXIT_BAD;
		}
	}
	if (rc == WD_AUDIT_EXIT_INTACT && v.seq > 0 && v.last_cp_seq != v.seq &&
	    (v.covered == 0 || v.last_cp_seq < v.seq)) {
		if (!o->quiet)
			wd_warn("audit-%s: records %llu..%llu are chained but after the last "
				"checkpoint: not signed (the job ended before its final "
				"checkpoint)",
				ls->seg[from].boot, (unsigned long long)(v.last_cp_seq + 1),
				(unsigned long long)v.seq);
		rc = WD_AUDIT_EXIT_UNSIGNED;
	}
	if (rc != WD_AUDIT_EXIT_BAD && !o->quiet) {
		char id[2 * WD_KEY_ID_BYTES + 1];

		wd_hex(v.key.id, WD_KEY_ID_BYTES, id);
		printf("audit-%s: %s: records %llu..%llu, %llu checkpoints verified, key %s "
		       "(%s)%s%s\n",
		       ls->seg[from].boot, rc == WD_AUDIT_EXIT_INTACT ? "intact" : "intact so far",
		       (unsigned long long)v.start, (unsigned long long)v.seq,
		       (unsigned long long)v.checkpoints, id,
		       pinned != NULL ? "pinned" : "named by the log itself",
		       final_from != NULL ? ", matches the final checkpoint " : "",
		       final_from != NULL ? base(final_from) : "");
	}
	wd_verify_free(&v);
	return rc;
}

static int verify_all(struct logset *ls, const struct verify_opts *o)
{
	struct wd_pubkey key, *pinned = NULL;
	struct wd_err err;
	int worst = WD_AUDIT_EXIT_INTACT;
	size_t logs = 0;

	if (o->pubkey != NULL) {
		char pem[WD_PEM_MAX + 1];
		size_t n;

		if (read_small(o->pubkey, pem, sizeof(pem), &n, &err) < 0 ||
		    wd_pubkey_from_pem(pem, n, &key, &err) < 0) {
			wd_error("--pubkey %s: %s", o->pubkey, err.msg);
			return WD_EXIT_LAUNCHER;
		}
		pinned = &key;
	}
	for (size_t i = 0; i < ls->n;) {
		size_t j = i;
		int rc;

		while (j < ls->n && strcmp(ls->seg[j].boot, ls->seg[i].boot) == 0)
			j++;
		rc = verify_log(ls, i, j, o, pinned);
		logs++;
		/* Not intact outranks an unsigned tail, which outranks intact. */
		if (rc == WD_AUDIT_EXIT_BAD ||
		    (rc == WD_AUDIT_EXIT_UNSIGNED && worst == WD_AUDIT_EXIT_INTACT))
			worst = rc;
		i = j;
	}
	if (o->checkpoint != NULL && logs > 1) {
		wd_error("--checkpoint: %s holds %zu logs; give one", o->path, logs);
		return WD_EXIT_LAUNCHER;
	}
	return worst;
}

/* ---- show ---------------------------------------------------------------------- */

struct show_opts {
	const char *cls, *outcome;
	uint64_t since_ms, until_ms; /* 0: none */
	bool json;
};

/* A time: ISO 8601 UTC (2026-11-27T10:00:00Z, optional .mmm), or an age
 * before now (30s, 10m, 2h, 7d). Milliseconds since the epoch. */
static int parse_time(const char *s, uint64_t *ms, struct wd_err *err)
{
	struct tm tm;
	const char *rest;
	uint64_t n;
	size_t len = strlen(s);

	if (len >= 2 && strchr("smhd", s[len - 1]) != NULL && s[0] >= '0' && s[0] <= '9') {
		char num[24];
		uint64_t unit = s[len - 1] == 's'   ? 1000
				: s[len - 1] == 'm' ? 60000
				: s[len - 1] == 'h' ? 3600000
						    : 86400000;
		struct timespec now;

		if (len - 1 >= sizeof(num))
			return wd_err_set(err, EINVAL, "'%s': not a time", s);
		memcpy(num, s, len - 1);
		num[len - 1] = '\0';
		if (wd_parse_u64(num, 0, 100000000, &n, err) < 0)
			return wd_err_set(err, EINVAL, "'%s': not an age", s);
		(void)clock_gettime(CLOCK_REALTIME, &now);
		*ms = (uint64_t)now.tv_sec * 1000 - n * unit;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rest == NULL)
		return wd_err_set(err, EINVAL, "'%s': neither YYYY-MM-DDTHH:MM:SSZ nor an age", s);
	n = 0;
	if (rest[0] == '.' && strspn(rest + 1, "0123456789") == 3) {
		n = (uint64_t)(rest[1] - '0') * 100 + (uint64_t)(rest[2] - '0') * 10 +
		    (uint64_t)(rest[3] - '0');
		rest += 4;
	}
	if (strcmp(rest, "Z") != 0 && rest[0] != '\0')
		return wd_err_set(err, EINVAL, "'%s': only UTC (Z) is taken", s);
	*ms = (uint64_t)timegm(&tm) * 1000 + n;
	return 0;
}

static void print_time(uint64_t ms, char out[TIME_TEXT])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		(void)snprintf(out, TIME_TEXT, "?");
		return;
	}
	(void)snprintf(out, TIME_TEXT, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
		       (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100, tm.tm_mday % 100,
		       tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100, (unsigned)(ms % 1000));
}

/*
 * Text of the log on standard output, every control character escaped
 * (common/safetext.h): its strings are what the guest and the agent chose,
 * and `show` does not verify, so even a record warden never wrote is shown
 * without driving the terminal. `escape` is wd_safe_json for JSON text (it
 * stays JSON), wd_safe_line for a value. Longer text than a line is cut.
 */
static void print_safe(const char *s, size_t n,
		       size_t (*escape)(const char *in, size_t n, char *out, size_t size))
{
	static char out[(WD_AUDIT_LINE_MAX + 1) * WD_SAFE_GROWTH];

	(void)fwrite(out, 1, escape(s, n, out, sizeof(out)), stdout);
}

static void print_value(const char *s)
{
	print_safe(s, strlen(s), wd_safe_line);
}

static const char *jstr(const cJSON *o, const char *name)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(m) ? m->valuestring : "?";
}

static double jnum(const cJSON *o, const char *name)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(m) ? m->valuedouble : 0;
}

static void show_line(const char *line, size_t len, const struct show_opts *o)
{
	struct wd_err err;
	cJSON *r =
		wd_json_parse_object((const uint8_t *)line, len, WD_AUDIT_LINE_MAX, "record", &err);
	const cJSON *actor, *data;
	char when[TIME_TEXT], *d;
	uint64_t t;

	if (r == NULL)
		return;
	t = (uint64_t)jnum(r, "time");
	if ((o->cls != NULL && strcmp(jstr(r, "class"), o->cls) != 0) ||
	    (o->outcome != NULL && strcmp(jstr(r, "outcome"), o->outcome) != 0) ||
	    (o->since_ms != 0 && t < o->since_ms) || (o->until_ms != 0 && t > o->until_ms)) {
		cJSON_Delete(r);
		return;
	}
	if (o->json) {
		/* A canonical record comes out byte for byte (it holds no
		 * control character); any other line, as JSON that means the same. */
		print_safe(line, len, wd_safe_json);
		putchar('\n');
		cJSON_Delete(r);
		return;
	}
	actor = cJSON_GetObjectItemCaseSensitive(r, "actor");
	data = cJSON_GetObjectItemCaseSensitive(r, "data");
	print_time(t, when);
	printf("%8.0f  %s  ", jnum(cJSON_GetObjectItemCaseSensitive(r, "metadata"), "sequence"),
	       when);
	print_value(jstr(r, "class"));
	putchar('/');
	print_value(jstr(r, "activity"));
	fputs("  ", stdout);
	print_value(jstr(r, "outcome"));
	fputs("  ", stdout);
	print_value(jstr(r, "severity"));
	fputs("  ", stdout);
	print_value(jstr(actor, "process"));
	if (cJSON_GetObjectItemCaseSensitive(actor, "pid") != NULL)
		printf("[%.0f]", jnum(actor, "pid"));
	d = data != NULL ? cJSON_PrintUnformatted(data) : NULL;
	if (d != NULL) {
		putchar(' ');
		print_safe(d, strlen(d), wd_safe_json);
		free(d);
	}
	putchar('\n');
	cJSON_Delete(r);
}

static int show_all(const struct logset *ls, const struct show_opts *o)
{
	struct wd_err err;

	for (size_t i = 0; i < ls->n; i++) {
		struct lines l;
		const char *line = NULL;
		size_t len = 0;
		int r;

		if (lines_open(&l, ls->seg[i].path, &err) < 0) {
			wd_error("%s", err.msg);
			return WD_EXIT_LAUNCHER;
		}
		while ((r = lines_next(&l, &line, &len, &err)) == 1)
			if (!wd_verify_is_header(line, len))
				show_line(line, len, o);
		lines_close(&l);
		if (r < 0)
			wd_warn("%s: %s", base(ls->seg[i].path), err.msg);
	}
	return fflush(stdout) == 0 ? 0 : WD_EXIT_LAUNCHER;
}

/* ---- prune ---------------------------------------------------------------------- */

static int prune_all(struct logset *ls, uint64_t age_ms, bool apply)
{
	struct verify_opts vo = {.quiet = true};
	time_t now = time(NULL);
	size_t planned = 0;

	for (size_t i = 0; i < ls->n;) {
		size_t j = i;

		while (j < ls->n && strcmp(ls->seg[j].boot, ls->seg[i].boot) == 0)
			j++;
		(void)verify_log(ls, i, j, &vo, NULL);
		for (size_t k = i; k + 1 < j; k++) {
			struct segment *s = &ls->seg[k];
			uint64_t old_ms = now > s->mtime ? (uint64_t)(now - s->mtime) * 1000 : 0;

			if (old_ms < age_ms)
				continue;
			if (!s->verified) {
				printf("keep   %s: its checkpoint did not verify\n", base(s->path));
				continue;
			}
			planned++;
			if (!apply) {
				printf("remove %s (records %llu..%llu, %llu days old)\n",
				       base(s->path), (unsigned long long)s->first,
				       (unsigned long long)s->last,
				       (unsigned long long)(old_ms / 86400000));
			} else if (unlink(s->path) < 0) {
				wd_error_sys(errno, "%s", s->path);
				return WD_EXIT_LAUNCHER;
			} else {
				printf("removed %s\n", base(s->path));
			}
		}
		i = j;
	}
	if (!apply)
		printf("%zu segments to remove; nothing changed (--apply removes them)\n", planned);
	return fflush(stdout) == 0 ? 0 : WD_EXIT_LAUNCHER;
}

/* ---- the command ------------------------------------------------------------------ */

static const char *value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		wd_error("%s needs a value", argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

int wd_audit_main(int argc, char **argv)
{
	struct verify_opts vo = {0};
	struct show_opts so = {0};
	const char *cmd = argc > 0 ? argv[0] : NULL, *path = NULL, *age = NULL;
	bool apply = false;
	struct logset ls;
	struct wd_err err;
	int rc;

	if (cmd == NULL || strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		fputs(usage, cmd == NULL ? stderr : stdout);
		return cmd == NULL ? WD_EXIT_LAUNCHER : 0;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;

		if (a[0] != '-') {
			if (path != NULL) {
				wd_error("audit %s: one DIR or FILE only", cmd);
				return WD_EXIT_LAUNCHER;
			}
			path = a;
			continue;
		}
		if (strcmp(a, "--apply") == 0) {
			apply = true;
			continue;
		}
		if (strcmp(a, "--json") == 0) {
			so.json = true;
			continue;
		}
		if ((v = value(argc, argv, &i)) == NULL)
			return WD_EXIT_LAUNCHER;
		if (strcmp(a, "--pubkey") == 0)
			vo.pubkey = v;
		else if (strcmp(a, "--checkpoint") == 0)
			vo.checkpoint = v;
		else if (strcmp(a, "--class") == 0)
			so.cls = v;
		else if (strcmp(a, "--outcome") == 0)
			so.outcome = v;
		else if (strcmp(a, "--older-than") == 0)
			age = v;
		else if ((strcmp(a, "--since") == 0 && parse_time(v, &so.since_ms, &err) < 0) ||
			 (strcmp(a, "--until") == 0 && parse_time(v, &so.until_ms, &err) < 0)) {
			wd_error("%s: %s", a, err.msg);
			return WD_EXIT_LAUNCHER;
		} else if (strcmp(a, "--since") != 0 && strcmp(a, "--until") != 0) {
			wd_error("audit %s: unknown option %s (warden audit --help)", cmd, a);
			return WD_EXIT_LAUNCHER;
		}
	}
	if (path == NULL) {
		wd_error("audit %s: DIR or FILE missing (warden audit --help)", cmd);
		return WD_EXIT_LAUNCHER;
	}
	if (list_logs(path, &ls, &err) < 0) {
		wd_error("%s", err.msg);
		free(ls.seg);
		return WD_EXIT_LAUNCHER;
	}
	vo.path = path;
	if (strcmp(cmd, "verify") == 0) {
		rc = verify_all(&ls, &vo);
	} else if (strcmp(cmd, "show") == 0) {
		rc = show_all(&ls, &so);
	} else if (strcmp(cmd, "prune") == 0) {
		uint64_t ms = 0;

		if (age == NULL || ls.dir[0] == '\0' || parse_time(age, &ms, &err) < 0 ||
		    strchr("smhd", age[strlen(age) - 1]) == NULL) {
			wd_error(
				"audit prune: DIR and --older-than AGE (30d, 12h, ...) are needed");
			rc = WD_EXIT_LAUNCHER;
		} else {
			struct timespec now;

			(void)clock_gettime(CLOCK_REALTIME, &now);
			rc = prune_all(&ls, (uint64_t)now.tv_sec * 1000 - ms, apply);
		}
	} else {
		wd_error("audit: unknown command '%s' (verify, show, prune)", cmd);
		rc = WD_EXIT_LAUNCHER;
	}
	free(ls.seg);
	return rc;
}
