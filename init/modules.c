/*
 * init/modules.c - load the image's kernel modules, then forbid any more.
 *
 * The image build resolved the dependency order from modules.dep, so init
 * only walks a list: finit_module() on each file in turn. Loading from an
 * fd of a file inside the initramfs means the kernel checks the module's
 * signature itself where it enforces them. Then kernel.modules_disabled=1:
 * from here on no code can enter the kernel as a module, whatever happens
 * to the supervisor or the agent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "init.h"

#define KVER_MAX_BYTES 128
#define LINE_MAX_BYTES 512

static bool relpath_ok(const char *p)
{
	if (p[0] == '/' || p[0] == '\0')
		return false;
	for (const char *s = p; *s != '\0'; s++) {
		if (*s < 0x21 || *s > 0x7e)
			return false;
	}
	/* No ".." component anywhere. */
	for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2) {
		bool start = s == p || s[-1] == '/';
		bool end = s[2] == '\0' || s[2] == '/';

		if (start && end)
			return false;
	}
	return true;
}

int init_modules_parse(const char *text, size_t len, init_module_fn fn, void *ctx,
		       struct wd_err *err)
{
	char kver[KVER_MAX_BYTES] = "";
	char line[LINE_MAX_BYTES];
	unsigned lineno = 0, count = 0;
	size_t pos = 0;

	if (len > INIT_MODULES_FILE_MAX_BYTES)
		return wd_err_set(err, E2BIG, "module list over %d bytes",
				  INIT_MODULES_FILE_MAX_BYTES);
	while (pos < len) {
		size_t n = 0, start, end;

		lineno++;
		while (pos < len && text[pos] != '\n') {
			if (text[pos] == '\0')
				return wd_err_set(err, EINVAL, "line %u: NUL byte", lineno);
			if (n + 1 >= sizeof(line))
				return wd_err_set(err, E2BIG, "line %u: over %d bytes", lineno,
						  LINE_MAX_BYTES - 1);
			line[n++] = text[pos++];
		}
		pos++; /* the newline */
		line[n] = '\0';
		for (start = 0; line[start] == ' ' || line[start] == '\t'; start++)
			;
		for (end = n; end > start && (line[end - 1] == ' ' || line[end - 1] == '\t' ||
					      line[end - 1] == '\r');
		     end--)
			;
		line[end] = '\0';
		if (line[start] == '\0' || line[start] == '#')
			continue;
		if (kver[0] == '\0') {
			if (strncmp(line + start, "kver ", 5) != 0 || !relpath_ok(line + start + 5) ||
			    strchr(line + start + 5, '/') != NULL || end - start - 5 >= sizeof(kver))
				return wd_err_set(err, EINVAL,
						  "line %u: expected 'kver VERSION' first", lineno);
			memcpy(kver, line + start + 5, end - start - 5 + 1);
			continue;
		}
		if (!relpath_ok(line + start))
			return wd_err_set(err, EINVAL, "line %u: '%s' is not a relative module path",
					  lineno, line + start);
		if (++count > INIT_MODULES_MAX)
			return wd_err_set(err, E2BIG, "more than %d modules", INIT_MODULES_MAX);
		if (fn(kver, line + start, ctx, err) < 0)
			return -err->code;
	}
	if (kver[0] == '\0')
		return wd_err_set(err, EINVAL, "no 'kver VERSION' line");
	return 0;
}

struct load_stats {
	unsigned loaded, present, failed;
};

static int load_one(const char *kver, const char *relpath, void *ctx, struct wd_err *err)
{
	struct load_stats *st = ctx;
	char path[LINE_MAX_BYTES + KVER_MAX_BYTES + 16];
	uint64_t t = wd_mono_ns();
	int fd, rc;

	(void)err;
	(void)snprintf(path, sizeof(path), "/lib/modules/%s/%s", kver, relpath);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		wd_error("module %s: open: %s", relpath, strerror(errno));
		st->failed++;
		return 0;
	}
	rc = (int)syscall(SYS_finit_module, fd, "", 0);
	if (rc < 0 && errno == EEXIST) {
		wd_info("module %s: already loaded", relpath);
		st->present++;
	} else if (rc < 0) {
		wd_error("module %s: finit_module: %s", relpath, strerror(errno));
		st->failed++;
	} else {
		wd_info("module %s: loaded (%.1f ms)", relpath,
			(double)(wd_mono_ns() - t) / (double)WD_NS_PER_MS);
		st->loaded++;
	}
	(void)close(fd);
	return 0;
}

int init_modules_load(struct wd_err *err)
{
	static char text[INIT_MODULES_FILE_MAX_BYTES + 1];
	struct load_stats st = {0, 0, 0};
	size_t len;

	if (access(INIT_MODULES_FILE, F_OK) == 0) {
		if (wd_read_file(INIT_MODULES_FILE, text, sizeof(text), &len, err) < 0 ||
		    init_modules_parse(text, len, load_one, &st, err) < 0)
			return wd_err_wrap(err, "modules: %s", INIT_MODULES_FILE);
		wd_info("modules: %u loaded, %u already present, %u failed", st.loaded, st.present,
			st.failed);
	} else {
		wd_info("modules: the image lists none (%s absent)", INIT_MODULES_FILE);
	}
	/* Whatever loaded, nothing more may: this is not optional. */
	if (wd_write_file("/proc/sys/kernel/modules_disabled", "1", err) < 0)
		return wd_err_wrap(err, "modules: lock");
	wd_info("modules: loading disabled (kernel.modules_disabled=1)");
	return 0;
}
