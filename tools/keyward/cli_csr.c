/* A PKCS#10 certificate request signed by the token: OpenSSL builds the
 * CertificationRequestInfo, the token signs its SHA-256 hash with GENERAL
 * AUTHENTICATE (PKCS#1 v1.5 DigestInfo padded here for RSA; ECDSA on the
 * hash for EC); PEM/DER and public-key helpers. */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "kwenroll.h"

/* DigestInfo prefix for SHA-256 (RFC 8017 section 9.2 note 1). */
static const uint8_t sha256_prefix[19] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
	0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
};

static kw_rv
pkcs1_pad(const uint8_t hash[32], size_t mod_len, kw_buf *out)
{
	size_t t = sizeof(sha256_prefix) + 32, i;
	kw_rv rv;

	if (mod_len < t + 11)
		return KW_ERR_RANGE;
	kw_buf_reset(out);
	rv = kw_buf_put_u8(out, 0x00);
	if (rv == KW_OK)
		rv = kw_buf_put_u8(out, 0x01);
	for (i = 0; rv == KW_OK && i < mod_len - t - 3; i++)
		rv = kw_buf_put_u8(out, 0xFF);
	if (rv == KW_OK)
		rv = kw_buf_put_u8(out, 0x00);
	if (rv == KW_OK)
		rv = kw_buf_put(out, sha256_prefix, sizeof(sha256_prefix));
	if (rv == KW_OK)
		rv = kw_buf_put(out, hash, 32);
	return rv;
}

/* Sign hash with the key in slot (PIN verified right before). */
static kw_rv
token_sign(kwcli_token *tok, uint8_t slot, uint8_t alg, const uint8_t hash[32],
    const kw_secret *pin, kw_buf *sig)
{
	kw_buf in;
	kw_rv rv;

	kw_buf_init(&in, 1024);
	if (kw_piv_alg_is_rsa(alg))
		rv = pkcs1_pad(hash, (size_t)kw_piv_alg_bits(alg) / 8, &in);
	else
		rv = kw_buf_put(&in, hash, 32);
	if (rv != KW_OK || (rv = kw_transport_begin(tok->t)) != KW_OK)
		goto fail;
	if ((rv = kwcli_admin_verify_pin(tok, pin)) == KW_OK)
		rv = kw_piv_private_op(tok->piv, slot, alg, in.data, in.len, sig);
	(void)kw_transport_end(tok->t);
fail:
	kw_buf_free(&in);
	return rv;
}

static X509_REQ *
csr_template(EVP_PKEY *pub, const char *email)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *san = NULL;
	char san_val[400];
	bool ok = false;

	snprintf(san_val, sizeof(san_val), "email:%.300s", email);
	if (req == NULL || name == NULL || exts == NULL ||
	    X509_REQ_set_version(req, 0) != 1 ||
	    X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)email, -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_NID(name, NID_pkcs9_emailAddress, MBSTRING_ASC,
	    (const unsigned char *)email, -1, -1, 0) != 1 ||
	    X509_REQ_set_subject_name(req, name) != 1 ||
	    X509_REQ_set_pubkey(req, pub) != 1 ||
	    (san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san_val)) == NULL ||
	    sk_X509_EXTENSION_push(exts, san) == 0)
		goto done;
	san = NULL;
	ok = X509_REQ_add_extensions(req, exts) == 1;
done:
	X509_EXTENSION_free(san);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(name);
	if (!ok) {
		X509_REQ_free(req);
		req = NULL;
	}
	return req;
}

static kw_rv
csr_set_signature(X509_REQ *req, uint8_t alg, const kw_buf *sig)
{
	X509_ALGOR *algor = X509_ALGOR_new();
	ASN1_BIT_STRING *bits = ASN1_BIT_STRING_new();
	int nid = kw_piv_alg_is_rsa(alg) ? NID_sha256WithRSAEncryption : NID_ecdsa_with_SHA256;
	kw_rv rv = KW_ERR_CRYPTO;

	if (algor == NULL || bits == NULL ||
	    X509_ALGOR_set0(algor, OBJ_nid2obj(nid),
	    kw_piv_alg_is_rsa(alg) ? V_ASN1_NULL : V_ASN1_UNDEF, NULL) != 1 ||
	    ASN1_BIT_STRING_set(bits, sig->data, (int)sig->len) != 1 ||
	    X509_REQ_set1_signature_algo(req, algor) != 1)
		goto fail;
	bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	X509_REQ_set0_signature(req, bits);
	bits = NULL;
	rv = KW_OK;
fail:
	ASN1_BIT_STRING_free(bits);
	X509_ALGOR_free(algor);
	return rv;
}

