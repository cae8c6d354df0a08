/* Attestation of a signing key generated on a token (YubiKey PIV style):
 * POST /v1/certs/sign may carry "attestation": [LEAF_PEM, F9_PEM], the
 * token's statement that the CSR's key was generated on it (LEAF, signed
 * by the token's attestation key) and that attestation key's certificate
 * (F9, issued by the vendor's attestation CA). Trusted roots come from
 * [attestation] ca = FILE; require = 1 refuses CSRs without a verified
 * attestation. Untrusted input: sizes bounded, PEM parsed by OpenSSL,
 * verified with an X509_STORE holding only the configured roots. */
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "kms_api.h"
#include "kms_attest.h"

#define KMS_ATTEST_PEM_MAX 16384

static X509 *
pem_cert(json_t *s)
{
	const char *pem = json_string_value(s);
	BIO *b;
	X509 *x = NULL;

	if (pem == NULL || strlen(pem) > KMS_ATTEST_PEM_MAX)
		return NULL;
	if ((b = BIO_new_mem_buf(pem, (int)strlen(pem))) != NULL)
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	return x;
}

static X509_STORE *
roots(const char *path)
{
	X509_STORE *st = X509_STORE_new();

	if (st != NULL && X509_STORE_load_file(st, path) != 1) {
		X509_STORE_free(st);
		st = NULL;
	}
	return st;
}

/* LEAF chains through F9 to a configured root; *why gets OpenSSL's reason. */
static bool
chain_ok(const char *ca_path, X509 *leaf, X509 *f9, const char **why)
{
	X509_STORE *st = roots(ca_path);
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *mid = sk_X509_new_null();
	bool ok = false;

	*why = "the attestation CA file cannot be read";
	if (st == NULL || ctx == NULL || mid == NULL || sk_X509_push(mid, f9) == 0)
		goto done;
	*why = "internal error";
	if (X509_STORE_CTX_init(ctx, st, leaf, mid) != 1)
		goto done;
	ok = X509_verify_cert(ctx) == 1;
	if (!ok)
		*why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
done:
	ERR_clear_error();
	sk_X509_free(mid);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return ok;
}

int
kms_attest_check(kms_ctx *ctx, const kms_req *req, const EVP_PKEY *csr_pub,
    kms_resp *resp)
{
	json_t *att = json_object_get(req->json, "attestation");
	X509 *leaf = NULL, *f9 = NULL;
	const char *why;
	int r = -1;

	if (att == NULL || json_is_null(att)) {
		if (ctx->cfg.attest_require == 0)
			return 0;
		kms_resp_error(resp, 400, "attestation_required", "this KMS issues signing "
		    "certificates only for keys attested by the token");
		return -1;
	}
	if (!json_is_array(att) || json_array_size(att) != 2 ||
	    (leaf = pem_cert(json_array_get(att, 0))) == NULL ||
	    (f9 = pem_cert(json_array_get(att, 1))) == NULL) {
		kms_resp_error(resp, 400, "bad_attestation", "attestation must be "
		    "[attestation certificate PEM, attestation-key certificate PEM]");
		goto done;
	}
	if (ctx->cfg.attest_ca == NULL) {
		r = 0;          /* nothing to verify against: not attested */
		if (ctx->cfg.attest_require != 0) {
			kms_resp_error(resp, 500, "config_error", "attestation.require is set "
			    "without attestation.ca");
			r = -1;
		}
		goto done;
	}
	if (!chain_ok(ctx->cfg.attest_ca, leaf, f9, &why)) {
		kms_resp_error(resp, 400, "bad_attestation", "the attestation does not chain "
		    "to a trusted attestation CA: %.120s", why);
		goto done;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(leaf), csr_pub) != 1) {
		kms_resp_error(resp, 400, "bad_attestation", "the attested key is not the "
		    "key of the certificate request");
		goto done;
	}
	r = 1;
done:
	X509_free(leaf);
	X509_free(f9);
	return r;
}
