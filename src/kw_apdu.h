/* The APDU layer over a transport: builds short or extended APDUs, command
 * chaining (CLA bit 0x10), 61xx GET RESPONSE collection (at most 64 KiB of
 * data), 6Cxx re-send with the right Le (once), and the logical channel
 * bits of CLA from kw_transport_channel() (ISO 7816-4: channels 0-3
 * `000x yyzz`, 4-19 `01yx zzzz`), also on GET RESPONSE. This is the only
 * place those rules live.
 *
 * Data over 255 bytes is chained in short APDUs (what every PIV card
 * accepts); an extended APDU is sent only when the transport has
 * KW_TRANSPORT_EXTENDED and either le > 256 or the caller sets
 * KW_APDU_F_EXTENDED (then also for long command data or no Le). Each command runs inside kw_transport_begin/end
 * (nested: cheap when the caller already holds the transport). APDUs are
 * logged at TRACE through kw_log_apdu (redacted by INS, or entirely with
 * KW_APDU_F_SECRET); receive and command buffers are wiped. */
#ifndef KW_APDU_H
#define KW_APDU_H

#include "kw_buf.h"
#include "kw_transport.h"

typedef struct kw_apdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t data_len;
	/* Expected response length: 0 = no Le field; 256 = "00" (short
	 * maximum); 65536 = extended maximum. */
	size_t le;
	unsigned flags;     /* KW_APDU_F_* */
} kw_apdu;

enum {
	/* Command and response data are secret whatever the INS (e.g. GET/PUT
	 * DATA of a PIN-protected object): logged as lengths only. */
	KW_APDU_F_SECRET = 1u << 0,
	/* One extended APDU (Lc up to 65535, Le up to 65536) instead of
	 * chaining and GET RESPONSE, when the transport declares
	 * KW_TRANSPORT_EXTENDED; ignored otherwise. A caller whose card or
	 * reader refuses it (6700, transport error) resends without. */
	KW_APDU_F_EXTENDED = 1u << 1,
};

/* Encode the class byte for a logical channel (0-19). */
kw_rv kw_apdu_cla_for_channel(uint8_t cla, int channel, uint8_t *out);

/* Exchange one logical command: the response data (without SW) is appended
 * to resp, the final status word stored in *sw. Returns a transport error,
 * or KW_OK when the card answered (whatever the status word). */
kw_rv kw_apdu_transmit(kw_transport *t, const kw_apdu *a, kw_buf *resp, uint16_t *sw);

/* kw_apdu_transmit + status word mapped through kw_sw_to_rv(). */
kw_rv kw_apdu_exchange(kw_transport *t, const kw_apdu *a, kw_buf *resp, uint16_t *sw);

#endif
