/* The applet core: APDU decoding (short and extended, ISO 7816-4 5.1),
 * command chaining (CLA bit 0x10), response delivery with 61xx + GET
 * RESPONSE and 6Cxx, SELECT with the PIV application property template
 * (SP 800-73-4 part 2, 3.1.1), and INS dispatch. No I/O here. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vcard.h"
#include "kw_secret.h"
#include "kw_tlv.h"

static const uint8_t piv_aid[] = {
	0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00
};

/* YubiKey 5 (USB) style ATR: T=1, historical bytes "...YubiKey@". */
static const uint8_t vc_atr[] = {
	0x3B, 0xFD, 0x13, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x15, 0x80, 0x73, 0xC0,
	0x21, 0xC0, 0x57, 0x59, 0x75, 0x62, 0x69, 0x4B, 0x65, 0x79, 0x40
};

const uint8_t *
vcard_card_atr(size_t *len)
{
	*len = sizeof(vc_atr);
	return vc_atr;
}

bool
vcard_version_at_least(const vcard_card *c, int maj, int min, int pat)
{
	int have = c->version[0] * 65536 + c->version[1] * 256 + c->version[2];

	return have >= maj * 65536 + min * 256 + pat;
}

kw_rv
vcard_card_new(vcard_card **out)
{
	vcard_card *c;
	size_t i;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	(void)mlock(c, sizeof(*c));   /* PIN, PUK, management key: best effort */
	c->version[0] = 5;
	c->version[1] = 4;
	c->version[2] = 3;
	vc_pin_set_default(&c->pin, VC_DEFAULT_PIN, VC_DEFAULT_TRIES);
	vc_pin_set_default(&c->puk, VC_DEFAULT_PUK, VC_DEFAULT_TRIES);
	vc_mgmt_set_default(c);
	for (i = 0; i < VC_NSLOTS; i++) {
		static const uint8_t slots[VC_NSLOTS] = {
			0x9A, 0x9C, 0x9D, 0x9E, 0x82, 0x83, 0x84, 0x85, 0x86,
			0x87, 0x88, 0x89, 0x8A, 0x8B, 0x8C, 0x8D, 0x8E, 0x8F,
			0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0xF9
		};
		c->keys[i].slot = slots[i];
	}
	for (i = 0; i < VC_MAX_OBJECTS; i++)
		kw_buf_init(&c->objects[i].data, VC_OBJ_MAX + 16);
	vcard_session_init(&c->ses);
	*out = c;
	return KW_OK;
}

void
vcard_card_free(vcard_card **cp)
{
	vcard_card *c;
	size_t i;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	for (i = 0; i < VC_NSLOTS; i++)
		vc_key_clear(&c->keys[i]);
	for (i = 0; i < VC_MAX_OBJECTS; i++)
		kw_buf_free(&c->objects[i].data);
	vcard_session_free(&c->ses);
	kw_memzero(c, sizeof(*c));
	(void)munlock(c, sizeof(*c));
	free(c);
	*cp = NULL;
}

void
vcard_session_init(vcard_session *s)
{
	memset(s, 0, sizeof(*s));
	kw_buf_init(&s->chain, VC_CHAIN_MAX);
	kw_buf_init(&s->pending, VC_CHAIN_MAX);
}

static void
session_clear_security(vcard_session *s)
{
	s->pin_verified = false;
	s->pin_fresh = false;
	s->mgmt_authed = false;
	s->mgmt_step = 0;
	s->mgmt_witness_len = 0;
	kw_memzero(s->mgmt_witness, sizeof(s->mgmt_witness));
}

void
vcard_session_reset(vcard_session *s)
{
	session_clear_security(s);
	s->selected = false;
	s->chaining = false;
	kw_buf_reset(&s->chain);
	kw_buf_reset(&s->pending);
}

void
vcard_session_free(vcard_session *s)
{
	kw_buf_free(&s->chain);
	kw_buf_free(&s->pending);
	kw_memzero(s, sizeof(*s));
}

