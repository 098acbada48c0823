/*
 * bench/auditbench.c - the audit log's costs in one process.
 *
 *   auditbench crypto SECONDS   ECDSA P-256 signatures and verifications
 *                               per second with BearSSL (as the supervisor
 *                               signs checkpoints, as the host checks them),
 *                               and SHA-256 MB/s
 *   auditbench emit N           N seccomp/deny records made by the guest's
 *                               audit module (canonical JSON, chain, Merkle
 *                               tree, a signed checkpoint every 1000):
 *                               records per second, without delivery
 *   auditbench pipe N DIR       the delivery too: a guest process makes N
 *                               such records as fast as its queue takes
 *                               them and sends them over the channel
 *                               (AUDIT frames, HMAC, acknowledgements); the
 *                               host process checks each one and writes
 *                               the log to DIR (segments, fdatasync before
 *                               each AUDIT_ACK), with the supervisor's and
 *                               the launcher's own code. Records per second
 *                               from the first record made to the last
 *                               one acknowledged; no event source (in a
 *                               job each record is also the agent's denied
 *                               call through the seccomp listener)
 *
 * One "name value" pair per line, for bench/run.sh.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bearssl.h>

#include "../common/clock.h"
#include "../common/jcanon.h"
#include "../common/tlog.h"
#include "../host/collect.h"
#include "../supervisor/agent.h"
#include "../supervisor/audit.h"
#include "../supervisor/channel.h"
#include "../vsock/msg.h"

static double seconds_since(uint64_t t0)
{
	return (double)(wd_mono_ns() - t0) / 1e9;
}

static int crypto(double seconds)
{
	static uint8_t priv[32] = {0x1f, 0x2e, 0x3d, 0x4c, 0x5b, 0x6a, 0x79, 0x88, 0x97, 0xa6, 0xb5,
				   0xc4, 0xd3, 0xe2, 0xf1, 0x00, 0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a,
				   0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0};
	br_ec_private_key sk = {BR_EC_secp256r1, priv, sizeof(priv)};
	br_ec_public_key pk;
	uint8_t pub[BR_EC_KBUF_PUB_MAX_SIZE], h[32] = {1}, sig[80];
	static uint8_t data[1 << 20];
	size_t sl = 0;
	uint64_t t0, n;

	if (br_ec_compute_pub(&br_ec_p256_m31, &pk, pub, &sk) == 0)
		return 1;
	for (n = 0, t0 = wd_mono_ns(); seconds_since(t0) < seconds; n++) {
		h[0] = (uint8_t)n;
		sl = br_ecdsa_i31_sign_asn1(&br_ec_p256_m31, &br_sha256_vtable, h, &sk, sig);
		if (sl == 0)
			return 1;
	}
	printf("sign_per_s %.0f\n", (double)n / seconds_since(t0));
	for (n = 0, t0 = wd_mono_ns(); seconds_since(t0) < seconds; n++)
		if (br_ecdsa_i31_vrfy_asn1(&br_ec_p256_m31, h, sizeof(h), &pk, sig, sl) != 1)
			return 1;
	printf("verify_per_s %.0f\n", (double)n / seconds_since(t0));
	for (n = 0, t0 = wd_mono_ns(); seconds_since(t0) < seconds; n++)
		wd_sha256(data, sizeof(data), h);
	printf("sha256_mb_per_s %.0f\n", (double)n * sizeof(data) / 1e6 / seconds_since(t0));
	return 0;
}

static const struct sup_audit_event deny_event = {
	"seccomp",
	"deny",
	"denied",
	"medium",
	"agent",
	42,
	65534,
	"{\"abi\":\"x86_64\",\"args\":[\"0x10000000\",\"0x7ffd4bb00710\","
	"\"0x0\",\"0x8\",\"0x7ffd4bb00900\",\"0x0\"],\"errno\":\"EPERM\","
	"\"nr\":272,\"syscall\":\"unshare\"}"};

static int emit(uint64_t n)
{
	struct wd_policy_audit lim;
	struct sup_audit_event ev = deny_event;
	struct wd_err err;
	uint64_t t0;

	if (sup_audit_open("bench", &err) < 0) {
		fprintf(stderr, "auditbench: %s\n", err.msg);
		return 1;
	}
	/* Nothing is delivered here: room for all of it, and no budget. */
	wd_policy_audit_defaults(&lim);
	lim.memory_bytes = 1ULL << 30;
	lim.max_records = WD_POLICY_BUDGET_RECORDS_MAX;
	lim.max_bytes = WD_POLICY_BUDGET_BYTES_MAX;
	if (sup_audit_set_limits(&lim, &err) < 0) {
		fprintf(stderr, "auditbench: %s\n", err.msg);
		return 1;
	}
	t0 = wd_mono_ns();
	for (uint64_t i = 0; i < n; i++)
		if (sup_audit_record(&ev, &err) < 0) {
			fprintf(stderr, "auditbench: record %llu: %s\n", (unsigned long long)i,
				err.msg);
			return 1;
		}
	printf("emit_records_per_s %.0f\n", (double)n / seconds_since(t0));
	printf("records %llu\n", (unsigned long long)sup_audit_last_seq());
	sup_audit_close();
	return 0;
}

