/* Asymmetric keys: GENERATE ASYMMETRIC KEY PAIR (47), GENERAL AUTHENTICATE
 * (87) with a slot key (RSA raw private operation, ECDSA over the given
 * hash, ECDH), the YubiKey IMPORT (FE) and MOVE/DELETE (F6), and the PIN
 * policy checks. SP 800-73-4 part 2 sections 3.2.4-3.3.2, SP 800-78-4. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "vcard.h"
#include "kw_secret.h"
#include "kw_tlv.h"

vc_key *
vc_key_slot(vcard_card *c, uint8_t slot)
{
	size_t i;

	for (i = 0; i < VC_NSLOTS; i++)
		if (c->keys[i].slot == slot)
			return &c->keys[i];
	return NULL;
}

bool
vc_alg_is_rsa(uint8_t alg)
{
	return alg == VC_ALG_RSA1024 || alg == VC_ALG_RSA2048 ||
	    alg == VC_ALG_RSA3072 || alg == VC_ALG_RSA4096;
}

bool
vc_alg_is_ec(uint8_t alg)
{
	return alg == VC_ALG_P256 || alg == VC_ALG_P384;
}

bool
vc_alg_is_25519(uint8_t alg)
{
	return alg == VC_ALG_ED25519 || alg == VC_ALG_X25519;
}

bool
vc_alg_is_key(uint8_t alg)
{
	return vc_alg_is_rsa(alg) || vc_alg_is_ec(alg) || vc_alg_is_25519(alg);
}

static unsigned
alg_bits(uint8_t alg)
{
	switch (alg) {
	case VC_ALG_RSA1024: return 1024;
	case VC_ALG_RSA2048: return 2048;
	case VC_ALG_RSA3072: return 3072;
	case VC_ALG_RSA4096: return 4096;
	case VC_ALG_P256: return 256;
	case VC_ALG_P384: return 384;
	case VC_ALG_ED25519: case VC_ALG_X25519: return 256;
	default: return 0;
	}
}

static const char *
alg_curve(uint8_t alg)
{
	return alg == VC_ALG_P256 ? "P-256" : alg == VC_ALG_P384 ? "P-384" : NULL;
}

/* Is alg available on this firmware? */
static bool
alg_supported(const vcard_card *c, uint8_t alg)
{
	if (alg == VC_ALG_RSA3072 || alg == VC_ALG_RSA4096 || vc_alg_is_25519(alg))
		return vcard_version_at_least(c, 5, 7, 0);
	return vc_alg_is_rsa(alg) || vc_alg_is_ec(alg);
}

uint8_t
vc_default_pin_policy(uint8_t slot)
{
	switch (slot) {
	case 0x9C: return VC_PIN_ALWAYS;
	case 0x9E: case VC_SLOT_ATTEST: return VC_PIN_NEVER;
	default: return VC_PIN_ONCE;
	}
}

void
vc_key_clear(vc_key *k)
{
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
	k->alg = 0;
	k->pin_policy = 0;
	k->touch_policy = 0;
	k->origin = 0;
}

kw_rv
vc_key_make(vc_key *k, uint8_t alg)
{
	EVP_PKEY *pkey = NULL;

	if (vc_alg_is_rsa(alg))
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)alg_bits(alg));
	else if (vc_alg_is_ec(alg))
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", alg_curve(alg));
	else if (vc_alg_is_25519(alg))
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, alg == VC_ALG_ED25519 ? "ED25519" : "X25519");
	else
		return KW_ERR_NOT_SUPPORTED;
	if (pkey == NULL)
		return KW_ERR_CRYPTO;
	EVP_PKEY_free(k->pkey);
	k->pkey = pkey;
	k->alg = alg;
	return KW_OK;
}

