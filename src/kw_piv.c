/* PIV client core: the object, SELECT, GET DATA / PUT DATA, slot tables. */
#include <stdlib.h>
#include <string.h>

#include "kw_apdu.h"
#include "kw_log.h"
#include "kw_piv_int.h"
#include "kw_secret.h"
#include "kw_tlv.h"

static const uint8_t piv_aid[] = { 0xa0, 0x00, 0x00, 0x03, 0x08 };

kw_rv
kw_piv_new(kw_transport *t, kw_piv **out)
{
	kw_piv *p;

	if (out == NULL)
		return KW_ERR_ARG;
	*out = NULL;
	if (t == NULL)
		return KW_ERR_ARG;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return KW_ERR_NOMEM;
	p->t = t;
	*out = p;
	return KW_OK;
}

void
kw_piv_free(kw_piv **pp)
{
	if (pp == NULL || *pp == NULL)
		return;
	kw_freezero(*pp, sizeof(**pp));
	*pp = NULL;
}

kw_transport *
kw_piv_transport(kw_piv *p)
{
	return p != NULL ? p->t : NULL;
}

void
kw_piv_set_extended(kw_piv *p, bool on)
{
	if (p != NULL)
		p->ext = on;
}

bool
kw_piv_extended(const kw_piv *p)
{
	return p != NULL && p->ext && !p->ext_refused &&
	    kw_transport_has_flag(p->t, KW_TRANSPORT_EXTENDED);
}

/* Instructions whose answer may exceed 256 bytes. */
static bool
piv_long_answer(uint8_t ins)
{
	switch (ins) {
	case KW_PIV_INS_GET_DATA:
	case KW_PIV_INS_GENERAL_AUTH:
	case KW_PIV_INS_GENERATE:
	case KW_PIV_INS_YK_METADATA:
	case KW_PIV_INS_YK_ATTEST:
		return true;
	default:
		return false;
	}
}

/* Would this command go out as one extended APDU? Only long ones: short
 * commands (VERIFY and its PIN among them) never depend on extended
 * support, so a refusal never makes us send a PIN twice. */
static bool
piv_use_ext(const kw_piv *p, const kw_apdu *a, bool want_out)
{
	return kw_piv_extended(p) &&
	    (a->data_len > 255 || (want_out && piv_long_answer(a->ins)));
}

/* May a command sent as one extended APDU be sent again, short? Only when
 * the card's status word says it did not execute it because of its length
 * encoding. ISO 7816-4 (status bytes) splits errors into execution errors
 * (SW1 64, 65: the card tried, and 65xx says its memory changed) and
 * checking errors (SW1 67-6F: refused before processing). Of the checking
 * errors only 6700 (wrong length) can be about the encoding: it is what a
 * card without extended-length support answers. 6D00 (INS not supported)
 * and 6E00 (CLA not supported) do not depend on Lc/Le: the short command
 * gets the same answer (a YubiKey before 5.3 answers GET METADATA 6D00),
 * so a resend would only cost an APDU and wrongly drop extended APDUs for
 * good. A transport or framing error in the answer (lost frame, garbage,
 * timeout, ambiguous PC/SC error) says nothing about execution: the card
 * may have signed or generated already, so it is never a reason to resend
 * (issue 9: a token signed twice). */
static bool
piv_ext_refused(kw_rv rv, uint16_t sw)
{
	return rv == KW_OK && sw == 0x6700;
}

/* Errors of the link to the card (not of the card's answer, not a removal
 * or reset, which the transport reports and which end the card session). */
static bool
piv_link_error(kw_rv rv)
{
	return rv == KW_ERR_TIMEOUT || rv == KW_ERR_PROTOCOL || rv == KW_ERR_TRANSPORT;
}

static kw_rv
piv_xfer_once(kw_piv *p, kw_apdu *a, kw_buf *out, uint16_t *sw)
{
	kw_buf sink;
	kw_rv rv;

	*sw = 0;
	kw_buf_init(&sink, KW_MAX_RESPONSE);
	if (out != NULL)
		kw_buf_reset(out);
	rv = kw_apdu_transmit(p->t, a, out != NULL ? out : &sink, sw);
	kw_buf_free(&sink);
	return rv;
}

/* End a command chain the card may still hold. A link error inside a
 * chained command (CLA bit 10) may leave the first links on the card, which
 * would take the next command's links as more of the same chain (6A80, or a
 * signature over the concatenation). SELECT is not a link of that chain:
 * the card ends the chain (ISO 7816-4 command chaining) and the applet
 * stays selected.
 * Whether a card keeps its PIN state over a SELECT of the selected applet
 * varies, so when this object had verified the PIN it asks the card (VERIFY
 * without data sends no PIN): still verified -> the original error; not ->
 * KW_ERR_CARD_RESET, the transport's "card there, logins lost" (the caller
 * keeps its sessions, forgets its logins, never resends the PIN). If the
 * SELECT fails too, the reset is tried again before the next command. */
