/*
 * sandbox/sbnotify.c - the seccomp notification listener: every
 * notification of the agent's filter (sbfilter.c) received, answered with
 * its errno (never success) or, for an audited exec, let through once what
 * it asked is kept for the exec watcher (sbexec.c), which records the file
 * that runs; a memfd_create, when execs are audited, made by the watcher.
 *
 * Runs in the supervisor (and in warden sandbox on the host), as root,
 * on notifications whose contents the agent controls: the syscall number,
 * its arguments, and the memory an exec's strings are read from.
 */
#include "sandbox_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bearssl.h>

#include "../common/jcanon.h"
#include "../common/tlog.h"

/* x32 numbers are x86_64's with bit 30 set, and positive: a negative number
 * (syscall(-1), whose bits include bit 30) is an x86_64 call the kernel
 * answers ENOSYS, as it does any number out of its table. */
static bool x32_nr(int nr)
{
	return nr >= 0 && (nr & 0x40000000) != 0;
}

static const char *abi_name(uint32_t arch, int nr)
{
	if (arch == SCMP_ARCH_X86)
		return "i386";
	if (arch == SCMP_ARCH_X86_64 && x32_nr(nr))
		return "x32";
	return arch == SCMP_ARCH_X86_64 ? "x86_64" : "other";
}

/* A system call's name, resolved by libseccomp once per number (the
 * resolution is a table walk and an allocation: too slow per denial). */
static const char *syscall_name(const char *abi, int nr)
{
	static char names[2][SUP_SB_SYSCALL_TABLE][SUP_SC_NAME_MAX + 1];
	static char other[SUP_SC_NAME_MAX + 1];
	bool i386 = strcmp(abi, "i386") == 0;
	int n = x32_nr(nr) ? nr & ~0x40000000 : nr;
	char *slot = n >= 0 && n < SUP_SB_SYSCALL_TABLE ? names[i386][n] : other;
	char *resolved;

	if (slot != other && slot[0] != '\0')
		return slot;
	resolved = seccomp_syscall_resolve_num_arch(i386 ? SCMP_ARCH_X86 : SCMP_ARCH_X86_64, n);
	(void)snprintf(slot, SUP_SC_NAME_MAX + 1, "%s", resolved != NULL ? resolved : "?");
	free(resolved);
	return slot;
}

int sup_sb_filter_receive(int listener, const struct sup_sb_errnos *e, struct sup_sb_denial *d)
{
	/* One request and one response, reused: the kernel's sizes never change. */
	static struct seccomp_notif *req;
	static struct seccomp_notif_resp *resp;
	int rc;

	memset(d, 0, sizeof(*d));
	if (req == NULL && seccomp_notify_alloc(&req, &resp) < 0)
		return -ENOMEM;
	memset(req, 0, sizeof(*req)); /* the kernel refuses a request that is not zeroed */
	rc = seccomp_notify_receive(listener, req);
	if (rc < 0) /* ENOENT: the caller died before we read it; EINTR: again later. */
		return rc == -ENOENT || rc == -EINTR ? 0 : rc;
	d->nr = req->data.nr;
	d->abi = abi_name(req->data.arch, d->nr);
	d->pid = (pid_t)req->pid;
	d->id = req->id;
	memcpy(d->args, req->data.args, sizeof(d->args));
	d->err = ENOSYS;
	if (strcmp(d->abi, "x86_64") == 0)
		d->err = d->nr >= 0 && d->nr < SUP_SB_SYSCALL_TABLE && e->by_nr[d->nr] != 0
				 ? e->by_nr[d->nr]
				 : e->dflt;
	d->exec = d->err == SUP_SB_EXEC;
	d->memfd = d->err == SUP_SB_MEMFD;
	d->net = d->err == SUP_SB_NET;
	if (d->net) /* until sup_sb_net_check() has read the address */
		d->err = ENETUNREACH;
	if (d->exec)
		d->err = 0;
	if (d->memfd) /* refused unless the exec watcher makes it */
		d->err = EPERM;
	d->name = syscall_name(d->abi, d->nr);
	return 1;
}

int sup_sb_filter_answer(int listener, const struct sup_sb_errnos *e, struct sup_sb_denial *d)
{
	int rc = sup_sb_filter_receive(listener, e, d);

	if (rc > 0)
		sup_sb_filter_respond(listener, d);
	return rc;
}

