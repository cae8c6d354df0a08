/* PIV algorithm identifiers and public keys as the card encodes them. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/x509.h>

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

/* Public keys from the card become a SubjectPublicKeyInfo (RFC 5280, RFC
 * 3279, RFC 5480) parsed with d2i_PUBKEY: the same path as a certificate's
 * key, which keeps working inside applications whose OpenSSL has an ENGINE
 * registered for RSA/EC (libp11's engine), where EVP_PKEY_fromdata fails. */
static const uint8_t oid_rsa[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
	0x01, 0x01, 0x01, 0x05, 0x00 };   /* rsaEncryption, NULL parameters */
static const uint8_t oid_ec[] = { 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const uint8_t oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03,
	0x01, 0x07 };
static const uint8_t oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };

/* A DER INTEGER of an unsigned big-endian value (leading zeros dropped). */
static kw_rv
der_put_uint(kw_buf *b, kw_view v)
{
	kw_buf val;
	kw_rv rv;

	while (v.len > 1 && v.ptr[0] == 0) {
		v.ptr++;
		v.len--;
	}
	kw_buf_init(&val, v.len + 16);
	rv = (v.ptr[0] & 0x80) != 0 ? kw_buf_put_u8(&val, 0) : KW_OK;
	if (rv == KW_OK && (rv = kw_buf_put_view(&val, v)) == KW_OK)
		rv = kw_tlv_put(b, 0x02, val.data, val.len);
	kw_buf_free(&val);
	return rv;
}

/* SEQUENCE { SEQUENCE { alg }, BIT STRING { 00 key } } -> EVP_PKEY. */
static kw_rv
piv_spki_decode(kw_view alg, kw_view key, EVP_PKEY **out)
{
	kw_buf algseq, bits, spki;
	const unsigned char *p;
	kw_rv rv;

	kw_buf_init(&algseq, key.len + 256);
	kw_buf_init(&bits, key.len + 16);
	kw_buf_init(&spki, key.len + 256);
	if ((rv = kw_tlv_put(&algseq, 0x30, alg.ptr, alg.len)) != KW_OK ||
	    (rv = kw_buf_put_u8(&bits, 0)) != KW_OK ||
	    (rv = kw_buf_put_view(&bits, key)) != KW_OK ||
	    (rv = kw_buf_put(&spki, algseq.data, algseq.len)) != KW_OK ||
	    (rv = kw_tlv_put(&spki, 0x03, bits.data, bits.len)) != KW_OK)
		goto fail;
	kw_buf_reset(&algseq);
	if ((rv = kw_tlv_put(&algseq, 0x30, spki.data, spki.len)) != KW_OK)
		goto fail;
	p = algseq.data;
	/* Card data that OpenSSL refuses (e.g. a point off the curve). */
	rv = KW_ERR_FORMAT;
	if ((*out = d2i_PUBKEY(NULL, &p, (long)algseq.len)) == NULL)
		goto fail;
	if (p != algseq.data + algseq.len) {
		EVP_PKEY_free(*out);
		*out = NULL;
		goto fail;
	}
	rv = KW_OK;
fail:
	kw_buf_free(&algseq);
	kw_buf_free(&bits);
	kw_buf_free(&spki);
	return rv;
}

/* RSA: 81 modulus, 82 public exponent. */
static kw_rv
piv_rsa_decode(kw_view v, uint8_t alg, EVP_PKEY **out)
{
	kw_view n, e;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	kw_buf key, seq;
	kw_rv rv;

	if ((rv = kw_tlv_expect(&v, 0x81, &n)) != KW_OK ||
	    (rv = kw_tlv_expect(&v, 0x82, &e)) != KW_OK ||
	    (rv = kw_view_expect_end(&v)) != KW_OK)
		return rv;
	if (n.len == 0 || e.len == 0 || e.len > 8)
		return KW_ERR_FORMAT;
	kw_buf_init(&key, n.len + e.len + 32);
	kw_buf_init(&seq, n.len + e.len + 40);
	rv = KW_ERR_NOMEM;
	if ((bn_n = BN_bin2bn(n.ptr, (int)n.len, NULL)) == NULL ||
	    (bn_e = BN_bin2bn(e.ptr, (int)e.len, NULL)) == NULL)
		goto fail;
	rv = KW_ERR_FORMAT;
	if (BN_num_bits(bn_n) != kw_piv_alg_bits(alg) || !BN_is_odd(bn_e) || BN_is_one(bn_e))
		goto fail;
	/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } */
	if ((rv = der_put_uint(&key, n)) != KW_OK || (rv = der_put_uint(&key, e)) != KW_OK ||
	    (rv = kw_tlv_put(&seq, 0x30, key.data, key.len)) != KW_OK)
		goto fail;
	rv = piv_spki_decode(kw_view_make(oid_rsa, sizeof(oid_rsa)), kw_buf_view(&seq), out);
fail:
	kw_buf_free(&key);
	kw_buf_free(&seq);
	BN_free(bn_n);
	BN_free(bn_e);
	return rv;
}

/* EC: 86 uncompressed point. */
static kw_rv
piv_ec_decode(kw_view v, uint8_t alg, EVP_PKEY **out)
{
	kw_buf algid;
	kw_view pt;
	kw_rv rv;

	if ((rv = kw_tlv_expect(&v, 0x86, &pt)) != KW_OK ||
	    (rv = kw_view_expect_end(&v)) != KW_OK)
		return rv;
	if (pt.len != 1 + 2 * kw_piv_ec_size(alg) || pt.ptr[0] != 0x04)
		return KW_ERR_FORMAT;
	kw_buf_init(&algid, 64);
	if ((rv = kw_buf_put(&algid, oid_ec, sizeof(oid_ec))) == KW_OK)
		rv = alg == KW_PIV_ALG_ECCP256 ? kw_buf_put(&algid, oid_p256, sizeof(oid_p256)) :
		    kw_buf_put(&algid, oid_p384, sizeof(oid_p384));
	if (rv == KW_OK)
		rv = piv_spki_decode(kw_buf_view(&algid), pt, out);
	kw_buf_free(&algid);
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
