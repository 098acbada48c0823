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
 *
 * One "name value" pair per line, for bench/run.sh.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include "../common/clock.h"
#include "../common/tlog.h"
#include "../supervisor/audit.h"

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

static int emit(uint64_t n)
{
	struct sup_audit_limits lim;
	struct sup_audit_event ev = {
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
	struct wd_err err;
	uint64_t t0;

	if (sup_audit_open("bench", &err) < 0) {
		fprintf(stderr, "auditbench: %s\n", err.msg);
		return 1;
	}
	/* Nothing is delivered here: room for all of it. */
	sup_audit_defaults(&lim);
	lim.memory_bytes = 1ULL << 30;
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

int main(int argc, char **argv)
{
	char *end = NULL;
	double v = argc == 3 ? strtod(argv[2], &end) : 0;

	if (argc != 3 || end == NULL || *end != '\0' || v <= 0) {
		fprintf(stderr, "usage: auditbench crypto SECONDS | auditbench emit N\n");
		return 2;
	}
	if (strcmp(argv[1], "crypto") == 0)
		return crypto(v);
	if (strcmp(argv[1], "emit") == 0)
		return emit((uint64_t)v);
	fprintf(stderr, "auditbench: unknown mode '%s'\n", argv[1]);
	return 2;
}
