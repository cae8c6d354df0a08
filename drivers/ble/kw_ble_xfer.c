/* The BLE transport's exchange: one APDU out as MSG frames (on the acquired
 * write socket, or WriteValue to the control point), one MSG back (on the
 * acquired notify socket, or status PropertiesChanged on the fallback
 * path), KEEPALIVEs extending the wait, CANCEL when the exchange is
 * abandoned.
 *
 * The framing carries no request id, so which frames may belong to the
 * answer is decided by timing that causality guarantees: the token cannot
 * answer a request before it has all its frames. Frames that arrive while
 * nothing is outstanding, or that we took in before writing our last frame,
 * are strays and dropped (an ERROR then still fails the exchange: the
 * token refused one of our frames, or an old one); so are a CONT frame
 * with no message begun, a PING echo that is not of our nonce, and a MSG
 * while we wait for our PING's echo. After a complete answer every frame
 * is dropped until the next request. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ble/kw_ble_priv.h"
#include "kw_log.h"
#include "kw_secret.h"

#define WRITE_TIMEOUT_US (3 * 1000000ull)

enum { PH_IDLE, PH_SENDING, PH_WAITING };

static void
stray(kw_ble *b, const char *what)
{
	b->stats.strays++;
	kw_debug("ble: %s: dropping %s", b->address, what);
}

void
kw_ble_rx_frame(kw_ble *b, const uint8_t *p, size_t n)
{
	bool complete;
	kw_rv rv;

	b->stats.frames_in++;
	b->stats.bytes_in += n;
	if (b->phase == PH_IDLE) {
		stray(b, "a frame that came with no request outstanding");
		return;
	}
	if (b->rx_err != KW_OK || b->rx.complete) {
		stray(b, "a frame after the exchange's answer or error");
		return;
	}
	if (n > 0 && (p[0] & 0x80) == 0 && !b->rx.busy) {
		stray(b, "a CONT frame without a message begun");
		return;
	}
	rv = kw_ble_rx_feed(&b->rx, p, n, &complete);
	if (rv != KW_OK) {
		kw_warn("ble: %s: bad frame from the token: %s", b->address, kw_strerror(rv));
		b->rx_err = rv;
		return;
	}
	if (!complete)
		return;
	if (b->rx.cmd == KW_BLE_CMD_KEEPALIVE) {
		b->keepalive = true;
		b->stats.keepalives++;
		kw_ble_rx_reset(&b->rx);
		return;
	}
	if (b->rx.cmd == KW_BLE_CMD_ERROR)
		return;                               /* the exchange failed */
	if (b->phase == PH_WAITING && b->rx.cmd == b->want_cmd &&
	    (b->want_cmd != KW_BLE_CMD_PING || (b->rx.msg.len == sizeof(b->nonce) &&
	    memcmp(b->rx.msg.data, b->nonce, sizeof(b->nonce)) == 0)))
		return;                               /* the answer */
	stray(b, b->rx.cmd == KW_BLE_CMD_PING ? "a PING echo that is not of our nonce" :
	    b->phase == PH_SENDING ? "a message that came before our request was sent" :
	    "a message that is not the answer we wait for");
	kw_ble_rx_reset(&b->rx);
}

/* Take in what has arrived, without waiting. */
static kw_rv
drain(kw_ble *b)
{
	int i, r;

	for (i = 0; i < 1024; i++) {
		if ((r = sd_bus_process(b->bus, NULL)) == 0)
			break;
		if (r < 0) {
			b->gone = KW_ERR_SERVICE_GONE;
			return b->gone;
		}
	}
	return kw_ble_pump(b, 0);
}

/* One frame on the acquired write socket (a write without response each). */
static kw_rv
sock_write(kw_ble *b, const uint8_t *frame, size_t len)
{
	uint64_t deadline = kw_ble_now_us() + WRITE_TIMEOUT_US;
	struct pollfd pfd = { .fd = b->wfd, .events = POLLOUT };
	ssize_t r;
	kw_rv rv;

	for (;;) {
		r = send(b->wfd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r == (ssize_t)len)
			return KW_OK;
		if (r < 0 && errno == EINTR)
			continue;
		if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			kw_err("ble: %s: the write socket failed: %s", b->address,
			    r < 0 ? strerror(errno) : "short write");
			b->connected = false;
			b->gone = KW_ERR_CARD_REMOVED;
			return b->gone;
		}
		if (kw_ble_now_us() >= deadline)
			return KW_ERR_TIMEOUT;
		/* BlueZ is behind: take in notifications meanwhile */
		if ((rv = drain(b)) != KW_OK)
			return rv;
		(void)poll(&pfd, 1, 10);
	}
}

