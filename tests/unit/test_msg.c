/*
 * tests/unit/test_msg.c - vsock/msg.c: the payloads of the frames.
 *
 * Every message round-trips through its encoder and decoder, and each of
 * the decoders' rejections has its own test. JSON written in these tests
 * uses ' for " (json() swaps them) to stay readable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vsock/msg.h"

#define OUT_BYTES ((size_t)2 * 1024 * 1024)
#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_0 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void *arena;
static char *out;
static char text[8192];

static int group_setup(void **state)
{
	(void)state;
	arena = malloc(WD_JOB_ARENA_BYTES);
	out = malloc(OUT_BYTES);
	return arena != NULL && out != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	free(arena);
	free(out);
	return 0;
}

/* `s` with every ' turned into ", in a static buffer. */
static const char *json(const char *s)
{
	size_t i;

	assert_true(strlen(s) < sizeof(text));
	for (i = 0; s[i] != '\0'; i++)
		text[i] = s[i] == '\'' ? '"' : s[i];
	text[i] = '\0';
	return text;
}

static void assert_error_set(int rc, const struct wd_err *err)
{
	if (rc < 0) {
		assert_int_equal(err->code, -rc);
		assert_true(err->msg[0] != '\0');
	}
}

static int job_decode_bytes(const char *p, size_t len, struct wd_job *job, struct wd_err *err)
{
	int rc;

	wd_err_clear(err);
	rc = wd_job_decode((const uint8_t *)p, len, job, arena, WD_JOB_ARENA_BYTES, err);
	assert_error_set(rc, err);
	return rc;
}

/* Decode the job written with ' for ". */
static int job_decode(const char *s, struct wd_job *job, struct wd_err *err)
{
	const char *j = json(s);

	return job_decode_bytes(j, strlen(j), job, err);
}

/* Expect the job rejected with `code` and a message naming `why`. */
static void job_rejected(const char *s, int code, const char *why)
{
	struct wd_job job;
	struct wd_err err;
	int rc = job_decode(s, &job, &err);

	if (rc != -code || strstr(err.msg, why) == NULL)
		fail_msg("%s: got %d '%s', expected %d '%s'", s, rc, err.msg, -code, why);
	assert_null(job.argv);
}

/* A job that uses every field. */
static void full_job(struct wd_job *job)
{
	static const char *argv[] = {"/bin/sh", "-c", "echo \"hi\"\n\t\xc3\xa9", "", NULL};
	static const char *env[] = {"PATH=/usr/bin", "EMPTY=", "X==y", NULL};

	memset(job, 0, sizeof(*job));
	job->argv = argv;
	job->argc = 4;
	job->env = env;
	job->envc = 3;
	job->cwd = "work/sub";
	job->timeout_ms = WD_JOB_MAX_TIMEOUT_MS;
	job->tty = true;
	job->rows = 65535;
	job->cols = 80;
	job->clock_realtime_ns = UINT64_MAX;
	job->nfiles = 2;
	job->files[0] = (struct wd_job_file){.name = "tool", .mode = 0755, .size = 10};
	memcpy(job->files[0].sha256, SHA_0, sizeof(SHA_0));
	job->files[1] = (struct wd_job_file){
		.name = "data \xe2\x82\xac.bin", .mode = 0, .size = WD_JOB_MAX_FILE_BYTES};
	memcpy(job->files[1].sha256, SHA_A, sizeof(SHA_A));
	job->policy = "{\"tools\":[{\"name\":\"x\",\"tier\":2}],\"net\":{}}";
	job->mem_mib = WD_JOB_MAX_MEM_MIB;
}

/* ---- READY, KEY, WINSIZE, SIGNAL ---------------------------------------- */

static void test_ready_round_trips(void **state)
{
	uint8_t p[WD_READY_BYTES];
	struct wd_err err;

	(void)state;
	assert_int_equal(wd_ready_encode(p), WD_READY_BYTES);
	assert_int_equal(p[0], WD_PROTO_VERSION);
	assert_int_equal(wd_ready_decode(p, sizeof(p), &err), 0);
}

static void test_ready_of_another_version_is_rejected(void **state)
{
	uint8_t p[WD_READY_BYTES] = {WD_PROTO_VERSION + 1, 0, 0, 0};
	struct wd_err err;

	(void)state;
	assert_int_equal(wd_ready_decode(p, sizeof(p), &err), -EPROTO);
}

static void test_ready_with_reserved_bytes_set_is_rejected(void **state)
{
	uint8_t p[WD_READY_BYTES] = {WD_PROTO_VERSION, 0, 0, 1};
	struct wd_err err;

	(void)state;
	assert_int_equal(wd_ready_decode(p, sizeof(p), &err), -EBADMSG);
}

static void test_ready_of_the_wrong_length_is_rejected(void **state)
{
	uint8_t p[WD_READY_BYTES + 1] = {WD_PROTO_VERSION};
	struct wd_err err;

	(void)state;
	assert_int_equal(wd_ready_decode(p, WD_READY_BYTES - 1, &err), -EBADMSG);
	assert_int_equal(wd_ready_decode(p, WD_READY_BYTES + 1, &err), -EBADMSG);
}

static void test_key_is_copied_out(void **state)
{
	uint8_t p[WD_KEY_BYTES], key[WD_KEY_BYTES];
	struct wd_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(p); i++)
		p[i] = (uint8_t)(i * 7);
	assert_int_equal(wd_key_decode(p, sizeof(p), key, &err), 0);
	assert_memory_equal(p, key, sizeof(p));
}

static void test_key_of_the_wrong_length_is_rejected(void **state)
{
	uint8_t p[WD_KEY_BYTES + 1] = {0}, key[WD_KEY_BYTES];
	struct wd_err err;

	(void)state;
	assert_int_equal(wd_key_decode(p, WD_KEY_BYTES - 1, key, &err), -EBADMSG);
	assert_int_equal(wd_key_decode(p, WD_KEY_BYTES + 1, key, &err), -EBADMSG);
}

static void test_winsize_round_trips(void **state)
{
	uint8_t p[WD_WINSIZE_BYTES];
	uint16_t rows = 0, cols = 0;
	struct wd_err err;

	(void)state;
	wd_winsize_encode(24, 65535, p);
	assert_int_equal(wd_winsize_decode(p, sizeof(p), &rows, &cols, &err), 0);
	assert_int_equal(rows, 24);
	assert_int_equal(cols, 65535);
}

static void test_winsize_of_zero_is_rejected(void **state)
{
	uint8_t p[WD_WINSIZE_BYTES];
	uint16_t rows, cols;
	struct wd_err err;

	(void)state;
	wd_winsize_encode(0, 80, p);
	assert_int_equal(wd_winsize_decode(p, sizeof(p), &rows, &cols, &err), -ERANGE);
	wd_winsize_encode(24, 0, p);
	assert_int_equal(wd_winsize_decode(p, sizeof(p), &rows, &cols, &err), -ERANGE);
	assert_int_equal(wd_winsize_decode(p, 3, &rows, &cols, &err), -EBADMSG);
}

