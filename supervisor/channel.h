/*
 * supervisor/channel.h - the supervisor's end of the channel to the host:
 * opening it, the handshake, bounded waits for the host's frames, and the
 * last word (ERROR) when the supervisor gives up.
 *
 * The handshake (docs/protocol.md):
 *
 *   guest -> host  READY, unauthenticated, every SUP_READY_INTERVAL_MS until
 *                  the host's first frame arrives (virtio-serial drops what
 *                  is written before the host end connects)
 *   host -> guest  KEY, unauthenticated: the job key; any other first frame
 *                  is a protocol error
 *   guest -> host  HELLO, authenticated, like every frame after it
 *
 * Before the agent runs, every wait for the host is bounded by
 * SUP_HOST_WAIT_MS: a silent host ends the VM. The key is copied into the
 * channel's direction keys only; the copy, and the KEY frame in the receive
 * buffer, are wiped at once, and sup_channel_close() wipes the rest.
 */
#ifndef WARDEN_SUPERVISOR_CHANNEL_H
#define WARDEN_SUPERVISOR_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vsock/conn.h"
#include "../vsock/msg.h"
#include "fail.h"

#define SUP_CHANNEL_RETRY_MS 100  /* the virtio-serial port may appear after us */
#define SUP_CHANNEL_WAIT_MS 10000 /* ... for this long */
#define SUP_READY_INTERVAL_MS 250 /* READY repeated until the host speaks */
#define SUP_HOST_WAIT_MS                                                                           \
	120000                    /* longest silence of the host before the agent runs;
				      TCG boots are slow */
#define SUP_ERROR_FLUSH_MS 1000   /* the last ERROR frame gets this long to leave */
#define SUP_RESUME_WAIT_MS 60000  /* a broken channel: the host has this long to come back */
#define SUP_RESUME_ANSWER_MS 5000 /* RESUME sent: the host's answer within this, else again */
#define SUP_CHANNEL_SPEC_MAX 128

struct sup_channel;

/*
 * What the channel does for the audit log in every wait (audit.h attaches
 * them: the channel knows nothing of records): `pump` queues what is ready
 * to send, `ack` takes an AUDIT_ACK. Either may be NULL. Both return 0 or
 * -errno with `f` set.
 */
struct sup_channel_hooks {
	int (*pump)(struct sup_channel *ch, struct sup_fail *f);
	int (*ack)(const struct wd_frame *fr, struct sup_fail *f);
};

struct sup_channel {
	struct wd_conn conn;
	struct sup_channel_hooks hooks;
	bool open;
	bool serial;     /* virtio-serial: reads see EOF until the host end connects */
	bool host_spoke; /* the host's first frame arrived */
	bool final;      /* EXIT went out: a break now is the end, not resumed */
	char spec[SUP_CHANNEL_SPEC_MAX];
	struct { /* the last resumption, until audit.c writes its record */
		bool pending;
		uint64_t epoch, down_ms, resent;
		char why[160];
	} resumed;
};

/* Open the channel named `spec` (vsock/transport.h), retrying while a
 * virtio-serial port does not exist yet. */
int sup_channel_open(struct sup_channel *ch, const char *spec, struct sup_fail *f);

/*
 * READY until KEY, install the key, send `hello` and flush it. From then on
 * a broken channel is resumed (docs/protocol.md, "A broken channel"): the
 * supervisor reconnects (virtio-serial: reopens the port and waits for the
 * host end), sends RESUME and, once the host's RESUME says what it has,
 * sends the rest again; meanwhile nothing else moves, so the agent's
 * audited actions and output wait. Each resumption is an auth/resume
 * record. Not within SUP_RESUME_WAIT_MS: the job fails.
 */
int sup_channel_handshake(struct sup_channel *ch, const struct wd_hello *hello, struct sup_fail *f);

/*
 * Flush what is queued, then wait up to timeout_ms for the next frame. An
 * ERROR or SHUTDOWN from the host ends the wait as a failure of kind
 * SUP_FAIL_CHANNEL or SUP_FAIL_SHUTDOWN (see sup_channel_end_frame).
 */
int sup_channel_recv(struct sup_channel *ch, struct wd_frame *fr, int timeout_ms,
		     struct sup_fail *f);

/* Queue a frame; when the queue is full, flush first (bounded by SUP_HOST_WAIT_MS). */
int sup_channel_send(struct sup_channel *ch, unsigned type, uint32_t stream, const void *payload,
		     size_t len, struct sup_fail *f);

/* Flush everything queued within timeout_ms. */
int sup_channel_flush(struct sup_channel *ch, int timeout_ms, struct sup_fail *f);

/*
 * Frames that end the job whatever the stage: the host's ERROR (logged with
 * its code and message; kind SUP_FAIL_CHANNEL, no ERROR goes back) and
 * SHUTDOWN (kind SUP_FAIL_SHUTDOWN). Returns 0 for any other frame.
 */
int sup_channel_end_frame(const struct wd_frame *fr, struct sup_fail *f);

/* The kind of failure a negative return of wd_conn_read/next/recv_wait or
 * flush_wait is: the decoder's verdicts are SUP_FAIL_PROTOCOL, ETIMEDOUT is
 * SUP_FAIL_TIMEOUT, the rest SUP_FAIL_CHANNEL. */
enum sup_fail_kind sup_channel_read_fail_kind(int rc);

/* A protocol failure naming the frame and the stage it arrived in. */
int sup_channel_unexpected(const struct wd_frame *fr, const char *stage, struct sup_fail *f);

/* Tell the host why the supervisor gives up (an ERROR frame with the
 * kind's code), when the channel is keyed and the failure is not the
 * host's own doing (SUP_FAIL_CHANNEL, SUP_FAIL_SHUTDOWN). */
void sup_channel_report(struct sup_channel *ch, const struct sup_fail *f);

/* Close the fd and wipe every key. Safe to call twice. */
void sup_channel_close(struct sup_channel *ch);

#endif