static kw_rv
put_bn_param(kw_buf *out, uint32_t tag, const EVP_PKEY *pkey, const char *name)
{
	BIGNUM *bn = NULL;
	uint8_t tmp[512];
	int n;
	kw_rv rv = KW_ERR_CRYPTO;

	if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
		return KW_ERR_CRYPTO;
	if ((n = BN_num_bytes(bn)) <= (int)sizeof(tmp) && BN_bn2bin(bn, tmp) == n)
		rv = kw_tlv_put(out, tag, tmp, (size_t)n);
	BN_free(bn);
	return rv;
}

kw_rv
vc_key_public_tlvs(const vc_key *k, kw_buf *out)
{
	uint8_t pt[160];
	size_t n = 0;
	kw_rv rv;

	if (k->pkey == NULL)
		return KW_ERR_ARG;
	if (vc_alg_is_rsa(k->alg)) {
		if ((rv = put_bn_param(out, 0x81, k->pkey, OSSL_PKEY_PARAM_RSA_N)) != KW_OK)
			return rv;
		return put_bn_param(out, 0x82, k->pkey, OSSL_PKEY_PARAM_RSA_E);
	}
	if (vc_alg_is_25519(k->alg)) {
		n = sizeof(pt);
		if (EVP_PKEY_get_raw_public_key(k->pkey, pt, &n) != 1)
			return KW_ERR_CRYPTO;
	} else if (EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_PUB_KEY,
	    pt, sizeof(pt), &n) != 1) {
		return KW_ERR_CRYPTO;
	}
	return kw_tlv_put(out, 0x86, pt, n);
}

static bool
policy_ok(uint8_t pin, uint8_t touch)
{
	return pin <= VC_PIN_ALWAYS && touch <= VC_TOUCH_CACHED;
}

static void
set_policies(vc_key *k, uint8_t pin, uint8_t touch)
{
	k->pin_policy = pin == VC_PIN_DEFAULT ? vc_default_pin_policy(k->slot) : pin;
	k->touch_policy = touch == VC_TOUCH_DEFAULT ? VC_TOUCH_NEVER : touch;
}

/* AC { 80 alg, [AA pin], [AB touch] } */
static bool
parse_gen_template(kw_view data, uint8_t *alg, uint8_t *pin, uint8_t *touch)
{
	kw_view inner, val;
	uint32_t tag;
	bool have_alg = false;

	*alg = *pin = *touch = 0;
	if (kw_tlv_expect(&data, 0xAC, &inner) != KW_OK || kw_view_expect_end(&data) != KW_OK)
		return false;
	while (!kw_view_empty(&inner)) {
		if (kw_tlv_get(&inner, &tag, &val) != KW_OK || val.len != 1)
			return false;
		if (tag == 0x80) {
			*alg = val.ptr[0];
			have_alg = true;
		} else if (tag == 0xAA) {
			*pin = val.ptr[0];
		} else if (tag == 0xAB) {
			*touch = val.ptr[0];
		}
	}
	return have_alg;
}

uint16_t
vc_key_generate(vcard_card *c, const vc_cmd *cmd, kw_buf *out)
{
	vc_key *k;
	kw_buf pub;
	uint8_t alg, pin, touch;
	uint16_t sw = VC_SW_OK;

	if (cmd->p1 != 0x00 || (k = vc_key_slot(c, cmd->p2)) == NULL)
		return VC_SW_WRONG_P1P2;
	if (!c->ses.mgmt_authed)
		return VC_SW_SECURITY;
	if (!parse_gen_template(cmd->data, &alg, &pin, &touch) ||
	    !alg_supported(c, alg) || !policy_ok(pin, touch))
		return VC_SW_WRONG_DATA;
	if (vc_key_make(k, alg) != KW_OK) {
		vc_key_clear(k);
		c->dirty = true;
		return VC_SW_NO_PRECISE;
	}
	set_policies(k, pin, touch);
	k->origin = VC_ORIGIN_GENERATED;
	c->dirty = true;
	kw_buf_init(&pub, 1200);
	if (vc_key_public_tlvs(k, &pub) != KW_OK ||
	    kw_tlv_put(out, 0x7F49, pub.data, pub.len) != KW_OK)
		sw = VC_SW_NO_PRECISE;
	kw_buf_free(&pub);
	return sw;
}

