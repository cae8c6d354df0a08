/* Asymmetric keys in slots: GENERATE (47), and the YubiKey extensions
 * IMPORT (FE), ATTEST (F9), GET METADATA (F7), MOVE/DELETE (F6). */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>

#include "kw_log.h"
#include "kw_piv_int.h"
#include "kw_secret.h"
#include "kw_tlv.h"

static bool
piv_policy_ok(uint8_t pin_policy, uint8_t touch_policy)
{
	return pin_policy <= KW_PIV_PIN_POLICY_ALWAYS &&
	    touch_policy <= KW_PIV_TOUCH_POLICY_CACHED;
}

/* AA pin policy, AB touch policy, when not default. */
static kw_rv
piv_put_policies(kw_buf *b, uint8_t pin_policy, uint8_t touch_policy)
{
	kw_rv rv = KW_OK;

	if (pin_policy != KW_PIV_PIN_POLICY_DEFAULT)
		rv = kw_tlv_put(b, 0xaa, &pin_policy, 1);
	if (rv == KW_OK && touch_policy != KW_PIV_TOUCH_POLICY_DEFAULT)
		rv = kw_tlv_put(b, 0xab, &touch_policy, 1);
	return rv;
}

kw_rv
kw_piv_generate(kw_piv *p, uint8_t slot, uint8_t alg, uint8_t pin_policy,
    uint8_t touch_policy, EVP_PKEY **pubkey)
{
	kw_buf ctl, cmd, r;
	kw_view v, tmpl;
	kw_rv rv;

	if (pubkey == NULL)
		return KW_ERR_ARG;
	*pubkey = NULL;
	if (!kw_piv_slot_is_key(slot) || (!kw_piv_alg_is_rsa(alg) && !kw_piv_alg_is_ec(alg) &&
	    !kw_piv_alg_is_25519(alg)) || !piv_policy_ok(pin_policy, touch_policy))
		return KW_ERR_ARG;
	kw_buf_init(&ctl, 64);
	kw_buf_init(&cmd, 64);
	kw_buf_init(&r, KW_MAX_RESPONSE);
	if ((rv = kw_tlv_put(&ctl, 0x80, &alg, 1)) != KW_OK ||
	    (rv = piv_put_policies(&ctl, pin_policy, touch_policy)) != KW_OK ||
	    (rv = kw_tlv_put(&cmd, 0xac, ctl.data, ctl.len)) != KW_OK)
		goto fail;
	if ((rv = kw_piv_cmd(p, KW_PIV_INS_GENERATE, 0x00, slot, cmd.data, cmd.len, &r,
	    NULL)) != KW_OK)
		goto fail;
	v = kw_buf_view(&r);
	if ((rv = kw_tlv_expect(&v, 0x7f49, &tmpl)) != KW_OK ||
	    (rv = kw_view_expect_end(&v)) != KW_OK)
		goto fail;
	rv = kw_piv_pubkey_decode(tmpl, alg, pubkey);
fail:
	kw_buf_free(&ctl);
	kw_buf_free(&cmd);
	kw_buf_free(&r);
	return rv;
}

/* One private-key component as a fixed-size big-endian TLV. */
static kw_rv
piv_put_bn_param(kw_buf *b, uint32_t tag, const EVP_PKEY *key, const char *name, size_t size)
{
	uint8_t tmp[512];
	BIGNUM *bn = NULL;
	kw_rv rv = KW_ERR_CRYPTO;

	if (size > sizeof(tmp))
		return KW_ERR_INTERNAL;
	if (EVP_PKEY_get_bn_param(key, name, &bn) != 1)
		goto fail;
	rv = KW_ERR_ARG;
	if (BN_bn2binpad(bn, tmp, (int)size) != (int)size)
		goto fail;
	rv = kw_tlv_put(b, tag, tmp, size);
fail:
	kw_memzero(tmp, sizeof(tmp));
	BN_clear_free(bn);
	return rv;
}

