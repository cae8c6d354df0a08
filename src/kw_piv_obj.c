/* Identification objects (SP 800-73-4 part 1, tables 8, 9 and 18): CHUID
 * (5FC102), Card Capability Container (5FC107), Discovery object (7E); and
 * the FASC-N (TIG SCEPACS: 5-bit characters, 4 data bits least significant
 * first plus odd parity, 200 bits). */
#include <string.h>

#include "kw_piv_int.h"
#include "kw_tlv.h"

enum { FASCN_SS = 0x0b, FASCN_FS = 0x0d, FASCN_ES = 0x0f };

/* Field lengths in digits, in order; a field separator follows each of the
 * first five, the last four follow each other. */
static const uint8_t fascn_fields[] = { 4, 4, 6, 1, 1, 10, 1, 4, 1 };

typedef struct fascn_w {
	uint8_t *out;
	size_t bit;
	uint8_t lrc;
} fascn_w;

static void
fascn_char(fascn_w *w, uint8_t v)
{
	unsigned i, ones = 0, b;

	w->lrc ^= v & 0x0f;
	for (i = 0; i < 5; i++) {
		b = i < 4 ? (v >> i) & 1u : (ones & 1u) ^ 1u;
		ones += b;
		if (b)
			w->out[w->bit / 8] |= (uint8_t)(0x80u >> (w->bit % 8));
		w->bit++;
	}
}

kw_rv
kw_piv_fascn_encode(const char *digits, uint8_t out[KW_PIV_FASCN_LEN])
{
	fascn_w w = { out, 0, 0 };
	size_t f, i, k = 0;

	if (digits == NULL || out == NULL || strlen(digits) != 32)
		return KW_ERR_ARG;
	for (i = 0; i < 32; i++)
		if (digits[i] < '0' || digits[i] > '9')
			return KW_ERR_ARG;
	memset(out, 0, KW_PIV_FASCN_LEN);
	fascn_char(&w, FASCN_SS);
	for (f = 0; f < sizeof(fascn_fields); f++) {
		for (i = 0; i < fascn_fields[f]; i++)
			fascn_char(&w, (uint8_t)(digits[k++] - '0'));
		if (f < 5)
			fascn_char(&w, FASCN_FS);
	}
	fascn_char(&w, FASCN_ES);
	fascn_char(&w, w.lrc);
	return KW_OK;
}

enum {
	CH_FASCN = 1, CH_ORG = 2, CH_DUNS = 4, CH_GUID = 8, CH_EXP = 16, CH_UUID = 32,
	CH_SIG = 64, CH_LRC = 128, CH_BUF = 256,
};

/* CHUID field: tag -> (bit, fixed length or 0). */
static kw_rv
piv_chuid_field(uint32_t tag, kw_view val, kw_piv_chuid *c, unsigned *seen)
{
	static const struct { uint32_t tag; unsigned bit; size_t len; } f[] = {
		{ 0xee, CH_BUF, 0 }, { 0x30, CH_FASCN, 25 }, { 0x32, CH_ORG, 4 },
		{ 0x33, CH_DUNS, 9 }, { 0x34, CH_GUID, 16 }, { 0x35, CH_EXP, 8 },
		{ 0x36, CH_UUID, 16 }, { 0x3e, CH_SIG, 0 }, { 0xfe, CH_LRC, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]) && f[i].tag != tag; i++)
		;
	if (i == sizeof(f) / sizeof(f[0]))
		return KW_OK;   /* deprecated or future fields (e.g. 3D) */
	if ((*seen & f[i].bit) != 0 || (f[i].len != 0 && val.len != f[i].len))
		return KW_ERR_FORMAT;
	*seen |= f[i].bit;
	if (tag == 0x30)
		memcpy(c->fascn, val.ptr, val.len);
	else if (tag == 0x34)
		memcpy(c->guid, val.ptr, val.len);
	else if (tag == 0x36)
		memcpy(c->uuid, val.ptr, val.len);
	else if (tag == 0x35) {
		for (i = 0; i < val.len; i++)
			if (val.ptr[i] < '0' || val.ptr[i] > '9')
				return KW_ERR_FORMAT;
		memcpy(c->expiry, val.ptr, val.len);
	}
	return KW_OK;
}

kw_rv
kw_piv_chuid_parse(kw_view v, kw_piv_chuid *c)
{
	unsigned seen = 0;
	uint32_t tag;
	kw_view val;
	kw_rv rv;

	if (c == NULL)
		return KW_ERR_ARG;
	memset(c, 0, sizeof(*c));
	while (!kw_view_empty(&v)) {
		if ((rv = kw_tlv_get(&v, &tag, &val)) != KW_OK ||
		    (rv = piv_chuid_field(tag, val, c, &seen)) != KW_OK)
			goto fail;
	}
	rv = KW_ERR_FORMAT;
	if ((seen & (CH_FASCN | CH_GUID)) != (CH_FASCN | CH_GUID))
		goto fail;
	c->has_uuid = (seen & CH_UUID) != 0;
	return KW_OK;
fail:
	memset(c, 0, sizeof(*c));
	return rv;
}