/* --- import --- */

typedef struct import_parts {
	kw_view part[9];   /* index = tag 01..08 */
	uint8_t pin, touch;
} import_parts;

static bool
parse_import(kw_view data, import_parts *ip)
{
	kw_view val;
	uint32_t tag;

	memset(ip, 0, sizeof(*ip));
	while (!kw_view_empty(&data)) {
		if (kw_tlv_get(&data, &tag, &val) != KW_OK)
			return false;
		if (tag >= 0x01 && tag <= 0x08) {
			ip->part[tag] = val;
		} else if (tag == 0xAA || tag == 0xAB) {
			if (val.len != 1)
				return false;
			*(tag == 0xAA ? &ip->pin : &ip->touch) = val.ptr[0];
		} else {
			return false;
		}
	}
	return true;
}

static EVP_PKEY *
build_rsa(const import_parts *ip, unsigned bits)
{
	BN_CTX *ctx = NULL;
	BIGNUM *p = NULL, *q = NULL, *dp = NULL, *dq = NULL, *qi = NULL;
	BIGNUM *n = NULL, *e = NULL, *d = NULL, *p1 = NULL, *q1 = NULL, *phi = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL, *chk = NULL;
	EVP_PKEY *pkey = NULL;
	size_t i, half = bits / 16;

	for (i = 1; i <= 5; i++)
		if (ip->part[i].len == 0 || ip->part[i].len > half)
			return NULL;
	if ((ctx = BN_CTX_new()) == NULL)
		goto fail;
	p = BN_bin2bn(ip->part[1].ptr, (int)ip->part[1].len, NULL);
	q = BN_bin2bn(ip->part[2].ptr, (int)ip->part[2].len, NULL);
	dp = BN_bin2bn(ip->part[3].ptr, (int)ip->part[3].len, NULL);
	dq = BN_bin2bn(ip->part[4].ptr, (int)ip->part[4].len, NULL);
	qi = BN_bin2bn(ip->part[5].ptr, (int)ip->part[5].len, NULL);
	n = BN_new(); e = BN_new(); d = BN_new();
	p1 = BN_new(); q1 = BN_new(); phi = BN_new();
	if (!p || !q || !dp || !dq || !qi || !n || !e || !d || !p1 || !q1 || !phi)
		goto fail;
	if (BN_set_word(e, 65537) != 1 || BN_mul(n, p, q, ctx) != 1 ||
	    (unsigned)BN_num_bits(n) != bits ||
	    BN_sub(p1, p, BN_value_one()) != 1 || BN_sub(q1, q, BN_value_one()) != 1 ||
	    BN_mul(phi, p1, q1, ctx) != 1 || BN_mod_inverse(d, e, phi, ctx) == NULL)
		goto fail;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qi) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto fail;
	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1)
		goto fail;
	if ((chk = EVP_PKEY_CTX_new(pkey, NULL)) == NULL || EVP_PKEY_pairwise_check(chk) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
fail:
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(p); BN_clear_free(q); BN_clear_free(dp); BN_clear_free(dq);
	BN_clear_free(qi); BN_free(n); BN_free(e); BN_clear_free(d);
	BN_clear_free(p1); BN_clear_free(q1); BN_clear_free(phi);
	BN_CTX_free(ctx);
	return pkey;
}

