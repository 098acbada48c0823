/* vsock/frame.c - see frame.h and docs/protocol.md. */
#include "frame.h"

#include <errno.h>
#include <string.h>

#include "../common/sha256.h"

static const char *const type_names[] = {
	[0] = "?",
	[WD_MSG_READY] = "READY",
	[WD_MSG_KEY] = "KEY",
	[WD_MSG_HELLO] = "HELLO",
	[WD_MSG_JOB] = "JOB",
	[WD_MSG_DATA] = "DATA",
	[WD_MSG_WINSIZE] = "WINSIZE",
	[WD_MSG_SIGNAL] = "SIGNAL",
	[WD_MSG_STARTED] = "STARTED",
	[WD_MSG_EXIT] = "EXIT",
	[WD_MSG_APPROVAL_REQ] = "APPROVAL_REQ",
	[WD_MSG_APPROVAL_ANS] = "APPROVAL_ANS",
	[WD_MSG_AUDIT] = "AUDIT",
	[WD_MSG_AUDIT_ACK] = "AUDIT_ACK",
	[WD_MSG_SHUTDOWN] = "SHUTDOWN",
	[WD_MSG_ERROR] = "ERROR",
	[WD_MSG_STDIN_ACK] = "STDIN_ACK",
	[WD_MSG_RESUME] = "RESUME",
	[WD_MSG_EG_OPEN] = "EG_OPEN",
	[WD_MSG_EG_REPLY] = "EG_REPLY",
	[WD_MSG_EG_WINDOW] = "EG_WINDOW",
	[WD_MSG_EG_CLOSE] = "EG_CLOSE",
};

/* Who sends what: bit 0 host may send, bit 1 guest may send. */
#define FROM_HOST 1U
#define FROM_GUEST 2U
static const unsigned char senders[] = {
	[WD_MSG_READY] = FROM_GUEST,
	[WD_MSG_KEY] = FROM_HOST,
	[WD_MSG_HELLO] = FROM_GUEST,
	[WD_MSG_JOB] = FROM_HOST,
	[WD_MSG_DATA] = FROM_HOST | FROM_GUEST,
	[WD_MSG_WINSIZE] = FROM_HOST,
	[WD_MSG_SIGNAL] = FROM_HOST,
	[WD_MSG_STARTED] = FROM_GUEST,
	[WD_MSG_EXIT] = FROM_GUEST,
	[WD_MSG_APPROVAL_REQ] = FROM_GUEST,
	[WD_MSG_APPROVAL_ANS] = FROM_HOST,
	[WD_MSG_AUDIT] = FROM_GUEST,
	[WD_MSG_AUDIT_ACK] = FROM_HOST,
	[WD_MSG_SHUTDOWN] = FROM_HOST,
	[WD_MSG_ERROR] = FROM_HOST | FROM_GUEST,
	[WD_MSG_STDIN_ACK] = FROM_GUEST,
	[WD_MSG_RESUME] = FROM_HOST | FROM_GUEST,
	[WD_MSG_EG_OPEN] = FROM_GUEST,
	[WD_MSG_EG_REPLY] = FROM_HOST,
	[WD_MSG_EG_WINDOW] = FROM_HOST | FROM_GUEST,
	[WD_MSG_EG_CLOSE] = FROM_HOST | FROM_GUEST,
};

const char *wd_msg_type_name(unsigned type)
{
	return type <= WD_MSG_TYPE_MAX ? type_names[type] : "?";
}

static bool may_send(enum wd_side sender, unsigned type)
{
	if (type == 0 || type > WD_MSG_TYPE_MAX)
		return false;
	return (senders[type] & (sender == WD_SIDE_HOST ? FROM_HOST : FROM_GUEST)) != 0;
}

bool wd_msg_type_valid_for(enum wd_side receiver, unsigned type)
{
	return may_send(receiver == WD_SIDE_HOST ? WD_SIDE_GUEST : WD_SIDE_HOST, type);
}

