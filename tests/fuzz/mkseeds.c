/*
 * tests/fuzz/mkseeds.c - writes the committed seed corpora of the vsock
 * fuzz targets, made with the real encoders so each seed is a valid input
 * the fuzzer mutates from.
 *
 * Usage: mkseeds DIR   (tests/fuzz/run.sh --seeds builds and runs it with
 *                       DIR = tests/fuzz/corpus)
 *
 * Writes DIR/fuzz_{frame,job,hello,exit,stream}/NAME; existing files of those
 * names are replaced.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vsock/frame.h"
#include "../../vsock/msg.h"
#include "fuzz_key.h"

#define SHA_0 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char *dir;
static char buf[65536];

static void die(const char *what, const struct wd_err *err)
{
	fprintf(stderr, "mkseeds: %s: %s\n", what, err != NULL ? err->msg : strerror(errno));
	exit(1);
}

static void put(const char *target, const char *name, const void *p, size_t n)
{
	char path[512];
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		die(path, NULL);
}

/* A seed of fuzz_exit: the selector byte, then the payload. */
static void put_selected(const char *name, unsigned selector, int n)
{
	static char sel[sizeof(buf) + 1];

	sel[0] = (char)selector;
	memcpy(sel + 1, buf, (size_t)n);
	put("fuzz_exit", name, sel, (size_t)n + 1);
}

static void job_seeds(void)
{
	static const char *argv[] = {"/bin/sh", "-c", "echo hi; echo err >&2; exit 7", NULL};
	static const char *env[] = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL};
	struct wd_job job = {.argv = argv, .argc = 3};
	struct wd_err err;
	int n;

	if ((n = wd_job_encode(&job, buf, sizeof(buf), &err)) < 0)
		die("job", &err);
	put("fuzz_job", "minimal", buf, (size_t)n);
	job.env = env;
	job.envc = 2;
	job.cwd = "work";
	job.timeout_ms = 30000;
	job.tty = true;
	job.rows = 24;
	job.cols = 80;
	job.clock_realtime_ns = 1700000000123456789ULL;
	job.nfiles = 1;
	job.files[0] = (struct wd_job_file){.name = "tool.sh", .mode = 0755, .size = 42};
	memcpy(job.files[0].sha256, SHA_0, sizeof(SHA_0));
	job.policy =
		"{\"tools\":[{\"name\":\"fetch\",\"tier\":1}],\"egress\":[\"*.example.org:443\"]}";
	job.mem_mib = 512;
	if ((n = wd_job_encode(&job, buf, sizeof(buf), &err)) < 0)
		die("job", &err);
	put("fuzz_job", "full", buf, (size_t)n);
}

/* An ECDSA P-256 public key (SubjectPublicKeyInfo, base64); its id is eb85d67d. */
#define AUDIT_KEY                                                                                  \
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEFzJ5tRYfshw+WTlSiJrOwk269HUpWSOty11Si+"               \
	"hqiNmPIxq8twgHKzqYtD9bmynPLMRZ+Kq6H20qrNA5Y5Z1Sg=="

static void hello_seeds(void)
{
	struct wd_hello h;
	struct wd_err err;
	int n;

	memset(&h, 0, sizeof(h));
	h.version = WD_PROTO_VERSION;
	memcpy(h.mode, "vm", 3);
	h.boot = (struct wd_boot_times){123456789, 1000, 2000, 3000, 4000, 5000};
	h.ready_ns = 98765432;
	memcpy(h.init_sha256, SHA_0, sizeof(SHA_0));
	memcpy(h.supervisor_sha256, SHA_0, sizeof(SHA_0));
	memcpy(h.manifest_sha256, SHA_0, sizeof(SHA_0));
	(void)snprintf(h.audit_pubkey, sizeof(h.audit_pubkey), "%s", AUDIT_KEY);
	(void)snprintf(h.audit_key_id, sizeof(h.audit_key_id), "eb85d67d");
	(void)snprintf(h.audit_origin, sizeof(h.audit_origin), "vm-1/audit/0123456789abcdef");
	memcpy(h.rootfs_root_hash, SHA_0, sizeof(SHA_0));
	if ((n = wd_hello_encode(&h, buf, sizeof(buf), &err)) < 0)
		die("hello", &err);
	put("fuzz_hello", "vm", buf, (size_t)n);
	memcpy(h.mode, "ns", 3);
	h.manifest_sha256[0] = '\0';
	h.rootfs_root_hash[0] = '\0';
	if ((n = wd_hello_encode(&h, buf, sizeof(buf), &err)) < 0)
		die("hello", &err);
	put("fuzz_hello", "ns", buf, (size_t)n);
}

