/* Delivery of the escrowed encryption keys (current + history).
 *   POST /v1/keys/delivery {"ephemeral_key": base64 DER SPKI (RSA >= 2048),
 *                           "password": "..." (when one is set)}  (session)
 * The first delivery for an address creates its first key (enrollment);
 * a current key near expiry is rotated first. Each key is recovered from
 * the share servers and re-wrapped inside the HSM for the ephemeral key
 * (see kms_hsm_rewrap_for_client). All keys or none: if one share server
 * is down the answer is 503 and nothing is handed out. */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "kms_api.h"
#include "kms_ca.h"
#include "kms_escrow.h"
#include "kms_password.h"

#define MAX_KEYS 24

static json_t *
key_json(kms_ctx *ctx, const kms_escrow_key *k, bool current, kw_view etk, kw_view wk)
{
	sqlite3_stmt *st;
	char *cert = NULL, *a = kms_b64_encode(etk.ptr, etk.len);
	char *b = kms_b64_encode(wk.ptr, wk.len);
	json_t *j = NULL;

	st = kms_db_prepare(ctx->db, "SELECT der FROM certs WHERE serial = ?", "t", k->serial);
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		cert = kms_der_to_pem("CERTIFICATE", kw_view_make(sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0)));
	sqlite3_finalize(st);
	if (cert != NULL && a != NULL && b != NULL)
		j = json_pack("{s:s,s:I,s:b,s:s,s:s,s:s,s:I,s:s,s:s,s:s}", "key_id", k->id,
		    "seq", (json_int_t)k->seq, "current", current, "alg", k->alg,
		    "serial", k->serial, "cert", cert, "not_after", (json_int_t)k->not_after,
		    "transport_wrap", "rsa-oaep-sha1+aes256-kwp",
		    "encrypted_transport_key", a, "wrapped_key", b);
	free(cert);
	free(a);
	free(b);
	return j;
}

static bool
deliver_all(kms_ctx *ctx, const kms_escrow_key *keys, size_t n, kw_view spki,
    json_t *arr, kms_resp *resp)
{
	char err[300] = "";
	kw_buf etk, wk;
	json_t *j;
	size_t i;
	bool ok = true;

	kw_buf_init(&etk, 4096);
	kw_buf_init(&wk, 1 << 14);
	for (i = 0; i < n && ok; i++) {
		if (kms_escrow_wrap_for(ctx, &keys[i], spki, &etk, &wk, err, sizeof(err)) != KW_OK) {
			kms_resp_error(resp, 503, "share_server_unavailable",
			    "cannot recover key %s: %s", keys[i].id, err);
			ok = false;
		} else if ((j = key_json(ctx, &keys[i], i == 0, kw_buf_view(&etk),
		    kw_buf_view(&wk))) == NULL || json_array_append_new(arr, j) != 0) {
			kms_resp_error(resp, 500, "internal", "cannot encode key %s", keys[i].id);
			ok = false;
		}
	}
	kw_buf_free(&etk);
	kw_buf_free(&wk);
	return ok;
}

static bool
read_spki(const kms_req *req, kms_resp *resp, kw_buf *spki)
{
	const char *b64 = kms_req_str(req, resp, "ephemeral_key", 4096);
	const unsigned char *p;
	EVP_PKEY *pk;
	bool ok;

	if (b64 == NULL)
		return false;
	if (kms_b64_decode(b64, spki) != KW_OK) {
		kms_resp_error(resp, 400, "bad_request", "ephemeral_key is not base64");
		return false;
	}
	p = spki->data;
	pk = d2i_PUBKEY(NULL, &p, (long)spki->len);
	ok = pk != NULL && p == spki->data + spki->len &&
	    EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA && EVP_PKEY_get_bits(pk) >= 2048 &&
	    EVP_PKEY_get_bits(pk) <= 8192;
	EVP_PKEY_free(pk);
	if (!ok)
		kms_resp_error(resp, 400, "bad_key", "ephemeral_key must be a DER "
		    "SubjectPublicKeyInfo of an RSA key of 2048 to 8192 bits");
	return ok;
}

void
kms_api_delivery(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	kms_escrow_key keys[MAX_KEYS];
	char *email, err[300] = "";
	json_t *jpw, *arr = NULL;
	kw_buf spki;
	size_t n = 0;
	bool made;

	kw_buf_init(&spki, 4096);
	if ((email = kms_session_email(ctx, req, resp)) == NULL)
		return;
	jpw = json_object_get(req->json, "password");
	if (!read_spki(req, resp, &spki) ||
	    !kms_password_check(ctx, email, json_string_value(jpw), req, resp))
		goto done;
	if (kms_rotation_check(ctx, email, req->client, &made, err, sizeof(err)) != KW_OK) {
		kms_audit(ctx, "delivery_failed", email, req->client, json_pack("{s:s}",
		    "reason", err));
		kms_resp_error(resp, 503, "share_server_unavailable",
		    "cannot create the encryption key: %s", err);
		goto done;
	}
	if (kms_escrow_list(ctx, email, keys, MAX_KEYS, &n) != KW_OK || n == 0 ||
	    (arr = json_array()) == NULL) {
		kms_resp_error(resp, 500, "storage_error", "cannot list the keys");
		goto done;
	}
	if (!deliver_all(ctx, keys, n, kw_buf_view(&spki), arr, resp)) {
		kms_audit(ctx, "delivery_failed", email, req->client,
		    json_pack("{s:O}", "error", resp->json));
		goto done;
	}
	kms_audit(ctx, "delivery", email, req->client, json_pack("{s:I,s:s}", "keys",
	    (json_int_t)n, "current", keys[0].id));
	kms_resp_json(resp, 200, json_pack("{s:s,s:o,s:s}", "email", email, "keys", arr,
	    "ca", kms_ca_pem(ctx)));
	arr = NULL;
done:
	json_decref(arr);
	kw_buf_free(&spki);
	free(email);
}