void sup_sb_filter_respond(int listener, const struct sup_sb_denial *d)
{
	static struct seccomp_notif_resp resp;
	bool go_on = d->exec || (d->net && d->net_local);

	resp.id = d->id;
	resp.val = 0;
	/* An audited exec, and a network call to this host, go on as the
	 * filter would have let them without the check; everything else fails
	 * with its errno, never 0. */
	resp.error = go_on ? 0 : -(d->err != 0 ? d->err : ENOSYS);
	resp.flags = go_on ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0;
	(void)seccomp_notify_respond(listener, &resp); /* ENOENT: it died meanwhile */
}

static void answer_memfd(int listener, const struct sup_sb_exec *x, const struct sup_sb_denial *d);

/* One received notification: kept for the watcher, made by it, or a
 * denial recorded; then answered. */
static int handle(int listener, struct sup_sb_exec *x, struct sup_sb_denial *d,
		  int (*record)(void *ctx, const struct sup_sb_denial *d), void *ctx)
{
	if (d->memfd && x != NULL) {
		answer_memfd(listener, x, d);
		return 0;
	}
	/* Gone meanwhile: the kernel has ended the call, nothing to answer. */
	if (d->net && sup_sb_net_check(listener, d) < 0)
		return 0;
	/* To this host, or refused as the kernel would refuse it: no record. */
	if (d->net && !d->net_bypass) {
		sup_sb_filter_respond(listener, d);
		return 0;
	}
	if (d->exec && x != NULL)
		sup_sb_exec_expect(x, listener, d);
	else if (d->exec) { /* no watcher to see what runs: refused */
		d->exec = false;
		d->err = EPERM;
	}
	/* The record first: the caller waits until it exists. */
	if (!d->exec && record(ctx, d) < 0)
		return -1;
	sup_sb_filter_respond(listener, d);
	return 0;
}

int sup_sb_filter_drain(int *listener, short revents, const struct sup_sb_errnos *e,
			struct sup_sb_exec *x, int max,
			int (*record)(void *ctx, const struct sup_sb_denial *d), void *ctx)
{
	for (int i = 0; i < max && (revents & POLLIN); i++) {
		struct pollfd p = {.fd = *listener, .events = POLLIN, .revents = 0};
		struct sup_sb_denial d;
		int rc = sup_sb_filter_receive(*listener, e, &d);

		if (rc < 0) {
			revents = POLLHUP;
			break;
		}
		if (rc > 0 && handle(*listener, x, &d, record, ctx) < 0)
			return -1;
		revents = poll(&p, 1, 0) > 0 ? p.revents : 0;
	}
	/* Every process under the filter is gone. */
	if ((revents & (POLLHUP | POLLERR)) && !(revents & POLLIN)) {
		(void)close(*listener);
		*listener = -1;
	}
	return 0;
}

static const char *errno_name(int e)
{
	switch (e) {
	case EPERM:
		return "EPERM";
	case ENOSYS:
		return "ENOSYS";
	case EACCES:
		return "EACCES";
	case EAFNOSUPPORT:
		return "EAFNOSUPPORT";
	case EINVAL:
		return "EINVAL";
	case ENETUNREACH:
		return "ENETUNREACH";
	case EFAULT:
		return "EFAULT";
	default:
		return "other";
	}
}

/* "0x" and lower-case hex without leading zeros, by hand (every denial). */
static void hex_arg(uint64_t v, char out[20])
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0;

	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v != 0);
	out[0] = '0';
	out[1] = 'x';
	for (size_t i = 0; i < n; i++)
		out[2 + i] = tmp[n - 1 - i];
	out[2 + n] = '\0';
}

/* A network bypass's data (docs/audit.md): what the call named. */
static int bypass_json(const struct sup_sb_denial *d, const struct sup_sb_denial_count *c,
		       char *out, size_t size)
{
	const struct sup_sb_bypass *b = &d->bypass;
	struct wd_jw w;

	wd_jw_init(&w, out, size);
	if (b->address[0] != '\0')
		wd_jw_str(&w, "address", b->address);
	else
		wd_jw_raw(&w, "address", "null", 4);
	wd_jw_uint(&w, "count", c != NULL ? c->count : 1);
	wd_jw_str(&w, "errno", errno_name(d->err));
	wd_jw_str(&w, "family", b->family);
	if (c != NULL) {
		wd_jw_uint(&w, "first_time", c->first_ms);
		wd_jw_uint(&w, "last_time", c->last_ms);
	}
	if (b->has_port)
		wd_jw_uint(&w, "port", b->port);
	else
		wd_jw_raw(&w, "port", "null", 4);
	wd_jw_str(&w, "syscall", d->name != NULL ? d->name : "?");
	return wd_jw_end(&w) < 0 ? -ENOSPC : (int)w.len;
}

