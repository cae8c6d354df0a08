/* Signing certificates from a CSR made on the token, and revocation.
 *   POST /v1/certs/sign   {"csr": PEM, "attestation": [LEAF, F9]?}  (session;
 *        the attestation is checked by kms_attest.c, "attested" answered)
 *   POST /v1/certs/revoke {"serial": hex, "reason": n} (session; own
 *        signing certificates only)
 * The profile is the address's identity level (V1 unless an admin set
 * V2..V4 with /v1/admin/identity). */
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "kms_api.h"

static X509_REQ *
parse_csr(const char *pem, kms_resp *resp)
{
	BIO *b = BIO_new_mem_buf(pem, (int)strlen(pem));
	X509_REQ *req = b != NULL ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
	EVP_PKEY *pk;
	int bits;

	BIO_free(b);
	if (req == NULL) {
		kms_resp_error(resp, 400, "bad_csr", "csr is not a PEM certificate request");
		return NULL;
	}
	pk = X509_REQ_get0_pubkey(req);
	bits = pk != NULL ? EVP_PKEY_get_bits(pk) : 0;
	if (pk == NULL || X509_REQ_verify(req, pk) != 1) {
		kms_resp_error(resp, 400, "bad_csr", "the CSR's signature does not verify");
		goto fail;
	}
	if (!((EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA && bits >= 2048 && bits <= 4096) ||
	    (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC && (bits == 256 || bits == 384)))) {
		kms_resp_error(resp, 400, "bad_csr", "key must be RSA 2048-4096 or EC P-256/P-384");
		goto fail;
	}
	return req;
fail:
	X509_REQ_free(req);
	return NULL;
}

void
kms_api_cert_sign(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	char email[256], msg[300];
	const char *csr_pem, *code;
	X509_REQ *csr = NULL;
	kms_issued out = { 0 };
	int attested;
	kw_rv rv;

	if (!kms_api_session(ctx, req, resp, email) ||
	    (csr_pem = kms_req_str(req, resp, "csr", 16384)) == NULL ||
	    (csr = parse_csr(csr_pem, resp)) == NULL)
		return;
	attested = kms_attest_check(ctx, json_object_get(req->json, "attestation"),
	    X509_REQ_get0_pubkey(csr), &code, msg, sizeof(msg));
	if (attested < 0)
		kms_resp_error(resp, 400, code, "%s", msg);
	else if ((rv = kms_sign_cert(ctx, email, X509_REQ_get0_pubkey(csr), attested == 1,
	    req->client, &out)) != KW_OK)
		kms_api_fail(resp, rv, "the CA could not issue the certificate", NULL);
	else
		kms_resp_json(resp, 201, json_pack("{s:s,s:s,s:s,s:I,s:[s],s:b}", "cert",
		    out.pem, "serial", out.serial, "profile", out.profile, "not_after",
		    (json_int_t)out.not_after, "chain", kms_ca_pem(ctx), "attested", attested));
	kms_issued_clear(&out);
	X509_REQ_free(csr);
}

void
kms_api_revoke(kms_ctx *ctx, const kms_req *req, kms_resp *resp, const char *owner)
{
	const char *serial;
	json_t *jr = json_object_get(req->json, "reason");
	json_int_t reason = json_is_integer(jr) ? json_integer_value(jr) : 0;
	kw_rv rv;

	if ((serial = kms_req_str(req, resp, "serial", 40)) == NULL)
		return;
	if (reason < 0 || reason > 10 || reason == 7) {
		kms_resp_error(resp, 400, "bad_request", "reason must be an RFC 5280 CRLReason");
		return;
	}
	rv = kms_revoke(ctx, serial, (long)reason, owner, req->client);
	if (rv == KW_ERR_NOT_FOUND)
		kms_resp_error(resp, 404, "not_found", "no such unrevoked certificate of yours");
	else if (rv != KW_OK)
		kms_api_fail(resp, rv, "cannot record the revocation", NULL);
	else
		kms_resp_json(resp, 200, json_pack("{s:s,s:s}", "status", "revoked",
		    "serial", serial));
}

void
kms_api_cert_revoke(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	char email[256];

	if (kms_api_session(ctx, req, resp, email))
		kms_api_revoke(ctx, req, resp, email);
}