static char *
req_to_pem(X509_REQ *req)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *out = NULL;
	long n;

	if (b != NULL && PEM_write_bio_X509_REQ(b, req) == 1 &&
	    (n = BIO_get_mem_data(b, &p)) > 0 && (out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, p, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(b);
	return out;
}

kw_rv
kwcli_csr_make(kwcli_token *tok, uint8_t slot, EVP_PKEY *pub, const char *email,
    const kw_secret *pin, char **pem)
{
	X509_REQ *req = NULL;
	unsigned char *tbs = NULL;
	uint8_t hash[32], alg = kw_piv_alg_of_pkey(pub);
	kw_buf sig;
	int n;
	kw_rv rv = KW_ERR_CRYPTO;

	*pem = NULL;
	kw_buf_init(&sig, 1024);
	if (alg == 0)
		return KW_ERR_NOT_SUPPORTED;
	if ((req = csr_template(pub, email)) == NULL ||
	    (n = i2d_re_X509_REQ_tbs(req, &tbs)) <= 0 ||
	    EVP_Digest(tbs, (size_t)n, hash, NULL, EVP_sha256(), NULL) != 1)
		goto fail;
	if ((rv = token_sign(tok, slot, alg, hash, pin, &sig)) != KW_OK ||
	    (rv = csr_set_signature(req, alg, &sig)) != KW_OK)
		goto fail;
	rv = KW_ERR_CRYPTO;
	if (X509_REQ_verify(req, pub) != 1)
		goto fail;
	if ((*pem = req_to_pem(req)) != NULL)
		rv = KW_OK;
fail:
	OPENSSL_free(tbs);
	X509_REQ_free(req);
	kw_buf_free(&sig);
	return rv;
}

kw_rv
kwcli_pem_to_der(const char *pem, kw_buf *der)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	unsigned char *p = NULL;
	int n = x != NULL ? i2d_X509(x, &p) : -1;
	kw_rv rv = KW_ERR_FORMAT;

	kw_buf_reset(der);
	if (n > 0)
		rv = kw_buf_put(der, p, (size_t)n);
	OPENSSL_free(p);
	X509_free(x);
	BIO_free(b);
	return rv;
}

char *
kwcli_der_to_pem(const char *label, const uint8_t *der, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *out = NULL;
	long n;

	if (b != NULL && PEM_write_bio(b, label, "", der, (long)len) > 0 &&
	    (n = BIO_get_mem_data(b, &p)) > 0 && (out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, p, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(b);
	return out;
}

bool
kwcli_cert_matches_key(const uint8_t *der, size_t len, const EVP_PKEY *pub)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	bool ok = x != NULL && pub != NULL && p == der + len &&
	    EVP_PKEY_eq(X509_get0_pubkey(x), pub) == 1;

	X509_free(x);
	return ok;
}

kw_rv
kwcli_pubkey_id(const EVP_PKEY *pub, char out[65])
{
	unsigned char *der = NULL;
	uint8_t hash[32];
	int n = i2d_PUBKEY(pub, &der);
	kw_rv rv = KW_ERR_CRYPTO;

	out[0] = '\0';
	if (n > 0 && EVP_Digest(der, (size_t)n, hash, NULL, EVP_sha256(), NULL) == 1)
		rv = kw_hex_encode(hash, sizeof(hash), out, 65);
	OPENSSL_free(der);
	return rv;
}

kw_rv
kwcli_cert_check_chain(const uint8_t *der, size_t len, const char *ca_pem, int purpose)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	BIO *b = BIO_new_mem_buf(ca_pem, -1);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *ca;
	int n = 0;
	kw_rv rv = KW_ERR_CRYPTO;

	if (x == NULL || p != der + len || b == NULL || store == NULL || ctx == NULL)
		goto fail;
	while ((ca = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		n += X509_STORE_add_cert(store, ca) == 1;
		X509_free(ca);
	}
	ERR_clear_error();
	/* An ECDH recipient's certificate asserts keyAgreement (RFC 5480,
	 * RFC 5753), never keyEncipherment, which OpenSSL's smimeencrypt
	 * purpose insists on: for EC keys the chain is verified without a
	 * purpose and emailProtection / keyAgreement are checked here. */
	if (purpose == X509_PURPOSE_SMIME_ENCRYPT && x != NULL &&
	    EVP_PKEY_get_base_id(X509_get0_pubkey(x)) == EVP_PKEY_EC) {
		uint32_t fl = X509_get_extension_flags(x);

		if (((fl & EXFLAG_XKUSAGE) != 0 && (X509_get_extended_key_usage(x) & XKU_SMIME) == 0) ||
		    ((fl & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(x) & KU_KEY_AGREEMENT) == 0)) {
			rv = KW_ERR_SECURITY;
			goto fail;
		}
		purpose = 0;
	}
	if (n == 0 || X509_STORE_CTX_init(ctx, store, x, NULL) != 1 ||
	    (purpose != 0 && X509_STORE_CTX_set_purpose(ctx, purpose) != 1))
		goto fail;
	/* Old encryption keys stay deliverable after their certificates
	 * expire (old mail must stay readable): no time check for them. */
	if (purpose == X509_PURPOSE_SMIME_ENCRYPT || purpose == 0)
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME);
	rv = X509_verify_cert(ctx) == 1 ? KW_OK : KW_ERR_SECURITY;
fail:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	BIO_free(b);
	X509_free(x);
	return rv;
}