void
vcard_card_swap_session(vcard_card *c, vcard_session *s)
{
	vcard_session tmp = c->ses;

	c->ses = *s;
	*s = tmp;
	kw_memzero(&tmp, sizeof(tmp));
}

static void
clear_security(vcard_card *c)
{
	session_clear_security(&c->ses);
}

void
vcard_card_reset(vcard_card *c)
{
	vcard_session_reset(&c->ses);
}

/* ISO 7816-4 5.1: cases 1, 2S, 3S, 4S, 2E, 3E, 4E. */
static bool
parse_apdu(const uint8_t *p, size_t len, vc_cmd *cmd)
{
	size_t lc;

	memset(cmd, 0, sizeof(*cmd));
	if (len < 4)
		return false;
	cmd->cla = p[0];
	cmd->ins = p[1];
	cmd->p1 = p[2];
	cmd->p2 = p[3];
	if (len == 4)
		return true;
	if (len == 5) {
		cmd->le_present = true;
		cmd->le = p[4] == 0 ? 256 : p[4];
		return true;
	}
	if (p[4] != 0) {
		lc = p[4];
		if (len == 5 + lc) {
			cmd->data = kw_view_make(p + 5, lc);
			return true;
		}
		if (len == 6 + lc) {
			cmd->data = kw_view_make(p + 5, lc);
			cmd->le_present = true;
			cmd->le = p[len - 1] == 0 ? 256 : p[len - 1];
			return true;
		}
		return false;
	}
	cmd->extended = true;
	if (len == 7) {
		cmd->le_present = true;
		cmd->le = ((size_t)p[5] << 8) | p[6];
		if (cmd->le == 0)
			cmd->le = 65536;
		return true;
	}
	lc = ((size_t)p[5] << 8) | p[6];
	if (lc == 0 || len < 7 + lc)
		return false;
	cmd->data = kw_view_make(p + 7, lc);
	if (len == 7 + lc)
		return true;
	if (len == 9 + lc) {
		cmd->le_present = true;
		cmd->le = ((size_t)p[len - 2] << 8) | p[len - 1];
		if (cmd->le == 0)
			cmd->le = 65536;
		return true;
	}
	return false;
}

static kw_rv
put_sw(kw_buf *resp, uint16_t sw)
{
	return kw_buf_put_u16be(resp, sw);
}

/* Hand out as much of c->ses.pending as the client asked for. */
static kw_rv
deliver_pending(vcard_card *c, size_t max, kw_buf *resp)
{
	size_t n = c->ses.pending.len < max ? c->ses.pending.len : max;
	size_t rest;
	kw_rv rv;

	if ((rv = kw_buf_put(resp, c->ses.pending.data, n)) != KW_OK)
		return rv;
	if ((rv = kw_buf_consume(&c->ses.pending, n)) != KW_OK)
		return rv;
	rest = c->ses.pending.len;
	if (rest == 0)
		return put_sw(resp, VC_SW_OK);
	return put_sw(resp, (uint16_t)(0x6100 | (rest >= 256 ? 0 : rest)));
}

static kw_rv
deliver(vcard_card *c, const vc_cmd *cmd, kw_buf *data, uint16_t sw, kw_buf *resp)
{
	size_t max;
	kw_rv rv;

	kw_buf_reset(&c->ses.pending);
	if (sw != VC_SW_OK || data->len == 0)
		return put_sw(resp, sw);
	if (cmd->extended)
		max = cmd->le_present ? cmd->le : 65536;
	else
		max = cmd->le_present ? cmd->le : 256;
	if ((rv = kw_buf_put(&c->ses.pending, data->data, data->len)) != KW_OK)
		return rv;
	c->ses.pending_ins = cmd->ins;
	return deliver_pending(c, max, resp);
}

