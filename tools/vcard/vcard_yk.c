/* YubiKey PIV extensions (from Yubico's published PIV documentation):
 * GET VERSION (FD), GET SERIAL (F8), GET METADATA (F7), RESET (FB). The
 * others live next to what they touch: IMPORT/MOVE in vcard_keys.c, SET
 * MANAGEMENT KEY in vcard_mgmt.c, SET RETRIES in vcard_pin.c, ATTEST in
 * vcard_attest.c. */
#include "vcard.h"
#include "kw_tlv.h"

#define TAG_ATTEST_CERT 0x5FFF01

uint16_t
vc_yk_version(vcard_card *c, const vc_cmd *cmd, kw_buf *out)
{
	(void)cmd;
	return kw_buf_put(out, c->version, 3) == KW_OK ? VC_SW_OK : VC_SW_NO_PRECISE;
}

uint16_t
vc_yk_serial(vcard_card *c, const vc_cmd *cmd, kw_buf *out)
{
	(void)cmd;
	return kw_buf_put_u32be(out, c->serial) == KW_OK ? VC_SW_OK : VC_SW_NO_PRECISE;
}

static kw_rv
put_u8_tlv(kw_buf *out, uint32_t tag, uint8_t v)
{
	return kw_tlv_put(out, tag, &v, 1);
}

static uint16_t
meta_pin(const vc_pin *p, bool is_default, kw_buf *out)
{
	uint8_t retries[2] = { p->max, p->tries };

	if (put_u8_tlv(out, 0x01, VC_ALG_PIN) != KW_OK ||
	    put_u8_tlv(out, 0x05, is_default ? 1 : 0) != KW_OK ||
	    kw_tlv_put(out, 0x06, retries, 2) != KW_OK)
		return VC_SW_NO_PRECISE;
	return VC_SW_OK;
}

static uint16_t
meta_mgmt(const vcard_card *c, kw_buf *out)
{
	uint8_t pol[2] = { 0x00, c->mgmt_touch };

	if (put_u8_tlv(out, 0x01, c->mgmt_alg) != KW_OK ||
	    kw_tlv_put(out, 0x02, pol, 2) != KW_OK ||
	    put_u8_tlv(out, 0x05, vc_mgmt_is_default(c) ? 1 : 0) != KW_OK)
		return VC_SW_NO_PRECISE;
	return VC_SW_OK;
}

static uint16_t
meta_key(const vc_key *k, kw_buf *out)
{
	uint8_t pol[2] = { k->pin_policy, k->touch_policy };
	kw_buf pub;
	uint16_t sw = VC_SW_NO_PRECISE;

	if (k->pkey == NULL)
		return VC_SW_NOT_FOUND;
	kw_buf_init(&pub, 1200);
	if (put_u8_tlv(out, 0x01, k->alg) == KW_OK &&
	    kw_tlv_put(out, 0x02, pol, 2) == KW_OK &&
	    put_u8_tlv(out, 0x03, k->origin) == KW_OK &&
	    vc_key_public_tlvs(k, &pub) == KW_OK &&
	    kw_tlv_put(out, 0x04, pub.data, pub.len) == KW_OK)
		sw = VC_SW_OK;
	kw_buf_free(&pub);
	return sw;
}

uint16_t
vc_yk_metadata(vcard_card *c, const vc_cmd *cmd, kw_buf *out)
{
	vc_key *k;

	if (cmd->p1 != 0x00)
		return VC_SW_WRONG_P1P2;
	switch (cmd->p2) {
	case VC_KEYREF_PIN:
		return meta_pin(&c->pin, vc_pin_is_default(&c->pin, VC_DEFAULT_PIN), out);
	case VC_KEYREF_PUK:
		return meta_pin(&c->puk, vc_pin_is_default(&c->puk, VC_DEFAULT_PUK), out);
	case VC_KEYREF_MGMT:
		return meta_mgmt(c, out);
	default:
		if ((k = vc_key_slot(c, cmd->p2)) == NULL)
			return VC_SW_WRONG_P1P2;
		return meta_key(k, out);
	}
}

/* Only when both PIN and PUK are blocked. Keeps the attestation key and
 * its certificate, as a YubiKey does. */
uint16_t
vc_yk_reset(vcard_card *c, const vc_cmd *cmd)
{
	size_t i;

	if (cmd->p1 != 0 || cmd->p2 != 0)
		return VC_SW_WRONG_P1P2;
	if (c->pin.tries != 0 || c->puk.tries != 0)
		return VC_SW_CONDITIONS;
	for (i = 0; i < VC_NSLOTS; i++)
		if (c->keys[i].slot != VC_SLOT_ATTEST)
			vc_key_clear(&c->keys[i]);
	for (i = 0; i < VC_MAX_OBJECTS; i++) {
		if (c->objects[i].tag != TAG_ATTEST_CERT) {
			kw_buf_reset(&c->objects[i].data);
			c->objects[i].tag = 0;
		}
	}
	vc_pin_set_default(&c->pin, VC_DEFAULT_PIN, VC_DEFAULT_TRIES);
	vc_pin_set_default(&c->puk, VC_DEFAULT_PUK, VC_DEFAULT_TRIES);
	vc_mgmt_set_default(c);
	c->ses.pin_verified = c->ses.pin_fresh = c->ses.mgmt_authed = false;
	c->dirty = true;
	return VC_SW_OK;
}
