/* Delivery of the escrowed encryption keys (current + history).
 *   POST /v1/keys/delivery {"ephemeral_key": base64 DER SPKI (RSA 2048-8192,
 *                           e >= 65537), "password": "..." (when one is set)}
 * The first delivery for an address creates its first key (enrollment);
 * a current key near expiry is rotated first (kms_delivery.c). All keys
 * or none: if a share server is down the answer is 503. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/x509.h>

#include "kms_api.h"

static bool
exponent_ok(EVP_PKEY *pk)
{
	BIGNUM *e = NULL;
	bool ok;

	if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
		return false;
	ok = BN_is_odd(e) && BN_num_bits(e) >= 17 && BN_num_bits(e) <= 256;
	BN_free(e);
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
	    EVP_PKEY_get_bits(pk) <= 8192 && exponent_ok(pk);
	EVP_PKEY_free(pk);
	if (!ok)
		kms_resp_error(resp, 400, "bad_key", "ephemeral_key must be a DER "
		    "SubjectPublicKeyInfo of an RSA key of 2048 to 8192 bits with a public "
		    "exponent of at least 65537");
	return ok;
}

void
kms_api_delivery(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	char email[256], err[300] = "";
	json_t *jpw, *keys = NULL;
	kw_buf spki;
	kw_rv rv;

	if (!kms_api_session(ctx, req, resp, email))
		return;
	kw_buf_init(&spki, 4096);
	jpw = json_object_get(req->json, "password");
	if (!read_spki(req, resp, &spki) ||
	    !kms_api_password_ok(ctx, email, json_string_value(jpw), req, resp))
		goto done;
	if ((rv = kms_delivery(ctx, email, kw_buf_view(&spki), req->client, &keys, err,
	    sizeof(err))) != KW_OK)
		kms_api_fail(resp, rv, "cannot deliver the keys", err);
	else
		kms_resp_json(resp, 200, json_pack("{s:s,s:o,s:s}", "email", email, "keys", keys,
		    "ca", kms_ca_pem(ctx)));
done:
	kw_buf_free(&spki);
}