static EVP_PKEY *
build_ec(kw_view priv, uint8_t alg)
{
	const char *curve = alg_curve(alg);
	int nid = alg == VC_ALG_P256 ? NID_X9_62_prime256v1 : NID_secp384r1;
	EC_GROUP *grp = NULL;
	EC_POINT *pt = NULL;
	BIGNUM *k = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;
	uint8_t pub[120];
	size_t publen;

	if (priv.len != alg_bits(alg) / 8)
		return NULL;
	if ((grp = EC_GROUP_new_by_curve_name(nid)) == NULL || (pt = EC_POINT_new(grp)) == NULL ||
	    (k = BN_bin2bn(priv.ptr, (int)priv.len, NULL)) == NULL || BN_is_zero(k) ||
	    BN_cmp(k, EC_GROUP_get0_order(grp)) >= 0 ||
	    EC_POINT_mul(grp, pt, k, NULL, NULL, NULL) != 1 ||
	    (publen = EC_POINT_point2oct(grp, pt, POINT_CONVERSION_UNCOMPRESSED,
	    pub, sizeof(pub), NULL)) == 0)
		goto fail;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curve, 0) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, k) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, publen) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto fail;
	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1)
		pkey = NULL;
fail:
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(k);
	EC_POINT_free(pt);
	EC_GROUP_free(grp);
	return pkey;
}

/* Tag 07 (Ed25519) or 08 (X25519): the 32-byte private key. */
static EVP_PKEY *
build_25519(kw_view priv, uint8_t alg)
{
	if (priv.len != 32)
		return NULL;
	return EVP_PKEY_new_raw_private_key(alg == VC_ALG_ED25519 ? EVP_PKEY_ED25519 :
	    EVP_PKEY_X25519, NULL, priv.ptr, priv.len);
}

uint16_t
vc_key_import(vcard_card *c, const vc_cmd *cmd)
{
	import_parts ip;
	EVP_PKEY *pkey;
	vc_key *k;

	if ((k = vc_key_slot(c, cmd->p2)) == NULL)
		return VC_SW_WRONG_P1P2;
	if (!c->ses.mgmt_authed)
		return VC_SW_SECURITY;
	if (!alg_supported(c, cmd->p1))
		return VC_SW_WRONG_P1P2;
	if (!parse_import(cmd->data, &ip) || !policy_ok(ip.pin, ip.touch))
		return VC_SW_WRONG_DATA;
	if (vc_alg_is_rsa(cmd->p1))
		pkey = build_rsa(&ip, alg_bits(cmd->p1));
	else if (vc_alg_is_ec(cmd->p1))
		pkey = build_ec(ip.part[6], cmd->p1);
	else
		pkey = build_25519(cmd->p1 == VC_ALG_ED25519 ? ip.part[7] : ip.part[8], cmd->p1);
	if (pkey == NULL)
		return VC_SW_WRONG_DATA;
	vc_key_clear(k);
	k->pkey = pkey;
	k->alg = cmd->p1;
	k->origin = VC_ORIGIN_IMPORTED;
	set_policies(k, ip.pin, ip.touch);
	c->dirty = true;
	return VC_SW_OK;
}

/* --- general authenticate --- */

static uint16_t
check_pin_policy(vcard_card *c, const vc_key *k)
{
	if (k->pin_policy == VC_PIN_NEVER)
		return VC_SW_OK;
	if (!c->ses.pin_verified)
		return VC_SW_SECURITY;
	if (k->pin_policy == VC_PIN_ALWAYS && !c->ses.pin_fresh)
		return VC_SW_SECURITY;
	return VC_SW_OK;
}

static kw_rv
rsa_raw(EVP_PKEY *pkey, kw_view in, uint8_t *out, size_t *outlen)
{
	EVP_PKEY_CTX *ctx;
	kw_rv rv = KW_ERR_CRYPTO;

	if ((ctx = EVP_PKEY_CTX_new(pkey, NULL)) == NULL)
		return KW_ERR_NOMEM;
	if (EVP_PKEY_decrypt_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) == 1 &&
	    EVP_PKEY_decrypt(ctx, out, outlen, in.ptr, in.len) == 1)
		rv = KW_OK;
	EVP_PKEY_CTX_free(ctx);
	return rv;
}