static bool unkeyed_type(unsigned type)
{
	return type == WD_MSG_READY || type == WD_MSG_KEY;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* A stream frame's MAC: its sequence number is the IV (frame.h). */
static void frame_mac(const struct wd_mac_key *key, uint64_t seq, const uint8_t *frame, size_t len,
		      uint8_t out[WD_FRAME_MAC_BYTES])
{
	uint8_t iv[12] = {0};

	put_be64(iv + 4, seq);
	wd_mac(key, iv, sizeof(iv), frame, len, out);
}

/* A RESUME's MAC: the IV is its epoch and payload, all that varies in it. */
static void resume_mac(const struct wd_mac_key *key, const uint8_t *frame,
		       uint8_t out[WD_FRAME_MAC_BYTES])
{
	uint8_t iv[16];

	memcpy(iv, frame + 12, 8);
	memcpy(iv + 8, frame + WD_FRAME_HEADER_BYTES, 8);
	wd_mac(key, iv, sizeof(iv), frame, WD_FRAME_HEADER_BYTES + 8, out);
}

void wd_chan_init(struct wd_chan *ch, enum wd_side side)
{
	memset(ch, 0, sizeof(*ch));
	ch->side = side;
}

void wd_chan_set_key(struct wd_chan *ch, const uint8_t key[WD_KEY_BYTES])
{
	static const char label_h2g[] = "warden gmac host->guest",
			  label_g2h[] = "warden gmac guest->host";
	uint8_t h2g[32], g2h[32];

	wd_hmac_sha256(key, WD_KEY_BYTES, label_h2g, strlen(label_h2g), NULL, 0, h2g);
	wd_hmac_sha256(key, WD_KEY_BYTES, label_g2h, strlen(label_g2h), NULL, 0, g2h);
	wd_mac_key_init(&ch->send_key, ch->side == WD_SIDE_HOST ? h2g : g2h);
	wd_mac_key_init(&ch->recv_key, ch->side == WD_SIDE_HOST ? g2h : h2g);
	explicit_bzero(h2g, sizeof(h2g));
	explicit_bzero(g2h, sizeof(g2h));
	ch->keyed = true;
	ch->send_seq = 0;
	ch->recv_seq = 0;
}

void wd_chan_wipe(struct wd_chan *ch)
{
	explicit_bzero(&ch->send_key, sizeof(ch->send_key));
	explicit_bzero(&ch->recv_key, sizeof(ch->recv_key));
	ch->keyed = false;
}

int wd_frame_encode(struct wd_chan *ch, unsigned type, uint32_t stream, const void *payload,
		    size_t len, uint8_t *out, size_t out_size, struct wd_err *err)
{
	bool mac = !unkeyed_type(type);
	size_t total = WD_FRAME_HEADER_BYTES + len + (mac ? WD_FRAME_MAC_BYTES : 0);

	if (!may_send(ch->side, type) || type == WD_MSG_RESUME)
		return wd_err_set(err, EPROTO, "frame %s: not sent by this side%s",
				  wd_msg_type_name(type),
				  type == WD_MSG_RESUME ? " in the stream" : "");
	if (len > WD_FRAME_MAX_PAYLOAD)
		return wd_err_set(err, E2BIG, "frame %s: payload of %zu bytes over %lu",
				  wd_msg_type_name(type), len, WD_FRAME_MAX_PAYLOAD);
	if (mac != ch->keyed)
		return wd_err_set(err, EPROTO, "frame %s: %s", wd_msg_type_name(type),
				  mac ? "no key yet" : "the channel is already keyed");
	if (out_size < total)
		return wd_err_set(err, ENOSPC, "frame %s: output buffer too small",
				  wd_msg_type_name(type));
	out[0] = 'W';
	out[1] = 'D';
	out[2] = WD_PROTO_VERSION;
	out[3] = (uint8_t)type;
	out[4] = mac ? WD_FLAG_MAC : 0;
	out[5] = out[6] = out[7] = 0;
	put_be32(out + 8, stream);
	put_be64(out + 12, mac ? ++ch->send_seq : 0);
	put_be32(out + 20, (uint32_t)len);
	if (len > 0)
		memmove(out + WD_FRAME_HEADER_BYTES, payload, len);
	if (mac)
		frame_mac(&ch->send_key, ch->send_seq, out, WD_FRAME_HEADER_BYTES + len,
			  out + WD_FRAME_HEADER_BYTES + len);
	return (int)total;
}

void wd_decoder_init(struct wd_decoder *d, uint8_t *buf, size_t size)
{
	d->buf = buf;
	d->size = size;
	d->start = 0;
	d->used = 0;
	d->consumed = 0;
	d->failed = false;
}

static void drop_consumed(struct wd_decoder *d)
{
	d->start += d->consumed;
	d->consumed = 0;
	if (d->start == d->used)
		d->start = d->used = 0;
}

size_t wd_decoder_space(struct wd_decoder *d, uint8_t **where)
{
	drop_consumed(d);
	/*
	 * Move the unread bytes to the front only when the room behind them
	 * runs short, so a stream of frames is not copied once per frame.
	 */
	if (d->start > 0 && d->size - d->used < d->size / 2) {
		memmove(d->buf, d->buf + d->start, d->used - d->start);
		d->used -= d->start;
		d->start = 0;
	}
	*where = d->buf + d->used;
	return d->size - d->used;
}

void wd_decoder_fill(struct wd_decoder *d, size_t n)
{
	d->used += n;
}

/* Constant time: a MAC mismatch must not say where it differs. */
static bool mac_equal(const uint8_t *a, const uint8_t *b)
{
	unsigned diff = 0;

	for (size_t i = 0; i < WD_FRAME_MAC_BYTES; i++)
		diff |= (unsigned)(a[i] ^ b[i]);
	return diff == 0;
}

static int fail(struct wd_decoder *d, struct wd_err *err, int code, const char *what, unsigned type,
		uint64_t seq)
{
	d->failed = true;
	return wd_err_set(err, code, "frame %s (seq %llu): %s", wd_msg_type_name(type),
			  (unsigned long long)seq, what);
}

static int check_header(struct wd_decoder *d, const struct wd_chan *ch, const uint8_t *h,
			struct wd_err *err)
{
	unsigned type = h[3];
	uint64_t seq = get_be64(h + 12);

	if (h[0] != 'W' || h[1] != 'D')
		return fail(d, err, EPROTO, "bad magic", 0, seq);
	if (h[2] != WD_PROTO_VERSION)
		return fail(d, err, EPROTO, "unsupported protocol version", type, seq);
	if ((h[4] & ~WD_FLAG_MAC) != 0 || h[5] != 0 || h[6] != 0 || h[7] != 0)
		return fail(d, err, EPROTO, "reserved bits set", type, seq);
	if (!wd_msg_type_valid_for(ch->side, type))
		return fail(d, err, EPROTO, "unknown type, or not one this side receives", type,
			    seq);
	if (get_be32(h + 20) > WD_FRAME_MAX_PAYLOAD)
		return fail(d, err, EMSGSIZE, "length over the bound", type, seq);
	if (type == WD_MSG_RESUME)
		return fail(d, err, EPROTO, "RESUME inside the stream", type, seq);
	return 0;
}

/* Unkeyed frames: READY to the host until the first authenticated frame,
 * KEY to a guest that has no key yet; always with sequence 0. */
static int check_unkeyed(struct wd_decoder *d, const struct wd_chan *ch, unsigned type,
			 uint64_t seq, struct wd_err *err)
{
	if (!unkeyed_type(type))
		return fail(d, err, EACCES, "no MAC", type, seq);
	if (seq != 0)
		return fail(d, err, EPROTO, "unauthenticated frame with a sequence number", type,
			    seq);
	if (ch->recv_authed || (type == WD_MSG_KEY && ch->keyed))
		return fail(d, err, EACCES, "unauthenticated frame after the key", type, seq);
	return 0;
}

int wd_decoder_next(struct wd_decoder *d, struct wd_chan *ch, struct wd_frame *f,
		    struct wd_err *err)
{
	const uint8_t *h;
	uint8_t mac[WD_FRAME_MAC_BYTES];
	size_t need;
	unsigned type;
	uint64_t seq;
	uint32_t len;
	bool has_mac;

	if (d->failed)
		return wd_err_set(err, EPROTO, "channel already failed");
	drop_consumed(d);
	if (d->used - d->start < WD_FRAME_HEADER_BYTES)
		return 0;
	h = d->buf + d->start;
	if (check_header(d, ch, h, err) < 0)
		return -err->code;
	type = h[3];
	has_mac = (h[4] & WD_FLAG_MAC) != 0;
	seq = get_be64(h + 12);
	len = get_be32(h + 20);
	need = WD_FRAME_HEADER_BYTES + len + (has_mac ? WD_FRAME_MAC_BYTES : 0);
	if (need > d->size)
		return fail(d, err, EMSGSIZE, "frame larger than the receive buffer", type, seq);
	if (d->used - d->start < need) {
		/* The rest must fit behind the start: make room now if it cannot. */
		if (d->start + need > d->size) {
			memmove(d->buf, d->buf + d->start, d->used - d->start);
			d->used -= d->start;
			d->start = 0;
		}
		return 0;
	}
	if (!has_mac) {
		if (check_unkeyed(d, ch, type, seq, err) < 0)
			return -err->code;
	} else {
		if (!ch->keyed)
			return fail(d, err, EACCES, "MAC before any key", type, seq);
		frame_mac(&ch->recv_key, seq, h, WD_FRAME_HEADER_BYTES + len, mac);
		if (!mac_equal(mac, h + WD_FRAME_HEADER_BYTES + len))
			return fail(d, err, EBADMSG, "MAC mismatch", type, seq);
		if (seq != ch->recv_seq + 1)
			return fail(d, err, EPROTO,
				    seq <= ch->recv_seq ? "replayed or reordered sequence number"
							: "sequence number skips frames",
				    type, seq);
		ch->recv_seq = seq;
		ch->recv_authed = true;
	}
	f->type = (uint8_t)type;
	f->flags = h[4];
	f->stream = get_be32(h + 8);
	f->seq = seq;
	f->len = len;
	f->payload = h + WD_FRAME_HEADER_BYTES;
	d->consumed = need;
	return 1;
}

size_t wd_frame_size(const uint8_t *h)
{
	return WD_FRAME_HEADER_BYTES + get_be32(h + 20) +
	       ((h[4] & WD_FLAG_MAC) != 0 ? WD_FRAME_MAC_BYTES : 0);
}

uint64_t wd_frame_seq(const uint8_t *h)
{
	return get_be64(h + 12);
}

static void resume_header(uint8_t *h, uint64_t epoch)
{
	h[0] = 'W';
	h[1] = 'D';
	h[2] = WD_PROTO_VERSION;
	h[3] = WD_MSG_RESUME;
	h[4] = WD_FLAG_MAC;
	h[5] = h[6] = h[7] = 0;
	put_be32(h + 8, WD_STREAM_CONTROL);
	put_be64(h + 12, epoch);
	put_be32(h + 20, 8);
}

int wd_resume_encode(const struct wd_chan *ch, uint64_t epoch, uint64_t last_seq,
		     uint8_t out[WD_RESUME_FRAME_BYTES])
{
	resume_header(out, epoch);
	put_be64(out + WD_FRAME_HEADER_BYTES, last_seq);
	resume_mac(&ch->send_key, out, out + WD_FRAME_HEADER_BYTES + 8);
	return WD_RESUME_FRAME_BYTES;
}

/* Could a RESUME start at p (n bytes available, n >= 1)? Compares what is there. */
static bool resume_prefix(const uint8_t *p, size_t n)
{
	uint8_t want[WD_FRAME_HEADER_BYTES];

	resume_header(want, 0);
	for (size_t i = 0; i < n && i < WD_FRAME_HEADER_BYTES; i++) {
		if (i >= 12 && i < 20)
			continue; /* the epoch: any */
		if (p[i] != want[i])
			return false;
	}
	return true;
}

int wd_decoder_find_resume(struct wd_decoder *d, const struct wd_chan *ch, uint64_t *epoch,
			   uint64_t *last_seq)
{
	uint8_t mac[WD_FRAME_MAC_BYTES];

	drop_consumed(d);
	while (d->start < d->used) {
		const uint8_t *p = d->buf + d->start;
		size_t n = d->used - d->start;

		if (!resume_prefix(p, n)) {
			d->start++;
			continue;
		}
		if (n < WD_RESUME_FRAME_BYTES)
			break;
		resume_mac(&ch->recv_key, p, mac);
		if (!mac_equal(mac, p + WD_FRAME_HEADER_BYTES + 8)) {
			d->start++;
			continue;
		}
		*epoch = get_be64(p + 12);
		*last_seq = get_be64(p + WD_FRAME_HEADER_BYTES);
		d->start += WD_RESUME_FRAME_BYTES;
		if (d->start == d->used)
			d->start = d->used = 0;
		return 1;
	}
	if (d->start == d->used)
		d->start = d->used = 0;
	return 0;
}