kw_rv
kw_piv_chuid_build(const uint8_t fascn[KW_PIV_FASCN_LEN], const uint8_t guid[16],
    const char *expiry, kw_buf *out)
{
	size_t i;
	kw_rv rv;

	if (fascn == NULL || guid == NULL || expiry == NULL || out == NULL ||
	    strlen(expiry) != 8)
		return KW_ERR_ARG;
	for (i = 0; i < 8; i++)
		if (expiry[i] < '0' || expiry[i] > '9')
			return KW_ERR_ARG;
	kw_buf_reset(out);
	if ((rv = kw_tlv_put(out, 0x30, fascn, KW_PIV_FASCN_LEN)) != KW_OK ||
	    (rv = kw_tlv_put(out, 0x34, guid, 16)) != KW_OK ||
	    (rv = kw_tlv_put(out, 0x35, expiry, 8)) != KW_OK ||
	    (rv = kw_tlv_put(out, 0x3e, NULL, 0)) != KW_OK ||
	    (rv = kw_tlv_put(out, 0xfe, NULL, 0)) != KW_OK)
		kw_buf_reset(out);
	return rv;
}

kw_rv
kw_piv_ccc_parse(kw_view v, kw_piv_ccc *c)
{
	kw_view val;
	kw_rv rv;

	if (c == NULL)
		return KW_ERR_ARG;
	memset(c, 0, sizeof(*c));
	if ((rv = kw_tlv_validate(v)) != KW_OK)
		return rv;
	if ((rv = kw_tlv_find(v, 0xf0, &val)) != KW_OK)
		return rv == KW_ERR_NOT_FOUND ? KW_ERR_FORMAT : rv;
	if (val.len != sizeof(c->card_id))
		return KW_ERR_FORMAT;
	memcpy(c->card_id, val.ptr, val.len);
	return KW_OK;
}

kw_rv
kw_piv_ccc_build(const uint8_t card_id[14], kw_buf *out)
{
	/* GSC-IS RID, manufacturer FF (unregistered), card type 02 (Java Card). */
	static const uint8_t id_prefix[7] = { 0xa0, 0x00, 0x00, 0x01, 0x16, 0xff, 0x02 };
	static const uint8_t tail[] = {
		0xf1, 0x01, 0x21, 0xf2, 0x01, 0x21, 0xf3, 0x00, 0xf4, 0x01, 0x00,
		0xf5, 0x01, 0x10, 0xf6, 0x00, 0xf7, 0x00, 0xfa, 0x00, 0xfb, 0x00,
		0xfc, 0x00, 0xfd, 0x00, 0xfe, 0x00,
	};
	kw_rv rv;

	if (card_id == NULL || out == NULL)
		return KW_ERR_ARG;
	kw_buf_reset(out);
	if ((rv = kw_tlv_put_header(out, 0xf0, 21)) != KW_OK ||
	    (rv = kw_buf_put(out, id_prefix, sizeof(id_prefix))) != KW_OK ||
	    (rv = kw_buf_put(out, card_id, 14)) != KW_OK ||
	    (rv = kw_buf_put(out, tail, sizeof(tail))) != KW_OK)
		kw_buf_reset(out);
	return rv;
}

kw_rv
kw_piv_discovery_parse(kw_view v, kw_piv_discovery *d)
{
	static const uint8_t piv_rid[] = { 0xa0, 0x00, 0x00, 0x03, 0x08 };
	kw_view aid, pol;
	kw_rv rv;

	if (d == NULL)
		return KW_ERR_ARG;
	memset(d, 0, sizeof(*d));
	if ((rv = kw_tlv_expect(&v, 0x4f, &aid)) != KW_OK)
		goto fail;
	rv = KW_ERR_FORMAT;
	if (aid.len < sizeof(piv_rid) || aid.len > sizeof(d->aid) ||
	    memcmp(aid.ptr, piv_rid, sizeof(piv_rid)) != 0)
		goto fail;
	memcpy(d->aid, aid.ptr, aid.len);
	d->aid_len = aid.len;
	if ((rv = kw_tlv_expect(&v, 0x5f2f, &pol)) != KW_OK)
		goto fail;
	rv = KW_ERR_FORMAT;
	if (pol.len != 2)
		goto fail;
	d->pin_policy = (uint16_t)((pol.ptr[0] << 8) | pol.ptr[1]);
	/* Further templates (e.g. pairing-code data) are allowed, not parsed. */
	if ((rv = kw_tlv_validate(v)) != KW_OK)
		goto fail;
	return KW_OK;
fail:
	memset(d, 0, sizeof(*d));
	return rv;
}

kw_rv
kw_piv_read_chuid(kw_piv *p, kw_piv_chuid *c)
{
	kw_buf obj;
	kw_rv rv;

	if (c == NULL)
		return KW_ERR_ARG;
	memset(c, 0, sizeof(*c));
	kw_buf_init(&obj, KW_MAX_RESPONSE);
	if ((rv = kw_piv_get_data(p, KW_PIV_OBJ_CHUID, &obj)) == KW_OK)
		rv = obj.len == 0 ? KW_ERR_NOT_FOUND : kw_piv_chuid_parse(kw_buf_view(&obj), c);
	kw_buf_free(&obj);
	return rv;
}

kw_rv
kw_piv_read_discovery(kw_piv *p, kw_piv_discovery *d)
{
	kw_buf obj;
	kw_rv rv;

	if (d == NULL)
		return KW_ERR_ARG;
	memset(d, 0, sizeof(*d));
	kw_buf_init(&obj, KW_MAX_RESPONSE);
	if ((rv = kw_piv_get_data(p, KW_PIV_OBJ_DISCOVERY, &obj)) == KW_OK)
		rv = kw_piv_discovery_parse(kw_buf_view(&obj), d);
	kw_buf_free(&obj);
	return rv;
}