static kw_rv
ec_sign(EVP_PKEY *pkey, kw_view in, uint8_t *out, size_t *outlen)
{
	EVP_PKEY_CTX *ctx;
	kw_rv rv = KW_ERR_CRYPTO;

	if ((ctx = EVP_PKEY_CTX_new(pkey, NULL)) == NULL)
		return KW_ERR_NOMEM;
	if (EVP_PKEY_sign_init(ctx) == 1 &&
	    EVP_PKEY_sign(ctx, out, outlen, in.ptr, in.len) == 1)
		rv = KW_OK;
	EVP_PKEY_CTX_free(ctx);
	return rv;
}

/* Ed25519 signs the whole message (PureEdDSA). */
static kw_rv
ed25519_sign(EVP_PKEY *pkey, kw_view msg, uint8_t *out, size_t *outlen)
{
	EVP_MD_CTX *ctx;
	kw_rv rv = KW_ERR_CRYPTO;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return KW_ERR_NOMEM;
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
	    EVP_DigestSign(ctx, out, outlen, msg.ptr, msg.len) == 1)
		rv = KW_OK;
	EVP_MD_CTX_free(ctx);
	return rv;
}

static kw_rv
derive_with(EVP_PKEY *pkey, EVP_PKEY *peer, uint8_t *out, size_t *outlen)
{
	EVP_PKEY_CTX *dctx;
	kw_rv rv = KW_ERR_CRYPTO;

	if ((dctx = EVP_PKEY_CTX_new(pkey, NULL)) == NULL)
		return KW_ERR_NOMEM;
	if (EVP_PKEY_derive_init(dctx) == 1 && EVP_PKEY_derive_set_peer(dctx, peer) == 1 &&
	    EVP_PKEY_derive(dctx, out, outlen) == 1)
		rv = KW_OK;
	EVP_PKEY_CTX_free(dctx);
	return rv;
}

static kw_rv
x25519_derive(EVP_PKEY *pkey, kw_view point, uint8_t *out, size_t *outlen)
{
	EVP_PKEY *peer;
	kw_rv rv;

	if ((peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, point.ptr,
	    point.len)) == NULL)
		return KW_ERR_CRYPTO;
	rv = derive_with(pkey, peer, out, outlen);
	EVP_PKEY_free(peer);
	return rv;
}

static kw_rv
ec_derive(EVP_PKEY *pkey, const char *curve, kw_view point, uint8_t *out, size_t *outlen)
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *peer = NULL;
	kw_rv rv = KW_ERR_CRYPTO;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
	    (char *)curve, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    (void *)point.ptr, point.len);
	params[2] = OSSL_PARAM_construct_end();
	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &peer, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto fail;
	rv = derive_with(pkey, peer, out, outlen);
fail:
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(peer);
	return rv;
}

/* 7C { 82 00, 81 challenge | 85 point } */
static bool
parse_key_ga(kw_view data, kw_view *chal, kw_view *point)
{
	kw_view inner, val;
	uint32_t tag;
	bool resp = false, have81 = false, have85 = false;

	if (kw_tlv_expect(&data, 0x7C, &inner) != KW_OK || kw_view_expect_end(&data) != KW_OK)
		return false;
	while (!kw_view_empty(&inner)) {
		if (kw_tlv_get(&inner, &tag, &val) != KW_OK)
			return false;
		if (tag == 0x82 && val.len == 0)
			resp = true;
		else if (tag == 0x81 && !have81)
			have81 = true, *chal = val;
		else if (tag == 0x85 && !have85)
			have85 = true, *point = val;
		else
			return false;
	}
	return resp && (have81 != have85);
}

