/* The TLS identity of a keyward-kmsd process: a P-256 key and a
 * self-signed certificate for 127.0.0.1/localhost (local deployments).
 * The key file is encrypted PKCS#8 (AES-256-CBC, PBKDF2); its passphrase
 * is a private data object in the HSM, never in a file. */
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "kms.h"
#include "kms_tls.h"
#include "kw_secret.h"

static int
add_ext(X509 *x, int nid, const char *v)
{
	X509V3_CTX c;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx(&c, x, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &c, nid, v)) == NULL)
		return 0;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

static kw_rv
bio_to_file(BIO *b, const char *path, int mode)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);

	return n > 0 ? kms_file_write(path, data, (size_t)n, mode) : KW_ERR_CRYPTO;
}

kw_rv
kms_tls_create(kms_ctx *ctx, const char *cn)
{
	char pass[65];
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	BIO *bk = BIO_new(BIO_s_mem()), *bc = BIO_new(BIO_s_mem());
	kw_rv rv = KW_ERR_CRYPTO;

	if ((rv = kms_random_hex(pass, 32)) != KW_OK)
		goto fail;
	rv = KW_ERR_CRYPTO;
	if (bk == NULL || bc == NULL ||
	    (k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    (x = X509_new()) == NULL || !X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), (long)kms_now()) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 3650) ||
	    !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(x)) ||
	    !X509_set_pubkey(x, k) ||
	    !add_ext(x, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost") ||
	    !add_ext(x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    !add_ext(x, NID_ext_key_usage, "serverAuth") ||
	    X509_sign(x, k, EVP_sha256()) <= 0 ||
	    !PEM_write_bio_X509(bc, x) ||
	    !PEM_write_bio_PKCS8PrivateKey(bk, k, EVP_aes_256_cbc(), pass,
	    (int)strlen(pass), NULL, NULL))
		goto fail;
	if ((rv = kms_hsm_data_put(ctx->hsm, KMS_LABEL_TLS_PASS,
	    kw_view_make(pass, strlen(pass)))) != KW_OK ||
	    (rv = bio_to_file(bk, ctx->cfg.tls_key, 0600)) != KW_OK ||
	    (rv = bio_to_file(bc, ctx->cfg.tls_cert, 0644)) != KW_OK)
		goto fail;
fail:
	kw_memzero(pass, sizeof(pass));
	BIO_free(bk);
	BIO_free(bc);
	EVP_PKEY_free(k);
	X509_free(x);
	return rv;
}

kw_rv
kms_tls_load(kms_ctx *ctx, kms_tls *t)
{
	kw_rv rv;

	memset(t, 0, sizeof(*t));
	kw_buf_init(&t->cert, 1 << 16);
	kw_buf_init(&t->key, 1 << 16);
	kw_buf_init(&t->pass, 256);
	if ((rv = kms_file_read(ctx->cfg.tls_cert, &t->cert, (1 << 16) - 1)) != KW_OK ||
	    (rv = kw_buf_put_u8(&t->cert, 0)) != KW_OK ||
	    (rv = kms_file_read(ctx->cfg.tls_key, &t->key, (1 << 16) - 1)) != KW_OK ||
	    (rv = kw_buf_put_u8(&t->key, 0)) != KW_OK ||
	    (rv = kms_hsm_data_get(ctx->hsm, KMS_LABEL_TLS_PASS, &t->pass)) != KW_OK ||
	    (rv = kw_buf_put_u8(&t->pass, 0)) != KW_OK)
		kms_tls_free(t);
	return rv;
}

void
kms_tls_free(kms_tls *t)
{
	kw_buf_free(&t->cert);
	kw_buf_free(&t->key);
	kw_buf_free(&t->pass);
}