static void test_stdin_ack_round_trips_a_64_bit_total(void **state)
{
	uint8_t p[WD_STDIN_ACK_BYTES];
	uint64_t total = 0;
	struct wd_err err;

	(void)state;
	wd_stdin_ack_encode(0x0123456789abcdefULL, p);
	assert_int_equal(wd_stdin_ack_decode(p, sizeof(p), &total, &err), 0);
	assert_true(total == 0x0123456789abcdefULL);
	assert_int_equal(wd_stdin_ack_decode(p, 7, &total, &err), -EBADMSG);
	assert_int_equal(wd_stdin_ack_decode(p, 9, &total, &err), -EBADMSG);
}

static void test_signal_round_trips(void **state)
{
	uint8_t p[WD_SIGNAL_BYTES];
	int signo = 0;
	struct wd_err err;

	(void)state;
	wd_signal_encode(15, p);
	assert_int_equal(wd_signal_decode(p, sizeof(p), &signo, &err), 0);
	assert_int_equal(signo, 15);
	wd_signal_encode(64, p);
	assert_int_equal(wd_signal_decode(p, sizeof(p), &signo, &err), 0);
	assert_int_equal(signo, 64);
}

static void test_signal_out_of_range_is_rejected(void **state)
{
	uint8_t p[WD_SIGNAL_BYTES];
	int signo = -1;
	struct wd_err err;

	(void)state;
	wd_signal_encode(0, p);
	assert_int_equal(wd_signal_decode(p, sizeof(p), &signo, &err), -ERANGE);
	wd_signal_encode(65, p);
	assert_int_equal(wd_signal_decode(p, sizeof(p), &signo, &err), -ERANGE);
	wd_signal_encode(0x80000009U, p);
	assert_int_equal(wd_signal_decode(p, sizeof(p), &signo, &err), -ERANGE);
	assert_int_equal(wd_signal_decode(p, 5, &signo, &err), -EBADMSG);
	assert_int_equal(signo, -1);
}

/* ---- HELLO ---------------------------------------------------------------- */

/* An ECDSA P-256 public key (SubjectPublicKeyInfo, base64) and its C2SP id. */
#define AUDIT_KEY                                                                                  \
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEFzJ5tRYfshw+WTlSiJrOwk269HUpWSOty11Si+"               \
	"hqiNmPIxq8twgHKzqYtD9bmynPLMRZ+Kq6H20qrNA5Y5Z1Sg=="
#define AUDIT_KEY_ID "eb85d67d"
#define HELLO_A                                                                                    \
	",'audit':{'pubkey':'" AUDIT_KEY "','key_id':'" AUDIT_KEY_ID "','origin':'v/audit/1'}"     \
	",'rootfs_root_hash':''"

static void sample_hello(struct wd_hello *h)
{
	memset(h, 0, sizeof(*h));
	h->version = WD_PROTO_VERSION;
	memcpy(h->mode, "vm", 3);
	h->boot = (struct wd_boot_times){.t0_ns = UINT64_MAX - 1,
					 .mounts_ns = 1,
					 .modules_ns = 2,
					 .sysctls_ns = 3,
					 .system_ns = 4,
					 .spawn_ns = 1ULL << 53};
	h->ready_ns = 123456789;
	memcpy(h->init_sha256, SHA_0, sizeof(SHA_0));
	memcpy(h->supervisor_sha256, SHA_A, sizeof(SHA_A));
	memcpy(h->audit_pubkey, AUDIT_KEY, sizeof(AUDIT_KEY));
	memcpy(h->audit_key_id, AUDIT_KEY_ID, sizeof(AUDIT_KEY_ID));
	memcpy(h->audit_origin, "vm-1/audit/0123", 16);
	memcpy(h->rootfs_root_hash, SHA_A, sizeof(SHA_A));
}

static int hello_decode(const char *s, struct wd_hello *h, struct wd_err *err)
{
	const char *j = json(s);
	int rc;

	wd_err_clear(err);
	rc = wd_hello_decode((const uint8_t *)j, strlen(j), h, err);
	assert_error_set(rc, err);
	return rc;
}

#define HELLO_BOOT                                                                                 \
	"'boot':{'t0_ns':'1','mounts_ns':1,'modules_ns':2,'sysctls_ns':3,"                         \
	"'system_ns':4,'spawn_ns':5}"
#define HELLO_M "'measurements':{'init':'" SHA_0 "','supervisor':'" SHA_0 "','manifest':''}"

static void test_hello_round_trips(void **state)
{
	struct wd_hello in, back;
	struct wd_err err;
	int n;

	(void)state;
	sample_hello(&in);
	n = wd_hello_encode(&in, out, OUT_BYTES, &err);
	assert_true(n > 0);
	assert_int_equal(strlen(out), n);
	assert_int_equal(wd_hello_decode((const uint8_t *)out, (size_t)n, &back, &err), 0);
	assert_memory_equal(&in, &back, sizeof(in));
}

static void test_hello_minimal_text_decodes(void **state)
{
	struct wd_hello h;
	struct wd_err err;

	(void)state;
	assert_int_equal(hello_decode("{'version':4,'mode':'ns'," HELLO_BOOT
				      ",'ready_ns':9," HELLO_M "" HELLO_A "}",
				      &h, &err),
			 0);
	assert_string_equal(h.mode, "ns");
	assert_int_equal(h.boot.t0_ns, 1);
	assert_int_equal(h.boot.spawn_ns, 5);
	assert_string_equal(h.manifest_sha256, "");
}

static void test_hello_of_another_version_is_rejected(void **state)
{
	struct wd_hello h;
	struct wd_err err;

	(void)state;
	assert_int_equal(hello_decode("{'version':1,'mode':'vm'," HELLO_BOOT
				      ",'ready_ns':9," HELLO_M "" HELLO_A "}",
				      &h, &err),
			 -EPROTO);
}

static void test_hello_mode_must_be_vm_or_ns(void **state)
{
	struct wd_hello h;
	struct wd_err err;

	(void)state;
	assert_int_equal(hello_decode("{'version':4,'mode':'host'," HELLO_BOOT
				      ",'ready_ns':9," HELLO_M "" HELLO_A "}",
				      &h, &err),
			 -EINVAL);
	sample_hello(&h);
	memcpy(h.mode, "xx", 3);
	assert_int_equal(wd_hello_encode(&h, out, OUT_BYTES, &err), -EINVAL);
}

static void test_hello_measurement_not_lowercase_hex_is_rejected(void **state)
{
	struct wd_hello h;
	struct wd_err err;

	(void)state;
	sample_hello(&h);
	h.supervisor_sha256[5] = 'A';
	assert_int_equal(wd_hello_encode(&h, out, OUT_BYTES, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "measurements.supervisor"));
	assert_int_equal(hello_decode("{'version':4,'mode':'vm'," HELLO_BOOT
				      ",'ready_ns':9,'measurements':{'init':'" SHA_0
				      "','supervisor':'" SHA_0 "','manifest':'abc'}" HELLO_A "}",
				      &h, &err),
			 -EINVAL);
}

