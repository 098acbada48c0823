/*
 * vsock/msg.h - the payloads of the frames in frame.h (docs/protocol.md).
 *
 * Binary payloads are fixed-size big-endian fields. Structured ones (HELLO,
 * JOB, STARTED, EXIT, ERROR) are one JSON object each, decoded strictly:
 * every field's type and bound is checked, unknown fields are an error (a
 * newer peer bumps WD_PROTO_VERSION instead), and every string is UTF-8
 * without NUL. Decoders copy what they keep into caller-owned storage and
 * fill `err` with the field at fault; they return 0 or a negative errno
 * (EBADMSG not JSON, EINVAL a field's type or value, unknown or missing
 * field, ERANGE a number over its bound, E2BIG a string or list over its
 * bound, ENOSPC the job arena exhausted). On failure the JSON decoders
 * leave their struct zeroed; STARTED's and the binary decoders' outputs
 * are left untouched.
 *
 * JSON encoders write compact JSON and a NUL into `out` and return the
 * length (NUL not counted), or -ENOSPC when `size` is short (leave a few
 * bytes over the text's length: cJSON's estimate is not exact). They check
 * the same rules as the decoders, so nothing leaves that the peer refuses.
 * Integers are JSON numbers up to 2^53; the wall-clock-sized values
 * (job clock_realtime_ns, hello boot.t0_ns) are decimal strings.
 *
 * Shared by the supervisor (which decodes JOB, WINSIZE, SIGNAL, KEY,
 * SHUTDOWN, EG_REPLY) and the host (which decodes READY, HELLO, STARTED,
 * EXIT, EG_OPEN); both decode ERROR, EG_WINDOW and EG_CLOSE. The egress
 * payloads are in msgeg.c.
 */
#ifndef WARDEN_VSOCK_MSG_H
#define WARDEN_VSOCK_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/boottimes.h"
#include "../common/err.h"
#include "../common/tlog.h"
#include "frame.h"

#define WD_JOB_MAX_ARGS 1024               /* argv entries */
#define WD_JOB_MAX_ENV 1024                /* env entries, "KEY=VALUE" */
#define WD_JOB_MAX_STRING 32768            /* one argv or env entry, bytes */
#define WD_JOB_MAX_FILES 64                /* files uploaded with the job */
#define WD_JOB_MAX_FILE_BYTES (1ULL << 30) /* one file: 1 GiB */
#define WD_JOB_MAX_NAME 255                /* a file name: one path component */
#define WD_JOB_MAX_CWD 1024
#define WD_JOB_MAX_TIMEOUT_MS (7ULL * 24 * 3600 * 1000) /* a week */
#define WD_JOB_MAX_POLICY 65536                         /* the policy bundle, JSON text, bytes */
#define WD_JOB_MAX_MEM_MIB (1024ULL * 1024)             /* memory limit: 1 TiB */
#define WD_JOB_ARENA_BYTES (2 * WD_FRAME_MAX_PAYLOAD)   /* storage for one decoded job */
#define WD_SHA256_HEX 65                                /* 64 hex digits and a NUL */

/* READY: guest -> host, 4 bytes: protocol version u8, 3 reserved bytes (0).
 * The encoder returns WD_READY_BYTES. */
#define WD_READY_BYTES 4
int wd_ready_encode(uint8_t out[WD_READY_BYTES]);
int wd_ready_decode(const uint8_t *p, size_t len, struct wd_err *err);

/* KEY: host -> guest, exactly WD_KEY_BYTES bytes of key. */
int wd_key_decode(const uint8_t *p, size_t len, uint8_t key[WD_KEY_BYTES], struct wd_err *err);

/* WINSIZE: rows u16, cols u16 (1..65535 each). */
#define WD_WINSIZE_BYTES 4
void wd_winsize_encode(uint16_t rows, uint16_t cols, uint8_t out[WD_WINSIZE_BYTES]);
int wd_winsize_decode(const uint8_t *p, size_t len, uint16_t *rows, uint16_t *cols,
		      struct wd_err *err);

/* SIGNAL: signal number u32, 1..64, never SIGKILL's and SIGSTOP's
 * special meaning lost: any valid number is delivered as it is. */
#define WD_SIGNAL_BYTES 4
#define WD_SIGNAL_MAX 64U /* _NSIG - 1 on Linux: the largest signal number carried */
void wd_signal_encode(uint32_t signo, uint8_t out[WD_SIGNAL_BYTES]);
int wd_signal_decode(const uint8_t *p, size_t len, int *signo, struct wd_err *err);