int sup_sb_denial_json(const struct sup_sb_denial *d, const struct sup_sb_denial_count *c,
		       char *out, size_t size)
{
	struct wd_jw w;
	char arg[6][20];

	if (d->net && d->net_bypass)
		return bypass_json(d, c, out, size);
	wd_jw_init(&w, out, size);
	wd_jw_str(&w, "abi", d->abi);
	wd_jw_array(&w, "args"); /* hex strings: a 64-bit value is over JSON's exact 2^53 */
	for (size_t i = 0; i < 6; i++) {
		hex_arg(d->args[i], arg[i]);
		wd_jw_str(&w, NULL, arg[i]);
	}
	wd_jw_close(&w);
	wd_jw_uint(&w, "count", c != NULL ? c->count : 1);
	wd_jw_str(&w, "errno", errno_name(d->err));
	if (c != NULL) {
		wd_jw_uint(&w, "first_time", c->first_ms);
		wd_jw_uint(&w, "last_time", c->last_ms);
	}
	/* As seccomp_data holds it, unsigned (a record has no negative numbers):
	 * syscall(-1) is 4294967295. */
	wd_jw_uint(&w, "nr", (uint32_t)d->nr);
	wd_jw_str(&w, "syscall", d->name != NULL ? d->name : "?");
	return wd_jw_end(&w) < 0 ? -ENOSPC : (int)w.len;
}

/* ---- audited execs ------------------------------------------------------------ */

/* A NUL-terminated string of the caller's at `addr`, at most `size` - 1
 * bytes, read page by page (the next page may not be mapped). Its length,
 * or -1. */
static ssize_t read_string(int mem, uint64_t addr, char *out, size_t size)
{
	size_t got = 0;

	while (got + 1 < size) {
		size_t room = 4096 - (size_t)((addr + got) % 4096), want = size - 1 - got;
		ssize_t n = pread(mem, out + got, room < want ? room : want, (off_t)(addr + got));
		char *nul;

		if (n <= 0)
			return -1;
		nul = memchr(out + got, '\0', (size_t)n);
		if (nul != NULL)
			return nul - out;
		got += (size_t)n;
	}
	out[size - 1] = '\0';
	return (ssize_t)(size - 1); /* cut: the digest says so by its count */
}

/* The arguments past the first SUP_SB_EXEC_ARGS are only counted: argv's
 * pointers from index `from` to its NULL, read a page at a time, at most
 * SUP_SB_EXEC_COUNT_MAX in all. */
static uint64_t count_args(int mem, uint64_t argv, uint64_t from)
{
	uint64_t p[512], n = from;

	while (n < SUP_SB_EXEC_COUNT_MAX) {
		ssize_t got = pread(mem, p, sizeof(p), (off_t)(argv + n * sizeof(p[0])));

		if (got < (ssize_t)sizeof(p[0]))
			break;
		for (size_t i = 0; i < (size_t)got / sizeof(p[0]) && n < SUP_SB_EXEC_COUNT_MAX;
		     i++, n++)
			if (p[i] == 0)
				return n;
	}
	return n;
}