static void test_hello_missing_field_is_rejected(void **state)
{
	struct wd_hello h;
	struct wd_err err;

	(void)state;
	assert_int_equal(hello_decode("{'version':4,'mode':'vm'," HELLO_BOOT
				      ",'ready_ns':9," HELLO_M "}",
				      &h, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "missing field 'audit'"));
}

/* The root filesystem's pin: a hash, or "" for none; nothing else, and
 * never left out (an old guest that does not say is refused). */
static void test_hello_rootfs_root_hash_is_hex_or_empty(void **state)
{
	struct wd_hello h;
	struct wd_err err;

	(void)state;
	sample_hello(&h);
	h.rootfs_root_hash[63] = 'F';
	assert_int_equal(wd_hello_encode(&h, out, OUT_BYTES, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "rootfs_root_hash"));
	sample_hello(&h);
	h.rootfs_root_hash[10] = '\0';
	assert_int_equal(wd_hello_encode(&h, out, OUT_BYTES, &err), -EINVAL);
	assert_int_equal(hello_decode("{'version':4,'mode':'vm'," HELLO_BOOT
				      ",'ready_ns':9," HELLO_M "" HELLO_A "}",
				      &h, &err),
			 0);
	assert_string_equal(h.rootfs_root_hash, "");
	assert_int_equal(hello_decode("{'version':4,'mode':'vm'," HELLO_BOOT
				      ",'ready_ns':9," HELLO_M ",'audit':{'pubkey':'" AUDIT_KEY
				      "','key_id':'" AUDIT_KEY_ID
				      "','origin':'v/audit/1'},'rootfs_root_hash':'" SHA_A "'}",
				      &h, &err),
			 0);
	assert_string_equal(h.rootfs_root_hash, SHA_A);
	assert_int_equal(hello_decode("{'version':4,'mode':'vm'," HELLO_BOOT
				      ",'ready_ns':9," HELLO_M ",'audit':{'pubkey':'" AUDIT_KEY
				      "','key_id':'" AUDIT_KEY_ID
				      "','origin':'v/audit/1'},'rootfs_root_hash':'" SHA_A "0'}",
				      &h, &err),
			 -E2BIG);
	assert_int_equal(hello_decode("{'version':4,'mode':'vm'," HELLO_BOOT
				      ",'ready_ns':9," HELLO_M ",'audit':{'pubkey':'" AUDIT_KEY
				      "','key_id':'" AUDIT_KEY_ID
				      "','origin':'v/audit/1'},'rootfs_root_hash':null}",
				      &h, &err),
			 -EINVAL);
	assert_int_equal(hello_decode("{'version':4,'mode':'vm'," HELLO_BOOT
				      ",'ready_ns':9," HELLO_M ",'audit':{'pubkey':'" AUDIT_KEY
				      "','key_id':'" AUDIT_KEY_ID "','origin':'v/audit/1'}}",
				      &h, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "rootfs_root_hash"));
}

static void test_hello_boot_timestamp_must_be_a_decimal_string(void **state)
{
	struct wd_hello h;
	struct wd_err err;

	(void)state;
	assert_int_equal(hello_decode("{'version':4,'mode':'vm','boot':{'t0_ns':1,'mounts_ns':1,"
				      "'modules_ns':2,'sysctls_ns':3,'system_ns':4,'spawn_ns':5},"
				      "'ready_ns':9," HELLO_M "" HELLO_A "}",
				      &h, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "hello.boot.t0_ns"));
}

static void test_hello_audit_key_must_be_base64(void **state)
{
	struct wd_hello h;
	struct wd_err err;

	(void)state;
	sample_hello(&h);
	memcpy(h.audit_pubkey, "not base64!", 12);
	assert_int_equal(wd_hello_encode(&h, out, OUT_BYTES, &err), -EINVAL);
	sample_hello(&h);
	h.audit_key_id[0] = 'f'; /* another key's id */
	assert_int_equal(wd_hello_encode(&h, out, OUT_BYTES, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "key_id"));
	sample_hello(&h);
	memcpy(h.audit_origin, "vm 1/audit/0", 13); /* a space would split a note's key name */
	assert_int_equal(wd_hello_encode(&h, out, OUT_BYTES, &err), -EINVAL);
}

static void test_hello_encoder_refuses_a_duration_over_2_pow_53(void **state)
{
	struct wd_hello h;
	struct wd_err err;

	(void)state;
	sample_hello(&h);
	h.ready_ns = (1ULL << 53) + 1;
	assert_int_equal(wd_hello_encode(&h, out, OUT_BYTES, &err), -ERANGE);
	assert_non_null(strstr(err.msg, "ready_ns"));
}

/* ---- JOB ------------------------------------------------------------------ */

static void test_job_round_trips(void **state)
{
	struct wd_job in, back;
	struct wd_err err;
	int n;

	(void)state;
	full_job(&in);
	n = wd_job_encode(&in, out, OUT_BYTES, &err);
	assert_true(n > 0);
	assert_int_equal(job_decode_bytes(out, (size_t)n, &back, &err), 0);
	assert_int_equal(back.argc, in.argc);
	for (size_t i = 0; i < in.argc; i++)
		assert_string_equal(back.argv[i], in.argv[i]);
	assert_null(back.argv[back.argc]);
	assert_int_equal(back.envc, in.envc);
	for (size_t i = 0; i < in.envc; i++)
		assert_string_equal(back.env[i], in.env[i]);
	assert_null(back.env[back.envc]);
	assert_string_equal(back.cwd, in.cwd);
	assert_int_equal(back.timeout_ms, in.timeout_ms);
	assert_true(back.tty);
	assert_int_equal(back.rows, in.rows);
	assert_int_equal(back.cols, in.cols);
	assert_int_equal(back.clock_realtime_ns, UINT64_MAX);
	assert_int_equal(back.nfiles, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(back.files[i].name, in.files[i].name);
		assert_int_equal(back.files[i].mode, in.files[i].mode);
		assert_int_equal(back.files[i].size, in.files[i].size);
		assert_string_equal(back.files[i].sha256, in.files[i].sha256);
	}
	assert_string_equal(back.policy, in.policy);
	assert_int_equal(back.mem_mib, in.mem_mib);
}

static void test_job_strings_live_in_the_arena(void **state)
{
	struct wd_job job;
	struct wd_err err;
	const char *lo = arena, *hi = (const char *)arena + WD_JOB_ARENA_BYTES;

	(void)state;
	assert_int_equal(job_decode("{'argv':['a','b'],'env':['K=V'],'files':[{'name':'f',"
				    "'mode':0,'size':0,'sha256':'" SHA_A "'}]}",
				    &job, &err),
			 0);
	assert_true((const char *)job.argv >= lo && (const char *)job.argv < hi);
	assert_true((uintptr_t)job.argv % _Alignof(const char *) == 0);
	assert_true(job.argv[1] >= lo && job.argv[1] < hi);
	assert_true(job.env[0] >= lo && job.env[0] < hi);
	assert_true(job.cwd >= lo && job.cwd < hi);
	assert_true(job.files[0].name >= lo && job.files[0].name < hi);
}

