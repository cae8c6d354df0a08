/* keyward-vcard UICC mode: logical channels in front of the PIV core and a
 * minimal telecom application on the basic channel (vcard_uicc.h).
 * ISO 7816-4 5.4.1 (class byte), 7.1.2 (MANAGE CHANNEL); ETSI TS 102 221
 * 11.1.1/11.1.2 (SELECT, STATUS) for the telecom side. */
#include <stdlib.h>
#include <string.h>

#include "kw_secret.h"
#include "kw_tlv.h"
#include "vcard_uicc.h"

#define SW_CHANNEL_NOT_SUPP 0x6881

enum { APP_NONE = 0, APP_USIM, APP_PIV };

typedef struct uicc_chan {
	bool open;
	int app;
	uint16_t ef;          /* selected elementary file, 0 = none */
	vcard_session ses;    /* PIV session of this channel */
} uicc_chan;

struct vcard_uicc {
	vcard_card *card;
	uicc_chan ch[VCARD_UICC_CHANNELS];
	int nchannels;        /* logical channels offered: 1..nchannels */
	unsigned long basic_count;
};

/* USIM AID: RID A000000087, application code 1002, then country/provider. */
static const uint8_t usim_aid[] = {
	0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02, 0xFF, 0x49, 0xFF, 0x05, 0x89
};
#define USIM_AID_PREFIX 7

static const uint8_t ef_imsi[] = { 0x08, 0x29, 0x10, 0x10, 0x32, 0x54, 0x76, 0x98, 0x10 };
static const uint8_t ef_iccid[] = { 0x98, 0x94, 0x10, 0x32, 0x54, 0x76, 0x98, 0x10, 0x32, 0xF4 };

/* T=1, historical bytes "keyward UICC". */
static uint8_t uicc_atr[] = {
	0x3B, 0xFC, 0x13, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x15,
	'k', 'e', 'y', 'w', 'a', 'r', 'd', ' ', 'U', 'I', 'C', 'C', 0x00
};

const uint8_t *
vcard_uicc_atr(size_t *len)
{
	uint8_t tck = 0;
	size_t i;

	for (i = 1; i + 1 < sizeof(uicc_atr); i++)
		tck ^= uicc_atr[i];
	uicc_atr[sizeof(uicc_atr) - 1] = tck;
	*len = sizeof(uicc_atr);
	return uicc_atr;
}

kw_rv
vcard_uicc_new(vcard_card *card, vcard_uicc **out)
{
	vcard_uicc *u;
	size_t i;

	*out = NULL;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return KW_ERR_NOMEM;
	u->card = card;
	for (i = 0; i < VCARD_UICC_CHANNELS; i++)
		vcard_session_init(&u->ch[i].ses);
	u->ch[0].open = true;
	u->nchannels = VCARD_UICC_CHANNELS - 1;
	*out = u;
	return KW_OK;
}

kw_rv
vcard_uicc_set_channels(vcard_uicc *u, int n)
{
	if (n < 1 || n >= VCARD_UICC_CHANNELS)
		return KW_ERR_ARG;
	u->nchannels = n;
	return KW_OK;
}

void
vcard_uicc_free(vcard_uicc **up)
{
	vcard_uicc *u;
	size_t i;

	if (up == NULL || (u = *up) == NULL)
		return;
	for (i = 0; i < VCARD_UICC_CHANNELS; i++)
		vcard_session_free(&u->ch[i].ses);
	kw_memzero(u, sizeof(*u));
	free(u);
	*up = NULL;
}

vcard_card *vcard_uicc_card(vcard_uicc *u) { return u->card; }
unsigned long vcard_uicc_basic_count(const vcard_uicc *u) { return u->basic_count; }

bool
vcard_uicc_channel_open(const vcard_uicc *u, int channel)
{
	return channel >= 0 && channel < VCARD_UICC_CHANNELS && u->ch[channel].open;
}