static int die(const char *who, const struct wd_err *err)
{
	fprintf(stderr, "auditbench pipe: %s: %s\n", who, err->msg);
	return 1;
}

/* The guest: HELLO with the log's key, the start record, then n denials
 * as fast as the queue takes them, until every record is acknowledged. */
static int pipe_guest(int fd, const uint8_t key[WD_KEY_BYTES], uint64_t n)
{
	static struct sup_channel ch;
	struct sup_fail f = {0};
	struct wd_hello h = {.version = WD_PROTO_VERSION, .mode = "ns"};
	char json[4096], data[SUP_AUDIT_DATA_MAX];
	struct sup_audit_event start = {"lifecycle",         "start", "success", "informational",
					"warden-supervisor", 1,       0,         data};
	struct sup_audit_event ev = deny_event;
	struct wd_jw w;
	uint64_t made = 0;
	bool closed = false;
	struct wd_policy_audit lim;
	int len;

	if (sup_audit_open("bench", &f.err) < 0 ||
	    wd_conn_init(&ch.conn, fd, WD_SIDE_GUEST, &f.err) < 0)
		return die("guest", &f.err);
	/* The log's speed, not its budget: none. */
	wd_policy_audit_defaults(&lim);
	lim.max_records = WD_POLICY_BUDGET_RECORDS_MAX;
	lim.max_bytes = WD_POLICY_BUDGET_BYTES_MAX;
	if (sup_audit_set_limits(&lim, &f.err) < 0)
		return die("guest", &f.err);
	ch.open = true;
	wd_chan_set_key(&ch.conn.chan, key);
	(void)wd_b64_encode(sup_audit_pubkey()->spki, WD_SPKI_BYTES, h.audit_pubkey,
			    sizeof(h.audit_pubkey));
	wd_hex(sup_audit_pubkey()->id, WD_KEY_ID_BYTES, h.audit_key_id);
	(void)snprintf(h.audit_origin, sizeof(h.audit_origin), "%s", sup_audit_origin());
	memset(h.init_sha256, '0', 64);
	memset(h.supervisor_sha256, '0', 64);
	len = wd_hello_encode(&h, json, sizeof(json), &f.err);
	wd_jw_init(&w, data, sizeof(data));
	wd_jw_str(&w, "key_id", h.audit_key_id);
	wd_jw_str(&w, "origin", h.audit_origin);
	wd_jw_str(&w, "pubkey", h.audit_pubkey);
	if (len < 0 || wd_jw_end(&w) < 0 ||
	    sup_channel_send(&ch, WD_MSG_HELLO, WD_STREAM_CONTROL, json, (size_t)len, &f) < 0 ||
	    sup_audit_record(&start, &f.err) < 0)
		return die("guest: HELLO", &f.err);
	while (!closed || !sup_audit_all_acked()) {
		struct pollfd p = {.fd = ch.conn.fd, .events = POLLIN, .revents = 0};
		struct wd_frame fr;
		int rc;

		/* As a job's loop does: a round of records, then delivery. */
		for (int i = 0; i < SUP_SB_DENIALS_PER_ROUND && made < n && sup_audit_room();
		     i++, made++)
			if (sup_audit_record(&ev, &f.err) < 0)
				return die("guest: record", &f.err);
		if (made == n && !closed) {
			closed = true; /* the job's end: its last checkpoint */
			if (sup_audit_checkpoint(&f.err) < 0)
				return die("guest: checkpoint", &f.err);
		}
		if (sup_audit_pump(&ch, &f) < 0 || wd_conn_flush(&ch.conn, &f.err) < 0)
			return die("guest: send", &f.err);
		rc = wd_conn_read(&ch.conn, &f.err);
		if (rc == 0 || (rc < 0 && rc != -EAGAIN))
			return die("guest: channel", &f.err);
		/* Acknowledgements free the queue: the next round sends more. */
		while ((rc = wd_conn_next(&ch.conn, &fr, &f.err)) == 1)
			if (sup_audit_ack(&fr, &f) < 0)
				return die("guest: ack", &f.err);
		if (rc < 0)
			return die("guest: channel", &f.err);
		if ((made < n && sup_audit_room()) || (closed && sup_audit_all_acked()))
			continue;
		/* Nothing to make: send what the acknowledgements freed, then wait. */
		if (sup_audit_pump(&ch, &f) < 0)
			return die("guest: send", &f.err);
		if (wd_conn_queued(&ch.conn) > 0)
			p.events |= POLLOUT;
		if (poll(&p, 1, 1000) < 0)
			return die("guest: poll", &(struct wd_err){errno, "poll"});
	}
	sup_audit_close();
	wd_conn_close(&ch.conn);
	return 0;
}

