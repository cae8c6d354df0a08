/* keyward-vcard UICC mode: the PIV applet on a SIM-like card (vcard_uicc.c).
 *
 * The basic channel (0) holds a minimal telecom application: SELECT of the
 * USIM AID (A0 00 00 00 87 10 02 ...) or of files by FID (MF 3F00, ADF 7FFF,
 * EF_IMSI 6F07, EF_ICCID 2FE2), READ BINARY, and STATUS (INS F2, class 80)
 * answered like a SIM. MANAGE CHANNEL (INS 70) opens (P1 00, P2 00 = card
 * assigns, or P2 = n) and closes (P1 80, P2 = n) logical channels 1-19;
 * every channel has its own selection and security state (a vcard_session
 * swapped into the PIV core). The PIV applet is selectable only on a
 * logical channel (6A82 on the basic channel). CLA channel bits of both
 * ISO 7816-4 forms (0-3 `x00x yyzz`, 4-19 `x1yx zzzz`) are decoded; a
 * command on a closed channel gets 6881. */
#ifndef VCARD_UICC_H
#define VCARD_UICC_H

#include <stdbool.h>

#include "vcard.h"

#define VCARD_UICC_CHANNELS 20

typedef struct vcard_uicc vcard_uicc;

kw_rv vcard_uicc_new(vcard_card *card, vcard_uicc **out);
void vcard_uicc_free(vcard_uicc **u);
/* One command APDU (any channel) -> data || SW1 SW2. card->last_ins and
 * card->last_sensitive describe the exchange for the trace. */
kw_rv vcard_uicc_process(vcard_uicc *u, const uint8_t *apdu, size_t len, kw_buf *resp);
/* Power off / reset: logical channels closed, every selection cleared. */
void vcard_uicc_reset(vcard_uicc *u);
const uint8_t *vcard_uicc_atr(size_t *len);
/* Offer only channels 1..n (1-19; many SIMs have 3). */
kw_rv vcard_uicc_set_channels(vcard_uicc *u, int n);
vcard_card *vcard_uicc_card(vcard_uicc *u);
bool vcard_uicc_channel_open(const vcard_uicc *u, int channel);
/* Commands the telecom application answered on the basic channel, and
 * how many came in on it at all (tests: "the basic channel is untouched"). */
unsigned long vcard_uicc_basic_count(const vcard_uicc *u);

#endif