static kw_rv
piv_chain_reset(kw_piv *p, kw_rv err)
{
	bool had_pin = p->pin_verified;
	kw_rv rv;

	p->chain_dirty = false;
	if ((rv = kw_piv_select(p)) != KW_OK) {
		kw_debug("piv: SELECT to end a broken chain: %s", kw_strerror(rv));
		if (piv_link_error(rv))
			p->chain_dirty = true;
		return err != KW_OK ? err : rv;
	}
	kw_debug("piv: broken command chain ended with SELECT");
	if (!had_pin)
		return err;
	if ((rv = kw_piv_pin_status(p, KW_PIV_REF_PIN, NULL)) == KW_OK)
		return err;
	if (piv_link_error(rv)) {
		p->chain_dirty = true;
		return err != KW_OK ? err : rv;
	}
	kw_info("piv: the card forgot the PIN when the broken chain was ended");
	p->pin_verified = false;
	return KW_ERR_CARD_RESET;
}

/* One exchange; out (optional) replaced by the response data. */
static kw_rv
piv_xfer(kw_piv *p, kw_apdu *a, kw_buf *out, uint16_t *swp)
{
	uint16_t sw = 0;
	bool ext = false, switched = false;
	kw_rv rv;

	if (swp != NULL)
		*swp = 0;
	if (p == NULL)
		return KW_ERR_ARG;
	if (p->chain_dirty && (rv = piv_chain_reset(p, KW_OK)) != KW_OK)
		return rv;
	if (piv_use_ext(p, a, out != NULL)) {
		a->flags |= KW_APDU_F_EXTENDED;
		a->le = out != NULL ? 65536 : 0;
		ext = true;
		rv = piv_xfer_once(p, a, out, &sw);
		if (!piv_ext_refused(rv, sw))
			goto done;
		kw_info("piv: extended APDU refused (SW %04X): short APDUs from now on", sw);
		p->ext_refused = true;
		a->flags &= ~(unsigned)KW_APDU_F_EXTENDED;
		ext = false;
		switched = true;
	}
	a->le = out != NULL ? 256 : 0;
	rv = piv_xfer_once(p, a, out, &sw);
	if (switched && rv == KW_OK && sw == 0x6700) {
		/* refused short too: the command's length was wrong, not its encoding */
		kw_info("piv: 6700 to the short command too: extended APDUs stay in use");
		p->ext_refused = false;
	}
done:
	if (piv_link_error(rv) && !ext && a->data_len > 255)
		rv = piv_chain_reset(p, rv);
	else if (rv == KW_ERR_CARD_RESET || rv == KW_ERR_CARD_REMOVED || rv == KW_ERR_NO_CARD ||
	    rv == KW_ERR_SERVICE_GONE)
		p->pin_verified = false;
	if (rv == KW_OK)
		rv = kw_sw_to_rv(sw);
	if (rv != KW_OK && out != NULL)
		kw_buf_reset(out);
	if (swp != NULL)
		*swp = sw;
	return rv;
}

kw_rv
kw_piv_cmd(kw_piv *p, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data,
    size_t len, kw_buf *out, uint16_t *swp)
{
	kw_apdu a = { 0x00, ins, p1, p2, data, len, 0, 0 };

	return piv_xfer(p, &a, out, swp);
}

int
kw_piv_sw_tries(uint16_t sw)
{
	if ((sw & 0xfff0) == 0x63c0)
		return sw & 0x0f;
	if (sw == 0x6983)
		return 0;
	return -1;
}

kw_rv
kw_piv_tlv_u8(kw_view v, uint8_t *out)
{
	kw_rv rv;

	if ((rv = kw_view_get_u8(&v, out)) != KW_OK)
		return rv;
	return kw_view_expect_end(&v);
}

kw_rv
kw_piv_select(kw_piv *p)
{
	kw_buf r;
	kw_view v, app;
	kw_rv rv;

	kw_buf_init(&r, KW_MAX_RESPONSE);
	rv = kw_piv_cmd(p, KW_PIV_INS_SELECT, 0x04, 0x00, piv_aid, sizeof(piv_aid), &r, NULL);
	if (rv != KW_OK)
		goto fail;
	/* An application property template (61) or nothing at all. */
	v = kw_buf_view(&r);
	if (kw_view_empty(&v))
		goto fail;
	if ((rv = kw_tlv_expect(&v, 0x61, &app)) != KW_OK ||
	    (rv = kw_view_expect_end(&v)) != KW_OK ||
	    (rv = kw_tlv_validate(app)) != KW_OK)
		kw_debug("piv: bad SELECT response: %s", kw_strerror(rv));
fail:
	kw_buf_free(&r);
	return rv;
}