static kw_rv
piv_import_rsa(kw_buf *b, const EVP_PKEY *key, uint8_t alg)
{
	static const char *const names[] = {
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
		OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
		OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	size_t half = (size_t)kw_piv_alg_bits(alg) / 16, i;
	BIGNUM *e = NULL;
	kw_rv rv;

	/* The card only takes the public exponent 65537. */
	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
		return KW_ERR_ARG;
	rv = BN_is_word(e, 65537) ? KW_OK : KW_ERR_NOT_SUPPORTED;
	BN_free(e);
	for (i = 0; rv == KW_OK && i < sizeof(names) / sizeof(names[0]); i++)
		rv = piv_put_bn_param(b, 0x01 + (uint32_t)i, key, names[i], half);
	return rv;
}

/* Ed25519 (tag 07) / X25519 (tag 08): the raw 32-byte private key. */
static kw_rv
piv_import_25519(kw_buf *b, const EVP_PKEY *key, uint8_t alg)
{
	uint8_t raw[32];
	size_t n = sizeof(raw);
	kw_rv rv = KW_ERR_CRYPTO;

	if (EVP_PKEY_get_raw_private_key(key, raw, &n) == 1 && n == sizeof(raw))
		rv = kw_tlv_put(b, alg == KW_PIV_ALG_ED25519 ? 0x07 : 0x08, raw, n);
	kw_memzero(raw, sizeof(raw));
	return rv;
}

kw_rv
kw_piv_import_key(kw_piv *p, uint8_t slot, const EVP_PKEY *key, uint8_t pin_policy,
    uint8_t touch_policy)
{
	uint8_t alg = kw_piv_alg_of_key(key);
	kw_buf cmd;
	kw_rv rv;

	if (alg == 0 || !kw_piv_slot_is_key(slot) || slot == KW_PIV_SLOT_ATTEST ||
	    !piv_policy_ok(pin_policy, touch_policy))
		return KW_ERR_ARG;
	kw_buf_init(&cmd, 4096);
	if (kw_piv_alg_is_rsa(alg))
		rv = piv_import_rsa(&cmd, key, alg);
	else if (kw_piv_alg_is_25519(alg))
		rv = piv_import_25519(&cmd, key, alg);
	else
		rv = piv_put_bn_param(&cmd, 0x06, key, OSSL_PKEY_PARAM_PRIV_KEY,
		    kw_piv_ec_size(alg));
	if (rv == KW_OK)
		rv = piv_put_policies(&cmd, pin_policy, touch_policy);
	if (rv == KW_OK)
		rv = kw_piv_cmd(p, KW_PIV_INS_YK_IMPORT, alg, slot, cmd.data, cmd.len, NULL, NULL);
	kw_buf_free(&cmd);
	return rv;
}

kw_rv
kw_piv_attest(kw_piv *p, uint8_t slot, kw_buf *der)
{
	kw_view v, seq;
	kw_rv rv;

	if (der == NULL || !kw_piv_slot_is_key(slot))
		return KW_ERR_ARG;
	if ((rv = kw_piv_cmd(p, KW_PIV_INS_YK_ATTEST, slot, 0x00, NULL, 0, der, NULL)) != KW_OK)
		return rv;
	v = kw_buf_view(der);
	if ((rv = kw_tlv_expect(&v, 0x30, &seq)) != KW_OK ||
	    (rv = kw_view_expect_end(&v)) != KW_OK)
		kw_buf_reset(der);
	return rv;
}

void
kw_piv_metadata_clear(kw_piv_metadata *md)
{
	if (md == NULL)
		return;
	EVP_PKEY_free(md->pubkey);
	memset(md, 0, sizeof(*md));
	md->retries_total = -1;
	md->retries_left = -1;
}

enum { MD_ALG = 1, MD_POL = 2, MD_ORIGIN = 4, MD_PUB = 8, MD_DEF = 16, MD_RETRIES = 32 };

/* Fixed-length fields: tag -> (bit, length). */
static kw_rv
piv_md_field(uint32_t tag, kw_view val, kw_piv_metadata *md, kw_view *pub, unsigned *seen)
{
	static const struct { uint32_t tag; unsigned bit; size_t len; } f[] = {
		{ 0x01, MD_ALG, 1 }, { 0x02, MD_POL, 2 }, { 0x03, MD_ORIGIN, 1 },
		{ 0x04, MD_PUB, 0 }, { 0x05, MD_DEF, 1 }, { 0x06, MD_RETRIES, 2 },
	};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]) && f[i].tag != tag; i++)
		;
	if (i == sizeof(f) / sizeof(f[0]))
		return KW_OK;  /* newer firmware: fields we do not know are skipped */
	if ((*seen & f[i].bit) != 0 || (f[i].len != 0 && val.len != f[i].len))
		return KW_ERR_FORMAT;
	*seen |= f[i].bit;
	switch (tag) {
	case 0x01: md->alg = val.ptr[0]; break;
	case 0x02: md->pin_policy = val.ptr[0]; md->touch_policy = val.ptr[1]; break;
	case 0x03: md->origin = val.ptr[0]; break;
	case 0x04: *pub = val; break;
	case 0x05: md->is_default = val.ptr[0] != 0; break;
	default: md->retries_total = val.ptr[0]; md->retries_left = val.ptr[1]; break;
	}
	return KW_OK;
}

