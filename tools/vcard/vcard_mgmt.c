/* Card management key (key reference 9B): GENERAL AUTHENTICATE in its
 * three SP 800-73-4 forms (mutual: witness + challenge; external:
 * challenge then response; internal: card encrypts a host challenge), with
 * 3DES or AES-128/192/256 (SP 800-78-4), and the YubiKey SET MANAGEMENT
 * KEY (FF). */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "vcard.h"
#include "kw_secret.h"
#include "kw_tlv.h"

static const uint8_t default_mgmt[24] = {
	1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8
};

kw_rv
vc_random(uint8_t *p, size_t n)
{
	return RAND_bytes(p, (int)n) == 1 ? KW_OK : KW_ERR_CRYPTO;
}

void
vc_mgmt_set_default(vcard_card *c)
{
	/* Firmware 5.7 ships the same default value as AES-192. */
	c->mgmt_alg = vcard_version_at_least(c, 5, 7, 0) ? VC_ALG_AES192 : VC_ALG_3DES;
	c->mgmt_touch = VC_TOUCH_NEVER;
	kw_memzero(c->mgmt_key, sizeof(c->mgmt_key));
	memcpy(c->mgmt_key, default_mgmt, sizeof(default_mgmt));
	c->mgmt_len = sizeof(default_mgmt);
}

bool
vc_mgmt_is_default(const vcard_card *c)
{
	return c->mgmt_len == sizeof(default_mgmt) &&
	    kw_timingsafe_eq(c->mgmt_key, default_mgmt, sizeof(default_mgmt));
}

static const EVP_CIPHER *
mgmt_cipher(uint8_t alg, size_t *keylen, size_t *block)
{
	switch (alg) {
	case VC_ALG_3DES: *keylen = 24; *block = 8; return EVP_des_ede3_ecb();
	case VC_ALG_AES128: *keylen = 16; *block = 16; return EVP_aes_128_ecb();
	case VC_ALG_AES192: *keylen = 24; *block = 16; return EVP_aes_192_ecb();
	case VC_ALG_AES256: *keylen = 32; *block = 16; return EVP_aes_256_ecb();
	default: return NULL;
	}
}