static void
chan_close(uicc_chan *ch)
{
	vcard_session_reset(&ch->ses);
	ch->app = APP_NONE;
	ch->ef = 0;
	ch->open = false;
}

void
vcard_uicc_reset(vcard_uicc *u)
{
	size_t i;

	for (i = 0; i < VCARD_UICC_CHANNELS; i++)
		chan_close(&u->ch[i]);
	u->ch[0].open = true;
	vcard_card_reset(u->card);
}

/* Channel number of a CLA (-1: not an interindustry-style class). */
static int
cla_channel(uint8_t cla)
{
	if (cla == 0xFF)
		return -1;
	if ((cla & 0x40) != 0)
		return 4 + (cla & 0x0F);
	if ((cla & 0x20) != 0)
		return -1;
	return cla & 0x03;
}

/* The CLA the PIV core sees: channel bits removed, secure messaging kept
 * (so that the core refuses it), proprietary bit kept. */
static uint8_t
cla_for_core(uint8_t cla)
{
	uint8_t sm = (cla & 0x40) != 0 ? ((cla & 0x20) ? 0x08 : 0) : (cla & 0x0C);

	return (uint8_t)((cla & 0x80) | (cla & 0x10) | sm);
}

static kw_rv
put_sw(kw_buf *resp, uint16_t sw)
{
	return kw_buf_put_u16be(resp, sw);
}

/* MANAGE CHANNEL from channel `from`. */
static kw_rv
manage_channel(vcard_uicc *u, int from, const uint8_t *a, size_t len, kw_buf *resp)
{
	uint8_t p1 = a[2], p2 = a[3];
	int n;

	if (len > 5)
		return put_sw(resp, VC_SW_WRONG_LENGTH);
	if (p1 == 0x80) {
		n = p2 == 0 ? from : p2;
		if (n == 0 || n >= VCARD_UICC_CHANNELS || !u->ch[n].open)
			return put_sw(resp, VC_SW_WRONG_P1P2);
		chan_close(&u->ch[n]);
		return put_sw(resp, VC_SW_OK);
	}
	if (p1 != 0x00)
		return put_sw(resp, VC_SW_WRONG_P1P2);
	if (p2 == 0) {
		for (n = 1; n <= u->nchannels && u->ch[n].open; n++)
			;
		if (n > u->nchannels)
			return put_sw(resp, VC_SW_FUNC_NOT_SUPP);
	} else {
		n = p2;
		if (n > u->nchannels || u->ch[n].open)
			return put_sw(resp, VC_SW_WRONG_P1P2);
	}
	chan_close(&u->ch[n]);
	u->ch[n].open = true;
	if (from != 0) {
		/* Opened from a logical channel: its application is selected. */
		u->ch[n].app = u->ch[from].app;
		u->ch[n].ses.selected = u->ch[from].app == APP_PIV;
	}
	if (p2 != 0)
		return put_sw(resp, VC_SW_OK);
	if (kw_buf_put_u8(resp, (uint8_t)n) != KW_OK)
		return KW_ERR_NOMEM;
	return put_sw(resp, VC_SW_OK);
}

static bool
is_usim_select(const uint8_t *a, size_t len)
{
	return len >= 5 + USIM_AID_PREFIX && a[1] == 0xA4 && a[2] == 0x04 &&
	    a[4] >= USIM_AID_PREFIX && (size_t)a[4] + 5 <= len && a[4] <= 16 &&
	    memcmp(a + 5, usim_aid, USIM_AID_PREFIX) == 0;
}

/* The PIV core, with this channel's session swapped in. */
static kw_rv
to_core(vcard_uicc *u, int n, const uint8_t *a, size_t len, kw_buf *resp)
{
	uicc_chan *ch = &u->ch[n];
	uint8_t *copy;
	kw_rv rv;

	if ((copy = malloc(len)) == NULL)
		return KW_ERR_NOMEM;
	memcpy(copy, a, len);
	copy[0] = cla_for_core(a[0]);
	vcard_card_swap_session(u->card, &ch->ses);
	rv = vcard_card_process(u->card, copy, len, resp);
	vcard_card_swap_session(u->card, &ch->ses);
	kw_freezero(copy, len);
	if (ch->ses.selected)
		ch->app = APP_PIV;
	else if (ch->app == APP_PIV)
		ch->app = APP_NONE;
	return rv;
}