static kw_rv
write_frame(kw_ble *b, const uint8_t *frame, size_t len, bool cancel)
{
	const char *type = "request";

	if (b->wfd >= 0)
		return sock_write(b, frame, len);
	if (!cancel && b->write_mode == KW_BLE_WR_COMMAND)
		type = "command";
	/* CANCEL goes with response unless we hold the write socket: a token
	 * need not support write without response (docs/ble-profile.md) */
	return kw_ble_bus_write(b->bus, b->cp_path, frame, len, type, WRITE_TIMEOUT_US);
}

/* All frames of one message. Frames from the token taken in before the
 * last one is written cannot be its answer (see the top of this file). */
static kw_rv
send_msg(kw_ble *b, uint8_t cmd, const uint8_t *p, size_t n)
{
	kw_ble_tx tx;
	uint8_t frame[KW_BLE_FRAG_MAX];
	size_t len;
	bool cancel = cmd == KW_BLE_CMD_CANCEL;
	kw_rv rv;

	if ((rv = kw_ble_tx_init(&tx, cmd, p, n, b->frag)) != KW_OK)
		return rv;
	while (!kw_ble_tx_done(&tx)) {
		if ((rv = kw_ble_tx_next(&tx, frame, sizeof(frame), &len)) != KW_OK)
			break;
		if (!cancel && ((rv = drain(b)) != KW_OK ||
		    (b->rx.complete && b->rx.cmd == KW_BLE_CMD_ERROR)))
			break;                        /* the token refused a frame */
		if ((rv = write_frame(b, frame, len, cancel)) != KW_OK)
			break;
		b->stats.frames_out++;
		b->stats.bytes_out += len;
	}
	kw_memzero(frame, sizeof(frame));
	return rv;
}

/* Best effort: tell the token to drop the exchange. */
static void
cancel(kw_ble *b)
{
	if (b->gone != KW_OK)
		return;
	b->phase = PH_IDLE;
	if (send_msg(b, KW_BLE_CMD_CANCEL, NULL, 0) != KW_OK)
		kw_debug("ble: %s: CANCEL not delivered", b->address);
}

/* Wait for the complete answer; KEEPALIVEs extend the idle bound up to
 * the total bound. */
static kw_rv
wait_answer(kw_ble *b)
{
	uint64_t now = kw_ble_now_us(), idle = now + (uint64_t)b->idle_ms * 1000;
	uint64_t total = now + (uint64_t)b->total_ms * 1000;
	kw_rv rv;

	for (;;) {
		if (b->gone != KW_OK)
			return b->gone;
		if (b->rx_err != KW_OK)
			return KW_ERR_PROTOCOL;
		if (b->rx.complete)
			return KW_OK;
		now = kw_ble_now_us();
		if (b->keepalive) {
			b->keepalive = false;
			idle = now + (uint64_t)b->idle_ms * 1000;
		}
		if (now >= idle || now >= total) {
			kw_err("ble: %s: no answer within %d ms%s", b->address, b->idle_ms,
			    now >= total ? " (total bound)" : "");
			return KW_ERR_TIMEOUT;
		}
		if ((rv = kw_ble_pump(b, idle < total ? idle : total)) != KW_OK)
			return rv;
	}
}

static void
exchange_reset(kw_ble *b)
{
	kw_ble_rx_reset(&b->rx);
	b->rx_err = KW_OK;
	b->keepalive = false;
}

/* Send a message and wait for the answer that is outstanding. */
static kw_rv
exchange(kw_ble *b, uint8_t cmd, const uint8_t *p, size_t n)
{
	kw_rv rv;

	b->phase = PH_IDLE;
	if ((rv = drain(b)) != KW_OK)
		return rv;
	exchange_reset(b);
	b->want_cmd = cmd;
	b->phase = PH_SENDING;
	if ((rv = send_msg(b, cmd, p, n)) != KW_OK) {
		if (b->rx.complete && b->rx.cmd == KW_BLE_CMD_ERROR)
			rv = KW_ERR_PROTOCOL;
		return rv;
	}
	if (b->rx.complete && b->rx.cmd == KW_BLE_CMD_ERROR)
		return KW_ERR_PROTOCOL;
	b->phase = PH_WAITING;
	return wait_answer(b);
}