/* What is on disk, acknowledged (host/relay.c does the same); *t the time of it. */
static int acknowledge(struct wd_conn *conn, struct wd_collector *col, bool idle, uint64_t *t,
		       struct wd_err *err)
{
	uint8_t p[8];
	uint64_t seq;

	if (wd_collect_sync(col, idle, &seq, err) < 0)
		return -err->code;
	if (seq == 0)
		return 0;
	*t = wd_mono_ns();
	wd_audit_ack_encode(seq, p);
	return wd_conn_send(conn, WD_MSG_AUDIT_ACK, WD_STREAM_CONTROL, p, sizeof(p), err);
}

/* The host: the launcher's collector, as in its relay loop. */
static int pipe_host(int fd, const uint8_t key[WD_KEY_BYTES], uint64_t n, const char *dir)
{
	static struct wd_conn conn;
	static struct wd_collector col;
	struct wd_hello h;
	struct wd_err err;
	uint64_t t0 = 0, t1 = 0;

	if (wd_conn_init(&conn, fd, WD_SIDE_HOST, &err) < 0 ||
	    wd_collect_open(&col, dir, 64ULL << 20, false, &err) < 0)
		return die("host", &err);
	wd_collect_budget(&col, WD_POLICY_BUDGET_RECORDS_MAX, WD_POLICY_BUDGET_BYTES_MAX);
	wd_chan_set_key(&conn.chan, key);
	for (;;) { /* until the guest, all its records acknowledged, closes */
		struct pollfd p = {.fd = conn.fd, .events = POLLIN, .revents = 0};
		struct wd_frame fr;
		int rc, due;

		while ((rc = wd_conn_next(&conn, &fr, &err)) == 1) {
			if (fr.type == WD_MSG_HELLO) {
				if (wd_hello_decode(fr.payload, fr.len, &h, &err) < 0 ||
				    wd_collect_hello(&col, &h, &err) < 0)
					return die("host: HELLO", &err);
				t0 = wd_mono_ns();
			} else if (fr.type != WD_MSG_AUDIT ||
				   wd_collect_frame(&col, fr.payload, fr.len, &err) < 0) {
				return die("host: AUDIT", &err);
			}
			if (acknowledge(&conn, &col, false, &t1, &err) < 0)
				return die("host: ack", &err);
		}
		if (rc < 0)
			return die("host: channel", &err);
		rc = wd_conn_read(&conn, &err);
		if (rc == 0)
			break;
		if (rc > 0)
			continue;
		/* Nothing more now: what arrived goes to disk and is acknowledged. */
		if (acknowledge(&conn, &col, true, &t1, &err) < 0)
			return die("host: ack", &err);
		if (wd_conn_flush(&conn, &err) < 0)
			return die("host: send", &err);
		due = wd_collect_sync_due_ms(&col);
		if (poll(&p, 1, due >= 0 ? due : 1000) < 0)
			return die("host: poll", &(struct wd_err){errno, "poll"});
	}
	printf("pipe_records_per_s %.0f\n", (double)n * 1e9 / (double)(t1 - t0));
	printf("records %llu\n", (unsigned long long)col.stored);
	(void)wd_conn_flush_wait(&conn, 1000, &err);
	wd_conn_close(&conn);
	wd_collect_free(&col);
	return 0;
}

static int pipe_bench(uint64_t n, const char *dir)
{
	uint8_t key[WD_KEY_BYTES];
	int sv[2], status = 0, rc;
	pid_t pid;

	memset(key, 0x5a, sizeof(key)); /* a benchmark's channel: no secret to keep */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("auditbench pipe: socketpair");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("auditbench pipe: fork");
		return 1;
	}
	if (pid == 0) {
		(void)close(sv[0]);
		_exit(pipe_guest(sv[1], key, n));
	}
	(void)close(sv[1]);
	rc = pipe_host(sv[0], key, n, dir);
	if (rc != 0)
		(void)kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		rc = 1;
	return rc;
}

int main(int argc, char **argv)
{
	char *end = NULL;
	double v = argc >= 3 ? strtod(argv[2], &end) : 0;

	if (argc == 4 && strcmp(argv[1], "pipe") == 0 && end != NULL && *end == '\0' && v >= 1)
		return pipe_bench((uint64_t)v, argv[3]);
	if (argc != 3 || end == NULL || *end != '\0' || v <= 0) {
		fprintf(stderr, "usage: auditbench crypto SECONDS | auditbench emit N | "
				"auditbench pipe N DIR\n");
		return 2;
	}
	if (strcmp(argv[1], "crypto") == 0)
		return crypto(v);
	if (strcmp(argv[1], "emit") == 0)
		return emit((uint64_t)v);
	fprintf(stderr, "auditbench: unknown mode '%s'\n", argv[1]);
	return 2;
}
