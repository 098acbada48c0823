/*
 * common/safetext.h - text from outside the trusted side, made safe for a
 * terminal.
 *
 * A terminal acts on control characters: C0 (U+0000..U+001F: ESC starts
 * every escape sequence), DEL (U+007F) and C1 (U+0080..U+009F: CSI U+009B,
 * OSC U+009D and DCS U+0090 start sequences on their own). Such sequences
 * clear the screen, move the cursor over text already printed, set the
 * window title, write the clipboard (OSC 52) or make the terminal answer
 * with bytes it then reads as typed input (DECRQSS, title reports). Paths,
 * names and messages that the guest or the agent chose reach the
 * operator's terminal in warden's own lines; these functions write them
 * with every such character made visible:
 *
 *   - a control character (C0, DEL, C1) as `\u00xx` (lower-case hex, as
 *     JSON writes it: U+001B is `\u001b`, U+009B is `\u009b`);
 *   - a byte that is not part of valid UTF-8 as `\xNN` (a lone 0x9b is
 *     CSI to a terminal that takes 8-bit controls);
 *   - everything else (printable ASCII, valid UTF-8 past U+009F) as it is.
 *
 * A backslash is not doubled: the result is safe to print, not a lossless
 * encoding (`\u001b` may be the text's own).
 *
 * Users: common/log.c (every log line's message, in every program),
 * `warden audit show` (host/audit.c), and `--sanitize-output` of
 * `warden run` and `warden sandbox` (host/output.c), which run the stream
 * form over the agent's output. No allocation; the caller owns every
 * buffer. The stream form takes input split anywhere (a UTF-8 character or
 * a CR LF across two reads) and gives the same bytes as in one piece; a
 * fuzz target (tests/fuzz/fuzz_safetext.c) holds it to that.
 */
#ifndef WARDEN_COMMON_SAFETEXT_H
#define WARDEN_COMMON_SAFETEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WD_SAFE_GROWTH 6 /* output bytes per input byte, at most ("\u001b" for ESC) */
#define WD_SAFE_HELD 3   /* bytes a stream holds back: an unfinished character, a CR */

/* Room wd_safe_stream() needs for `n` input bytes. */
#define WD_SAFE_STREAM_OUT(n) (WD_SAFE_GROWTH * ((n) + WD_SAFE_HELD))

/*
 * One line: in[0..n) into out (at most `size` bytes, not NUL-terminated),
 * every control character escaped, line feeds and tabs included. Cut
 * before the first character or escape that does not fit. Returns the
 * bytes written.
 */
size_t wd_safe_line(const char *in, size_t n, char *out, size_t size);

/*
 * One line of JSON that the caller parsed (valid JSON, valid UTF-8 in its
 * strings): as wd_safe_line() inside strings, so `\u00xx` keeps the
 * string's meaning; tab, CR and LF between tokens become a space. The
 * output is JSON with the same meaning, and the same bytes when the line
 * holds no control character (a canonical audit record, jcanon.h).
 */
size_t wd_safe_json(const char *in, size_t n, char *out, size_t size);

/*
 * The agent's output (stdout, stderr), one stream: as wd_safe_line() but
 * LF and tab pass, and CR passes when LF follows (CR LF, as a terminal
 * driver writes lines); a lone CR, which would let later text overwrite
 * the line, is escaped. Bytes that may begin an unfinished character, or
 * a CR at the end of the input, are held (at most WD_SAFE_HELD) until the
 * next call or wd_safe_stream_end(). `out` has WD_SAFE_STREAM_OUT(n)
 * bytes; returns the bytes written.
 */
struct wd_safe_stream {
	uint8_t held[WD_SAFE_HELD + 1];
	size_t nheld;
};

size_t wd_safe_stream(struct wd_safe_stream *st, const uint8_t *in, size_t n, char *out);

/* The stream ended: what it held, escaped as it stands, into out
 * (WD_SAFE_STREAM_OUT(0) bytes). Returns the bytes written. */
size_t wd_safe_stream_end(struct wd_safe_stream *st, char *out);

#endif