/* After an abandoned exchange (ours, or the previous holder's) the token
 * may still send its late answer: PING with a fresh nonce and drop
 * everything up to the echo, so that no stale answer is taken for the
 * next command's. */
kw_rv
kw_ble_resync(kw_ble *b)
{
	kw_rv rv;
	int tries;

	if (getrandom(b->nonce, sizeof(b->nonce), 0) != (ssize_t)sizeof(b->nonce))
		return KW_ERR_CRYPTO;
	b->stats.resyncs++;
	rv = exchange(b, KW_BLE_CMD_PING, b->nonce, sizeof(b->nonce));
	for (tries = 0; rv == KW_ERR_PROTOCOL && tries < 16; tries++) {
		if (b->rx.complete && b->rx.cmd == KW_BLE_CMD_ERROR) {
			kw_debug("ble: %s: resync answered by ERROR", b->address);
			break;
		}
		/* broken tail of an old message: keep waiting for our echo */
		exchange_reset(b);
		rv = wait_answer(b);
	}
	exchange_reset(b);
	b->phase = PH_IDLE;
	if (rv == KW_OK)
		b->resync = false;
	return rv;
}

/* The complete answer in b->rx: MSG -> response, ERROR -> protocol error. */
static kw_rv
take_answer(kw_ble *b, uint8_t *resp, size_t *resp_len)
{
	size_t cap = *resp_len;

	*resp_len = 0;
	if (b->rx.cmd == KW_BLE_CMD_ERROR) {
		kw_err("ble: %s: token reports ERROR %s", b->address,
		    b->rx.msg.len == 1 ? kw_ble_error_name(b->rx.msg.data[0]) : "(malformed)");
		return KW_ERR_PROTOCOL;
	}
	if (b->rx.cmd != KW_BLE_CMD_MSG) {
		kw_err("ble: %s: unexpected %s frame in answer", b->address,
		    kw_ble_cmd_name(b->rx.cmd));
		return KW_ERR_PROTOCOL;
	}
	if (b->rx.msg.len < 2) {
		kw_err("ble: %s: response APDU without status word", b->address);
		return KW_ERR_PROTOCOL;
	}
	if (b->rx.msg.len > cap)
		return KW_ERR_RANGE;
	memcpy(resp, b->rx.msg.data, b->rx.msg.len);
	*resp_len = b->rx.msg.len;
	return KW_OK;
}

static kw_rv
transmit_locked(kw_ble *b, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
    size_t *resp_len)
{
	size_t cap = *resp_len;
	kw_rv rv;

	*resp_len = 0;
	if (!b->connected) {
		b->gone = KW_ERR_CARD_REMOVED;
		return b->gone;
	}
	if (b->resync && (rv = kw_ble_resync(b)) != KW_OK) {
		kw_err("ble: %s: cannot resynchronise after an abandoned exchange: %s",
		    b->address, kw_strerror(rv));
		goto fail;
	}
	if ((rv = exchange(b, KW_BLE_CMD_MSG, cmd, cmd_len)) != KW_OK) {
		if (b->phase == PH_SENDING)
			kw_err("ble: %s: writing the command failed: %s", b->address,
			    kw_strerror(rv));
		if (rv == KW_ERR_CARD_REMOVED || rv == KW_ERR_SERVICE_GONE)
			b->gone = rv;
		goto fail;
	}
	*resp_len = cap;
	rv = take_answer(b, resp, resp_len);
	exchange_reset(b);
	b->phase = PH_IDLE;
	return rv;
fail:
	if (rv == KW_ERR_TIMEOUT || rv == KW_ERR_PROTOCOL) {
		cancel(b);
		b->resync = true;
	}
	exchange_reset(b);
	b->phase = PH_IDLE;
	return b->gone != KW_OK ? b->gone : rv;
}

kw_rv
kw_ble_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp, size_t *resp_len)
{
	kw_ble *b = ctx;
	kw_rv rv;

	if (cmd_len < 4 || cmd_len > KW_BLE_MSG_MAX) {
		*resp_len = 0;
		return cmd_len < 4 ? KW_ERR_ARG : KW_ERR_RANGE;
	}
	if (b->depth > 0)
		return transmit_locked(b, cmd, cmd_len, resp, resp_len);
	/* a caller without begin/end: one exchange is one session */
	if ((rv = kw_ble_begin(b)) != KW_OK) {
		*resp_len = 0;
		return rv;
	}
	rv = transmit_locked(b, cmd, cmd_len, resp, resp_len);
	(void)kw_ble_end(b);
	return rv;
}