static void test_job_encoding_is_compact_json(void **state)
{
	static const char *argv[] = {"true", NULL};
	struct wd_job job = {.argv = argv, .argc = 1};
	struct wd_err err;
	int n;

	(void)state;
	n = wd_job_encode(&job, out, OUT_BYTES, &err);
	assert_string_equal(out,
			    json("{'argv':['true'],'env':[],'cwd':'','timeout_ms':0,'tty':false,"
				 "'rows':0,'cols':0,'clock_realtime_ns':'0','files':[],"
				 "'mem_mib':0}"));
	assert_int_equal(n, strlen(out));
}

static void test_job_with_only_argv_gets_the_defaults(void **state)
{
	struct wd_job job;
	struct wd_err err;

	(void)state;
	assert_int_equal(job_decode(" {\n'argv' : ['x'] }\r\n", &job, &err), 0);
	assert_int_equal(job.argc, 1);
	assert_int_equal(job.envc, 0);
	assert_non_null(job.env);
	assert_null(job.env[0]);
	assert_string_equal(job.cwd, "");
	assert_int_equal(job.timeout_ms, 0);
	assert_false(job.tty);
	assert_int_equal(job.clock_realtime_ns, 0);
	assert_int_equal(job.nfiles, 0);
	assert_string_equal(job.policy, "");
	assert_int_equal(job.mem_mib, 0);
}

static void test_job_integer_in_exponent_form_is_read_exactly(void **state)
{
	struct wd_job job;
	struct wd_err err;

	(void)state;
	assert_int_equal(job_decode("{'argv':['x'],'timeout_ms':1.5e3}", &job, &err), 0);
	assert_int_equal(job.timeout_ms, 1500);
}

static void test_job_unknown_field_is_rejected(void **state)
{
	(void)state;
	job_rejected("{'argv':['x'],'secrets':{}}", EINVAL, "unknown field 'secrets'");
	job_rejected("{'argv':['x'],'Argv':['y']}", EINVAL, "unknown field 'Argv'");
	job_rejected("{'argv':['x'],'files':[{'name':'f','mode':0,'size':0,'sha256':'" SHA_A
		     "','owner':0}]}",
		     EINVAL, "job.files[0]: unknown field 'owner'");
}

static void test_unknown_field_name_is_printed_safely(void **state)
{
	(void)state;
	job_rejected("{'argv':['x'],'\\u001b[2J':1}", EINVAL, "unknown field '?[2J'");
}

static void test_job_duplicate_field_is_rejected(void **state)
{
	(void)state;
	job_rejected("{'argv':['x'],'cwd':'a','cwd':'b'}", EINVAL, "'cwd' given twice");
}

static void test_job_without_argv_is_rejected(void **state)
{
	(void)state;
	job_rejected("{'env':['A=1']}", EINVAL, "missing field 'argv'");
}

static void test_job_with_empty_argv_is_rejected(void **state)
{
	(void)state;
	job_rejected("{'argv':[]}", EINVAL, "job.argv: empty");
}

static void test_job_with_empty_program_is_rejected(void **state)
{
	(void)state;
	job_rejected("{'argv':['','x']}", EINVAL, "job.argv[0]: empty");
}

static void test_job_field_of_the_wrong_type_is_rejected(void **state)
{
	(void)state;
	job_rejected("{'argv':'x'}", EINVAL, "job.argv: expected an array");
	job_rejected("{'argv':[1]}", EINVAL, "job.argv[0]: expected a string");
	job_rejected("{'argv':['x'],'tty':1}", EINVAL, "job.tty: expected true or false");
	job_rejected("{'argv':['x'],'timeout_ms':'5'}", EINVAL,
		     "job.timeout_ms: expected an integer");
	job_rejected("{'argv':['x'],'cwd':null}", EINVAL, "job.cwd: expected a string");
	job_rejected("{'argv':['x'],'files':{}}", EINVAL, "job.files: expected an array");
	job_rejected("{'argv':['x'],'files':[1]}", EINVAL, "job.files[0]: expected an object");
	job_rejected("{'argv':['x'],'clock_realtime_ns':5}", EINVAL, "expected a decimal string");
}

static void test_job_fractional_number_is_rejected(void **state)
{
	(void)state;
	job_rejected("{'argv':['x'],'timeout_ms':1.5}", EINVAL, "not an integer");
}

static void test_job_negative_number_is_rejected(void **state)
{
	(void)state;
	job_rejected("{'argv':['x'],'mem_mib':-1}", ERANGE, "negative");
}

static void test_job_number_over_its_bound_is_rejected(void **state)
{
	char s[128];

	(void)state;
	(void)snprintf(s, sizeof(s), "{'argv':['x'],'timeout_ms':%llu}",
		       (unsigned long long)WD_JOB_MAX_TIMEOUT_MS + 1);
	job_rejected(s, ERANGE, "job.timeout_ms: over the bound");
	job_rejected("{'argv':['x'],'rows':65536}", ERANGE, "job.rows: over the bound");
	job_rejected("{'argv':['x'],'mem_mib':1e300}", ERANGE, "job.mem_mib: over the bound");
	job_rejected("{'argv':['x'],'mem_mib':9007199254740993}", ERANGE, "over the bound");
}

static void test_job_number_outside_json_grammar_is_rejected(void **state)
{
	(void)state;
	job_rejected("{'argv':['x'],'rows':01}", EBADMSG, "malformed number");
	job_rejected("{'argv':['x'],'rows':1.}", EBADMSG, "malformed number");
	job_rejected("{'argv':['x'],'rows':-}", EBADMSG, "malformed number");
	job_rejected("{'argv':['x'],'rows':+1}", EBADMSG, "not valid JSON");
}

static void test_job_clock_beyond_2_pow_53_travels_as_text(void **state)
{
	struct wd_job job;
	struct wd_err err;

	(void)state;
	assert_int_equal(
		job_decode("{'argv':['x'],'clock_realtime_ns':'18446744073709551615'}", &job, &err),
		0);
	assert_int_equal(job.clock_realtime_ns, UINT64_MAX);
	job_rejected("{'argv':['x'],'clock_realtime_ns':'18446744073709551616'}", EINVAL,
		     "clock_realtime_ns");
	job_rejected("{'argv':['x'],'clock_realtime_ns':'-1'}", EINVAL, "clock_realtime_ns");
	job_rejected("{'argv':['x'],'clock_realtime_ns':''}", EINVAL, "clock_realtime_ns");
}

static void test_job_invalid_utf8_is_rejected(void **state)
{
	(void)state;
	job_rejected("{'argv':['\xff']}", EINVAL, "invalid UTF-8");
	job_rejected("{'argv':['\xc0\xaf']}", EINVAL, "invalid UTF-8");         /* overlong '/' */
	job_rejected("{'argv':['\xed\xa0\x80']}", EINVAL, "invalid UTF-8");     /* a surrogate */
	job_rejected("{'argv':['\xf4\x90\x80\x80']}", EINVAL, "invalid UTF-8"); /* over U+10FFFF */
	job_rejected("{'argv':['\xe2\x82']}", EINVAL, "invalid UTF-8");         /* cut short */
	job_rejected("{'argv':['x']}\xc3\xa9", EBADMSG, "unexpected byte");
	job_rejected("{'argv':['\\ud800']}", EBADMSG, "not valid JSON");
}