/* FCP of the current DF (MF or the USIM ADF). */
static kw_rv
fcp_df(const uicc_chan *ch, kw_buf *out)
{
	static const uint8_t desc[] = { 0x78, 0x21 }, life = 0x05;
	uint8_t fid[2] = { 0x3F, 0x00 };
	kw_buf in;
	kw_rv rv;

	kw_buf_init(&in, 128);
	if (ch->app == APP_USIM) {
		fid[0] = 0x7F;
		fid[1] = 0xFF;
	}
	if ((rv = kw_tlv_put(&in, 0x82, desc, sizeof(desc))) == KW_OK &&
	    (rv = kw_tlv_put(&in, 0x83, fid, 2)) == KW_OK &&
	    (ch->app != APP_USIM || (rv = kw_tlv_put(&in, 0x84, usim_aid, sizeof(usim_aid))) == KW_OK) &&
	    (rv = kw_tlv_put(&in, 0x8A, &life, 1)) == KW_OK)
		rv = kw_tlv_put(out, 0x62, in.data, in.len);
	kw_buf_free(&in);
	return rv;
}

static kw_rv
fcp_ef(uint16_t fid, size_t size, kw_buf *out)
{
	uint8_t desc[2] = { 0x41, 0x21 }, id[2] = { (uint8_t)(fid >> 8), (uint8_t)fid };
	uint8_t sz[2] = { (uint8_t)(size >> 8), (uint8_t)size }, life = 0x05;
	kw_buf in;
	kw_rv rv;

	kw_buf_init(&in, 64);
	if ((rv = kw_tlv_put(&in, 0x82, desc, 2)) == KW_OK &&
	    (rv = kw_tlv_put(&in, 0x83, id, 2)) == KW_OK &&
	    (rv = kw_tlv_put(&in, 0x80, sz, 2)) == KW_OK &&
	    (rv = kw_tlv_put(&in, 0x8A, &life, 1)) == KW_OK)
		rv = kw_tlv_put(out, 0x62, in.data, in.len);
	kw_buf_free(&in);
	return rv;
}

static const uint8_t *
ef_data(uint16_t fid, size_t *len)
{
	if (fid == 0x6F07) {
		*len = sizeof(ef_imsi);
		return ef_imsi;
	}
	*len = sizeof(ef_iccid);
	return ef_iccid;
}

static uint16_t
tel_select(uicc_chan *ch, const uint8_t *a, size_t len, kw_buf *out)
{
	uint16_t fid;
	size_t sz;

	if (a[2] == 0x04) {
		if (!is_usim_select(a, len))
			return VC_SW_NOT_FOUND;   /* selection unchanged */
		ch->app = APP_USIM;
		ch->ef = 0;
		return a[3] == 0x0C || fcp_df(ch, out) == KW_OK ? VC_SW_OK : VC_SW_NO_PRECISE;
	}
	if (a[2] != 0x00 || len < 7 || a[4] != 2)
		return VC_SW_WRONG_P1P2;
	fid = (uint16_t)((a[5] << 8) | a[6]);
	if (fid == 0x3F00 || (fid == 0x7FFF && ch->app == APP_USIM)) {
		ch->app = fid == 0x3F00 ? APP_NONE : APP_USIM;
		ch->ef = 0;
		return a[3] == 0x0C || fcp_df(ch, out) == KW_OK ? VC_SW_OK : VC_SW_NO_PRECISE;
	}
	if (fid != 0x2FE2 && !(fid == 0x6F07 && ch->app == APP_USIM))
		return VC_SW_NOT_FOUND;
	ch->ef = fid;
	(void)ef_data(fid, &sz);
	return a[3] == 0x0C || fcp_ef(fid, sz, out) == KW_OK ? VC_SW_OK : VC_SW_NO_PRECISE;
}