kw_rv
kw_piv_metadata_parse(kw_view v, kw_piv_metadata *md)
{
	kw_view val, pub = { NULL, 0 };
	unsigned seen = 0;
	uint32_t tag;
	kw_rv rv;

	if (md == NULL)
		return KW_ERR_ARG;
	memset(md, 0, sizeof(*md));
	md->retries_total = md->retries_left = -1;
	while (!kw_view_empty(&v)) {
		if ((rv = kw_tlv_get(&v, &tag, &val)) != KW_OK ||
		    (rv = piv_md_field(tag, val, md, &pub, &seen)) != KW_OK)
			goto fail;
	}
	rv = KW_ERR_FORMAT;
	if ((seen & MD_ALG) == 0)
		goto fail;
	/* A public key of an algorithm we do not handle is left out. */
	if ((seen & MD_PUB) != 0 && (kw_piv_alg_is_rsa(md->alg) || kw_piv_alg_is_ec(md->alg) ||
	    kw_piv_alg_is_25519(md->alg)) &&
	    (rv = kw_piv_pubkey_decode(pub, md->alg, &md->pubkey)) != KW_OK)
		goto fail;
	return KW_OK;
fail:
	kw_piv_metadata_clear(md);
	return rv;
}

kw_rv
kw_piv_get_metadata(kw_piv *p, uint8_t slot, kw_piv_metadata *md)
{
	kw_buf r;
	kw_rv rv;

	if (md == NULL)
		return KW_ERR_ARG;
	memset(md, 0, sizeof(*md));
	md->retries_total = md->retries_left = -1;
	kw_buf_init(&r, KW_MAX_RESPONSE);
	if ((rv = kw_piv_cmd(p, KW_PIV_INS_YK_METADATA, 0x00, slot, NULL, 0, &r, NULL)) == KW_OK)
		rv = kw_piv_metadata_parse(kw_buf_view(&r), md);
	kw_buf_free(&r);
	return rv;
}

kw_rv
kw_piv_move_key(kw_piv *p, uint8_t to_slot, uint8_t from_slot)
{
	if (!kw_piv_slot_is_key(to_slot) || !kw_piv_slot_is_key(from_slot) ||
	    to_slot == KW_PIV_SLOT_ATTEST || from_slot == KW_PIV_SLOT_ATTEST ||
	    to_slot == from_slot)
		return KW_ERR_ARG;
	return kw_piv_cmd(p, KW_PIV_INS_YK_MOVE, to_slot, from_slot, NULL, 0, NULL, NULL);
}

kw_rv
kw_piv_delete_key(kw_piv *p, uint8_t slot)
{
	if (!kw_piv_slot_is_key(slot) || slot == KW_PIV_SLOT_ATTEST)
		return KW_ERR_ARG;
	return kw_piv_cmd(p, KW_PIV_INS_YK_MOVE, 0xff, slot, NULL, 0, NULL, NULL);
}
