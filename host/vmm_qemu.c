/*
 * host/vmm_qemu.c - the guest in a QEMU microvm (vmm.h).
 *
 * QEMU runs as the launcher's user, in its own process group, with
 * PR_SET_PDEATHSIG (host/proc.h), and is started like this (docs/cli.md):
 *
 *   qemu-system-x86_64 -M microvm ACCEL -m MEM -smp CPUS -no-reboot -nodefaults
 *     -display none -monitor none -serial file:TMP/console.log
 *     -kernel K -initrd I -append "console=ttyS0 panic=-1 init=/init quiet
 *        module.sig_enforce=1 [tsc_early_khz=2000000]
 *        warden.channel=virtio-serial warden.port=warden"
 *     -device virtio-serial-device
 *     -chardev socket,id=c0,path=TMP/chan.sock,server=on,wait=off
 *     -device virtserialport,chardev=c0,name=warden -device virtio-rng-device
 *
 * ACCEL is KVM (`-accel kvm -cpu host`) only when a probe shows that KVM
 * works: /dev/kvm can exist and still fail to run a guest (nested
 * virtualisation), so the probe boots the kernel once under KVM without an
 * initrd (it panics at once; with panic=-1 and -no-reboot QEMU exits 0)
 * and must succeed within KVM_PROBE_MS. Nothing is cached: the answer can
 * change between runs. Otherwise TCG, with a notice, and with the TSC
 * frequency on the kernel command line, without which Debian's kernel
 * cannot calibrate it on microvm under TCG and stops before init.
 *
 * The channel is vhost-vsock when the host has it (--channel auto, when
 * /dev/vhost-vsock opens; or --channel vsock): `-device
 * vhost-vsock-device,guest-cid=CID` with a random CID, and the guest
 * connects to the host (CID 2) on a random port the launcher listens on
 * (`warden.channel=vsock warden.port=PORT`); a connection from any other
 * CID is refused. Otherwise the virtio-serial port above.
 *
 * With an image directory (`--image OUTDIR`, host/image.h) QEMU boots
 * exactly what the launcher checked: it gets no path into OUTDIR, only
 * file descriptors it inherits, opened and checked by wd_image_open() (the
 * kernel and the initramfs as sealed memfd copies), which it reads as
 * /proc/self/fd/N: `-kernel /proc/self/fd/K -initrd /proc/self/fd/I`.
 * Only those fds lose close-on-exec, in the child, between fork and exec;
 * every other fd of the launcher stays closed to QEMU (host/proc.c). Two
 * read-only drives follow, the root filesystem and its dm-verity hash
 * tree, which warden-init finds by their serials and verifies before it
 * mounts anything (docs/image.md):
 *
 *     -drive file.driver=file,file.filename=/proc/self/fd/R,format=raw,
 *            if=none,id=rootfs,readonly=on
 *     -device virtio-blk-device,drive=rootfs,serial=warden-rootfs
 *     -drive file.driver=file,file.filename=/proc/self/fd/V,... id=verity ...
 *     -device virtio-blk-device,drive=verity,serial=warden-verity
 *
 * file.driver=file says what the name is: QEMU never reads it as a
 * protocol (`nbd:`, `json:`). --kernel PATH and --image FILE (an
 * initramfs) are passed as the paths the user gave.
 *
 * `init=/init` makes a failed /init a kernel panic rather than a fallback
 * to a shell; `panic=-1` with `-no-reboot` turns any panic into the end of
 * QEMU (docs/init.md). `module.sig_enforce=1` makes the kernel refuse any
 * module whose signature does not verify (Debian's kernel only checks them
 * otherwise); warden-init refuses to boot a kernel that does not enforce
 * them. The launcher connects to the chardev socket before
 * the guest can speak, so nothing written on the port is lost.
 */
#include "vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../vsock/transport.h"

#define QEMU_BINARY "qemu-system-x86_64"
#define KVM_DEVICE "/dev/kvm"
#define KVM_PROBE_MS 20000
#define KVM_PROBE_MEM "128"
#define WD_QEMU_CMDLINE_BYTES 2048 /* the x86 kernel's COMMAND_LINE_SIZE */
#define TCG_TSC_KHZ "2000000"
#define CONNECT_RETRY_MS 20
#define VHOST_VSOCK_DEVICE "/dev/vhost-vsock"
#define VSOCK_PORT_MIN 1024U
#define VSOCK_PORT_TRIES 8

/* In the child: stdin from /dev/null, stdout and stderr to `log` (or /dev/null). */
static void child_stdio(struct wd_launch *l, const char *log)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int out = log != NULL ? open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : null;

	if (null < 0 || out < 0)
		wd_launch_fail(l, errno, "open %s", log != NULL ? log : "/dev/null");
	if (dup2(null, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(out, STDERR_FILENO) < 0)
		wd_launch_fail(l, errno, "dup2");
}