static uint16_t
tel_read_binary(const uicc_chan *ch, const uint8_t *a, size_t len, kw_buf *out)
{
	size_t off = ((size_t)(a[2] & 0x7F) << 8) | a[3], n, want;
	const uint8_t *d;

	if (ch->ef == 0 || (a[2] & 0x80) != 0)
		return VC_SW_CONDITIONS;
	if (len > 5)
		return VC_SW_WRONG_LENGTH;
	d = ef_data(ch->ef, &n);
	if (off > n)
		return VC_SW_WRONG_P1P2;
	want = len == 5 ? (a[4] == 0 ? 256 : a[4]) : 256;
	if (want > n - off)
		want = n - off;
	return kw_buf_put(out, d + off, want) == KW_OK ? VC_SW_OK : VC_SW_NO_PRECISE;
}

static uint16_t
tel_status(const uicc_chan *ch, const uint8_t *a, kw_buf *out)
{
	if ((a[0] & 0x80) == 0)
		return VC_SW_CLA_UNKNOWN;
	if (a[2] > 0x02)
		return VC_SW_WRONG_P1P2;
	switch (a[3]) {
	case 0x00:
		return fcp_df(ch, out) == KW_OK ? VC_SW_OK : VC_SW_NO_PRECISE;
	case 0x01:
		if (ch->app != APP_USIM)
			return VC_SW_NOT_FOUND;
		return kw_tlv_put(out, 0x84, usim_aid, sizeof(usim_aid)) == KW_OK ?
		    VC_SW_OK : VC_SW_NO_PRECISE;
	case 0x0C:
		return VC_SW_OK;
	default:
		return VC_SW_WRONG_P1P2;
	}
}

/* The telecom application (any channel without the PIV applet). */
static kw_rv
telecom(uicc_chan *ch, const uint8_t *a, size_t len, kw_buf *resp)
{
	uint16_t sw;

	if ((cla_for_core(a[0]) & 0x1C) != 0)
		sw = VC_SW_CLA_UNKNOWN;   /* no secure messaging, no chaining */
	else if (a[1] == 0xA4)
		sw = tel_select(ch, a, len, resp);
	else if (a[1] == 0xF2)
		sw = tel_status(ch, a, resp);
	else if (a[1] == 0xB0)
		sw = tel_read_binary(ch, a, len, resp);
	else
		sw = VC_SW_INS_UNKNOWN;
	if (sw != VC_SW_OK)
		kw_buf_reset(resp);
	return put_sw(resp, sw);
}

kw_rv
vcard_uicc_process(vcard_uicc *u, const uint8_t *a, size_t len, kw_buf *resp)
{
	int n;

	kw_buf_reset(resp);
	u->card->last_ins = len >= 2 ? a[1] : 0;
	u->card->last_sensitive = false;
	if (len < 4)
		return put_sw(resp, VC_SW_WRONG_LENGTH);
	if ((n = cla_channel(a[0])) < 0)
		return put_sw(resp, VC_SW_CLA_UNKNOWN);
	if (n > u->nchannels || !u->ch[n].open)
		return put_sw(resp, SW_CHANNEL_NOT_SUPP);
	if (a[1] == 0x70)
		return manage_channel(u, n, a, len, resp);
	if (n == 0)
		u->basic_count++;
	if (is_usim_select(a, len)) {
		if (u->ch[n].app == APP_PIV)
			vcard_session_reset(&u->ch[n].ses);
		return telecom(&u->ch[n], a, len, resp);
	}
	if (n != 0 && (u->ch[n].app == APP_PIV || (a[1] == 0xA4 && a[2] == 0x04)))
		return to_core(u, n, a, len, resp);
	return telecom(&u->ch[n], a, len, resp);
}