int sup_sb_exec_json(int listener, const struct sup_sb_denial *d, char *out, size_t size)
{
	static char path[4096], arg[65536];
	bool at = d->nr == SCMP_SYS(execveat);
	uint64_t argv = d->args[at ? 2 : 1], total = 0;
	char file[40], digest[2 * WD_HASH_BYTES + 1];
	uint8_t h[WD_HASH_BYTES];
	br_sha256_context c;
	struct wd_jw w;
	uint64_t argc = 0, hashed;
	bool unreadable = false;
	int mem;

	(void)snprintf(file, sizeof(file), "/proc/%d/mem", (int)d->pid);
	mem = d->pid > 0 ? open(file, O_RDONLY | O_CLOEXEC) : -1;
	path[0] = '\0';
	br_sha256_init(&c);
	if (mem < 0 || read_string(mem, d->args[at ? 1 : 0], path, sizeof(path)) < 0)
		unreadable = true;
	while (!unreadable && argv != 0 && argc < SUP_SB_EXEC_ARGS) {
		uint64_t p;
		ssize_t n;

		if (pread(mem, &p, sizeof(p), (off_t)(argv + argc * sizeof(p))) !=
		    (ssize_t)sizeof(p)) {
			unreadable = true;
			break;
		}
		if (p == 0)
			break;
		n = read_string(mem, p, arg, sizeof(arg));
		if (n < 0 || (total += (uint64_t)n + 1) > SUP_SB_EXEC_BYTES) {
			unreadable = true;
			break;
		}
		br_sha256_update(&c, arg, (size_t)n + 1);
		argc++;
	}
	hashed = argc;
	if (!unreadable && argc == SUP_SB_EXEC_ARGS)
		argc = count_args(mem, argv, argc);
	if (mem >= 0)
		(void)close(mem);
	/* The notification must still be pending, else pid may be another's. */
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &d->id) < 0)
		unreadable = true;
	br_sha256_out(&c, h);
	wd_hex(h, sizeof(h), digest);
	wd_jw_init(&w, out, size);
	wd_jw_uint(&w, "argc", argc);
	wd_jw_str(&w, "argv_sha256", digest);
	if (hashed < argc)
		wd_jw_bool(&w, "argv_truncated", true);
	if (at)
		wd_jw_uint(&w, "flags", (uint32_t)d->args[4]);
	wd_jw_str_bounded(&w, "path", path, strlen(path), SUP_SB_EXEC_SHOWN);
	wd_jw_str(&w, "syscall", at ? "execveat" : "execve");
	if (unreadable)
		wd_jw_bool(&w, "unreadable", true);
	return wd_jw_end(&w) < 0 ? -ENOSPC : (int)w.len;
}

/* The longest "requested" object: a cut path and every other member at
 * its widest (checked by tests/unit/test_sandbox_exec.c too). */
_Static_assert(SUP_SB_EXEC_SHOWN + WD_JW_BOUNDED_EXTRA + 256 <= SUP_SB_EXEC_REQUEST_MAX,
	       "the requested object's bound");

/*
 * memfd_create, when execs are audited. A memfd lives on the kernel's
 * internal tmpfs, which takes no mount mark, so an exec of it (execveat
 * with AT_EMPTY_PATH, or /proc/self/fd/N) would not be seen: it is made
 * here instead, with the caller's name and flags, watched by an inode mark
 * (sup_sb_exec_watch), and installed in the caller, whose call returns its
 * number (SECCOMP_ADDFD_FLAG_SEND). What the kernel would refuse is
 * refused with the kernel's errno. The memfd is root's: the agent cannot
 * fchmod or fchown it, the rest (seals, sizes, maps) is as usual.
 */
#define MFD_NAME_BYTES 249 /* the kernel's bound: NAME_MAX less "memfd:" */

static void answer_memfd(int listener, const struct sup_sb_exec *x, const struct sup_sb_denial *d)
{
	char name[MFD_NAME_BYTES + 2], file[40];
	unsigned flags = (unsigned)d->args[1];
	struct seccomp_notif_addfd add;
	struct sup_sb_denial a = *d;
	ssize_t n = -1;
	int mem, fd = -1, rc;

	(void)snprintf(file, sizeof(file), "/proc/%d/mem", (int)d->pid);
	mem = d->pid > 0 ? open(file, O_RDONLY | O_CLOEXEC) : -1;
	if (mem >= 0) {
		n = read_string(mem, d->args[0], name, sizeof(name));
		(void)close(mem);
	}
	a.memfd = false;
	if (n < 0)
		a.err = EFAULT;
	else if (n > MFD_NAME_BYTES)
		a.err = EINVAL;
	else if ((fd = memfd_create(name, flags | MFD_CLOEXEC)) < 0)
		a.err = errno;
	else if ((rc = sup_sb_exec_watch(x, fd)) < 0)
		a.err = -rc;
	else {
		memset(&add, 0, sizeof(add));
		add.id = d->id;
		add.flags = SECCOMP_ADDFD_FLAG_SEND;
		add.srcfd = (uint32_t)fd;
		add.newfd_flags = (flags & MFD_CLOEXEC) ? O_CLOEXEC : 0;
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add) >= 0) {
			(void)close(fd);
			return; /* answered with the caller's new fd */
		}
		a.err = errno; /* EMFILE: the caller's limit */
	}
	if (fd >= 0)
		(void)close(fd);
	sup_sb_filter_respond(listener, &a);
}