static void test_job_utf8_escapes_are_decoded(void **state)
{
	struct wd_job job;
	struct wd_err err;

	(void)state;
	assert_int_equal(job_decode("{'argv':['\\u00e9\\ud83d\\ude00\\n']}", &job, &err), 0);
	assert_string_equal(job.argv[0], "\xc3\xa9\xf0\x9f\x98\x80\n");
}

static void test_job_nul_in_a_string_is_rejected(void **state)
{
	struct wd_job job;
	struct wd_err err;
	static const char raw[] = "{\"argv\":[\"a\0b\"]}";

	(void)state;
	job_rejected("{'argv':['a\\u0000b']}", EINVAL, "NUL in a string");
	assert_int_equal(job_decode_bytes(raw, sizeof(raw) - 1, &job, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "control character"));
}

static void test_job_raw_control_character_in_a_string_is_rejected(void **state)
{
	(void)state;
	job_rejected("{'argv':['a\tb']}", EINVAL, "control character");
	job_rejected("{'argv':['a\nb']}", EINVAL, "control character");
}

static void test_job_that_is_not_one_json_object_is_rejected(void **state)
{
	struct wd_job job;
	struct wd_err err;

	(void)state;
	job_rejected("['x']", EINVAL, "not a JSON object");
	job_rejected("{'argv':['x']} {}", EBADMSG, "bytes after");
	job_rejected("{'argv':['x']", EBADMSG, "not valid JSON");
	job_rejected("\xef\xbb\xbf{'argv':['x']}", EBADMSG, "unexpected byte"); /* a BOM */
	assert_int_equal(job_decode_bytes("", 0, &job, &err), -EBADMSG);
}

static void test_job_over_the_frame_bound_is_rejected(void **state)
{
	struct wd_job job;
	struct wd_err err;

	(void)state;
	memset(out, ' ', (size_t)WD_FRAME_MAX_PAYLOAD + 1);
	assert_int_equal(job_decode_bytes(out, (size_t)WD_FRAME_MAX_PAYLOAD + 1, &job, &err),
			 -E2BIG);
}

static void test_job_bad_file_names_are_rejected(void **state)
{
	char s[512], name[WD_JOB_MAX_NAME + 2];
	static const char *const bad[] = {"", ".", "..", "a/b", "/", "dir/"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(
			s, sizeof(s),
			"{'argv':['x'],'files':[{'name':'%s','mode':0,'size':0,'sha256':'" SHA_A
			"'}]}",
			bad[i]);
		job_rejected(s, EINVAL, "job.files[0].name");
	}
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	(void)snprintf(s, sizeof(s),
		       "{'argv':['x'],'files':[{'name':'%s','mode':0,'size':0,'sha256':'" SHA_A
		       "'}]}",
		       name);
	job_rejected(s, E2BIG, "job.files[0].name");
}

static void test_job_longest_file_name_is_accepted(void **state)
{
	char s[512], name[WD_JOB_MAX_NAME + 1];
	struct wd_job job;
	struct wd_err err;

	(void)state;
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	(void)snprintf(s, sizeof(s),
		       "{'argv':['x'],'files':[{'name':'%s','mode':0,'size':0,'sha256':'" SHA_A
		       "'}]}",
		       name);
	assert_int_equal(job_decode(s, &job, &err), 0);
	assert_string_equal(job.files[0].name, name);
}

static void test_job_duplicate_file_names_are_rejected(void **state)
{
	(void)state;
	job_rejected("{'argv':['x'],'files':[{'name':'f','mode':0,'size':0,'sha256':'" SHA_A
		     "'},{'name':'f','mode':0,'size':0,'sha256':'" SHA_A "'}]}",
		     EINVAL, "files[1].name: the same as files[0]");
}

static void test_job_file_mode_over_0777_is_rejected(void **state)
{
	(void)state;
	/* 04755 (setuid) is 2541 */
	job_rejected("{'argv':['x'],'files':[{'name':'f','mode':2541,'size':0,'sha256':'" SHA_A
		     "'}]}",
		     ERANGE, "mode");
}

static void test_job_file_size_over_its_bound_is_rejected(void **state)
{
	(void)state;
	job_rejected(
		"{'argv':['x'],'files':[{'name':'f','mode':0,'size':1073741825,'sha256':'" SHA_A
		"'}]}",
		ERANGE, "size");
}

static void test_job_file_missing_its_digest_is_rejected(void **state)
{
	(void)state;
	job_rejected("{'argv':['x'],'files':[{'name':'f','mode':0,'size':0}]}", EINVAL,
		     "missing field 'sha256'");
}

static void test_job_bad_sha256_is_rejected(void **state)
{
	(void)state;
	job_rejected("{'argv':['x'],'files':[{'name':'f','mode':0,'size':0,'sha256':'"
		     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'}]}",
		     EINVAL, "sha256");
	job_rejected("{'argv':['x'],'files':[{'name':'f','mode':0,'size':0,'sha256':'"
		     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'}]}",
		     EINVAL, "sha256");
	job_rejected("{'argv':['x'],'files':[{'name':'f','mode':0,'size':0,'sha256':'"
		     "gaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'}]}",
		     EINVAL, "sha256");
	job_rejected("{'argv':['x'],'files':[{'name':'f','mode':0,'size':0,'sha256':'" SHA_A
		     "a'}]}",
		     E2BIG, "sha256");
}

static void test_job_env_entry_without_a_key_is_rejected(void **state)
{
	(void)state;
	job_rejected("{'argv':['x'],'env':['NOVALUE']}", EINVAL, "job.env[0]");
	job_rejected("{'argv':['x'],'env':['A=1','=x']}", EINVAL, "job.env[1]");
}

static void test_job_cwd_outside_the_working_directory_is_rejected(void **state)
{
	(void)state;
	job_rejected("{'argv':['x'],'cwd':'/etc'}", EINVAL, "absolute");
	job_rejected("{'argv':['x'],'cwd':'..'}", EINVAL, "'..'");
	job_rejected("{'argv':['x'],'cwd':'a/../..'}", EINVAL, "'..'");
	job_rejected("{'argv':['x'],'cwd':'a/..'}", EINVAL, "'..'");
	job_rejected("{'argv':['x'],'cwd':'a//../b'}", EINVAL, "'..'");
}

static void test_job_cwd_with_dots_in_names_is_accepted(void **state)
{
	struct wd_job job;
	struct wd_err err;

	(void)state;
	assert_int_equal(job_decode("{'argv':['x'],'cwd':'./a/..b/.c/'}", &job, &err), 0);
	assert_string_equal(job.cwd, "./a/..b/.c/");
}

