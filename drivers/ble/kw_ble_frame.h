/* keyward's BLE framing (docs/ble-profile.md), the FIDO BLE framing over a
 * GATT control point / status characteristic pair. Pure functions: no I/O.
 *
 * A message is CMD (bit 7 set), a 16-bit big-endian length and that many
 * bytes. It travels as one INIT frame  CMD | HLEN | LLEN | DATA  followed
 * by CONT frames  SEQ | DATA  with SEQ 0x00..0x7F, wrapping to 0x00 after
 * 0x7F. Every frame is at most `frag` bytes (the control-point length,
 * 20..512); all frames but the last are full. */
#ifndef KW_BLE_FRAME_H
#define KW_BLE_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kw_buf.h"
#include "kw_err.h"

#define KW_BLE_CMD_PING      0x81
#define KW_BLE_CMD_KEEPALIVE 0x82
#define KW_BLE_CMD_MSG       0x83
#define KW_BLE_CMD_CANCEL    0xBE
#define KW_BLE_CMD_ERROR     0xBF

/* KEEPALIVE status byte. */
#define KW_BLE_KA_PROCESSING 0x01
#define KW_BLE_KA_UP_NEEDED  0x02

/* ERROR codes. */
#define KW_BLE_ERR_INVALID_CMD 0x01
#define KW_BLE_ERR_INVALID_PAR 0x02
#define KW_BLE_ERR_INVALID_LEN 0x03
#define KW_BLE_ERR_INVALID_SEQ 0x04
#define KW_BLE_ERR_REQ_TIMEOUT 0x05
#define KW_BLE_ERR_BUSY        0x06
#define KW_BLE_ERR_OTHER       0x7F

#define KW_BLE_FRAG_MIN 20
#define KW_BLE_FRAG_MAX 512
#define KW_BLE_MSG_MAX  65535u
#define KW_BLE_INIT_HDR 3
#define KW_BLE_CONT_HDR 1

/* Is cmd one of the commands above? */
bool kw_ble_cmd_valid(uint8_t cmd);
const char *kw_ble_cmd_name(uint8_t cmd);
const char *kw_ble_error_name(uint8_t code);

/* Frames needed for a message of len bytes (0 if len or frag is invalid). */
size_t kw_ble_frame_count(size_t len, size_t frag);

/* Fragmenter: a cursor over the message; the message must outlive it. */
typedef struct kw_ble_tx {
	uint8_t cmd;
	const uint8_t *data;
	size_t len;
	size_t off;      /* bytes of data already framed */
	size_t frag;
	size_t nframes;  /* frames produced so far */
	uint8_t seq;
} kw_ble_tx;

kw_rv kw_ble_tx_init(kw_ble_tx *tx, uint8_t cmd, const uint8_t *data, size_t len,
    size_t frag);
bool kw_ble_tx_done(const kw_ble_tx *tx);
/* The next frame into out (cap >= the frame); KW_ERR_ARG when done. */
kw_rv kw_ble_tx_next(kw_ble_tx *tx, uint8_t *out, size_t cap, size_t *out_len);

/* Reassembler. */
typedef struct kw_ble_rx {
	size_t frag;
	bool busy;       /* an INIT frame started a message */
	bool complete;
	uint8_t cmd;
	size_t want;     /* declared message length */
	uint8_t seq;     /* expected next SEQ */
	kw_buf msg;      /* wiped on reset/free: it carries APDUs */
} kw_ble_rx;

void kw_ble_rx_init(kw_ble_rx *rx, size_t frag);
/* Forget the partial or complete message (wipes it). */
void kw_ble_rx_reset(kw_ble_rx *rx);
void kw_ble_rx_free(kw_ble_rx *rx);
/* Feed one frame. KW_OK with *complete set when rx->cmd / rx->msg hold a
 * whole message (reset before feeding the next). Errors leave rx reset:
 *   KW_ERR_TRUNCATED  empty frame, INIT frame shorter than its header
 *   KW_ERR_RANGE      frame longer than frag
 *   KW_ERR_FORMAT     unknown command byte in an INIT frame
 *   KW_ERR_PROTOCOL   CONT without INIT, INIT inside a message, wrong SEQ
 *                     (missing or repeated frame), a non-final frame that is
 *                     not full, data beyond the declared length */
kw_rv kw_ble_rx_feed(kw_ble_rx *rx, const uint8_t *frame, size_t len, bool *complete);

#endif
