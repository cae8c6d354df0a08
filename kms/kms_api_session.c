/* Bearer tokens: user sessions (after email validation) and the admin
 * token. Only SHA-256 hashes of tokens are stored. */
#include <string.h>

#include "kms_http.h"
#include "kw_secret.h"

char *
kms_session_email(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	uint8_t h[32];
	sqlite3_stmt *st = NULL;
	char *email = NULL;

	if (req->bearer != NULL && strlen(req->bearer) == 64) {
		kms_sha256(req->bearer, 64, h);
		st = kms_db_prepare(ctx->db, "SELECT email FROM sessions WHERE hash = ?"
		    " AND expires > ?", "bi", h, sizeof(h), (int64_t)kms_now());
		if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
			email = kms_db_text(st, 0);
		sqlite3_finalize(st);
	}
	if (email == NULL)
		kms_resp_error(resp, 401, "unauthorized",
		    "a valid session is required (validate the email address first)");
	return email;
}

bool
kms_admin_ok(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	uint8_t h[32];
	char hex[65];
	sqlite3_stmt *st;
	bool ok = false;

	if (req->bearer != NULL) {
		kms_sha256(req->bearer, strlen(req->bearer), h);
		kw_hex_encode(h, sizeof(h), hex, sizeof(hex));
		st = kms_db_prepare(ctx->db, "SELECT v FROM meta WHERE k = 'admin_token_sha256'", "");
		if (st != NULL && sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_bytes(st, 0) == 64)
			ok = kw_timingsafe_eq(sqlite3_column_text(st, 0), hex, 64);
		sqlite3_finalize(st);
	}
	if (!ok)
		kms_resp_error(resp, 401, "unauthorized", "the admin token is required");
	return ok;
}