static void exit_seeds(void)
{
	struct wd_exit e = {.status = 7, .utime_us = 1500, .stime_us = 300, .maxrss_kib = 2048};
	struct wd_err err;
	int n;

	if ((n = wd_exit_encode(&e, buf, sizeof(buf), &err)) < 0)
		die("exit", &err);
	put_selected("exit-status", 0, n);
	e = (struct wd_exit){.status = 137, .signal = 9, .oom_killed = true, .timed_out = true};
	if ((n = wd_exit_encode(&e, buf, sizeof(buf), &err)) < 0)
		die("exit", &err);
	put_selected("exit-signal", 0, n);
	if ((n = wd_error_encode("protocol", "frame JOB (seq 2): MAC mismatch", buf, sizeof(buf),
				 &err)) < 0)
		die("error", &err);
	put_selected("error", 1, n);
	if ((n = wd_started_encode(42, buf, sizeof(buf), &err)) < 0)
		die("started", &err);
	put_selected("started", 2, n);
}

/* A seed of fuzz_stream: the selector byte, then `n` bytes of `p`. */
static void put_stream(const char *name, unsigned selector, const void *p, size_t n)
{
	static char sel[sizeof(buf) + 1];

	sel[0] = (char)selector;
	memcpy(sel + 1, p, n);
	put("fuzz_stream", name, sel, n + 1);
}

static void stream_seeds(void)
{
	/* A mux program (fuzz_stream.c): max streams, open, attach with
	 * first bytes, the far end writes, run, DATA, WINDOW, the peer's
	 * end, the far end's end, run, read, a late CLOSE. */
	static const uint8_t prog[] = {
		3,   0, 0, 1, 0, 5, 'h', 'e',  'l', 'l', 'o', 2, 0, 3, 'a', 'b',
		'c', 4, 3, 0, 0, 4, 'd', 'a',  't', 'a', 3,   1, 0, 4, 0,   0,
		0,   5, 3, 0, 0, 0, 2,   0x40, 0,   4,   7,   3, 2, 0, 1,   1,
	};
	struct wd_eg_open o = {.port = 443, .proxy = WD_EG_PROXY_HTTP_CONNECT};
	struct wd_eg_reply r = {.result = WD_EG_CONNECTED, .rule = 1, .dialed_port = 443};
	uint8_t p[WD_EG_REPLY_MAX_BYTES];
	struct wd_err err;
	int n;

	memcpy(o.host, "api.example.com", 16);
	if ((n = wd_eg_open_encode(&o, p, &err)) < 0)
		die("eg open", &err);
	put_stream("open", 0, p, (size_t)n);
	memcpy(o.host, "2001:db8::1", 12);
	o.proxy = WD_EG_PROXY_SOCKS5;
	if ((n = wd_eg_open_encode(&o, p, &err)) < 0)
		die("eg open", &err);
	put_stream("open-v6", 0, p, (size_t)n);
	r.dialed.family = 4;
	memcpy(r.dialed.a, "\x5d\xb8\xd8\x22", 4);
	r.naddrs = 2;
	r.addrs[0] = r.dialed;
	r.addrs[1].family = 6;
	r.addrs[1].a[0] = 0x20;
	r.addrs[1].a[15] = 1;
	if ((n = wd_eg_reply_encode(&r, p, &err)) < 0)
		die("eg reply", &err);
	put_stream("reply-connected", 1, p, (size_t)n);
	r = (struct wd_eg_reply){.result = WD_EG_ADDRESS, .rule = -1, .naddrs = 1};
	r.addrs[0].family = 4;
	memcpy(r.addrs[0].a, "\x7f\0\0\1", 4);
	memcpy(r.reason, "host: address 127.0.0.1 is loopback", 36);
	if ((n = wd_eg_reply_encode(&r, p, &err)) < 0)
		die("eg reply", &err);
	put_stream("reply-refused", 1, p, (size_t)n);
	wd_eg_window_encode(WD_EG_WINDOW / 4, p);
	put_stream("window", 2, p, WD_EG_WINDOW_BYTES);
	wd_eg_close_encode(WD_EG_CLOSE_IDLE, p);
	put_stream("close", 3, p, WD_EG_CLOSE_BYTES);
	put_stream("mux", 4, prog, sizeof(prog));
}