static uint16_t
get_response(vcard_card *c, const vc_cmd *cmd, kw_buf *resp, kw_rv *rv)
{
	size_t max = cmd->le_present ? cmd->le : 256;

	*rv = KW_OK;
	if (cmd->p1 != 0 || cmd->p2 != 0)
		return VC_SW_WRONG_P1P2;
	if (c->ses.pending.len == 0)
		return VC_SW_CONDITIONS;
	c->last_ins = c->ses.pending_ins;
	*rv = deliver_pending(c, max, resp);
	return 0;
}

static uint16_t
do_select(vcard_card *c, const vc_cmd *cmd, kw_buf *out)
{
	static const uint8_t algs[] = {
		VC_ALG_3DES, VC_ALG_AES128, VC_ALG_AES192, VC_ALG_AES256,
		VC_ALG_RSA1024, VC_ALG_RSA2048, VC_ALG_P256, VC_ALG_P384,
		VC_ALG_RSA3072, VC_ALG_RSA4096   /* firmware 5.7 */
	};
	static const char label[] = "keyward virtual PIV";
	kw_buf inner;
	size_t i, nalgs;
	uint16_t sw = VC_SW_OK;

	if (cmd->p1 != 0x04)
		return VC_SW_WRONG_P1P2;
	if (cmd->data.len < 5 || cmd->data.len > sizeof(piv_aid) ||
	    memcmp(cmd->data.ptr, piv_aid, cmd->data.len) != 0) {
		c->ses.selected = false;
		clear_security(c);
		return VC_SW_NOT_FOUND;
	}
	if (!c->ses.selected)
		clear_security(c);
	c->ses.selected = true;
	if (cmd->p2 == 0x0C)
		return VC_SW_OK;
	kw_buf_init(&inner, 1024);
	if (kw_tlv_put(&inner, 0x4F, piv_aid + 5, 6) != KW_OK ||
	    kw_tlv_put_header(&inner, 0x79, 7) != KW_OK ||
	    kw_tlv_put(&inner, 0x4F, piv_aid, 5) != KW_OK ||
	    kw_tlv_put(&inner, 0x50, label, sizeof(label) - 1) != KW_OK)
		goto fail;
	nalgs = vcard_version_at_least(c, 5, 7, 0) ? sizeof(algs) : sizeof(algs) - 2;
	if (kw_tlv_put_header(&inner, 0xAC, nalgs * 3 + 3) != KW_OK)
		goto fail;
	for (i = 0; i < nalgs; i++)
		if (kw_tlv_put(&inner, 0x80, &algs[i], 1) != KW_OK)
			goto fail;
	if (kw_tlv_put(&inner, 0x06, "", 1) != KW_OK)
		goto fail;
	inner.data[inner.len - 1] = 0x00;
	if (kw_tlv_put(out, 0x61, inner.data, inner.len) != KW_OK)
		goto fail;
	goto done;
fail:
	sw = VC_SW_NO_PRECISE;
done:
	kw_buf_free(&inner);
	return sw;
}

static uint16_t
dispatch(vcard_card *c, const vc_cmd *cmd, kw_buf *out)
{
	if (cmd->ins == 0xA4)
		return do_select(c, cmd, out);
	if (!c->ses.selected)
		return VC_SW_INS_UNKNOWN;
	switch (cmd->ins) {
	case 0xCB: return vc_obj_get_data(c, cmd, out);
	case 0xDB: return vc_obj_put_data(c, cmd);
	case 0x20: return vc_pin_verify(c, cmd);
	case 0x24: return vc_pin_change(c, cmd);
	case 0x2C: return vc_pin_reset_retry(c, cmd);
	case 0x87:
		if (cmd->p2 == VC_KEYREF_MGMT)
			return vc_mgmt_authenticate(c, cmd, out);
		return vc_key_authenticate(c, cmd, out);
	case 0x47: return vc_key_generate(c, cmd, out);
	case 0xFD: return vc_yk_version(c, cmd, out);
	case 0xF8: return vc_yk_serial(c, cmd, out);
	case 0xF7:
		if (!vcard_version_at_least(c, 5, 3, 0))
			return VC_SW_INS_UNKNOWN;
		return vc_yk_metadata(c, cmd, out);
	case 0xFE: return vc_key_import(c, cmd);
	case 0xF9: return vc_attest(c, cmd, out);
	case 0xFF: return vc_mgmt_set_key(c, cmd);
	case 0xFA: return vc_pin_set_retries(c, cmd);
	case 0xFB: return vc_yk_reset(c, cmd);
	case 0xF6:
		if (!vcard_version_at_least(c, 5, 7, 0))
			return VC_SW_INS_UNKNOWN;
		return vc_key_move(c, cmd);
	default:
		return VC_SW_INS_UNKNOWN;
	}
}

