/* The certificate directory: any sender looks up a recipient's current
 * encryption certificate.  GET /v1/directory?email=ADDR
 *   -> {"email","cert" (PEM),"serial","not_after"} or 404. */
#include <stdlib.h>

#include "kms_api.h"

void
kms_api_directory(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	const char *raw = kms_req_query(req, "email");
	char *email = kms_email_normalize(raw), *pem = NULL;
	sqlite3_stmt *st = NULL;

	if (email == NULL) {
		kms_resp_error(resp, 400, "bad_email", "?email= must be a valid address");
		return;
	}
	st = kms_db_prepare(ctx->db, "SELECT c.der, c.serial, c.not_after FROM enc_keys k"
	    " JOIN certs c ON c.serial = k.serial WHERE k.email = ? AND c.revoked_at IS NULL"
	    " ORDER BY k.seq DESC LIMIT 1", "t", email);
	if (st == NULL || sqlite3_step(st) != SQLITE_ROW)
		kms_resp_error(resp, 404, "not_found", "no encryption certificate for %.254s",
		    email);
	else if ((pem = kms_der_to_pem("CERTIFICATE", kw_view_make(
	    sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0)))) == NULL)
		kms_resp_error(resp, 500, "internal", "out of memory");
	else
		kms_resp_json(resp, 200, json_pack("{s:s,s:s,s:s,s:I}", "email", email,
		    "cert", pem, "serial", (const char *)sqlite3_column_text(st, 1),
		    "not_after", (json_int_t)sqlite3_column_int64(st, 2)));
	sqlite3_finalize(st);
	free(pem);
	free(email);
}
