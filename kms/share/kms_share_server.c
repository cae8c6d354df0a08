/* The share-server role: stores one share of each escrowed key, sealed
 * with AES-256-GCM under this server's own HSM key (AAD = key id and
 * index, so a sealed share cannot be swapped between records). Only the
 * front, holding the bearer token whose SHA-256 is in the meta table,
 * may call it. Storage is the share role's part of the store interface.
 *   PUT    /v1/shares/{key_id}/{index}  {"share": base64}   201 / 409
 *   GET    /v1/shares/{key_id}/{index}  -> {"share": base64}
 *   DELETE /v1/shares/{key_id}/{index}                       200
 *   GET    /v1/health */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kms_share_server.h"
#include "kw_secret.h"

static bool
auth_ok(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	char hex[80];
	uint8_t h[32], want[32];
	kw_buf hb;
	bool ok = false;

	kw_buf_init(&hb, 64);
	if (req->bearer != NULL &&
	    kms_store_meta_get(ctx->store, "token_sha256", hex, sizeof(hex)) == KW_OK &&
	    kw_hex_decode(hex, &hb) == KW_OK && hb.len == 32) {
		memcpy(want, hb.data, 32);
		kms_sha256(req->bearer, strlen(req->bearer), h);
		ok = kw_timingsafe_eq(h, want, 32);
	}
	kw_buf_free(&hb);
	if (!ok)
		kms_resp_error(resp, 401, "unauthorized", "a valid share token is required");
	return ok;
}

/* "/v1/shares/ID/N": ID is 32 hex digits, N in 1..255. */
static bool
parse_path(const char *path, kms_resp *resp, char id[33], long *idx)
{
	const char *p = path + strlen("/v1/shares/");
	char *end;
	size_t i;

	for (i = 0; i < 32; i++)
		if (!isxdigit((unsigned char)p[i]))
			goto bad;
	if (p[32] != '/')
		goto bad;
	memcpy(id, p, 32);
	id[32] = '\0';
	*idx = strtol(p + 33, &end, 10);
	if (*end != '\0' || *idx < 1 || *idx > 255)
		goto bad;
	return true;
bad:
	kms_resp_error(resp, 400, "bad_request", "path must be /v1/shares/<32 hex>/<index>");
	return false;
}

static void
aad_of(const char *id, long idx, char aad[48])
{
	snprintf(aad, 48, "%s/%ld", id, idx);
}

static void
share_put(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	char id[33], aad[48];
	long idx;
	const char *b64;
	kw_buf share, sealed;
	kw_rv rv;

	if (!auth_ok(ctx, req, resp) || !parse_path(req->path, resp, id, &idx) ||
	    (b64 = kms_req_str(req, resp, "share", 8192)) == NULL)
		return;
	kw_buf_init(&share, 8192);
	kw_buf_init(&sealed, 8192);
	aad_of(id, idx, aad);
	if (kms_b64_decode(b64, &share) != KW_OK || share.len == 0) {
		kms_resp_error(resp, 400, "bad_request", "share is not base64");
		goto done;
	}
	if (kms_hsm_seal(ctx->hsm, KMS_LABEL_SHARE_KEY, kw_view_make(aad, strlen(aad)),
	    kw_buf_view(&share), &sealed) != KW_OK) {
		kms_resp_error(resp, 500, "hsm_error", "cannot seal the share");
		goto done;
	}
	rv = kms_store_share_put(ctx->store, id, idx, kw_buf_view(&sealed), kms_now());
	if (rv == KW_ERR_CONDITIONS)
		kms_resp_error(resp, 409, "exists", "share %s/%ld already stored", id, idx);
	else if (rv != KW_OK)
		kms_resp_error(resp, 503, "storage_unavailable", "cannot store the share");
	else
		kms_resp_json(resp, 201, json_pack("{s:s,s:I}", "key_id", id,
		    "index", (json_int_t)idx));
done:
	kw_buf_free(&share);
	kw_buf_free(&sealed);
}

static void
share_get(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	char id[33], aad[48], *b64 = NULL;
	long idx;
	kw_buf share, sealed;
	kw_rv rv;

	if (!auth_ok(ctx, req, resp) || !parse_path(req->path, resp, id, &idx))
		return;
	kw_buf_init(&share, 8192);
	kw_buf_init(&sealed, 8192);
	aad_of(id, idx, aad);
	rv = kms_store_share_get(ctx->store, id, idx, &sealed);
	if (rv == KW_ERR_NOT_FOUND)
		kms_resp_error(resp, 404, "not_found", "no share %s/%ld", id, idx);
	else if (rv != KW_OK)
		kms_resp_error(resp, 503, "storage_unavailable", "cannot read the share");
	else if (kms_hsm_open_sealed(ctx->hsm, KMS_LABEL_SHARE_KEY,
	    kw_view_make(aad, strlen(aad)), kw_buf_view(&sealed), &share) != KW_OK)
		kms_resp_error(resp, 500, "integrity_error", "share %s/%ld does not open", id, idx);
	else if ((b64 = kms_b64_encode(share.data, share.len)) == NULL)
		kms_resp_error(resp, 500, "internal", "out of memory");
	else
		kms_resp_json(resp, 200, json_pack("{s:s}", "share", b64));
	kw_freezero(b64, b64 != NULL ? strlen(b64) : 0);
	kw_buf_free(&share);
	kw_buf_free(&sealed);
}

static void
share_delete(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	char id[33];
	long idx;

	if (!auth_ok(ctx, req, resp) || !parse_path(req->path, resp, id, &idx))
		return;
	if (kms_store_share_delete(ctx->store, id, idx) != KW_OK)
		kms_resp_error(resp, 503, "storage_unavailable", "cannot delete");
	else
		kms_resp_json(resp, 200, json_pack("{s:b}", "deleted", 1));
}

static void
share_health(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	bool ok = kms_store_ping(ctx->store) == KW_OK;

	(void)req;
	kms_resp_json(resp, ok ? 200 : 503, json_pack("{s:s,s:s,s:s}", "status",
	    ok ? "ok" : "unavailable", "role", "share", "db", ok ? "ok" : "unreachable"));
}

const kms_route kms_share_routes[] = {
	{ "GET", "/v1/health", share_health, false },
	{ "PUT", "/v1/shares/", share_put, true },
	{ "GET", "/v1/shares/", share_get, false },
	{ "DELETE", "/v1/shares/", share_delete, false },
	{ NULL, NULL, NULL, false },
};
