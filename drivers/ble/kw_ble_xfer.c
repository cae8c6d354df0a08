/* The BLE transport's exchange: one APDU out as MSG frames (WriteValue to
 * the control point), one MSG back from status notifications, KEEPALIVEs
 * extending the wait, CANCEL when the exchange is abandoned. */
#include <string.h>

#include "ble/kw_ble_priv.h"
#include "kw_log.h"
#include "kw_secret.h"

#define WRITE_TIMEOUT_US (3 * 1000000ull)

/* Drop what is left of an earlier exchange (late frames, old errors). */
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
	kw_ble_rx_reset(&b->rx);
	b->rx_err = KW_OK;
	b->keepalive = false;
	return b->gone;
}

static kw_rv
send_msg(kw_ble *b, uint8_t cmd, const uint8_t *p, size_t n, const char *type)
{
	kw_ble_tx tx;
	uint8_t frame[KW_BLE_FRAG_MAX];
	size_t len;
	kw_rv rv;

	if ((rv = kw_ble_tx_init(&tx, cmd, p, n, b->frag)) != KW_OK)
		return rv;
	while (!kw_ble_tx_done(&tx)) {
		if ((rv = kw_ble_tx_next(&tx, frame, sizeof(frame), &len)) != KW_OK)
			break;
		rv = kw_ble_bus_write(b->bus, b->cp_path, frame, len, type, WRITE_TIMEOUT_US);
		if (rv != KW_OK)
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
	if (send_msg(b, KW_BLE_CMD_CANCEL, NULL, 0, "command") != KW_OK)
		kw_debug("ble: %s: CANCEL not delivered", b->address);
}

/* Wait for a complete non-KEEPALIVE message; KEEPALIVEs extend the idle
 * bound up to the total bound. */
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

/* After an abandoned exchange the token may still send its late answer:
 * PING with a fresh nonce and discard everything up to the echo, so that
 * no stale answer is taken for the next command's. */
static kw_rv
resync(kw_ble *b)
{
	uint8_t nonce[8];
	uint64_t x = kw_ble_now_us() ^ ((uint64_t)++b->pings << 48);
	kw_rv rv;
	int i, stale = 0;

	for (i = 0; i < 8; i++)
		nonce[i] = (uint8_t)(x >> (8 * i));
	if ((rv = send_msg(b, KW_BLE_CMD_PING, nonce, sizeof(nonce), "request")) != KW_OK)
		return rv;
	for (;; stale++) {
		if (stale > 16)
			return KW_ERR_PROTOCOL;       /* a token that keeps talking */
		rv = wait_answer(b);
		if (rv == KW_ERR_PROTOCOL) {          /* the tail of an old message */
			kw_ble_rx_reset(&b->rx);
			b->rx_err = KW_OK;
			continue;
		}
		if (rv != KW_OK)
			return rv;
		if (b->rx.cmd == KW_BLE_CMD_PING && b->rx.msg.len == sizeof(nonce) &&
		    memcmp(b->rx.msg.data, nonce, sizeof(nonce)) == 0)
			break;
		if (b->rx.cmd == KW_BLE_CMD_ERROR) {
			kw_debug("ble: %s: resync answered by ERROR", b->address);
			kw_ble_rx_reset(&b->rx);
			return KW_ERR_PROTOCOL;
		}
		kw_debug("ble: %s: discarding a stale %s", b->address, kw_ble_cmd_name(b->rx.cmd));
		kw_ble_rx_reset(&b->rx);
	}
	kw_ble_rx_reset(&b->rx);
	b->resync = false;
	return KW_OK;
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

kw_rv
kw_ble_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp, size_t *resp_len)
{
	kw_ble *b = ctx;
	size_t cap = *resp_len;
	kw_rv rv;

	*resp_len = 0;
	if (cmd_len < 4 || cmd_len > KW_BLE_MSG_MAX)
		return cmd_len < 4 ? KW_ERR_ARG : KW_ERR_RANGE;
	if ((rv = drain(b)) != KW_OK)
		return rv;
	if (!b->connected) {
		b->gone = KW_ERR_CARD_REMOVED;
		return b->gone;
	}
	if (b->resync && (rv = resync(b)) != KW_OK) {
		kw_err("ble: %s: cannot resynchronise after an abandoned exchange: %s",
		    b->address, kw_strerror(rv));
		goto fail;
	}
	if ((rv = send_msg(b, KW_BLE_CMD_MSG, cmd, cmd_len, b->write_type)) != KW_OK) {
		kw_err("ble: %s: writing the command failed: %s", b->address, kw_strerror(rv));
		if (rv == KW_ERR_CARD_REMOVED || rv == KW_ERR_SERVICE_GONE)
			b->gone = rv;
		goto fail;
	}
	if ((rv = wait_answer(b)) != KW_OK)
		goto fail;
	*resp_len = cap;
	rv = take_answer(b, resp, resp_len);
	kw_ble_rx_reset(&b->rx);
	return rv;
fail:
	if (rv == KW_ERR_TIMEOUT || rv == KW_ERR_PROTOCOL) {
		cancel(b);
		b->resync = true;
	}
	kw_ble_rx_reset(&b->rx);
	return b->gone != KW_OK ? b->gone : rv;
}
