/* PKCS#11 <-> OpenSSL conversions for the HSM layer. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "kms_p11util.h"

#define ATTR(t, p, l) { (t), (void *)(p), (l) }

static kw_rv
get_attr(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    CK_ATTRIBUTE_TYPE type, kw_buf *out)
{
	CK_ATTRIBUTE a = ATTR(type, NULL, 0);
	kw_rv rv;

	if (f->C_GetAttributeValue(s, o, &a, 1) != CKR_OK)
		return KW_ERR_CRYPTO;
	kw_buf_reset(out);
	if ((rv = kw_buf_reserve(out, a.ulValueLen)) != KW_OK)
		return rv;
	a.pValue = out->data;
	if (f->C_GetAttributeValue(s, o, &a, 1) != CKR_OK)
		return KW_ERR_CRYPTO;
	out->len = a.ulValueLen;
	return KW_OK;
}

static kw_rv
pkey_to_spki(EVP_PKEY *pk, kw_buf *spki)
{
	unsigned char *der = NULL;
	int n;
	kw_rv rv;

	if ((n = i2d_PUBKEY(pk, &der)) <= 0)
		return KW_ERR_CRYPTO;
	kw_buf_reset(spki);
	rv = kw_buf_put(spki, der, (size_t)n);
	OPENSSL_free(der);
	return rv;
}

static EVP_PKEY *
pkey_from_params(const char *alg, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	EVP_PKEY *pk = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pk;
}

static kw_rv
rsa_spki(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub,
    kw_buf *spki)
{
	kw_buf n, e;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pk = NULL;
	kw_rv rv = KW_ERR_CRYPTO;

	kw_buf_init(&n, 4096);
	kw_buf_init(&e, 64);
	if (bld == NULL || get_attr(f, s, pub, CKA_MODULUS, &n) != KW_OK ||
	    get_attr(f, s, pub, CKA_PUBLIC_EXPONENT, &e) != KW_OK)
		goto fail;
	bn = BN_bin2bn(n.data, (int)n.len, NULL);
	be = BN_bin2bn(e.data, (int)e.len, NULL);
	if (bn == NULL || be == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    (pk = pkey_from_params("RSA", bld)) == NULL)
		goto fail;
	rv = pkey_to_spki(pk, spki);
fail:
	EVP_PKEY_free(pk);
	BN_free(bn);
	BN_free(be);
	OSSL_PARAM_BLD_free(bld);
	kw_buf_free(&n);
	kw_buf_free(&e);
	return rv;
}

static kw_rv
ec_spki(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub,
    kw_buf *spki)
{
	kw_buf pt;
	ASN1_OCTET_STRING *os = NULL;
	const unsigned char *p;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pk = NULL;
	kw_rv rv = KW_ERR_CRYPTO;

	kw_buf_init(&pt, 256);
	if (bld == NULL || get_attr(f, s, pub, CKA_EC_POINT, &pt) != KW_OK)
		goto fail;
	p = pt.data;
	/* CKA_EC_POINT is a DER OCTET STRING holding the point. */
	if ((os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)pt.len)) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os)) ||
	    (pk = pkey_from_params("EC", bld)) == NULL)
		goto fail;
	rv = pkey_to_spki(pk, spki);
fail:
	EVP_PKEY_free(pk);
	ASN1_OCTET_STRING_free(os);
	OSSL_PARAM_BLD_free(bld);
	kw_buf_free(&pt);
	return rv;
}

kw_rv
kms_p11_spki(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub,
    kms_key_type type, kw_buf *spki)
{
	return type == KMS_KEY_P256 ? ec_spki(f, s, pub, spki) :
	    rsa_spki(f, s, pub, spki);
}

static kw_rv
bn_param(EVP_PKEY *pk, const char *name, kw_buf *out)
{
	BIGNUM *bn = NULL;
	kw_rv rv = KW_ERR_CRYPTO;

	if (EVP_PKEY_get_bn_param(pk, name, &bn) != 1)
		return rv;
	kw_buf_reset(out);
	if ((rv = kw_buf_reserve(out, (size_t)BN_num_bytes(bn))) == KW_OK) {
		out->len = (size_t)BN_bn2bin(bn, out->data);
	}
	BN_free(bn);
	return rv;
}

kw_rv
kms_p11_import_rsa_pub(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s,
    kw_view spki, CK_OBJECT_HANDLE *pub)
{
	static const CK_BBOOL t = CK_TRUE, fa = CK_FALSE;
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_KEY_TYPE kt = CKK_RSA;
	const unsigned char *p = spki.ptr;
	EVP_PKEY *pk;
	kw_buf n, e;
	kw_rv rv = KW_ERR_FORMAT;

	kw_buf_init(&n, 4096);
	kw_buf_init(&e, 64);
	pk = d2i_PUBKEY(NULL, &p, (long)spki.len);
	if (pk == NULL || p != spki.ptr + spki.len ||
	    EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA ||
	    EVP_PKEY_get_bits(pk) < 2048 || EVP_PKEY_get_bits(pk) > 8192)
		goto fail;
	if ((rv = bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n)) != KW_OK ||
	    (rv = bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e)) != KW_OK)
		goto fail;
	{
		CK_ATTRIBUTE tmpl[] = {
			ATTR(CKA_CLASS, &cls, sizeof(cls)),
			ATTR(CKA_KEY_TYPE, &kt, sizeof(kt)),
			ATTR(CKA_TOKEN, &fa, sizeof(fa)),
			ATTR(CKA_WRAP, &t, sizeof(t)),
			ATTR(CKA_ENCRYPT, &t, sizeof(t)),
			ATTR(CKA_MODULUS, n.data, n.len),
			ATTR(CKA_PUBLIC_EXPONENT, e.data, e.len),
		};
		rv = f->C_CreateObject(s, tmpl, 7, pub) == CKR_OK ? KW_OK :
		    KW_ERR_CRYPTO;
	}
fail:
	EVP_PKEY_free(pk);
	kw_buf_free(&n);
	kw_buf_free(&e);
	return rv;
}

void
kms_p11_sha256(kw_view data, uint8_t out[32])
{
	unsigned int len = 32;

	EVP_Digest(data.ptr, data.len, out, &len, EVP_sha256(), NULL);
}

kw_rv
kms_p11_ecdsa_to_der(kw_view raw, kw_buf *der)
{
	ECDSA_SIG *sig;
	BIGNUM *r, *s;
	unsigned char *p = NULL;
	int n;
	kw_rv rv = KW_ERR_CRYPTO;

	if (raw.len == 0 || raw.len % 2 != 0 || raw.len > 132)
		return KW_ERR_FORMAT;
	if ((sig = ECDSA_SIG_new()) == NULL)
		return KW_ERR_NOMEM;
	r = BN_bin2bn(raw.ptr, (int)(raw.len / 2), NULL);
	s = BN_bin2bn(raw.ptr + raw.len / 2, (int)(raw.len / 2), NULL);
	if (r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		goto fail;
	}
	if ((n = i2d_ECDSA_SIG(sig, &p)) > 0)
		rv = kw_buf_put(der, p, (size_t)n);
	OPENSSL_free(p);
fail:
	ECDSA_SIG_free(sig);
	return rv;
}