/* STDIN_ACK: guest -> host, the total of stdin bytes taken so far, u64. */
#define WD_STDIN_ACK_BYTES 8
void wd_stdin_ack_encode(uint64_t total, uint8_t out[WD_STDIN_ACK_BYTES]);
int wd_stdin_ack_decode(const uint8_t *p, size_t len, uint64_t *total, struct wd_err *err);

/* AUDIT_ACK: host -> guest, the highest audit record sequence stored, u64. */
#define WD_AUDIT_ACK_BYTES 8
void wd_audit_ack_encode(uint64_t seq, uint8_t out[WD_AUDIT_ACK_BYTES]);
int wd_audit_ack_decode(const uint8_t *p, size_t len, uint64_t *seq, struct wd_err *err);

/* HELLO: guest -> host. */
struct wd_hello {
	unsigned version;                      /* WD_PROTO_VERSION */
	char mode[8];                          /* "vm" or "ns" */
	struct wd_boot_times boot;             /* init's phases */
	uint64_t ready_ns;                     /* init's first instruction to supervisor ready */
	char init_sha256[WD_SHA256_HEX];       /* of /init (or the running warden-init) */
	char supervisor_sha256[WD_SHA256_HEX]; /* of the running supervisor */
	char manifest_sha256[WD_SHA256_HEX];   /* of /etc/warden/manifest, "" if none */
	char audit_pubkey[WD_SPKI_B64];        /* base64 DER SubjectPublicKeyInfo, P-256 */
	char audit_key_id[2 * WD_KEY_ID_BYTES + 1]; /* its C2SP key id, hex */
	char audit_origin[WD_ORIGIN_MAX];           /* the log's origin: <vm>/audit/<boot> */
	/* the dm-verity root hash of the root filesystem warden-init verified
	 * and mounted for the agent (WARDEN_ROOTFS_HASH), hex; "" when none */
	char rootfs_root_hash[WD_SHA256_HEX];
};
int wd_hello_encode(const struct wd_hello *h, char *out, size_t size, struct wd_err *err);
int wd_hello_decode(const uint8_t *p, size_t len, struct wd_hello *h, struct wd_err *err);

/* JOB: host -> guest. Strings point into the caller's arena. */
struct wd_job_file {
	const char *name; /* one path component, no "/", not "." or ".." */
	uint32_t mode;    /* permission bits only: 0 .. 0777 */
	uint64_t size;    /* bytes that follow on stream WD_STREAM_FILE_BASE + index */
	char sha256[WD_SHA256_HEX];
};
struct wd_job {
	const char **argv; /* argc entries, then NULL */
	size_t argc;
	const char **env; /* envc entries "KEY=VALUE", then NULL */
	size_t envc;
	const char *cwd;     /* relative to the working directory; "" = the directory itself */
	uint64_t timeout_ms; /* 0: none */
	bool tty;            /* run on a PTY */
	uint16_t rows, cols; /* initial window size when tty */
	uint64_t clock_realtime_ns; /* the host's wall clock when it sent the job */
	struct wd_job_file files[WD_JOB_MAX_FILES];
	size_t nfiles;
	const char *policy; /* the policy bundle as JSON text, "" if none */
	uint64_t mem_mib;   /* memory limit asked for, 0 = default */
};

/* Encode into `out` (JSON text, no NUL counted). Returns the length or -errno. */
int wd_job_encode(const struct wd_job *job, char *out, size_t size, struct wd_err *err);

/*
 * Decode a JOB payload. `arena` (WD_JOB_ARENA_BYTES or more) holds every
 * string and pointer array of the result; nothing else is allocated that
 * outlives the call.
 */
int wd_job_decode(const uint8_t *p, size_t len, struct wd_job *job, void *arena, size_t arena_size,
		  struct wd_err *err);

/*
 * The SHA-256 of a policy as a decoded JOB carries it: `text` (a JSON
 * object of at most WD_JOB_MAX_POLICY bytes, read strictly) printed as
 * the decoder prints the job's `policy` member, compact, so that a file's
 * whitespace and escapes do not change it. Two texts have the same digest
 * when a JOB made from either hands the guest the same policy text. Hex,
 * lowercase, into out. -errno when the text is not one JSON object.
 */
int wd_job_policy_sha256(const char *text, size_t len, char out[WD_SHA256_HEX], struct wd_err *err);

/* STARTED: guest -> host. */
int wd_started_encode(int pid, char *out, size_t size, struct wd_err *err);
int wd_started_decode(const uint8_t *p, size_t len, int *pid, struct wd_err *err);

