/* keyward's BLE framing: fragmenting a message into INIT/CONT frames and
 * reassembling them (see kw_ble_frame.h and docs/ble-profile.md). */
#include <string.h>

#include "ble/kw_ble_frame.h"

bool
kw_ble_cmd_valid(uint8_t cmd)
{
	switch (cmd) {
	case KW_BLE_CMD_PING:
	case KW_BLE_CMD_KEEPALIVE:
	case KW_BLE_CMD_MSG:
	case KW_BLE_CMD_CANCEL:
	case KW_BLE_CMD_ERROR:
		return true;
	default:
		return false;
	}
}

const char *
kw_ble_cmd_name(uint8_t cmd)
{
	switch (cmd) {
	case KW_BLE_CMD_PING: return "PING";
	case KW_BLE_CMD_KEEPALIVE: return "KEEPALIVE";
	case KW_BLE_CMD_MSG: return "MSG";
	case KW_BLE_CMD_CANCEL: return "CANCEL";
	case KW_BLE_CMD_ERROR: return "ERROR";
	default: return "unknown";
	}
}

const char *
kw_ble_error_name(uint8_t code)
{
	switch (code) {
	case KW_BLE_ERR_INVALID_CMD: return "invalid command";
	case KW_BLE_ERR_INVALID_PAR: return "invalid parameter";
	case KW_BLE_ERR_INVALID_LEN: return "invalid length";
	case KW_BLE_ERR_INVALID_SEQ: return "invalid sequence";
	case KW_BLE_ERR_REQ_TIMEOUT: return "request timeout";
	case KW_BLE_ERR_BUSY: return "busy";
	case KW_BLE_ERR_OTHER: return "other error";
	default: return "unknown error";
	}
}

static bool
frag_valid(size_t frag)
{
	return frag >= KW_BLE_FRAG_MIN && frag <= KW_BLE_FRAG_MAX;
}

size_t
kw_ble_frame_count(size_t len, size_t frag)
{
	size_t first, rest;

	if (!frag_valid(frag) || len > KW_BLE_MSG_MAX)
		return 0;
	first = frag - KW_BLE_INIT_HDR;
	if (len <= first)
		return 1;
	rest = len - first;
	return 1 + (rest + (frag - KW_BLE_CONT_HDR) - 1) / (frag - KW_BLE_CONT_HDR);
}

kw_rv
kw_ble_tx_init(kw_ble_tx *tx, uint8_t cmd, const uint8_t *data, size_t len, size_t frag)
{
	memset(tx, 0, sizeof(*tx));
	if (!kw_ble_cmd_valid(cmd) || !frag_valid(frag) || len > KW_BLE_MSG_MAX ||
	    (data == NULL && len > 0))
		return KW_ERR_ARG;
	tx->cmd = cmd;
	tx->data = data;
	tx->len = len;
	tx->frag = frag;
	return KW_OK;
}

bool
kw_ble_tx_done(const kw_ble_tx *tx)
{
	return tx->nframes > 0 && tx->off == tx->len;
}

kw_rv
kw_ble_tx_next(kw_ble_tx *tx, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t hdr, n;

	*out_len = 0;
	if (tx->frag == 0 || kw_ble_tx_done(tx))
		return KW_ERR_ARG;
	hdr = tx->nframes == 0 ? KW_BLE_INIT_HDR : KW_BLE_CONT_HDR;
	n = tx->len - tx->off;
	if (n > tx->frag - hdr)
		n = tx->frag - hdr;
	if (cap < hdr + n)
		return KW_ERR_RANGE;
	if (tx->nframes == 0) {
		out[0] = tx->cmd;
		out[1] = (uint8_t)(tx->len >> 8);
		out[2] = (uint8_t)tx->len;
	} else {
		out[0] = tx->seq;
		tx->seq = (uint8_t)((tx->seq + 1) & 0x7F);
	}
	if (n > 0)
		memcpy(out + hdr, tx->data + tx->off, n);
	tx->off += n;
	tx->nframes++;
	*out_len = hdr + n;
	return KW_OK;
}

void
kw_ble_rx_init(kw_ble_rx *rx, size_t frag)
{
	memset(rx, 0, sizeof(*rx));
	rx->frag = frag;
	kw_buf_init(&rx->msg, KW_BLE_MSG_MAX);
}

void
kw_ble_rx_reset(kw_ble_rx *rx)
{
	kw_buf_reset(&rx->msg);
	rx->busy = rx->complete = false;
	rx->cmd = 0;
	rx->want = 0;
	rx->seq = 0;
}

void
kw_ble_rx_free(kw_ble_rx *rx)
{
	kw_ble_rx_reset(rx);
	kw_buf_free(&rx->msg);
}

static kw_rv
rx_init_frame(kw_ble_rx *rx, kw_view *v)
{
	uint8_t cmd;
	uint16_t want;
	kw_rv rv;

	if (rx->busy)
		return KW_ERR_PROTOCOL;           /* INIT inside a message */
	if (kw_view_get_u8(v, &cmd) != KW_OK || kw_view_get_u16be(v, &want) != KW_OK)
		return KW_ERR_TRUNCATED;
	if (!kw_ble_cmd_valid(cmd))
		return KW_ERR_FORMAT;
	if ((rv = kw_buf_reserve(&rx->msg, want)) != KW_OK)
		return rv;
	rx->cmd = cmd;
	rx->want = want;
	rx->busy = true;
	rx->seq = 0;
	return KW_OK;
}

static kw_rv
rx_cont_frame(kw_ble_rx *rx, kw_view *v)
{
	uint8_t seq;

	if (!rx->busy)
		return KW_ERR_PROTOCOL;           /* CONT without INIT */
	if (kw_view_get_u8(v, &seq) != KW_OK)
		return KW_ERR_TRUNCATED;
	if (seq != rx->seq)
		return KW_ERR_PROTOCOL;           /* missing or repeated frame */
	rx->seq = (uint8_t)((rx->seq + 1) & 0x7F);
	return KW_OK;
}

kw_rv
kw_ble_rx_feed(kw_ble_rx *rx, const uint8_t *frame, size_t len, bool *complete)
{
	kw_view v = kw_view_make(frame, len);
	size_t left;
	kw_rv rv;

	*complete = false;
	if (rx->complete || !frag_valid(rx->frag)) {
		rv = KW_ERR_ARG;                  /* caller must reset first */
		goto fail;
	}
	if (len == 0) {
		rv = KW_ERR_TRUNCATED;
		goto fail;
	}
	if (len > rx->frag) {
		rv = KW_ERR_RANGE;
		goto fail;
	}
	rv = (frame[0] & 0x80) != 0 ? rx_init_frame(rx, &v) : rx_cont_frame(rx, &v);
	if (rv != KW_OK)
		goto fail;
	left = rx->want - rx->msg.len;
	if (v.len > left || (v.len < left && len != rx->frag)) {
		rv = KW_ERR_PROTOCOL;             /* overlong, or short non-final frame */
		goto fail;
	}
	if ((rv = kw_buf_put_view(&rx->msg, v)) != KW_OK)
		goto fail;
	if (rx->msg.len == rx->want) {
		rx->complete = true;
		rx->busy = false;
		*complete = true;
	}
	return KW_OK;
fail:
	if (rv != KW_ERR_ARG)
		kw_ble_rx_reset(rx);
	return rv;
}