/* Encrypt one block with the management key. */
static kw_rv
mgmt_encrypt(const vcard_card *c, const uint8_t *in, size_t n, uint8_t *out)
{
	const EVP_CIPHER *ciph;
	EVP_CIPHER_CTX *ctx = NULL;
	size_t keylen, block;
	int outl = 0;
	kw_rv rv = KW_ERR_CRYPTO;

	if ((ciph = mgmt_cipher(c->mgmt_alg, &keylen, &block)) == NULL || n != block)
		return KW_ERR_ARG;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return KW_ERR_NOMEM;
	if (EVP_EncryptInit_ex(ctx, ciph, NULL, c->mgmt_key, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_EncryptUpdate(ctx, out, &outl, in, (int)n) != 1 || (size_t)outl != n)
		goto fail;
	rv = KW_OK;
fail:
	EVP_CIPHER_CTX_free(ctx);
	return rv;
}

typedef struct ga_fields {
	bool has80, has81, has82;
	kw_view v80, v81, v82;
} ga_fields;

static bool
parse_ga(kw_view data, ga_fields *f)
{
	kw_view inner, val;
	uint32_t tag;

	memset(f, 0, sizeof(*f));
	if (kw_tlv_expect(&data, 0x7C, &inner) != KW_OK || kw_view_expect_end(&data) != KW_OK)
		return false;
	while (!kw_view_empty(&inner)) {
		if (kw_tlv_get(&inner, &tag, &val) != KW_OK)
			return false;
		if (tag == 0x80) {
			f->has80 = true;
			f->v80 = val;
		} else if (tag == 0x81) {
			f->has81 = true;
			f->v81 = val;
		} else if (tag == 0x82) {
			f->has82 = true;
			f->v82 = val;
		} else {
			return false;
		}
	}
	return true;
}

/* 7C { tag block } */
static uint16_t
reply_block(kw_buf *out, uint8_t tag, const uint8_t *p, size_t n)
{
	if (kw_tlv_put_header(out, 0x7C, kw_tlv_header_size(tag, n) + n) != KW_OK ||
	    kw_tlv_put(out, tag, p, n) != KW_OK)
		return VC_SW_NO_PRECISE;
	return VC_SW_OK;
}

static uint16_t
mutual_step1(vcard_card *c, size_t block, kw_buf *out)
{
	uint8_t enc[16];
	uint16_t sw;

	if (vc_random(c->ses.mgmt_witness, block) != KW_OK ||
	    mgmt_encrypt(c, c->ses.mgmt_witness, block, enc) != KW_OK)
		return VC_SW_NO_PRECISE;
	c->ses.mgmt_witness_len = block;
	c->ses.mgmt_step = 1;
	sw = reply_block(out, 0x80, enc, block);
	kw_memzero(enc, sizeof(enc));
	return sw;
}

static uint16_t
mutual_step2(vcard_card *c, const ga_fields *f, size_t block, kw_buf *out)
{
	uint8_t enc[16];
	uint16_t sw;
	bool ok = c->ses.mgmt_step == 1 && f->v80.len == block && f->v81.len == block &&
	    kw_timingsafe_eq(f->v80.ptr, c->ses.mgmt_witness, block);

	c->ses.mgmt_step = 0;
	kw_memzero(c->ses.mgmt_witness, sizeof(c->ses.mgmt_witness));
	if (!ok)
		return VC_SW_SECURITY;
	if (mgmt_encrypt(c, f->v81.ptr, block, enc) != KW_OK)
		return VC_SW_NO_PRECISE;
	c->ses.mgmt_authed = true;
	sw = reply_block(out, 0x82, enc, block);
	kw_memzero(enc, sizeof(enc));
	return sw;
}

static uint16_t
external_step1(vcard_card *c, size_t block, kw_buf *out)
{
	if (vc_random(c->ses.mgmt_witness, block) != KW_OK)
		return VC_SW_NO_PRECISE;
	c->ses.mgmt_witness_len = block;
	c->ses.mgmt_step = 2;
	return reply_block(out, 0x81, c->ses.mgmt_witness, block);
}

static uint16_t
external_step2(vcard_card *c, const ga_fields *f, size_t block)
{
	uint8_t enc[16];
	bool ok = c->ses.mgmt_step == 2 && f->v82.len == block &&
	    mgmt_encrypt(c, c->ses.mgmt_witness, block, enc) == KW_OK &&
	    kw_timingsafe_eq(enc, f->v82.ptr, block);

	c->ses.mgmt_step = 0;
	kw_memzero(c->ses.mgmt_witness, sizeof(c->ses.mgmt_witness));
	kw_memzero(enc, sizeof(enc));
	if (!ok)
		return VC_SW_SECURITY;
	c->ses.mgmt_authed = true;
	return VC_SW_OK;
}

static uint16_t
internal_auth(vcard_card *c, const ga_fields *f, size_t block, kw_buf *out)
{
	uint8_t enc[16];
	uint16_t sw;

	if (f->v81.len != block)
		return VC_SW_WRONG_DATA;
	if (mgmt_encrypt(c, f->v81.ptr, block, enc) != KW_OK)
		return VC_SW_NO_PRECISE;
	sw = reply_block(out, 0x82, enc, block);
	kw_memzero(enc, sizeof(enc));
	return sw;
}

uint16_t
vc_mgmt_authenticate(vcard_card *c, const vc_cmd *cmd, kw_buf *out)
{
	ga_fields f;
	size_t keylen, block;

	if (mgmt_cipher(c->mgmt_alg, &keylen, &block) == NULL)
		return VC_SW_NO_PRECISE;
	/* SP 800-78: algorithm 00 is the legacy name of 3-key 3DES-ECB
	 * (OpenSC uses it to get a challenge). */
	if (cmd->p1 != c->mgmt_alg && !(cmd->p1 == 0x00 && c->mgmt_alg == VC_ALG_3DES))
		return VC_SW_WRONG_DATA;
	if (!parse_ga(cmd->data, &f))
		return VC_SW_WRONG_DATA;
	c->ses.mgmt_authed = false;
	if (f.has80 && f.v80.len == 0 && !f.has81 && !f.has82)
		return mutual_step1(c, block, out);
	if (f.has80 && f.has81 && (!f.has82 || f.v82.len == 0))
		return mutual_step2(c, &f, block, out);
	if (f.has81 && f.v81.len == 0 && !f.has80 && !f.has82)
		return external_step1(c, block, out);
	if (f.has82 && f.v82.len > 0 && !f.has80 && !f.has81)
		return external_step2(c, &f, block);
	if (f.has81 && f.has82 && f.v82.len == 0 && !f.has80)
		return internal_auth(c, &f, block, out);
	c->ses.mgmt_step = 0;
	return VC_SW_WRONG_DATA;
}

/* FF FF FF|FE, data: alg 9B len key. */
uint16_t
vc_mgmt_set_key(vcard_card *c, const vc_cmd *cmd)
{
	kw_view v = cmd->data, key;
	uint8_t alg, ref, len;
	size_t keylen, block;

	if (cmd->p1 != 0xFF || (cmd->p2 != 0xFF && cmd->p2 != 0xFE))
		return VC_SW_WRONG_P1P2;
	if (!c->ses.mgmt_authed)
		return VC_SW_SECURITY;
	if (kw_view_get_u8(&v, &alg) != KW_OK || kw_view_get_u8(&v, &ref) != KW_OK ||
	    kw_view_get_u8(&v, &len) != KW_OK || kw_view_get_view(&v, len, &key) != KW_OK ||
	    kw_view_expect_end(&v) != KW_OK || ref != VC_KEYREF_MGMT)
		return VC_SW_WRONG_DATA;
	if (mgmt_cipher(alg, &keylen, &block) == NULL || key.len != keylen)
		return VC_SW_WRONG_DATA;
	if (alg != VC_ALG_3DES && !vcard_version_at_least(c, 5, 4, 0))
		return VC_SW_WRONG_DATA;
	kw_memzero(c->mgmt_key, sizeof(c->mgmt_key));
	memcpy(c->mgmt_key, key.ptr, key.len);
	c->mgmt_len = key.len;
	c->mgmt_alg = alg;
	c->mgmt_touch = cmd->p2 == 0xFE ? VC_TOUCH_ALWAYS : VC_TOUCH_NEVER;
	c->dirty = true;
	return VC_SW_OK;
}