static void test_job_policy_is_kept_as_compact_text(void **state)
{
	struct wd_job job;
	struct wd_err err;

	(void)state;
	assert_int_equal(
		job_decode("{'argv':['x'],'policy': { 'a' : [ 1 , true ] ,'b':{} } }", &job, &err),
		0);
	assert_string_equal(job.policy, json("{'a':[1,true],'b':{}}"));
}

static void test_job_policy_that_is_not_an_object_is_rejected(void **state)
{
	static const char *argv[] = {"x", NULL};
	struct wd_job job = {.argv = argv, .argc = 1, .policy = "[1]"};
	struct wd_err err;

	(void)state;
	job_rejected("{'argv':['x'],'policy':'{}'}", EINVAL, "job.policy: expected an object");
	job_rejected("{'argv':['x'],'policy':null}", EINVAL, "job.policy: expected an object");
	assert_int_equal(wd_job_encode(&job, out, OUT_BYTES, &err), -EINVAL);
	job.policy = "{} x";
	assert_int_equal(wd_job_encode(&job, out, OUT_BYTES, &err), -EBADMSG);
}

static void test_job_policy_over_its_bound_is_rejected(void **state)
{
	size_t len = WD_JOB_MAX_POLICY + 64;
	char *s = malloc(len + 64);
	struct wd_job job;
	struct wd_err err;
	int n;

	(void)state;
	assert_non_null(s);
	n = snprintf(s, len + 64, "{\"argv\":[\"x\"],\"policy\":{\"k\":\"");
	memset(s + n, 'p', WD_JOB_MAX_POLICY);
	memcpy(s + n + WD_JOB_MAX_POLICY, "\"}}", 4);
	assert_int_equal(job_decode_bytes(s, strlen(s), &job, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "job.policy"));
	free(s);
}

/* A job of `count` copies of `entry` in the array `field`, in `out`. */
static size_t job_with_many(const char *field, const char *entry, size_t count)
{
	size_t n = (size_t)snprintf(out, OUT_BYTES, "{\"argv\":[\"x\"],\"%s\":[", field);

	if (strcmp(field, "argv") == 0)
		n = (size_t)snprintf(out, OUT_BYTES, "{\"argv\":[");
	for (size_t i = 0; i < count; i++) {
		assert_true(n + strlen(entry) + 8 < OUT_BYTES);
		n += (size_t)snprintf(out + n, OUT_BYTES - n, "%s%s", i > 0 ? "," : "", entry);
	}
	n += (size_t)snprintf(out + n, OUT_BYTES - n, "]}");
	return n;
}

static void test_job_with_too_many_entries_is_rejected(void **state)
{
	struct wd_job job;
	struct wd_err err;
	size_t n;

	(void)state;
	n = job_with_many("argv", "\"a\"", WD_JOB_MAX_ARGS + 1);
	assert_int_equal(job_decode_bytes(out, n, &job, &err), -E2BIG);
	n = job_with_many("env", "\"A=1\"", WD_JOB_MAX_ENV + 1);
	assert_int_equal(job_decode_bytes(out, n, &job, &err), -E2BIG);
	n = job_with_many("files", "{}", WD_JOB_MAX_FILES + 1);
	assert_int_equal(job_decode_bytes(out, n, &job, &err), -E2BIG);
	n = job_with_many("argv", "\"a\"", WD_JOB_MAX_ARGS);
	assert_int_equal(job_decode_bytes(out, n, &job, &err), 0);
}

static void test_job_string_over_its_bound_is_rejected(void **state)
{
	struct wd_job job;
	struct wd_err err;
	size_t n = (size_t)snprintf(out, OUT_BYTES, "{\"argv\":[\"");

	(void)state;
	memset(out + n, 'a', WD_JOB_MAX_STRING + 1);
	n += WD_JOB_MAX_STRING + 1;
	memcpy(out + n, "\"]}", 4);
	assert_int_equal(job_decode_bytes(out, n + 3, &job, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "job.argv[0]"));
}

static void test_job_larger_than_the_arena_is_an_error(void **state)
{
	static const char j[] = "{\"argv\":[\"a-rather-long-program-name\"]}";
	struct wd_job job;
	struct wd_err err;
	uint8_t small[40];

	(void)state;
	assert_int_equal(
		wd_job_decode((const uint8_t *)j, sizeof(j) - 1, &job, small, sizeof(small), &err),
		-ENOSPC);
	assert_non_null(strstr(err.msg, "arena"));
	assert_null(job.argv);
}

static void test_largest_job_fits_the_arena(void **state)
{
	char entry[1024];
	struct wd_job job;
	struct wd_err err;
	size_t n;

	(void)state;
	/* About a megabyte of argv: the arena bound holds whatever one frame carries. */
	entry[0] = '"';
	memset(entry + 1, 'a', sizeof(entry) - 3);
	entry[sizeof(entry) - 2] = '"';
	entry[sizeof(entry) - 1] = '\0';
	n = job_with_many("argv", entry, WD_JOB_MAX_ARGS - 1);
	assert_true(n <= WD_FRAME_MAX_PAYLOAD);
	assert_int_equal(job_decode_bytes(out, n, &job, &err), 0);
	assert_int_equal(job.argc, WD_JOB_MAX_ARGS - 1);
}

static void test_job_encoder_refuses_what_the_decoder_refuses(void **state)
{
	struct wd_job job;
	struct wd_err err;
	static const char *env[] = {"NOEQUALS", NULL};

	(void)state;
	full_job(&job);
	job.files[1].name = "../escape";
	assert_int_equal(wd_job_encode(&job, out, OUT_BYTES, &err), -EINVAL);
	full_job(&job);
	job.env = env;
	job.envc = 1;
	assert_int_equal(wd_job_encode(&job, out, OUT_BYTES, &err), -EINVAL);
	full_job(&job);
	job.argc = 0;
	assert_int_equal(wd_job_encode(&job, out, OUT_BYTES, &err), -EINVAL);
	full_job(&job);
	job.files[0].mode = 04755;
	assert_int_equal(wd_job_encode(&job, out, OUT_BYTES, &err), -ERANGE);
}

static void test_job_encoder_reports_a_short_buffer(void **state)
{
	struct wd_job job;
	struct wd_err err;
	char small[64];

	(void)state;
	full_job(&job);
	assert_int_equal(wd_job_encode(&job, small, sizeof(small), &err), -ENOSPC);
}

/* ---- STARTED, EXIT, ERROR ------------------------------------------------- */

static void test_started_round_trips(void **state)
{
	struct wd_err err;
	int n, pid = 0;

	(void)state;
	n = wd_started_encode(4194304, out, OUT_BYTES, &err);
	assert_string_equal(out, "{\"pid\":4194304}");
	assert_int_equal(wd_started_decode((const uint8_t *)out, (size_t)n, &pid, &err), 0);
	assert_int_equal(pid, 4194304);
}

