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
#include "kms_attest.h"
#include "kms_ca.h"
#include "kms_escrow.h"

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
	char *email, level[3], *name = NULL, *org = NULL, serial[33], *pem = NULL;
	const char *csr_pem;
	X509_REQ *csr = NULL;
	kw_buf der;
	time_t not_after;
	kms_cert_req r = { 0 };
	int attested = 0;

	kw_buf_init(&der, 1 << 16);
	if ((email = kms_session_email(ctx, req, resp)) == NULL)
		return;
	if ((csr_pem = kms_req_str(req, resp, "csr", 16384)) == NULL ||
	    (csr = parse_csr(csr_pem, resp)) == NULL ||
	    (attested = kms_attest_check(ctx, req, X509_REQ_get0_pubkey(csr), resp)) < 0)
		goto done;
	if (kms_identity_get(ctx, email, level, &name, &org) != KW_OK)
		goto fail;
	r.email = email;
	r.kind = KMS_CERT_SIGN;
	r.profile = level;
	r.name = name;
	r.organization = org;
	r.pub = X509_REQ_get0_pubkey(csr);
	r.days = ctx->cfg.sign_validity_days;
	if (kms_ca_issue(ctx, &r, &der, serial, &not_after) != KW_OK ||
	    (pem = kms_der_to_pem("CERTIFICATE", kw_buf_view(&der))) == NULL)
		goto fail;
	kms_audit(ctx, "issue", email, req->client, json_pack("{s:s,s:s,s:s,s:b}",
	    "kind", "sign", "serial", serial, "profile", level, "attested", attested));
	kms_resp_json(resp, 201, json_pack("{s:s,s:s,s:s,s:I,s:[s],s:b}", "cert", pem,
	    "serial", serial, "profile", level, "not_after", (json_int_t)not_after,
	    "chain", kms_ca_pem(ctx), "attested", attested));
	goto done;
fail:
	kms_resp_error(resp, 500, "ca_error", "the CA could not issue the certificate");
done:
	X509_REQ_free(csr);
	kw_buf_free(&der);
	free(pem);
	free(name);
	free(org);
	free(email);
}

/* Revoke serial (owner: only when email matches and kind is sign). */
void
kms_revoke(kms_ctx *ctx, const kms_req *req, kms_resp *resp, const char *owner)
{
	const char *serial;
	json_t *jr = json_object_get(req->json, "reason");
	json_int_t reason = json_is_integer(jr) ? json_integer_value(jr) : 0;
	sqlite3_stmt *st;
	char *email = NULL;
	bool ok;

	if ((serial = kms_req_str(req, resp, "serial", 40)) == NULL)
		return;
	if (reason < 0 || reason > 10 || reason == 7) {
		kms_resp_error(resp, 400, "bad_request", "reason must be an RFC 5280 CRLReason");
		return;
	}
	st = kms_db_prepare(ctx->db, "SELECT email, kind FROM certs WHERE serial = ?"
	    " AND revoked_at IS NULL", "t", serial);
	ok = st != NULL && sqlite3_step(st) == SQLITE_ROW;
	if (ok) {
		email = kms_db_text(st, 0);
		ok = owner == NULL || (email != NULL && strcmp(email, owner) == 0 &&
		    strcmp((const char *)sqlite3_column_text(st, 1), "sign") == 0);
	}
	sqlite3_finalize(st);
	if (!ok)
		kms_resp_error(resp, 404, "not_found",
		    "no such unrevoked certificate of yours");
	else if (kms_db_exec(ctx->db, "UPDATE certs SET revoked_at = ?, reason = ?"
	    " WHERE serial = ?", "iit", (int64_t)kms_now(), (int64_t)reason, serial) != KW_OK)
		kms_resp_error(resp, 500, "storage_error", "cannot record the revocation");
	else {
		kms_audit(ctx, "revoke", email, req->client, json_pack("{s:s,s:I}",
		    "serial", serial, "reason", reason));
		kms_resp_json(resp, 200, json_pack("{s:s,s:s}", "status", "revoked",
		    "serial", serial));
	}
	free(email);
}

void
kms_api_cert_revoke(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	char *email;

	if ((email = kms_session_email(ctx, req, resp)) == NULL)
		return;
	kms_revoke(ctx, req, resp, email);
	free(email);
}