/* Accumulate one link of a chain; returns true when cmd is now complete
 * (the chain data replaced cmd->data), false if it only was stored. */
static uint16_t
chain_step(vcard_card *c, vc_cmd *cmd, bool *complete)
{
	bool more = (cmd->cla & 0x10) != 0;
	bool same = c->ses.chaining && c->ses.chain_hdr[1] == cmd->ins &&
	    c->ses.chain_hdr[2] == cmd->p1 && c->ses.chain_hdr[3] == cmd->p2;

	*complete = false;
	if (c->ses.chaining && !same) {
		c->ses.chaining = false;
		kw_buf_reset(&c->ses.chain);
	}
	if (!more && !c->ses.chaining) {
		*complete = true;
		return VC_SW_OK;
	}
	if (kw_buf_put_view(&c->ses.chain, cmd->data) != KW_OK) {
		c->ses.chaining = false;
		kw_buf_reset(&c->ses.chain);
		return VC_SW_WRONG_LENGTH;
	}
	if (more) {
		c->ses.chaining = true;
		c->ses.chain_hdr[1] = cmd->ins;
		c->ses.chain_hdr[2] = cmd->p1;
		c->ses.chain_hdr[3] = cmd->p2;
		return VC_SW_OK;
	}
	c->ses.chaining = false;
	cmd->data = kw_buf_view(&c->ses.chain);
	*complete = true;
	return VC_SW_OK;
}

kw_rv
vcard_card_process(vcard_card *c, const uint8_t *apdu, size_t len, kw_buf *resp)
{
	vc_cmd cmd;
	kw_buf out;
	uint16_t sw;
	bool complete;
	kw_rv rv = KW_OK;

	kw_buf_reset(resp);
	kw_buf_init(&out, VC_CHAIN_MAX);
	c->last_ins = len >= 2 ? apdu[1] : 0;
	c->last_sensitive = false;
	if (!parse_apdu(apdu, len, &cmd)) {
		rv = put_sw(resp, VC_SW_WRONG_LENGTH);
		goto done;
	}
	if ((cmd.cla & ~0x10) != 0) {
		rv = put_sw(resp, VC_SW_CLA_UNKNOWN);
		goto done;
	}
	if (cmd.ins == 0xC0) {
		c->last_sensitive = c->ses.pending_sensitive;
		sw = get_response(c, &cmd, resp, &rv);
		if (sw != 0)
			rv = put_sw(resp, sw);
		goto done;
	}
	kw_buf_reset(&c->ses.pending);
	if (cmd.ins == 0xCB || cmd.ins == 0xDB)
		c->last_sensitive = vc_obj_data_is_protected(c->ses.chaining ?
		    kw_buf_view(&c->ses.chain) : cmd.data);
	c->ses.pending_sensitive = c->last_sensitive;
	sw = chain_step(c, &cmd, &complete);
	if (sw != VC_SW_OK || !complete) {
		rv = put_sw(resp, sw);
		goto done;
	}
	sw = dispatch(c, &cmd, &out);
	if (cmd.data.ptr == c->ses.chain.data)
		kw_buf_reset(&c->ses.chain);
	rv = deliver(c, &cmd, &out, sw, resp);
done:
	kw_buf_free(&out);
	return rv;
}