/* EXIT: guest -> host. */
struct wd_exit {
	int status; /* what a shell would report: 0-255, 128+N for signal N */
	int signal; /* the terminating signal, 0 if it exited */
	bool core_dumped;
	bool oom_killed;
	bool timed_out;              /* killed at the job's deadline */
	uint64_t utime_us, stime_us; /* CPU time of the agent and its reaped descendants */
	uint64_t maxrss_kib;
	/* killed because its audit budget was spent: wd_budget_records or
	 * wd_budget_bytes (these very arrays after decoding), NULL not */
	const char *audit_budget;
};
extern const char wd_budget_records[]; /* "max_records": policy audit.max_records */
extern const char wd_budget_bytes[];   /* "max_bytes": policy audit.max_bytes */
int wd_exit_encode(const struct wd_exit *e, char *out, size_t size, struct wd_err *err);
int wd_exit_decode(const uint8_t *p, size_t len, struct wd_exit *e, struct wd_err *err);

/* ERROR: either way, then the sender closes the channel. The encoder
 * rejects a bad code (EINVAL) but never a message: invalid UTF-8 and
 * control characters become '?' and it is cut to fit; the decoder rejects
 * control characters (the message is printed on the other side). */
#define WD_ERROR_MAX_MESSAGE 512
#define WD_ERROR_MAX_CODE 31 /* bytes of [a-z0-9_] */
struct wd_error_msg {
	char code[WD_ERROR_MAX_CODE + 1]; /* "protocol", "job", "internal", "timeout", ... */
	char message[WD_ERROR_MAX_MESSAGE];
};
int wd_error_encode(const char *code, const char *message, char *out, size_t size,
		    struct wd_err *err);
int wd_error_decode(const uint8_t *p, size_t len, struct wd_error_msg *e, struct wd_err *err);

/* ---- Egress streams (docs/protocol.md, "Streams") ------------------------
 *
 * EG_OPEN, EG_REPLY, EG_WINDOW and EG_CLOSE travel on an egress stream id
 * (WD_STREAM_EGRESS_BASE and up); DATA on such an id carries the stream's
 * bytes. The payloads are binary, big-endian, of an exact length; every
 * enum, count, address and text is checked, so a decoded value is in range.
 */
#define WD_EG_WINDOW (256UL * 1024UL) /* DATA bytes in flight per stream and direction */
#define WD_EG_CHUNK (64UL * 1024UL)   /* DATA payload per frame, at most */
#define WD_EG_HOST_MAX 255            /* OPEN: the host's text, bytes */
#define WD_EG_MAX_ADDRS 16            /* REPLY: addresses the name resolved to */
#define WD_EG_REASON_MAX 255          /* REPLY: the host's reason, bytes */
#define WD_EG_RULE_MAX 255            /* REPLY: a rule index (policy: 256 rules at most) */

/* The proxy that asked (OPEN). */
enum wd_eg_proxy {
	WD_EG_PROXY_HTTP_CONNECT = 1, /* HTTP CONNECT */
	WD_EG_PROXY_HTTP = 2,         /* HTTP absolute-form request */
	WD_EG_PROXY_SOCKS5 = 3,
};
#define WD_EG_PROXY_MAX WD_EG_PROXY_SOCKS5

/* REPLY's result. */
enum wd_eg_result {
	WD_EG_CONNECTED = 0,
	WD_EG_DENIED = 1,   /* the host's policy check */
	WD_EG_RESOLVE = 2,  /* the name did not resolve */
	WD_EG_ADDRESS = 3,  /* every address refused (special, cidr) */
	WD_EG_CONNECT = 4,  /* refused or unreachable */
	WD_EG_TIMEOUT = 5,  /* connect_timeout_s */
	WD_EG_LIMIT = 6,    /* limits.connections */
	WD_EG_INTERNAL = 7, /* the host failed */
};
#define WD_EG_RESULT_MAX WD_EG_INTERNAL

/* CLOSE's reason, and the reason a stream ended (egress/mux.h). */
enum wd_eg_close {
	WD_EG_CLOSE_DONE = 0,     /* both ends finished (never sent in CLOSE: empty DATA
				     both ways ends a stream) */
	WD_EG_CLOSE_RESET = 1,    /* a socket was reset or failed */
	WD_EG_CLOSE_IDLE = 2,     /* idle_timeout_s */
	WD_EG_CLOSE_JOB_END = 3,  /* the job ended */
	WD_EG_CLOSE_LIMIT = 4,    /* a limit was hit */
	WD_EG_CLOSE_PROTOCOL = 5, /* a bad frame for this stream */
	WD_EG_CLOSE_SHUTDOWN = 6, /* the side is shutting down */
};
#define WD_EG_CLOSE_MAX WD_EG_CLOSE_SHUTDOWN