/* Append one record [type][stream][len][payload] of fuzz_frame's records mode. */
static size_t record(size_t at, unsigned type, unsigned stream, const void *p, size_t len)
{
	buf[at] = (char)type;
	buf[at + 1] = (char)stream;
	buf[at + 2] = (char)len;
	memcpy(buf + at + 3, p, len);
	return at + 3 + len;
}

/* Append one frame encoded by `ch`. */
static size_t frame(struct wd_chan *ch, size_t at, unsigned type, unsigned stream, const void *p,
		    size_t len)
{
	struct wd_err err;
	int n = wd_frame_encode(ch, type, stream, p, len, (uint8_t *)buf + at, sizeof(buf) - at,
				&err);

	if (n < 0)
		die("frame", &err);
	return at + (size_t)n;
}

static void frame_seeds(void)
{
	uint8_t ready[WD_READY_BYTES], sig[WD_SIGNAL_BYTES], win[WD_WINSIZE_BYTES];
	struct wd_chan g, h;
	size_t n;

	(void)wd_ready_encode(ready);
	wd_signal_encode(15, sig);
	wd_winsize_encode(24, 80, win);

	/* Raw bytes to an unkeyed host: two READYs. */
	wd_chan_init(&g, WD_SIDE_GUEST);
	buf[0] = 0;
	buf[1] = 7;
	n = frame(&g, 2, WD_MSG_READY, WD_STREAM_CONTROL, ready, sizeof(ready));
	n = frame(&g, n, WD_MSG_READY, WD_STREAM_CONTROL, ready, sizeof(ready));
	put("fuzz_frame", "raw-ready", buf, n);

	/* Raw bytes to a keyed guest: what a host sends after KEY. */
	wd_chan_init(&h, WD_SIDE_HOST);
	wd_chan_set_key(&h, fuzz_key);
	buf[0] = 2 | 1;
	buf[1] = (char)255;
	n = frame(&h, 2, WD_MSG_JOB, WD_STREAM_CONTROL, "{\"argv\":[\"true\"]}", 17);
	n = frame(&h, n, WD_MSG_DATA, WD_STREAM_FILE_BASE, "#!/bin/sh\n", 10);
	n = frame(&h, n, WD_MSG_DATA, WD_STREAM_FILE_BASE, NULL, 0);
	n = frame(&h, n, WD_MSG_WINSIZE, WD_STREAM_CONTROL, win, sizeof(win));
	n = frame(&h, n, WD_MSG_SIGNAL, WD_STREAM_CONTROL, sig, sizeof(sig));
	n = frame(&h, n, WD_MSG_SHUTDOWN, WD_STREAM_CONTROL, NULL, 0);
	put("fuzz_frame", "raw-keyed-guest", buf, n);

	/* Records to the host: the guest's side of a job. */
	buf[0] = 4;
	buf[1] = 3;
	buf[2] = 0;
	buf[3] = 0;
	n = record(4, WD_MSG_READY, WD_STREAM_CONTROL, ready, sizeof(ready));
	n = record(n, WD_MSG_HELLO, WD_STREAM_CONTROL, "{\"version\":1}", 13);
	n = record(n, WD_MSG_STARTED, WD_STREAM_CONTROL, "{\"pid\":2}", 9);
	n = record(n, WD_MSG_DATA, WD_STREAM_STDOUT, "hi\n", 3);
	n = record(n, WD_MSG_DATA, WD_STREAM_STDOUT, "", 0);
	n = record(n, WD_MSG_DATA, WD_STREAM_STDERR, "", 0);
	n = record(n, WD_MSG_EXIT, WD_STREAM_CONTROL, "{\"status\":7}", 12);
	put("fuzz_frame", "records-to-host", buf, n);

	/* Records to the guest, the third one tampered with. */
	buf[0] = 4 | 1;
	buf[1] = 0;
	buf[2] = (char)(0x80 | 2);
	buf[3] = 30;
	n = record(4, WD_MSG_KEY, WD_STREAM_CONTROL, fuzz_key, sizeof(fuzz_key));
	n = record(n, WD_MSG_JOB, WD_STREAM_CONTROL, "{\"argv\":[\"true\"]}", 17);
	n = record(n, WD_MSG_DATA, WD_STREAM_STDIN, "input", 5);
	n = record(n, WD_MSG_SIGNAL, WD_STREAM_CONTROL, sig, sizeof(sig));
	put("fuzz_frame", "records-to-guest-tampered", buf, n);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds DIR\n");
		return 2;
	}
	dir = argv[1];
	job_seeds();
	hello_seeds();
	exit_seeds();
	frame_seeds();
	stream_seeds();
	return 0;
}