static kw_rv
piv_put_tag_list(kw_buf *b, uint32_t tag)
{
	uint8_t t[3];
	size_t n = tag > 0xffff ? 3 : tag > 0xff ? 2 : 1, i;

	for (i = 0; i < n; i++)
		t[i] = (uint8_t)(tag >> (8 * (n - 1 - i)));
	return kw_tlv_put(b, 0x5c, t, n);
}

/* The template tag a data object's contents come in. */
static uint32_t
piv_obj_template(uint32_t tag)
{
	if (tag == KW_PIV_OBJ_DISCOVERY || tag == 0x7f61)
		return tag;
	return 0x53;
}

/* Objects whose contents must never reach a log: the printed-information
 * object, where YubiKeys keep the PIN-protected management key. */
static unsigned
piv_obj_flags(uint32_t tag)
{
	return tag == KW_PIV_OBJ_YK_PRINTED ? KW_APDU_F_SECRET : 0;
}

static bool
piv_obj_tag_ok(uint32_t tag)
{
	return tag == KW_PIV_OBJ_DISCOVERY || tag == 0x7f61 ||
	    (tag >= 0x5fc100 && tag <= 0x5fffff);
}

kw_rv
kw_piv_get_data(kw_piv *p, uint32_t tag, kw_buf *out)
{
	kw_apdu a = { 0x00, KW_PIV_INS_GET_DATA, 0x3f, 0xff, NULL, 0, 0, piv_obj_flags(tag) };
	kw_buf cmd, r;
	kw_view v, val;
	kw_rv rv;

	if (out == NULL || !piv_obj_tag_ok(tag))
		return KW_ERR_ARG;
	kw_buf_init(&cmd, 16);
	kw_buf_init(&r, KW_MAX_RESPONSE);
	kw_buf_reset(out);
	if ((rv = piv_put_tag_list(&cmd, tag)) != KW_OK)
		goto fail;
	a.data = cmd.data;
	a.data_len = cmd.len;
	if ((rv = piv_xfer(p, &a, &r, NULL)) != KW_OK)
		goto fail;
	v = kw_buf_view(&r);
	if ((rv = kw_tlv_expect(&v, piv_obj_template(tag), &val)) != KW_OK ||
	    (rv = kw_view_expect_end(&v)) != KW_OK)
		goto fail;
	rv = kw_buf_put_view(out, val);
fail:
	if (rv != KW_OK)
		kw_buf_reset(out);
	kw_buf_free(&cmd);
	kw_buf_free(&r);
	return rv;
}

kw_rv
kw_piv_put_data(kw_piv *p, uint32_t tag, const uint8_t *data, size_t len)
{
	kw_apdu a = { 0x00, KW_PIV_INS_PUT_DATA, 0x3f, 0xff, NULL, 0, 0, piv_obj_flags(tag) };
	kw_buf cmd;
	kw_rv rv;

	if (!piv_obj_tag_ok(tag) || (len > 0 && data == NULL) || len > KW_PIV_OBJ_MAX)
		return KW_ERR_ARG;
	kw_buf_init(&cmd, KW_PIV_OBJ_MAX + 16);
	if (piv_obj_template(tag) == tag)
		rv = kw_tlv_put(&cmd, tag, data, len);
	else if ((rv = piv_put_tag_list(&cmd, tag)) == KW_OK)
		rv = kw_tlv_put(&cmd, 0x53, data, len);
	a.data = cmd.data;
	a.data_len = cmd.len;
	if (rv == KW_OK)
		rv = piv_xfer(p, &a, NULL, NULL);
	kw_buf_free(&cmd);
	return rv;
}

uint32_t
kw_piv_slot_cert_tag(uint8_t slot)
{
	switch (slot) {
	case KW_PIV_SLOT_AUTH: return 0x5fc105;
	case KW_PIV_SLOT_SIGN: return 0x5fc10a;
	case KW_PIV_SLOT_KEYMGMT: return 0x5fc10b;
	case KW_PIV_SLOT_CARDAUTH: return 0x5fc101;
	case KW_PIV_SLOT_ATTEST: return KW_PIV_OBJ_ATTEST_CERT;
	default:
		break;
	}
	if (slot >= KW_PIV_SLOT_RETIRED1 && slot <= KW_PIV_SLOT_RETIRED20)
		return 0x5fc10d + (uint32_t)(slot - KW_PIV_SLOT_RETIRED1);
	return 0;
}

bool
kw_piv_slot_is_key(uint8_t slot)
{
	return kw_piv_slot_cert_tag(slot) != 0;
}
