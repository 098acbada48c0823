/* host/vmm.c - what both back ends of vmm.h share. */
#include "vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define TAIL_BYTES 8192 /* read from the end of a log */

void wd_vmm_init(struct wd_vmm *v, const struct wd_vmm_ops *ops, const char *tmpdir)
{
	memset(v, 0, sizeof(*v));
	v->ops = ops;
	v->child.pid = 0;
	v->child.pidfd = -1;
	v->listen_fd = -1;
	v->agent_id.fd = -1;
	(void)snprintf(v->sock_path, sizeof(v->sock_path), "%s/chan.sock", tmpdir);
	(void)snprintf(v->console_path, sizeof(v->console_path), "%s/console.log", tmpdir);
	(void)snprintf(v->vmm_log_path, sizeof(v->vmm_log_path), "%s/vmm.log", tmpdir);
}

int wd_vmm_fd(const struct wd_vmm *v)
{
	return v->child.pidfd;
}

bool wd_vmm_ended(struct wd_vmm *v)
{
	return wd_child_reap(&v->child);
}

void wd_vmm_print_tail(const char *path, const char *prefix, int lines)
{
	char buf[TAIL_BYTES + 1], out[TAIL_BYTES + 64];
	struct stat st;
	ssize_t n;
	size_t start, o = 0;
	bool line_start = true;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);

	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || st.st_size == 0) {
		(void)close(fd);
		return;
	}
	n = pread(fd, buf, TAIL_BYTES, st.st_size > TAIL_BYTES ? st.st_size - TAIL_BYTES : 0);
	(void)close(fd);
	if (n <= 0)
		return;
	if (buf[n - 1] == '\n')
		n--;
	start = (size_t)n;
	for (int seen = 0; start > 0; start--)
		if (buf[start - 1] == '\n' && ++seen == lines)
			break;
	for (size_t i = start; i <= (size_t)n; i++) {
		unsigned char c = i < (size_t)n ? (unsigned char)buf[i] : '\n';

		if (c == '\r')
			continue; /* the serial console ends its lines with CR LF */
		for (const char *p = prefix; line_start && *p != '\0'; p++)
			out[o++] = *p;
		/* The guest wrote this: nothing in it may drive the terminal, so
		 * printable ASCII only (no C0, DEL, or C1 in any encoding). */
		out[o++] = c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		line_start = c == '\n';
		if (line_start || o > sizeof(out) - 32) {
			(void)!write(STDERR_FILENO, out, o);
			o = 0;
		}
	}
}

void wd_vmm_print_logs(const struct wd_vmm *v)
{
	wd_vmm_print_tail(v->vmm_log_path, "  vmm| ", WD_VMM_CONSOLE_TAIL_LINES);
	wd_vmm_print_tail(v->console_path, "  console| ", WD_VMM_CONSOLE_TAIL_LINES);
}

int wd_vmm_pause(struct wd_vmm *v, int fd, int ms, const struct wd_intr *intr)
{
	struct pollfd pfd[3] = {
		{.fd = fd, .events = POLLIN, .revents = 0},
		{.fd = v->child.pidfd, .events = POLLIN, .revents = 0},
		{.fd = intr != NULL ? intr->fd : -1, .events = POLLIN, .revents = 0},
	};

	if (poll(pfd, 3, ms) < 0 && errno != EINTR)
		return -errno;
	if (intr != NULL && (pfd[2].revents & POLLIN) != 0 && intr->check(intr->ctx))
		return -EINTR;
	return 0;
}

int wd_vmm_sockaddr(const struct wd_vmm *v, struct sockaddr_un *addr, struct wd_err *err)
{
	size_t n = strlen(v->sock_path);

	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (n >= sizeof(addr->sun_path))
		return wd_err_set(err, ENAMETOOLONG, "channel: socket path %s too long",
				  v->sock_path);
	memcpy(addr->sun_path, v->sock_path, n + 1);
	return 0;
}