/* "http-connect", "http", "socks5"; "connected", "denied", "resolve",
 * "address", "connect", "timeout", "limit", "internal"; "done", "reset",
 * "idle", "job-end", "limit", "protocol", "shutdown". "?" out of range. */
const char *wd_eg_proxy_name(unsigned p);
const char *wd_eg_result_name(unsigned r);
const char *wd_eg_close_name(unsigned c);

/* An address on the wire: family 0 (none), 4 (IPv4 in a[0..3], the rest
 * 0) or 6 (IPv6); family 0 has all 16 bytes 0. */
#define WD_EG_ADDR_BYTES 17
struct wd_eg_addr {
	uint8_t family;
	uint8_t a[16];
};

/*
 * OPEN: guest -> host. port u16 (1..65535), proxy u8 (enum wd_eg_proxy),
 * host length u8 (1..255), host bytes. The host is the agent's text as
 * common/egress.c normalised it: a name, or an address literal without
 * brackets; only [a-z0-9._:-] are accepted (lowercase, no NUL, no space).
 * The decoder NUL-terminates `host`.
 */
#define WD_EG_OPEN_MIN_BYTES 5
#define WD_EG_OPEN_MAX_BYTES (4 + WD_EG_HOST_MAX)
struct wd_eg_open {
	uint16_t port;
	uint8_t proxy;
	char host[WD_EG_HOST_MAX + 1];
};
/* Returns the payload length, or -EINVAL / -ERANGE with `err` set. */
int wd_eg_open_encode(const struct wd_eg_open *o, uint8_t out[WD_EG_OPEN_MAX_BYTES],
		      struct wd_err *err);
int wd_eg_open_decode(const uint8_t *p, size_t len, struct wd_eg_open *o, struct wd_err *err);

/*
 * REPLY: host -> guest. result u8, rule i16 (-1 or 0..WD_EG_RULE_MAX: the
 * host's allow rule that let it through, or the deny rule that refused),
 * dialed address (WD_EG_ADDR_BYTES), dialed port u16, naddrs u8 (0..16),
 * naddrs addresses, reason length u8, reason (printable ASCII 0x20..0x7e).
 * CONNECTED has a dialed address (family 4 or 6), a port and an empty
 * reason; any other result has no dialed address (family 0, port 0) and a
 * reason of 1..255 bytes. Listed addresses have family 4 or 6.
 */
#define WD_EG_REPLY_MIN_BYTES (1 + 2 + WD_EG_ADDR_BYTES + 2 + 1 + 1)
#define WD_EG_REPLY_MAX_BYTES                                                                      \
	(WD_EG_REPLY_MIN_BYTES + WD_EG_MAX_ADDRS * WD_EG_ADDR_BYTES + WD_EG_REASON_MAX)
struct wd_eg_reply {
	uint8_t result; /* enum wd_eg_result */
	int16_t rule;
	struct wd_eg_addr dialed;
	uint16_t dialed_port;
	uint8_t naddrs;
	struct wd_eg_addr addrs[WD_EG_MAX_ADDRS];
	char reason[WD_EG_REASON_MAX + 1];
};
int wd_eg_reply_encode(const struct wd_eg_reply *r, uint8_t out[WD_EG_REPLY_MAX_BYTES],
		       struct wd_err *err);
int wd_eg_reply_decode(const uint8_t *p, size_t len, struct wd_eg_reply *r, struct wd_err *err);

/* WINDOW: credit u32, 1..WD_EG_WINDOW (a receiver never holds more). */
#define WD_EG_WINDOW_BYTES 4
void wd_eg_window_encode(uint32_t credit, uint8_t out[WD_EG_WINDOW_BYTES]);
int wd_eg_window_decode(const uint8_t *p, size_t len, uint32_t *credit, struct wd_err *err);

/* CLOSE: reason u8, WD_EG_CLOSE_RESET..WD_EG_CLOSE_MAX (DONE is not a reset). */
#define WD_EG_CLOSE_BYTES 1
void wd_eg_close_encode(enum wd_eg_close reason, uint8_t out[WD_EG_CLOSE_BYTES]);
int wd_eg_close_decode(const uint8_t *p, size_t len, enum wd_eg_close *reason, struct wd_err *err);

#endif