static void test_started_pid_out_of_range_is_rejected(void **state)
{
	struct wd_err err;
	int pid = -1;
	const char *j;

	(void)state;
	assert_int_equal(wd_started_encode(0, out, OUT_BYTES, &err), -ERANGE);
	j = json("{'pid':0}");
	assert_int_equal(wd_started_decode((const uint8_t *)j, strlen(j), &pid, &err), -ERANGE);
	j = json("{'pid':4194305}");
	assert_int_equal(wd_started_decode((const uint8_t *)j, strlen(j), &pid, &err), -ERANGE);
	j = json("{'pid':1,'ppid':1}");
	assert_int_equal(wd_started_decode((const uint8_t *)j, strlen(j), &pid, &err), -EINVAL);
	assert_int_equal(pid, -1);
}

static void test_exit_round_trips(void **state)
{
	struct wd_exit in, back;
	struct wd_err err;
	int n;

	(void)state;
	memset(&in, 0, sizeof(in)); /* padding included: the structs are compared whole */
	in.status = 137;
	in.signal = 9;
	in.core_dumped = true;
	in.oom_killed = true;
	in.utime_us = 1ULL << 53;
	in.maxrss_kib = 12345;
	n = wd_exit_encode(&in, out, OUT_BYTES, &err);
	assert_true(n > 0);
	assert_int_equal(wd_exit_decode((const uint8_t *)out, (size_t)n, &back, &err), 0);
	assert_memory_equal(&in, &back, sizeof(in));
}

static int exit_decode(const char *s, struct wd_exit *e, struct wd_err *err)
{
	const char *j = json(s);
	int rc = wd_exit_decode((const uint8_t *)j, strlen(j), e, err);

	assert_error_set(rc, err);
	return rc;
}

#define EXIT_USAGE "'usage':{'utime_us':1,'stime_us':2,'maxrss_kib':3}"

static void test_exit_status_out_of_range_is_rejected(void **state)
{
	struct wd_exit e = {.status = 256};
	struct wd_err err;

	(void)state;
	assert_int_equal(wd_exit_encode(&e, out, OUT_BYTES, &err), -ERANGE);
	assert_int_equal(exit_decode("{'status':256,'signal':0,'core_dumped':false,"
				     "'oom_killed':false,'timed_out':false," EXIT_USAGE "}",
				     &e, &err),
			 -ERANGE);
	assert_int_equal(exit_decode("{'status':0,'signal':65,'core_dumped':false,"
				     "'oom_killed':false,'timed_out':false," EXIT_USAGE "}",
				     &e, &err),
			 -ERANGE);
}

static void test_exit_missing_usage_field_is_rejected(void **state)
{
	struct wd_exit e;
	struct wd_err err;

	(void)state;
	assert_int_equal(
		exit_decode("{'status':0,'signal':0,'core_dumped':false,'oom_killed':false,"
			    "'timed_out':false,'usage':{'utime_us':1,'stime_us':2}}",
			    &e, &err),
		-EINVAL);
	assert_non_null(strstr(err.msg, "exit.usage: missing field 'maxrss_kib'"));
}

static void test_exit_flag_that_is_not_a_boolean_is_rejected(void **state)
{
	struct wd_exit e;
	struct wd_err err;

	(void)state;
	assert_int_equal(exit_decode("{'status':0,'signal':0,'core_dumped':0,'oom_killed':false,"
				     "'timed_out':false," EXIT_USAGE "}",
				     &e, &err),
			 -EINVAL);
}

/* audit_budget: absent, or exactly one of the two budgets' names, which
 * the decoder gives back as the constants themselves. */
static void test_exit_audit_budget_is_one_of_the_two(void **state)
{
	struct wd_exit e;
	struct wd_err err;
	char bad[8] = "max_rec";
	int n;

	(void)state;
	assert_int_equal(
		exit_decode("{'status':137,'signal':9,'core_dumped':false,'oom_killed':false,"
			    "'timed_out':false,'audit_budget':'max_bytes'," EXIT_USAGE "}",
			    &e, &err),
		0);
	assert_ptr_equal(e.audit_budget, wd_budget_bytes);
	assert_int_equal(
		exit_decode("{'status':0,'signal':0,'core_dumped':false,'oom_killed':false,"
			    "'timed_out':false," EXIT_USAGE "}",
			    &e, &err),
		0);
	assert_null(e.audit_budget);
	assert_int_equal(
		exit_decode("{'status':0,'signal':0,'core_dumped':false,'oom_killed':false,"
			    "'timed_out':false,'audit_budget':'disk'," EXIT_USAGE "}",
			    &e, &err),
		-EINVAL);
	assert_non_null(strstr(err.msg, "exit.audit_budget"));
	assert_int_equal(
		exit_decode("{'status':0,'signal':0,'core_dumped':false,'oom_killed':false,"
			    "'timed_out':false,'audit_budget':true," EXIT_USAGE "}",
			    &e, &err),
		-EINVAL);
	memset(&e, 0, sizeof(e));
	e.audit_budget = wd_budget_records;
	n = wd_exit_encode(&e, out, OUT_BYTES, &err);
	assert_true(n > 0);
	assert_non_null(strstr(out, "\"audit_budget\":\"max_records\""));
	e.audit_budget = bad;
	assert_int_equal(wd_exit_encode(&e, out, OUT_BYTES, &err), -EINVAL);
}

static void test_error_round_trips(void **state)
{
	struct wd_error_msg e;
	struct wd_err err;
	int n;

	(void)state;
	n = wd_error_encode("protocol", "frame JOB (seq 3): MAC mismatch \xe2\x9c\x97", out,
			    OUT_BYTES, &err);
	assert_true(n > 0);
	assert_int_equal(wd_error_decode((const uint8_t *)out, (size_t)n, &e, &err), 0);
	assert_string_equal(e.code, "protocol");
	assert_string_equal(e.message, "frame JOB (seq 3): MAC mismatch \xe2\x9c\x97");
}

static void test_error_encoder_cleans_the_message(void **state)
{
	char longmsg[WD_ERROR_MAX_MESSAGE + 100];
	struct wd_error_msg e;
	struct wd_err err;
	int n;

	(void)state;
	n = wd_error_encode("job", "bad\x1b[2J\xff\xc2\x9b name\n", out, OUT_BYTES, &err);
	assert_int_equal(wd_error_decode((const uint8_t *)out, (size_t)n, &e, &err), 0);
	assert_string_equal(e.message, "bad?[2J?? name?");
	/* Cut at a character boundary: 'a' then two-byte characters. */
	longmsg[0] = 'a';
	for (size_t i = 1; i + 2 < sizeof(longmsg); i += 2)
		memcpy(longmsg + i, "\xc3\xa9", 2);
	longmsg[sizeof(longmsg) - 1] = '\0';
	n = wd_error_encode("job", longmsg, out, OUT_BYTES, &err);
	assert_int_equal(wd_error_decode((const uint8_t *)out, (size_t)n, &e, &err), 0);
	assert_int_equal(strlen(e.message), WD_ERROR_MAX_MESSAGE - 1);
}