/* The fds QEMU inherits (the image's files); all others close at exec. */
#define QEMU_KEEP_MAX 4
struct keep {
	int fd[QEMU_KEEP_MAX];
	size_t n;
};

/* In the child: the kept fds survive execve(). */
static void child_keep(struct wd_launch *l, const struct keep *k)
{
	for (size_t i = 0; k != NULL && i < k->n; i++)
		if (fcntl(k->fd[i], F_SETFD, 0) < 0)
			wd_launch_fail(l, errno, "keep fd %d for QEMU", k->fd[i]);
}

/* `path`, or "/proc/self/fd/N" for an inherited fd (added to `k`). */
static const char *source(const char *path, int fd, struct keep *k, char *buf, size_t size)
{
	if (fd < 0)
		return path;
	if (k->n < QEMU_KEEP_MAX)
		k->fd[k->n++] = fd;
	(void)snprintf(buf, size, "/proc/self/fd/%d", fd);
	return buf;
}

/* Start QEMU with `a`, which inherits the fds in `k` (may be NULL); its
 * output goes to `log`. */
static int spawn_qemu(struct wd_child *c, struct wd_argv *a, const struct keep *k, const char *log,
		      struct wd_err *err)
{
	struct wd_launch l;
	pid_t pid;

	if (a->overflow)
		return wd_err_set(err, E2BIG, "QEMU command line too long");
	if (wd_launch_open(&l, err) < 0)
		return -err->code;
	pid = wd_child_fork(c, err);
	if (pid < 0) {
		wd_launch_close(&l);
		return (int)pid;
	}
	if (pid == 0) {
		child_stdio(&l, log);
		child_keep(&l, k);
		execvp(a->v[0], a->v);
		wd_launch_fail(&l, errno, "start %s", a->v[0]);
	}
	if (wd_launch_result(&l, err) < 0) {
		wd_child_kill(c);
		return -err->code;
	}
	return 0;
}

/* The options every run shares, up to the kernel. */
static void common_args(struct wd_argv *a, bool kvm, const char *mem, const char *cpus)
{
	wd_argv_add(a, QEMU_BINARY);
	wd_argv_add(a, "-M");
	wd_argv_add(a, "microvm");
	wd_argv_add(a, "-accel");
	wd_argv_add(a, kvm ? "kvm" : "tcg");
	if (kvm) {
		wd_argv_add(a, "-cpu");
		wd_argv_add(a, "host");
	}
	wd_argv_add(a, "-m");
	wd_argv_add(a, "%s", mem);
	wd_argv_add(a, "-smp");
	wd_argv_add(a, "%s", cpus);
	wd_argv_add(a, "-no-reboot");
	wd_argv_add(a, "-nodefaults");
	wd_argv_add(a, "-display");
	wd_argv_add(a, "none");
	wd_argv_add(a, "-monitor");
	wd_argv_add(a, "none");
}

/* Does a guest actually run under KVM here? 1 yes, 0 no, -EINTR stop. */
static int kvm_works(const struct wd_vmm_config *c)
{
	static struct wd_argv a; /* 16 KiB: not on the stack */
	struct wd_child probe = WD_CHILD_INIT;
	struct keep k = {.n = 0};
	char kernel[32];
	struct wd_err err;
	int rc;

	if (access(KVM_DEVICE, R_OK | W_OK) < 0) {
		wd_debug_sys(errno, "kvm: %s", KVM_DEVICE);
		return 0;
	}
	wd_argv_init(&a);
	common_args(&a, true, KVM_PROBE_MEM, "1");
	wd_argv_add(&a, "-serial");
	wd_argv_add(&a, "none");
	wd_argv_add(&a, "-kernel");
	wd_argv_add(&a, "%s", source(c->kernel, c->kernel_fd, &k, kernel, sizeof(kernel)));
	wd_argv_add(&a, "-append");
	wd_argv_add(&a, "panic=-1 quiet");
	if (spawn_qemu(&probe, &a, &k, NULL, &err) < 0) {
		wd_debug("kvm probe: %s", err.msg);
		return 0;
	}
	rc = wd_child_wait(&probe, KVM_PROBE_MS, c->intr);
	if (rc <= 0) {
		wd_child_kill(&probe);
		if (rc == 0)
			wd_debug("kvm probe: no answer within %d ms", KVM_PROBE_MS);
		return rc == -EINTR ? -EINTR : 0;
	}
	if (probe.status != 0) {
		char text[80];

		wd_wait_status_text(probe.status, text, sizeof(text));
		wd_debug("kvm probe: QEMU %s", text);
		return 0;
	}
	return 1;
}

/*
 * The guest's command line: what the launcher needs (console, panic, init,
 * the channel), then the caller's warden.* keys; init takes the last value
 * of a key given twice, so they may override.
 */
