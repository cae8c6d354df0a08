/* Attestation of a signing key generated on a token (YubiKey PIV style):
 * POST /v1/certs/sign may carry "attestation": [LEAF_PEM, F9_PEM], the
 * token's statement that the CSR's key was generated on it (LEAF, signed
 * by the token's attestation key) and that attestation key's certificate
 * (F9, issued by the vendor's attestation CA). Trusted roots come from
 * [attestation] ca = FILE (any number of PEM certificates) or DIRECTORY
 * (every *.pem / *.crt file in it), loaded once at start. Each root is
 * tried on its own (a store holding only that root), so vendors whose
 * roots share a subject name all verify. require = yes refuses CSRs
 * without a verified attestation. Untrusted input: sizes bounded, PEM
 * parsed by OpenSSL. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "kms_service.h"
#include "kw_log.h"

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

static kw_rv
load_file(STACK_OF(X509) *roots, const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	X509 *x;
	size_t n = 0;

	if (b == NULL) {
		kw_err("attestation.ca: cannot read %.200s", path);
		return KW_ERR_IO;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_push(roots, x) == 0) {
			X509_free(x);
			BIO_free(b);
			return KW_ERR_NOMEM;
		}
		n++;
	}
	ERR_clear_error();
	BIO_free(b);
	if (n == 0) {
		kw_err("attestation.ca: no PEM certificate in %.200s", path);
		return KW_ERR_FORMAT;
	}
	return KW_OK;
}

static bool
is_cert_name(const char *n)
{
	size_t l = strlen(n);

	return l > 4 && (strcmp(n + l - 4, ".pem") == 0 || strcmp(n + l - 4, ".crt") == 0);
}

kw_rv
kms_attest_load(kms_ctx *ctx)
{
	STACK_OF(X509) *roots;
	DIR *d;
	struct dirent *e;
	char *path;
	kw_rv rv = KW_OK;

	if (ctx->cfg.attest_ca == NULL)
		return ctx->cfg.attest_require ? (kw_err("attestation.require = yes needs "
		    "attestation.ca"), KW_ERR_ARG) : KW_OK;
	if ((roots = sk_X509_new_null()) == NULL)
		return KW_ERR_NOMEM;
	if ((d = opendir(ctx->cfg.attest_ca)) == NULL)
		rv = load_file(roots, ctx->cfg.attest_ca);
	else {
		while (rv == KW_OK && (e = readdir(d)) != NULL) {
			if (!is_cert_name(e->d_name))
				continue;
			if ((path = kms_path(ctx->cfg.attest_ca, e->d_name)) == NULL)
				rv = KW_ERR_NOMEM;
			else
				rv = load_file(roots, path);
			free(path);
		}
		closedir(d);
		if (rv == KW_OK && sk_X509_num(roots) == 0) {
			kw_err("attestation.ca: no *.pem or *.crt in %.200s", ctx->cfg.attest_ca);
			rv = KW_ERR_FORMAT;
		}
	}
	if (rv != KW_OK) {
		sk_X509_pop_free(roots, X509_free);
		return rv;
	}
	ctx->attest_roots = roots;
	return KW_OK;
}

void
kms_attest_free(kms_ctx *ctx)
{
	sk_X509_pop_free(ctx->attest_roots, X509_free);
	ctx->attest_roots = NULL;
}

/* LEAF chains through F9 to this one root. */
static bool
chain_one(X509 *root, X509 *leaf, X509 *f9, int *err)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *vc = X509_STORE_CTX_new();
	STACK_OF(X509) *mid = sk_X509_new_null();
	bool ok = false;

	*err = X509_V_ERR_UNSPECIFIED;
	if (st != NULL && vc != NULL && mid != NULL && X509_STORE_add_cert(st, root) == 1 &&
	    sk_X509_push(mid, f9) != 0 && X509_STORE_CTX_init(vc, st, leaf, mid) == 1) {
		ok = X509_verify_cert(vc) == 1;
		*err = X509_STORE_CTX_get_error(vc);
	}
	ERR_clear_error();
	sk_X509_free(mid);
	X509_STORE_CTX_free(vc);
	X509_STORE_free(st);
	return ok;
}

/* Against every configured root; *why gets the reason of the root whose
 * name matches F9's issuer (or the last one). */
static bool
chain_ok(kms_ctx *ctx, X509 *leaf, X509 *f9, const char **why)
{
	STACK_OF(X509) *roots = ctx->attest_roots;
	int i, err, best = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;

	for (i = 0; i < sk_X509_num(roots); i++) {
		X509 *r = sk_X509_value(roots, i);

		if (chain_one(r, leaf, f9, &err))
			return true;
		if (X509_NAME_cmp(X509_get_subject_name(r), X509_get_issuer_name(f9)) == 0 ||
		    best == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
			best = err;
	}
	*why = X509_verify_cert_error_string(best);
	return false;
}

int
kms_attest_check(kms_ctx *ctx, json_t *att, const EVP_PKEY *pub, const char **code,
    char *msg, size_t msgsz)
{
	X509 *leaf = NULL, *f9 = NULL;
	const char *why;
	int r = -1;

	*code = "bad_attestation";
	if (att == NULL || json_is_null(att)) {
		if (!ctx->cfg.attest_require)
			return 0;
		*code = "attestation_required";
		snprintf(msg, msgsz, "this KMS issues signing certificates only for keys "
		    "attested by the token");
		return -1;
	}
	if (!json_is_array(att) || json_array_size(att) != 2 ||
	    (leaf = pem_cert(json_array_get(att, 0))) == NULL ||
	    (f9 = pem_cert(json_array_get(att, 1))) == NULL) {
		snprintf(msg, msgsz, "attestation must be [attestation certificate PEM, "
		    "attestation-key certificate PEM]");
		goto done;
	}
	if (ctx->attest_roots == NULL) {
		r = 0;          /* nothing to verify against: not attested */
		goto done;
	}
	if (!chain_ok(ctx, leaf, f9, &why)) {
		snprintf(msg, msgsz, "the attestation does not chain to a trusted attestation "
		    "CA: %.120s", why);
		goto done;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(leaf), pub) != 1) {
		snprintf(msg, msgsz, "the attested key is not the key of the certificate request");
		goto done;
	}
	r = 1;
done:
	X509_free(leaf);
	X509_free(f9);
	return r;
}
