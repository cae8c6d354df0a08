/* Front -> share servers over HTTPS (see kms_share_client.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "kms_share_client.h"
#include "kw_log.h"
#include "kw_secret.h"

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	kw_buf *b = arg;

	if (nmemb != 0 && size > SIZE_MAX / nmemb)
		return 0;
	return kw_buf_put(b, p, size * nmemb) == KW_OK ? size * nmemb : 0;
}

/* One request to share server i (0-based); *status = HTTP status. */
static kw_rv
call(kms_ctx *ctx, long i, const char *method, const char *key_id,
    const char *body, long *status, kw_buf *out, char *err, size_t errsz)
{
	char url[512], auth[300];
	struct curl_slist *hdr = NULL;
	CURL *c = curl_easy_init();
	CURLcode cc;
	kw_rv rv = KW_ERR_NO_SERVICE;

	*status = 0;
	if (c == NULL)
		return KW_ERR_NOMEM;
	snprintf(url, sizeof(url), "%s/v1/shares/%s/%ld", ctx->cfg.share_url[i], key_id, i + 1);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %.*s",
	    (int)ctx->share_token.len, (const char *)ctx->share_token.data);
	hdr = curl_slist_append(hdr, auth);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_CAINFO, ctx->cfg.share_cert[i]);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, ctx->cfg.share_timeout);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if ((cc = curl_easy_perform(c)) != CURLE_OK)
		snprintf(err, errsz, "share server %ld (%.200s) unreachable: %s", i + 1,
		    ctx->cfg.share_url[i], curl_easy_strerror(cc));
	else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
		rv = KW_OK;
	}
	kw_memzero(auth, sizeof(auth));
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return rv;
}

static kw_rv
put_one(kms_ctx *ctx, long i, const char *key_id, kw_view share, char *err,
    size_t errsz)
{
	char *b64 = kms_b64_encode(share.ptr, share.len), *body = NULL;
	json_t *j;
	kw_buf out;
	long status;
	kw_rv rv = KW_ERR_NOMEM;

	kw_buf_init(&out, 1 << 16);
	if (b64 == NULL || (j = json_pack("{s:s}", "share", b64)) == NULL)
		goto fail;
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (body == NULL)
		goto fail;
	if ((rv = call(ctx, i, "PUT", key_id, body, &status, &out, err, errsz)) == KW_OK &&
	    status != 201) {
		snprintf(err, errsz, "share server %ld refused the share (HTTP %ld)", i + 1,
		    status);
		rv = KW_ERR_PROTOCOL;
	}
fail:
	kw_freezero(body, body != NULL ? strlen(body) : 0);
	kw_freezero(b64, b64 != NULL ? strlen(b64) : 0);
	kw_buf_free(&out);
	return rv;
}

static void
delete_one(kms_ctx *ctx, long i, const char *key_id)
{
	char err[300];
	kw_buf out;
	long status;

	kw_buf_init(&out, 1 << 16);
	if (call(ctx, i, "DELETE", key_id, NULL, &status, &out, err, sizeof(err)) != KW_OK)
		kw_warn("%s (share left behind; harmless alone)", err);
	kw_buf_free(&out);
}

kw_rv
kms_shares_store(kms_ctx *ctx, const char *key_id, const kw_buf *shares,
    char *err, size_t errsz)
{
	long i, j;
	kw_rv rv = KW_OK;

	for (i = 0; i < ctx->cfg.share_count && rv == KW_OK; i++)
		rv = put_one(ctx, i, key_id, kw_buf_view(&shares[i]), err, errsz);
	if (rv != KW_OK)
		for (j = 0; j < i - 1; j++)
			delete_one(ctx, j, key_id);
	return rv;
}

static kw_rv
get_one(kms_ctx *ctx, long i, const char *key_id, kw_buf *share, char *err,
    size_t errsz)
{
	json_t *j = NULL;
	const char *b64;
	kw_buf out;
	long status;
	kw_rv rv;

	kw_buf_init(&out, 1 << 16);
	if ((rv = call(ctx, i, "GET", key_id, NULL, &status, &out, err, errsz)) != KW_OK)
		goto fail;
	rv = KW_ERR_PROTOCOL;
	if (status != 200) {
		snprintf(err, errsz, "share server %ld has no share for this key (HTTP %ld)",
		    i + 1, status);
		goto fail;
	}
	j = json_loadb((const char *)out.data, out.len, 0, NULL);
	if ((b64 = json_string_value(json_object_get(j, "share"))) == NULL ||
	    kms_b64_decode(b64, share) != KW_OK) {
		snprintf(err, errsz, "share server %ld sent a malformed share", i + 1);
		goto fail;
	}
	rv = KW_OK;
fail:
	json_decref(j);
	kw_buf_free(&out);
	return rv;
}

kw_rv
kms_shares_fetch(kms_ctx *ctx, const char *key_id, kw_buf *bufs, kw_view *views,
    unsigned *got, char *err, size_t errsz)
{
	long i;

	*got = 0;
	for (i = 0; i < ctx->cfg.share_count && *got < (unsigned)ctx->cfg.threshold; i++) {
		if (get_one(ctx, i, key_id, &bufs[*got], err, errsz) != KW_OK)
			continue;
		views[*got] = kw_buf_view(&bufs[*got]);
		(*got)++;
	}
	return *got >= (unsigned)ctx->cfg.threshold ? KW_OK : KW_ERR_NO_SERVICE;
}

void
kms_shares_delete(kms_ctx *ctx, const char *key_id)
{
	long i;

	for (i = 0; i < ctx->cfg.share_count; i++)
		delete_one(ctx, i, key_id);
}