static int kernel_cmdline(const struct wd_vmm *v, const struct wd_vmm_config *c, bool kvm,
			  char *buf, size_t size)
{
	char channel[64];
	int n;

	if (v->guest_cid != 0)
		(void)snprintf(channel, sizeof(channel), "warden.channel=vsock warden.port=%u",
			       v->vsock_port);
	else
		(void)snprintf(channel, sizeof(channel),
			       "warden.channel=virtio-serial warden.port=warden");
	n = snprintf(buf, size,
		     "console=ttyS0 panic=-1 init=/init quiet module.sig_enforce=1%s %s%s",
		     kvm ? "" : " tsc_early_khz=" TCG_TSC_KHZ, channel,
		     c->verbose >= 2 ? " warden.log=debug" : "");
	size_t used;

	if (n < 0 || (size_t)n >= size)
		return -E2BIG;
	used = (size_t)n;
	for (size_t i = 0; i < c->nkernel_args; i++) {
		n = snprintf(buf + used, size - used, " %s", c->kernel_args[i]);
		if (n < 0 || (size_t)n >= size - used)
			return -E2BIG;
		used += (size_t)n;
	}
	return 0;
}

static bool vhost_vsock_usable(void)
{
	int fd = open(VHOST_VSOCK_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	(void)close(fd);
	return true;
}

/*
 * vhost-vsock or virtio-serial. For vsock: a random guest CID (3 and up:
 * 0-2 are reserved) and a listening socket on a random port, so that jobs
 * side by side on one host do not meet.
 */
static int choose_channel(struct wd_vmm *v, const struct wd_vmm_config *c, struct wd_err *err)
{
	uint32_t r[2];

	if (c->channel == WD_CHANNEL_VIRTIO_SERIAL ||
	    (c->channel == WD_CHANNEL_AUTO && !vhost_vsock_usable()))
		return 0;
	if (c->channel == WD_CHANNEL_VSOCK && !vhost_vsock_usable())
		return wd_err_sys(err, errno, "--channel vsock: %s", VHOST_VSOCK_DEVICE);
	for (int i = 0; i < VSOCK_PORT_TRIES; i++) {
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return wd_err_sys(err, errno, "getrandom");
		v->vsock_port = VSOCK_PORT_MIN + r[0] % (0x7fffffffU - VSOCK_PORT_MIN);
		v->listen_fd = wd_vsock_listen(v->vsock_port, err);
		if (v->listen_fd >= 0)
			break;
		if (err->code != EADDRINUSE)
			return wd_err_wrap(err, "vhost-vsock: listen");
	}
	if (v->listen_fd < 0)
		return wd_err_wrap(err, "vhost-vsock: listen");
	/* accept4() from the poll loop must never block. */
	if (fcntl(v->listen_fd, F_SETFL, fcntl(v->listen_fd, F_GETFL) | O_NONBLOCK) < 0)
		return wd_err_sys(err, errno, "vhost-vsock: fcntl");
	v->guest_cid = 3U + r[1] % (0xfffffff0U - 3U);
	return 0;
}

/* vhost-vsock: the guest connects; only a connection from its CID counts. */
static int vsock_accept(struct wd_vmm *v, uint64_t deadline_ns, const struct wd_intr *intr,
			struct wd_err *err)
{
	for (;;) {
		struct sockaddr_vm peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(v->listen_fd, (struct sockaddr *)&peer, &len,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd >= 0) {
			if (peer.svm_family == AF_VSOCK && peer.svm_cid == v->guest_cid) {
				/* The listener stays, for a resumption (host/resume.c). */
				return fd;
			}
			wd_warn("vhost-vsock: refused a connection from CID %u (the guest is %u)",
				peer.svm_cid, v->guest_cid);
			(void)close(fd);
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			return wd_err_sys(err, errno, "vhost-vsock: accept");
		}
		if (wd_vmm_ended(v))
			return wd_err_set(err, EPIPE, "QEMU ended before the guest connected");
		if (wd_mono_ns() >= deadline_ns)
			return wd_err_set(err, ETIMEDOUT, "the guest did not connect in time");
		if (wd_vmm_pause(v, v->listen_fd, CONNECT_RETRY_MS, intr) == -EINTR)
			return wd_err_set(err, EINTR, "interrupted");
	}
}

/* One read-only raw drive on virtio-blk, the inherited `fd`, found in the
 * guest by `serial`. */
static void add_drive(struct wd_argv *a, const char *id, int fd, const char *serial, struct keep *k)
{
	char path[32];

	wd_argv_add(a, "-drive");
	wd_argv_add(a, "file.driver=file,file.filename=%s,format=raw,if=none,id=%s,readonly=on",
		    source(NULL, fd, k, path, sizeof(path)), id);
	wd_argv_add(a, "-device");
	wd_argv_add(a, "virtio-blk-device,drive=%s,serial=%s", id, serial);
}

static int qemu_start(struct wd_vmm *v, const struct wd_vmm_config *c, struct wd_err *err)
{
	static struct wd_argv a;
	char mem[24], cpus[16], cmdline[WD_QEMU_CMDLINE_BYTES], kernel[32], initrd[32];
	struct keep k = {.n = 0};
	bool drives = c->rootfs_fd >= 0 && c->verity_fd >= 0;
	int kvm;

	if (choose_channel(v, c, err) < 0)
		return -err->code;
	kvm = kvm_works(c);
	if (kvm < 0)
		return wd_err_set(err, EINTR, "interrupted");
	if (kvm == 0)
		wd_info("no usable KVM; running under TCG (slower)");
	(void)snprintf(mem, sizeof(mem), "%llu", (unsigned long long)c->mem_mib);
	(void)snprintf(cpus, sizeof(cpus), "%u", c->cpus);
	wd_argv_init(&a);
	common_args(&a, kvm == 1, mem, cpus);
	wd_argv_add(&a, "-serial");
	wd_argv_add(&a, "file:%s", v->console_path);
	wd_argv_add(&a, "-kernel");
	wd_argv_add(&a, "%s", source(c->kernel, c->kernel_fd, &k, kernel, sizeof(kernel)));
	wd_argv_add(&a, "-initrd");
	wd_argv_add(&a, "%s", source(c->image, c->image_fd, &k, initrd, sizeof(initrd)));
	if (kernel_cmdline(v, c, kvm == 1, cmdline, sizeof(cmdline)) < 0)
		return wd_err_set(err, E2BIG, "kernel command line too long");
	wd_argv_add(&a, "-append");
	wd_argv_add(&a, "%s", cmdline);
	if (v->guest_cid != 0) {
		wd_argv_add(&a, "-device");
		wd_argv_add(&a, "vhost-vsock-device,guest-cid=%u", v->guest_cid);
	} else {
		wd_argv_add(&a, "-device");
		wd_argv_add(&a, "virtio-serial-device");
		wd_argv_add(&a, "-chardev");
		wd_argv_add(&a, "socket,id=c0,path=%s,server=on,wait=off", v->sock_path);
		wd_argv_add(&a, "-device");
		wd_argv_add(&a, "virtserialport,chardev=c0,name=warden");
	}
	wd_argv_add(&a, "-device");
	wd_argv_add(&a, "virtio-rng-device");
	if (drives) {
		add_drive(&a, "rootfs", c->rootfs_fd, WD_VMM_ROOTFS_SERIAL, &k);
		add_drive(&a, "verity", c->verity_fd, WD_VMM_VERITY_SERIAL, &k);
	}
	wd_debug("vmm: %s, %s MiB, %s CPU(s), %s, channel %s%s", QEMU_BINARY, mem, cpus,
		 kvm == 1 ? "KVM" : "TCG", v->guest_cid != 0 ? "vhost-vsock" : "virtio-serial",
		 drives ? ", the image's root filesystem and hash tree read-only" : "");
	v->started_ns = wd_mono_ns();
	return spawn_qemu(&v->child, &a, &k, v->vmm_log_path, err);
}

/* QEMU makes the socket when it starts; connect as soon as it is there. */
static int qemu_connect(struct wd_vmm *v, uint64_t deadline_ns, const struct wd_intr *intr,
			struct wd_err *err)
{
	struct sockaddr_un addr;

	if (v->guest_cid != 0)
		return vsock_accept(v, deadline_ns, intr, err);
	if (wd_vmm_sockaddr(v, &addr, err) < 0)
		return -err->code;
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), e;

		if (fd < 0)
			return wd_err_sys(err, errno, "channel: socket");
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
			return fd;
		e = errno;
		(void)close(fd);
		if (e != ENOENT && e != ECONNREFUSED)
			return wd_err_sys(err, e, "channel: connect %s", v->sock_path);
		if (wd_vmm_ended(v))
			return wd_err_set(err, EPIPE, "QEMU ended before it opened the channel");
		if (wd_mono_ns() >= deadline_ns)
			return wd_err_set(err, ETIMEDOUT, "QEMU did not open the channel in time");
		if (wd_vmm_pause(v, -1, CONNECT_RETRY_MS, intr) == -EINTR)
			return wd_err_set(err, EINTR, "interrupted");
	}
}

static void qemu_stop(struct wd_vmm *v)
{
	wd_child_kill(&v->child);
	if (v->listen_fd >= 0) {
		(void)close(v->listen_fd);
		v->listen_fd = -1;
	}
}

const struct wd_vmm_ops wd_vmm_qemu_ops = {
	.name = "qemu",
	.hello_mode = "vm",
	.start = qemu_start,
	.connect = qemu_connect,
	.stop = qemu_stop,
};
