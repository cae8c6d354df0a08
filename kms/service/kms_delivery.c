/* Delivery of an address's escrowed keys (current + history): each key is
 * recovered from the share servers (asked at once) and re-wrapped inside
 * the HSM for the client's ephemeral key (kms_hsm_rewrap_for_client).
 * All keys or none; the "delivery" audit entry is committed before
 * anything is handed out, so a delivery that cannot be audited does not
 * happen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kms_service.h"
#include "kms_share_client.h"
#include "kw_log.h"

#define MAX_KEYS 24

static kw_rv
wrap_for(kms_ctx *ctx, const kms_escrow_key *k, kw_view spki, kw_buf *etk, kw_buf *wk,
    char *err, size_t errsz)
{
	kw_buf bufs[KMS_MAX_SHARES], blob;
	kw_view views[KMS_MAX_SHARES];
	unsigned got = 0, i;
	kw_rv rv;

	kw_buf_init(&blob, 1 << 14);
	for (i = 0; i < KMS_MAX_SHARES; i++)
		kw_buf_init(&bufs[i], 1 << 14);
	if ((rv = kms_shares_fetch(ctx->shares, k->id, (unsigned)k->threshold, bufs, views,
	    &got, err, errsz)) != KW_OK)
		goto fail;
	if ((rv = kms_combine(views, got, strcmp(k->split, "xor") == 0, &blob)) != KW_OK ||
	    (rv = kms_hsm_rewrap_for_client(ctx->hsm, KMS_LABEL_KEK,
	    kms_key_type_parse(k->alg), kw_buf_view(&blob), spki, etk, wk)) != KW_OK) {
		snprintf(err, errsz, "the recovered key %s does not unwrap in the HSM "
		    "(integrity error)", k->id);
		rv = KW_ERR_FORMAT;
	}
fail:
	kw_buf_free(&blob);
	for (i = 0; i < KMS_MAX_SHARES; i++)
		kw_buf_free(&bufs[i]);
	return rv;
}

static json_t *
key_json(const kms_escrow_key *k, bool current, kw_view etk, kw_view wk)
{
	char *cert = kms_der_to_pem("CERTIFICATE", kw_buf_view(&k->cert));
	char *a = kms_b64_encode(etk.ptr, etk.len), *b = kms_b64_encode(wk.ptr, wk.len);
	json_t *j = NULL;

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

static void
audit_failure(kms_ctx *ctx, const char *email, const char *client, const char *why)
{
	kms_audit_ev ev = { "delivery_failed", email, client, NULL };

	ev.detail = json_pack("{s:s}", "reason", why);
	if (kms_store_audit(ctx->store, &ev) != KW_OK)
		kw_err("delivery: the failure could not be audited either");
	json_decref(ev.detail);
}

kw_rv
kms_delivery(kms_ctx *ctx, const char *email, kw_view spki, const char *client,
    json_t **keys, char *err, size_t errsz)
{
	kms_escrow_key list[MAX_KEYS];
	kms_audit_ev ev = { "delivery", email, client, NULL };
	json_t *arr = NULL, *j;
	kw_buf etk, wk;
	size_t n = 0, i;
	kw_rv rv;

	*keys = NULL;
	kw_buf_init(&etk, 4096);
	kw_buf_init(&wk, 1 << 14);
	if ((rv = kms_rotation_check(ctx, email, client, err, errsz)) != KW_OK)
		goto fail;
	if ((rv = kms_store_escrow_list(ctx->store, email, list, MAX_KEYS, &n)) != KW_OK ||
	    n == 0) {
		snprintf(err, errsz, "cannot list the keys (storage unavailable)");
		rv = rv != KW_OK ? rv : KW_ERR_IO;
		goto fail;
	}
	if ((arr = json_array()) == NULL) {
		rv = KW_ERR_NOMEM;
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if ((rv = wrap_for(ctx, &list[i], spki, &etk, &wk, err, errsz)) != KW_OK)
			goto fail;
		if ((j = key_json(&list[i], i == 0, kw_buf_view(&etk), kw_buf_view(&wk))) == NULL ||
		    json_array_append_new(arr, j) != 0) {
			rv = KW_ERR_NOMEM;
			goto fail;
		}
	}
	if ((ev.detail = json_pack("{s:I,s:s}", "keys", (json_int_t)n, "current",
	    list[0].id)) == NULL || (rv = kms_store_audit(ctx->store, &ev)) != KW_OK) {
		snprintf(err, errsz, "the delivery could not be audited; nothing was delivered");
		rv = KW_ERR_IO;
		goto fail;
	}
	*keys = arr;
	arr = NULL;
fail:
	if (rv != KW_OK && rv != KW_ERR_IO)
		audit_failure(ctx, email, client, err[0] != '\0' ? err : kw_strerror(rv));
	json_decref(ev.detail);
	json_decref(arr);
	kms_escrow_keys_free(list, n);
	kw_buf_free(&etk);
	kw_buf_free(&wk);
	return rv;
}
