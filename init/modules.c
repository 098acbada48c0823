/*
 * init/modules.c - load the image's kernel modules, then forbid any more.
 *
 * The image build resolved the dependency order from modules.dep, so init
 * only walks a list: finit_module() on each file in turn. Loading from an
 * fd of a file inside the initramfs means the kernel checks the module's
 * signature itself where it enforces them. Then kernel.modules_disabled=1:
 * from here on no code can enter the kernel as a module, whatever happens
 * to the supervisor or the agent.
 *
 * Module parameters on the kernel command line ("virtio_mmio.device=..."
 * from Firecracker or QEMU without ACPI) are applied by the kernel only to
 * built-in code; for a loadable module modprobe would pass them. init does
 * the same: each module gets the "NAME.key=value" tokens of its own name.
 *
 * Every listed module is needed (the channel, vsock, entropy, network,
 * the root filesystem), so any failure, or a list built for another
 * kernel, stops the boot.
 *
 * Signatures: the host boots with module.sig_enforce=1, so the kernel
 * refuses a module whose signature does not verify against its built-in
 * keys (finit_module fails, EKEYREJECTED or ENOKEY, and the boot stops
 * naming the module). Before loading anything init reads the kernel's
 * sig_enforce parameter and refuses to go on when it is off, unless
 * warden.module_sig=optional says the operator accepts unsigned modules.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "init.h"

#define KVER_MAX_BYTES 128
#define LINE_MAX_BYTES 512
#define PARAMS_MAX_BYTES 1024 /* all command-line parameters of one module */
#define MODNAME_MAX_BYTES 64

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

int init_modules_parse(const char *text, size_t len, init_kver_fn kver_fn, init_module_fn fn,
		       void *ctx, struct wd_err *err)
{
	char kver[KVER_MAX_BYTES] = "";
	char line[LINE_MAX_BYTES];
	unsigned lineno = 0, count = 0;
	size_t pos = 0;

	if (len > INIT_MODULES_FILE_MAX_BYTES)
		return wd_err_set(err, E2BIG, "module list over %lu bytes",
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
			if (strncmp(line + start, "kver ", 5) != 0 ||
			    !relpath_ok(line + start + 5) ||
			    strchr(line + start + 5, '/') != NULL ||
			    end - start - 5 >= sizeof(kver))
				return wd_err_set(err, EINVAL,
						  "line %u: expected 'kver VERSION' first", lineno);
			memcpy(kver, line + start + 5, end - start - 5 + 1);
			if (kver_fn != NULL && kver_fn(kver, ctx, err) < 0)
				return -err->code;
			continue;
		}
		if (!relpath_ok(line + start))
			return wd_err_set(err, EINVAL,
					  "line %u: '%s' is not a relative module path", lineno,
					  line + start);
		if (++count > INIT_MODULES_MAX)
			return wd_err_set(err, E2BIG, "more than %d modules", INIT_MODULES_MAX);
		if (fn(kver, line + start, ctx, err) < 0)
			return -err->code;
	}
	if (kver[0] == '\0')
		return wd_err_set(err, EINVAL, "no 'kver VERSION' line");
	return 0;
}

/* "kernel/drivers/virtio/virtio-mmio.ko" -> "virtio_mmio", as the kernel names it. */
static int module_name(const char *relpath, char *name, size_t size)
{
	const char *base = strrchr(relpath, '/');
	size_t n;

	base = base != NULL ? base + 1 : relpath;
	n = strcspn(base, ".");
	if (n == 0 || n >= size)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		name[i] = base[i] == '-' ? '_' : base[i];
	name[n] = '\0';
	return 0;
}

int init_module_params(const char *cmdline, const char *name, char *out, size_t size,
		       struct wd_err *err)
{
	size_t name_len = strlen(name), used = 0;
	const char *p = cmdline;

	out[0] = '\0';
	while (*p != '\0') {
		const char *tok = p, *end;
		size_t i, len;

		while (*tok == ' ' || *tok == '\t' || *tok == '\n')
			tok++;
		if (*tok == '\0')
			break;
		if (tok[0] == '-' && tok[1] == '-' &&
		    (tok[2] == ' ' || tok[2] == '\t' || tok[2] == '\0' || tok[2] == '\n'))
			break; /* the rest belongs to init's argv */
		end = tok;
		for (bool quoted = false; *end != '\0'; end++) {
			if (*end == '"')
				quoted = !quoted;
			else if (!quoted && (*end == ' ' || *end == '\t' || *end == '\n'))
				break;
		}
		p = end;
		len = (size_t)(end - tok);
		/* Compare the prefix with '-' and '_' equivalent. */
		for (i = 0; i < name_len && i < len; i++) {
			char c = tok[i] == '-' ? '_' : tok[i];

			if (c != name[i])
				break;
		}
		if (i != name_len || len <= name_len + 1 || tok[name_len] != '.')
			continue;
		tok += name_len + 1;
		len -= name_len + 1;
		if (used + len + 2 > size)
			return wd_err_set(err, E2BIG, "module %s: parameters over %zu bytes", name,
					  size - 1);
		if (used > 0)
			out[used++] = ' ';
		memcpy(out + used, tok, len);
		used += len;
		out[used] = '\0';
	}
	return 0;
}

