/* PIV algorithm identifiers and public keys as the card encodes them. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "kw_piv_int.h"
#include "kw_tlv.h"

bool
kw_piv_alg_is_rsa(uint8_t alg)
{
	return alg == KW_PIV_ALG_RSA1024 || alg == KW_PIV_ALG_RSA2048 ||
	    alg == KW_PIV_ALG_RSA3072 || alg == KW_PIV_ALG_RSA4096;
}

bool
kw_piv_alg_is_ec(uint8_t alg)
{
	return alg == KW_PIV_ALG_ECCP256 || alg == KW_PIV_ALG_ECCP384;
}

bool
kw_piv_alg_is_25519(uint8_t alg)
{
	return alg == KW_PIV_ALG_ED25519 || alg == KW_PIV_ALG_X25519;
}

int
kw_piv_alg_bits(uint8_t alg)
{
	switch (alg) {
	case KW_PIV_ALG_RSA1024: return 1024;
	case KW_PIV_ALG_RSA2048: return 2048;
	case KW_PIV_ALG_RSA3072: return 3072;
	case KW_PIV_ALG_RSA4096: return 4096;
	case KW_PIV_ALG_ECCP256: return 256;
	case KW_PIV_ALG_ECCP384: return 384;
	case KW_PIV_ALG_ED25519: case KW_PIV_ALG_X25519: return 256;
	case KW_PIV_ALG_3DES: return 192;
	case KW_PIV_ALG_AES128: return 128;
	case KW_PIV_ALG_AES192: return 192;
	case KW_PIV_ALG_AES256: return 256;
	default: return 0;
	}
}

size_t
kw_piv_mgmt_key_len(uint8_t alg)
{
	switch (alg) {
	case KW_PIV_ALG_3DES: return 24;
	case KW_PIV_ALG_AES128: return 16;
	case KW_PIV_ALG_AES192: return 24;
	case KW_PIV_ALG_AES256: return 32;
	default: return 0;
	}
}

size_t
kw_piv_ec_size(uint8_t alg)
{
	return alg == KW_PIV_ALG_ECCP256 ? 32 : alg == KW_PIV_ALG_ECCP384 ? 48 : 0;
}

static const char *
piv_ec_group(uint8_t alg)
{
	return alg == KW_PIV_ALG_ECCP256 ? "prime256v1" :
	    alg == KW_PIV_ALG_ECCP384 ? "secp384r1" : NULL;
}

uint8_t
kw_piv_alg_of_pkey(const EVP_PKEY *key)
{
	char group[64];
	size_t n = 0;

	if (key == NULL)
		return 0;
	if (EVP_PKEY_is_a(key, "RSA")) {
		switch (EVP_PKEY_get_bits(key)) {
		case 1024: return KW_PIV_ALG_RSA1024;
		case 2048: return KW_PIV_ALG_RSA2048;
		case 3072: return KW_PIV_ALG_RSA3072;
		case 4096: return KW_PIV_ALG_RSA4096;
		default: return 0;
		}
	}
	if (!EVP_PKEY_is_a(key, "EC") ||
	    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
	    sizeof(group), &n) != 1)
		return 0;
	if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
		return KW_PIV_ALG_ECCP256;
	if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
		return KW_PIV_ALG_ECCP384;
	return 0;
}

uint8_t
kw_piv_alg_of_key(const EVP_PKEY *key)
{
	if (key != NULL && EVP_PKEY_is_a(key, "ED25519"))
		return KW_PIV_ALG_ED25519;
	if (key != NULL && EVP_PKEY_is_a(key, "X25519"))
		return KW_PIV_ALG_X25519;
	return kw_piv_alg_of_pkey(key);
}

static kw_rv
piv_pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld, EVP_PKEY **out)
{
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM *params = NULL;
	kw_rv rv = KW_ERR_NOMEM;

	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL)
		goto fail;
	rv = KW_ERR_CRYPTO;
	if (EVP_PKEY_fromdata_init(ctx) != 1)
		goto fail;
	/* Card data that OpenSSL refuses (e.g. a point off the curve). */
	rv = KW_ERR_FORMAT;
	if (EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto fail;
	rv = KW_OK;
fail:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return rv;
}

static kw_rv
piv_rsa_decode(kw_view v, uint8_t alg, EVP_PKEY **out)
{
	kw_view n, e;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	kw_rv rv;

	if ((rv = kw_tlv_expect(&v, 0x81, &n)) != KW_OK ||
	    (rv = kw_tlv_expect(&v, 0x82, &e)) != KW_OK ||
	    (rv = kw_view_expect_end(&v)) != KW_OK)
		return rv;
	if (n.len == 0 || e.len == 0 || e.len > 8)
		return KW_ERR_FORMAT;
	rv = KW_ERR_NOMEM;
	if ((bn_n = BN_bin2bn(n.ptr, (int)n.len, NULL)) == NULL ||
	    (bn_e = BN_bin2bn(e.ptr, (int)e.len, NULL)) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL)
		goto fail;
	rv = KW_ERR_FORMAT;
	if (BN_num_bits(bn_n) != kw_piv_alg_bits(alg) || !BN_is_odd(bn_e) || BN_is_one(bn_e))
		goto fail;
	rv = KW_ERR_NOMEM;
	if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1)
		goto fail;
	rv = piv_pkey_fromdata("RSA", bld, out);
fail:
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	return rv;
}

static kw_rv
piv_ec_decode(kw_view v, uint8_t alg, EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = NULL;
	kw_view pt;
	kw_rv rv;

	if ((rv = kw_tlv_expect(&v, 0x86, &pt)) != KW_OK ||
	    (rv = kw_view_expect_end(&v)) != KW_OK)
		return rv;
	if (pt.len != 1 + 2 * kw_piv_ec_size(alg) || pt.ptr[0] != 0x04)
		return KW_ERR_FORMAT;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		return KW_ERR_NOMEM;
	rv = KW_ERR_NOMEM;
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    piv_ec_group(alg), 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt.ptr, pt.len) != 1)
		goto fail;
	rv = piv_pkey_fromdata("EC", bld, out);
fail:
	OSSL_PARAM_BLD_free(bld);
	return rv;
}

/* Ed25519 / X25519: 86 with the 32-byte public key. */
static kw_rv
piv_25519_decode(kw_view v, uint8_t alg, EVP_PKEY **out)
{
	kw_view pt;
	kw_rv rv;

	if ((rv = kw_tlv_expect(&v, 0x86, &pt)) != KW_OK ||
	    (rv = kw_view_expect_end(&v)) != KW_OK)
		return rv;
	if (pt.len != 32)
		return KW_ERR_FORMAT;
	*out = EVP_PKEY_new_raw_public_key(alg == KW_PIV_ALG_ED25519 ? EVP_PKEY_ED25519 :
	    EVP_PKEY_X25519, NULL, pt.ptr, pt.len);
	return *out != NULL ? KW_OK : KW_ERR_NOMEM;
}

kw_rv
kw_piv_pubkey_decode(kw_view v, uint8_t alg, EVP_PKEY **out)
{
	if (out == NULL)
		return KW_ERR_ARG;
	*out = NULL;
	if (kw_piv_alg_is_rsa(alg))
		return piv_rsa_decode(v, alg, out);
	if (kw_piv_alg_is_ec(alg))
		return piv_ec_decode(v, alg, out);
	if (kw_piv_alg_is_25519(alg))
		return piv_25519_decode(v, alg, out);
	return KW_ERR_NOT_SUPPORTED;
}