static void test_error_code_outside_its_alphabet_is_rejected(void **state)
{
	struct wd_error_msg e;
	struct wd_err err;
	const char *j = json("{'code':'Bad Code','message':''}");

	(void)state;
	assert_int_equal(wd_error_encode("Bad", "x", out, OUT_BYTES, &err), -EINVAL);
	assert_int_equal(wd_error_encode("", "x", out, OUT_BYTES, &err), -EINVAL);
	assert_int_equal(wd_error_decode((const uint8_t *)j, strlen(j), &e, &err), -EINVAL);
}

static void test_error_message_with_a_control_character_is_rejected(void **state)
{
	struct wd_error_msg e;
	struct wd_err err;
	const char *j = json("{'code':'job','message':'\\u001b]0;pwned\\u0007'}");

	(void)state;
	assert_int_equal(wd_error_decode((const uint8_t *)j, strlen(j), &e, &err), -EINVAL);
	assert_string_equal(e.message, "");
}

static void test_error_message_over_its_bound_is_rejected(void **state)
{
	struct wd_error_msg e;
	struct wd_err err;
	size_t n = (size_t)snprintf(out, OUT_BYTES, "{\"code\":\"job\",\"message\":\"");

	(void)state;
	memset(out + n, 'm', WD_ERROR_MAX_MESSAGE);
	n += WD_ERROR_MAX_MESSAGE;
	memcpy(out + n, "\"}", 3);
	assert_int_equal(wd_error_decode((const uint8_t *)out, n + 2, &e, &err), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_round_trips),
		cmocka_unit_test(test_ready_of_another_version_is_rejected),
		cmocka_unit_test(test_ready_with_reserved_bytes_set_is_rejected),
		cmocka_unit_test(test_ready_of_the_wrong_length_is_rejected),
		cmocka_unit_test(test_key_is_copied_out),
		cmocka_unit_test(test_key_of_the_wrong_length_is_rejected),
		cmocka_unit_test(test_winsize_round_trips),
		cmocka_unit_test(test_winsize_of_zero_is_rejected),
		cmocka_unit_test(test_stdin_ack_round_trips_a_64_bit_total),
		cmocka_unit_test(test_signal_round_trips),
		cmocka_unit_test(test_signal_out_of_range_is_rejected),
		cmocka_unit_test(test_hello_round_trips),
		cmocka_unit_test(test_hello_minimal_text_decodes),
		cmocka_unit_test(test_hello_of_another_version_is_rejected),
		cmocka_unit_test(test_hello_mode_must_be_vm_or_ns),
		cmocka_unit_test(test_hello_measurement_not_lowercase_hex_is_rejected),
		cmocka_unit_test(test_hello_missing_field_is_rejected),
		cmocka_unit_test(test_hello_rootfs_root_hash_is_hex_or_empty),
		cmocka_unit_test(test_hello_boot_timestamp_must_be_a_decimal_string),
		cmocka_unit_test(test_hello_audit_key_must_be_base64),
		cmocka_unit_test(test_hello_encoder_refuses_a_duration_over_2_pow_53),
		cmocka_unit_test(test_job_round_trips),
		cmocka_unit_test(test_job_strings_live_in_the_arena),
		cmocka_unit_test(test_job_encoding_is_compact_json),
		cmocka_unit_test(test_job_with_only_argv_gets_the_defaults),
		cmocka_unit_test(test_job_integer_in_exponent_form_is_read_exactly),
		cmocka_unit_test(test_job_unknown_field_is_rejected),
		cmocka_unit_test(test_unknown_field_name_is_printed_safely),
		cmocka_unit_test(test_job_duplicate_field_is_rejected),
		cmocka_unit_test(test_job_without_argv_is_rejected),
		cmocka_unit_test(test_job_with_empty_argv_is_rejected),
		cmocka_unit_test(test_job_with_empty_program_is_rejected),
		cmocka_unit_test(test_job_field_of_the_wrong_type_is_rejected),
		cmocka_unit_test(test_job_fractional_number_is_rejected),
		cmocka_unit_test(test_job_negative_number_is_rejected),
		cmocka_unit_test(test_job_number_over_its_bound_is_rejected),
		cmocka_unit_test(test_job_number_outside_json_grammar_is_rejected),
		cmocka_unit_test(test_job_clock_beyond_2_pow_53_travels_as_text),
		cmocka_unit_test(test_job_invalid_utf8_is_rejected),
		cmocka_unit_test(test_job_utf8_escapes_are_decoded),
		cmocka_unit_test(test_job_nul_in_a_string_is_rejected),
		cmocka_unit_test(test_job_raw_control_character_in_a_string_is_rejected),
		cmocka_unit_test(test_job_that_is_not_one_json_object_is_rejected),
		cmocka_unit_test(test_job_over_the_frame_bound_is_rejected),
		cmocka_unit_test(test_job_bad_file_names_are_rejected),
		cmocka_unit_test(test_job_longest_file_name_is_accepted),
		cmocka_unit_test(test_job_duplicate_file_names_are_rejected),
		cmocka_unit_test(test_job_file_mode_over_0777_is_rejected),
		cmocka_unit_test(test_job_file_size_over_its_bound_is_rejected),
		cmocka_unit_test(test_job_file_missing_its_digest_is_rejected),
		cmocka_unit_test(test_job_bad_sha256_is_rejected),
		cmocka_unit_test(test_job_env_entry_without_a_key_is_rejected),
		cmocka_unit_test(test_job_cwd_outside_the_working_directory_is_rejected),
		cmocka_unit_test(test_job_cwd_with_dots_in_names_is_accepted),
		cmocka_unit_test(test_job_policy_is_kept_as_compact_text),
		cmocka_unit_test(test_job_policy_that_is_not_an_object_is_rejected),
		cmocka_unit_test(test_job_policy_over_its_bound_is_rejected),
		cmocka_unit_test(test_job_with_too_many_entries_is_rejected),
		cmocka_unit_test(test_job_string_over_its_bound_is_rejected),
		cmocka_unit_test(test_job_larger_than_the_arena_is_an_error),
		cmocka_unit_test(test_largest_job_fits_the_arena),
		cmocka_unit_test(test_job_encoder_refuses_what_the_decoder_refuses),
		cmocka_unit_test(test_job_encoder_reports_a_short_buffer),
		cmocka_unit_test(test_started_round_trips),
		cmocka_unit_test(test_started_pid_out_of_range_is_rejected),
		cmocka_unit_test(test_exit_round_trips),
		cmocka_unit_test(test_exit_status_out_of_range_is_rejected),
		cmocka_unit_test(test_exit_missing_usage_field_is_rejected),
		cmocka_unit_test(test_exit_flag_that_is_not_a_boolean_is_rejected),
		cmocka_unit_test(test_exit_audit_budget_is_one_of_the_two),
		cmocka_unit_test(test_error_round_trips),
		cmocka_unit_test(test_error_encoder_cleans_the_message),
		cmocka_unit_test(test_error_code_outside_its_alphabet_is_rejected),
		cmocka_unit_test(test_error_message_with_a_control_character_is_rejected),
		cmocka_unit_test(test_error_message_over_its_bound_is_rejected),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