struct load_ctx {
	const char *cmdline;
	unsigned loaded, present;
};

static int load_one(const char *kver, const char *relpath, void *ctx, struct wd_err *err)
{
	struct load_ctx *lc = ctx;
	char path[LINE_MAX_BYTES + KVER_MAX_BYTES + 16], name[MODNAME_MAX_BYTES];
	char params[PARAMS_MAX_BYTES];
	uint64_t t = wd_mono_ns();
	int fd, rc;

	if (module_name(relpath, name, sizeof(name)) < 0)
		return wd_err_set(err, EINVAL, "module %s: bad file name", relpath);
	if (init_module_params(lc->cmdline, name, params, sizeof(params), err) < 0)
		return -err->code;
	(void)snprintf(path, sizeof(path), "/lib/modules/%s/%s", kver, relpath);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return wd_err_sys(err, errno, "module %s: open %s", name, path);
	rc = (int)syscall(SYS_finit_module, fd, params, 0);
	if (rc < 0 && errno == EEXIST) {
		wd_info("module %s: already loaded", name);
		lc->present++;
	} else if (rc < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "module %s: finit_module", name);
	} else {
		wd_info("module %s: loaded%s%s (%.1f ms)", name, params[0] != '\0' ? " with " : "",
			params, (double)(wd_mono_ns() - t) / (double)WD_NS_PER_MS);
		lc->loaded++;
	}
	(void)close(fd);
	return 0;
}

/* The list names the kernel it was resolved for; loading it into another is a broken image. */
static int check_kver(const char *kver, void *ctx, struct wd_err *err)
{
	struct utsname u;

	(void)ctx;
	if (uname(&u) < 0)
		return wd_err_sys(err, errno, "uname");
	if (strcmp(u.release, kver) != 0)
		return wd_err_set(err, EINVAL, "the image's modules are for kernel %s, this is %s",
				  kver, u.release);
	return 0;
}

bool init_module_sig_enforced(void)
{
	char v[8];
	struct wd_err err;
	size_t len;

	/* Absent: a kernel without CONFIG_MODULE_SIG, which checks nothing. */
	return wd_read_file(INIT_MODULE_SIG_FILE, v, sizeof(v), &len, &err) == 0 && len >= 1 &&
	       v[0] == 'Y';
}

int init_module_sig_check(enum init_module_sig want, bool *enforced, struct wd_err *err)
{
	*enforced = init_module_sig_enforced();
	if (*enforced) {
		wd_info("modules: the kernel enforces module signatures (sig_enforce Y)");
		return 0;
	}
	if (want == INIT_MODULE_SIG_OPTIONAL) {
		wd_warn("modules: the kernel does not enforce module signatures; accepted "
			"(warden.module_sig=optional)");
		return 0;
	}
	return wd_err_set(err, EPERM,
			  "modules: the kernel does not enforce module signatures (%s is not Y): "
			  "boot with module.sig_enforce=1, or accept it with "
			  "warden.module_sig=optional",
			  INIT_MODULE_SIG_FILE);
}

int init_modules_load(const char *cmdline, struct wd_err *err)
{
	static char text[INIT_MODULES_FILE_MAX_BYTES + 1];
	struct load_ctx lc = {cmdline, 0, 0};
	size_t len;

	if (access(INIT_MODULES_FILE, F_OK) == 0) {
		if (wd_read_file(INIT_MODULES_FILE, text, sizeof(text), &len, err) < 0 ||
		    init_modules_parse(text, len, check_kver, load_one, &lc, err) < 0)
			return wd_err_wrap(err, "modules: %s", INIT_MODULES_FILE);
		wd_info("modules: %u loaded, %u already present", lc.loaded, lc.present);
	} else {
		wd_info("modules: the image lists none (%s absent)", INIT_MODULES_FILE);
	}
	/* Whatever loaded, nothing more may: this is not optional. */
	if (wd_write_file("/proc/sys/kernel/modules_disabled", "1", err) < 0)
		return wd_err_wrap(err, "modules: lock");
	wd_info("modules: loading disabled (kernel.modules_disabled=1)");
	return 0;
}
