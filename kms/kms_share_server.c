/* The share-server role: stores one share of each escrowed key, sealed
 * with AES-256-GCM under this server's own HSM key (AAD = key id and
 * index, so a sealed share cannot be swapped between records). Only the
 * front, holding the bearer token whose SHA-256 is in the meta table,
 * may call it.
 *   PUT    /v1/shares/{key_id}/{index}  {"share": base64}   201 / 409
 *   GET    /v1/shares/{key_id}/{index}  -> {"share": base64}
 *   DELETE /v1/shares/{key_id}/{index}                       200
 *   GET    /v1/health */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kms_http.h"
#include "kw_secret.h"

static bool
auth_ok(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	sqlite3_stmt *st;
	uint8_t h[32], want[32];
	kw_buf hb;
	bool ok = false;

	kw_buf_init(&hb, 64);
	st = kms_db_prepare(ctx->db, "SELECT v FROM meta WHERE k = 'token_sha256'", "");
	if (req->bearer != NULL && st != NULL && sqlite3_step(st) == SQLITE_ROW &&
	    kw_hex_decode((const char *)sqlite3_column_text(st, 0), &hb) == KW_OK &&
	    hb.len == 32) {
		memcpy(want, hb.data, 32);
		kms_sha256(req->bearer, strlen(req->bearer), h);
		ok = kw_timingsafe_eq(h, want, 32);
	}
	sqlite3_finalize(st);
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
	rv = kms_db_exec(ctx->db, "INSERT INTO shares (key_id, idx, sealed, created)"
	    " VALUES (?,?,?,?)", "tibi", id, (int64_t)idx, sealed.data, sealed.len,
	    (int64_t)kms_now());
	if (rv == KW_ERR_CONDITIONS)
		kms_resp_error(resp, 409, "exists", "share %s/%ld already stored", id, idx);
	else if (rv != KW_OK)
		kms_resp_error(resp, 500, "storage_error", "cannot store the share");
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
	sqlite3_stmt *st;
	kw_buf share;

	if (!auth_ok(ctx, req, resp) || !parse_path(req->path, resp, id, &idx))
		return;
	kw_buf_init(&share, 8192);
	aad_of(id, idx, aad);
	st = kms_db_prepare(ctx->db, "SELECT sealed FROM shares WHERE key_id = ? AND idx = ?",
	    "ti", id, (int64_t)idx);
	if (st == NULL || sqlite3_step(st) != SQLITE_ROW)
		kms_resp_error(resp, 404, "not_found", "no share %s/%ld", id, idx);
	else if (kms_hsm_open_sealed(ctx->hsm, KMS_LABEL_SHARE_KEY,
	    kw_view_make(aad, strlen(aad)), kw_view_make(sqlite3_column_blob(st, 0),
	    (size_t)sqlite3_column_bytes(st, 0)), &share) != KW_OK)
		kms_resp_error(resp, 500, "integrity_error", "share %s/%ld does not open", id, idx);
	else if ((b64 = kms_b64_encode(share.data, share.len)) == NULL)
		kms_resp_error(resp, 500, "internal", "out of memory");
	else
		kms_resp_json(resp, 200, json_pack("{s:s}", "share", b64));
	sqlite3_finalize(st);
	kw_freezero(b64, b64 != NULL ? strlen(b64) : 0);
	kw_buf_free(&share);
}

static void
share_delete(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	char id[33];
	long idx;

	if (!auth_ok(ctx, req, resp) || !parse_path(req->path, resp, id, &idx))
		return;
	if (kms_db_exec(ctx->db, "DELETE FROM shares WHERE key_id = ? AND idx = ?", "ti",
	    id, (int64_t)idx) != KW_OK)
		kms_resp_error(resp, 500, "storage_error", "cannot delete");
	else
		kms_resp_json(resp, 200, json_pack("{s:b}", "deleted", 1));
}

static void
share_health(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	kms_resp_json(resp, 200, json_pack("{s:s,s:s}", "status", "ok", "role", "share"));
}

const kms_route kms_share_routes[] = {
	{ "GET", "/v1/health", share_health, false },
	{ "PUT", "/v1/shares/", share_put, true },
	{ "GET", "/v1/shares/", share_get, false },
	{ "DELETE", "/v1/shares/", share_delete, false },
	{ NULL, NULL, NULL, false },
};
