/* The UICC transport ("uicc:<inner URI>", e.g. "uicc:pcsc:SIM reader 00 00"):
 * reaches a key applet on a UICC (SIM) through an ISO 7816-4 logical
 * channel, leaving the basic channel to the telecom applications.
 *
 * open: opens the inner transport, then MANAGE CHANNEL open (00 70 00 00 01)
 * gives channel n (1-19). The transport reports n through the `channel` op;
 * kw_apdu encodes it into CLA and the PIV client selects its AID there.
 * Commands are passed through; a command whose CLA carries another channel
 * number (the channel was reopened under it) is re-encoded to the current
 * one. close: MANAGE CHANNEL close (00 70 80 n), then the inner close.
 * reset, or a removal/reset reported by the inner transport
 * (KW_ERR_CARD_REMOVED): the channel is gone; it is reopened before the
 * next command (the caller must select and log in again, as after any
 * reset). The basic channel is never used except for MANAGE CHANNEL.
 *
 * `list` reports "uicc:pcsc:<reader>" for each configured UICC reader
 * (kw_config.h: uicc_reader, KEYWARD_UICC_READERS). */
#ifndef KW_UICC_H
#define KW_UICC_H

#include <stddef.h>
#include <stdint.h>

#include "kw_transport.h"

extern const kw_transport_ops kw_uicc_ops;

/* Encode/decode the logical channel in a CLA byte (both ISO 7816-4 forms;
 * proprietary-class bit 0x80 is kept). kw_uicc_cla_channel returns -1 for
 * a CLA that is not in an interindustry-style form. */
int kw_uicc_cla_channel(uint8_t cla);
kw_rv kw_uicc_cla_set_channel(uint8_t cla, int channel, uint8_t *out);

/* ETSI TS 102 221 10.2.1: a UICC may end any command with 91XX (a
 * proactive command is pending for the terminal) or 92XX (extra
 * information on a data transfer) instead of 9000. Both are a normal
 * ending for the key applet: rewrite them to 9000 in place (the telecom
 * side fetches proactive commands itself). */
static inline void
kw_uicc_normalize_sw(uint8_t *resp, size_t len)
{
	if (len >= 2 && (resp[len - 2] == 0x91 || resp[len - 2] == 0x92)) {
		resp[len - 2] = 0x90;
		resp[len - 1] = 0x00;
	}
}

#endif
