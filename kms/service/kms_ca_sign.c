/* Signing X.509 structures with a key that never leaves the HSM.
 *
 * OpenSSL 3 signs through EVP_PKEY, which needs a provider for an HSM
 * key. Without one, the certificate is completed in three steps:
 *  1. X509_sign() with a throwaway software key of the CA's type and
 *     digest fills both AlgorithmIdentifier fields exactly as OpenSSL
 *     encodes them (RSA: sha256WithRSAEncryption + NULL; EC: ecdsa-with-
 *     SHA256, no parameters);
 *  2. i2d_re_X509_tbs() gives the TBSCertificate DER, which the HSM signs
 *     with C_Sign (CKM_SHA256_RSA_PKCS or CKM_ECDSA over SHA-256);
 *  3. Certificate ::= SEQUENCE { tbs, signatureAlgorithm, BIT STRING } is
 *     assembled from those parts and parsed back with d2i_X509, so what
 *     is returned is a well-formed certificate.
 * The throwaway signature is discarded; its key never signs anything
 * that leaves this file. CRLs are done the same way. */
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "kms_ca.h"
#include "kms_ca_int.h"
#include "kw_tlv.h"

kw_rv
kms_ca_template_key(kms_key_type type, EVP_PKEY **out)
{
	*out = type == KMS_KEY_P256 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") :
	    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	return *out != NULL ? KW_OK : KW_ERR_CRYPTO;
}

static kw_rv
assemble(kw_view tbs, const X509_ALGOR *alg, kw_view sig, kw_buf *der)
{
	unsigned char *a = NULL;
	int alen;
	size_t inner;
	kw_rv rv = KW_ERR_CRYPTO;

	if ((alen = i2d_X509_ALGOR(alg, &a)) <= 0)
		return rv;
	inner = tbs.len + (size_t)alen + kw_tlv_header_size(0x03, sig.len + 1) +
	    sig.len + 1;
	kw_buf_reset(der);
	if ((rv = kw_tlv_put_header(der, 0x30, inner)) != KW_OK ||
	    (rv = kw_buf_put_view(der, tbs)) != KW_OK ||
	    (rv = kw_buf_put(der, a, (size_t)alen)) != KW_OK ||
	    (rv = kw_tlv_put_header(der, 0x03, sig.len + 1)) != KW_OK ||
	    (rv = kw_buf_put_u8(der, 0)) != KW_OK ||
	    (rv = kw_buf_put_view(der, sig)) != KW_OK)
		goto fail;
fail:
	OPENSSL_free(a);
	return rv;
}

static kw_rv
hsm_sign(kms_ctx *ctx, const unsigned char *tbs, int tbslen, kw_buf *sig)
{
	if (tbslen <= 0)
		return KW_ERR_CRYPTO;
	return kms_hsm_sign(ctx->hsm, KMS_LABEL_CA, kw_view_make(tbs, (size_t)tbslen), sig);
}

kw_rv
kms_ca_sign_cert(kms_ctx *ctx, X509 *x, kw_buf *der)
{
	const X509_ALGOR *alg = NULL;
	unsigned char *tbs = NULL;
	const unsigned char *p;
	X509 *check = NULL;
	kw_buf sig;
	int tbslen;
	kw_rv rv = KW_ERR_CRYPTO;

	kw_buf_init(&sig, 1024);
	if (X509_sign(x, kms_ca_template(ctx), EVP_sha256()) <= 0)
		goto fail;
	tbslen = i2d_re_X509_tbs(x, &tbs);
	X509_get0_signature(NULL, &alg, x);
	if ((rv = hsm_sign(ctx, tbs, tbslen, &sig)) != KW_OK ||
	    (rv = assemble(kw_view_make(tbs, (size_t)tbslen), alg,
	    kw_buf_view(&sig), der)) != KW_OK)
		goto fail;
	p = der->data;
	if ((check = d2i_X509(NULL, &p, (long)der->len)) == NULL ||
	    p != der->data + der->len)
		rv = KW_ERR_CRYPTO;
fail:
	X509_free(check);
	OPENSSL_free(tbs);
	kw_buf_free(&sig);
	return rv;
}

kw_rv
kms_ca_sign_crl(kms_ctx *ctx, X509_CRL *crl, kw_buf *der)
{
	const X509_ALGOR *alg = NULL;
	unsigned char *tbs = NULL;
	const unsigned char *p;
	X509_CRL *check = NULL;
	kw_buf sig;
	int tbslen;
	kw_rv rv = KW_ERR_CRYPTO;

	kw_buf_init(&sig, 1024);
	if (X509_CRL_sign(crl, kms_ca_template(ctx), EVP_sha256()) <= 0)
		goto fail;
	tbslen = i2d_re_X509_CRL_tbs(crl, &tbs);
	X509_CRL_get0_signature(crl, NULL, &alg);
	if ((rv = hsm_sign(ctx, tbs, tbslen, &sig)) != KW_OK ||
	    (rv = assemble(kw_view_make(tbs, (size_t)tbslen), alg,
	    kw_buf_view(&sig), der)) != KW_OK)
		goto fail;
	p = der->data;
	if ((check = d2i_X509_CRL(NULL, &p, (long)der->len)) == NULL)
		rv = KW_ERR_CRYPTO;
fail:
	X509_CRL_free(check);
	OPENSSL_free(tbs);
	kw_buf_free(&sig);
	return rv;
}