static uint16_t
key_operation(const vc_key *k, kw_view chal, kw_view point, uint8_t *res, size_t *reslen)
{
	size_t bytes = alg_bits(k->alg) / 8;

	if (vc_alg_is_rsa(k->alg)) {
		if (chal.ptr == NULL || chal.len != bytes)
			return VC_SW_WRONG_DATA;
		return rsa_raw(k->pkey, chal, res, reslen) == KW_OK ? VC_SW_OK : VC_SW_WRONG_DATA;
	}
	if (k->alg == VC_ALG_ED25519) {
		if (chal.ptr == NULL)
			return VC_SW_WRONG_DATA;
		return ed25519_sign(k->pkey, chal, res, reslen) == KW_OK ? VC_SW_OK : VC_SW_WRONG_DATA;
	}
	if (k->alg == VC_ALG_X25519) {
		if (point.ptr == NULL || point.len != 32)
			return VC_SW_WRONG_DATA;
		return x25519_derive(k->pkey, point, res, reslen) == KW_OK ? VC_SW_OK : VC_SW_WRONG_DATA;
	}
	if (point.ptr != NULL) {
		if (point.len != 2 * bytes + 1 || point.ptr[0] != 0x04)
			return VC_SW_WRONG_DATA;
		return ec_derive(k->pkey, alg_curve(k->alg), point, res, reslen) == KW_OK ?
		    VC_SW_OK : VC_SW_WRONG_DATA;
	}
	if (chal.len == 0 || chal.len > 2 * bytes)
		return VC_SW_WRONG_DATA;
	return ec_sign(k->pkey, chal, res, reslen) == KW_OK ? VC_SW_OK : VC_SW_WRONG_DATA;
}

uint16_t
vc_key_authenticate(vcard_card *c, const vc_cmd *cmd, kw_buf *out)
{
	kw_view chal = { NULL, 0 }, point = { NULL, 0 };
	uint8_t res[520];
	size_t reslen = sizeof(res);
	vc_key *k;
	uint16_t sw;

	if ((k = vc_key_slot(c, cmd->p2)) == NULL || cmd->p2 == VC_SLOT_ATTEST)
		return VC_SW_WRONG_P1P2;
	if (k->pkey == NULL || cmd->p1 != k->alg)
		return VC_SW_WRONG_DATA;
	if (!parse_key_ga(cmd->data, &chal, &point))
		return VC_SW_WRONG_DATA;
	if ((sw = check_pin_policy(c, k)) != VC_SW_OK)
		return sw;
	if (point.ptr != NULL && !vc_alg_is_ec(k->alg) && k->alg != VC_ALG_X25519)
		return VC_SW_WRONG_DATA;
	sw = key_operation(k, chal, point, res, &reslen);
	if (sw == VC_SW_OK) {
		if (k->pin_policy == VC_PIN_ALWAYS)
			c->ses.pin_fresh = false;
		if (kw_tlv_put_header(out, 0x7C, kw_tlv_header_size(0x82, reslen) + reslen) != KW_OK ||
		    kw_tlv_put(out, 0x82, res, reslen) != KW_OK)
			sw = VC_SW_NO_PRECISE;
	}
	kw_memzero(res, sizeof(res));
	return sw;
}

/* F6 to from: move a key between slots, or delete it (to = FF). */
uint16_t
vc_key_move(vcard_card *c, const vc_cmd *cmd)
{
	vc_key *from, *to = NULL;
	vc_key tmp;

	if ((from = vc_key_slot(c, cmd->p2)) == NULL || cmd->p2 == VC_SLOT_ATTEST)
		return VC_SW_WRONG_P1P2;
	if (cmd->p1 != 0xFF && ((to = vc_key_slot(c, cmd->p1)) == NULL ||
	    cmd->p1 == VC_SLOT_ATTEST || to == from))
		return VC_SW_WRONG_P1P2;
	if (!c->ses.mgmt_authed)
		return VC_SW_SECURITY;
	if (from->pkey == NULL)
		return VC_SW_NOT_FOUND;
	if (to == NULL) {
		vc_key_clear(from);
	} else {
		vc_key_clear(to);
		tmp = *from;
		tmp.slot = to->slot;
		*to = tmp;
		from->pkey = NULL;
		vc_key_clear(from);
	}
	c->dirty = true;
	return VC_SW_OK;
}
