/* The key-protection password (enhanced protection level): an Argon2id
 * verifier (libargon2, encoded form with its own salt and parameters).
 * Wrong guesses count; password.max_failures of them lock delivery for
 * password.lock_seconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>

#include "kms_api.h"
#include "kms_password.h"
#include "kw_secret.h"

#define PW_MIN 8
#define PW_MAX 1024

static kw_rv
make_verifier(kms_ctx *ctx, const char *pw, char *out, size_t outsz)
{
	uint8_t salt[16];
	kw_rv rv;

	if ((rv = kms_random(salt, sizeof(salt))) != KW_OK)
		return rv;
	if (argon2id_hash_encoded((uint32_t)ctx->cfg.pw_t_cost,
	    (uint32_t)ctx->cfg.pw_m_cost_kib, (uint32_t)ctx->cfg.pw_parallelism, pw,
	    strlen(pw), salt, sizeof(salt), 32, out, outsz) != ARGON2_OK)
		return KW_ERR_CRYPTO;
	return KW_OK;
}

/* 1: no password set or right; 0: wrong/locked/missing (resp set). */
bool
kms_password_check(kms_ctx *ctx, const char *email, const char *pw,
    const kms_req *req, kms_resp *resp)
{
	sqlite3_stmt *st;
	char *verifier = NULL;
	int64_t failures = 0, locked_until = 0;
	bool ok = false;

	st = kms_db_prepare(ctx->db, "SELECT verifier, failures, locked_until FROM passwords"
	    " WHERE email = ?", "t", email);
	if (st == NULL) {
		kms_resp_error(resp, 500, "storage_error", "cannot read the password");
		return false;
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return true;
	}
	verifier = kms_db_text(st, 0);
	failures = sqlite3_column_int64(st, 1);
	locked_until = sqlite3_column_int64(st, 2);
	sqlite3_finalize(st);
	if (locked_until > (int64_t)kms_now())
		kms_resp_error(resp, 429, "password_locked", "too many wrong passwords; "
		    "try again in %lld seconds", (long long)(locked_until - kms_now()));
	else if (pw == NULL)
		kms_resp_error(resp, 401, "password_required",
		    "this address has a key-protection password");
	else if (verifier != NULL && strlen(pw) <= PW_MAX &&
	    argon2id_verify(verifier, pw, strlen(pw)) == ARGON2_OK) {
		ok = true;
		kms_db_exec(ctx->db, "UPDATE passwords SET failures = 0 WHERE email = ?", "t",
		    email);
	} else {
		failures++;
		kms_db_exec(ctx->db, "UPDATE passwords SET failures = ?, locked_until = ?"
		    " WHERE email = ?", "iit", failures >= ctx->cfg.pw_max_failures ?
		    (int64_t)0 : failures, failures >= ctx->cfg.pw_max_failures ?
		    (int64_t)(kms_now() + ctx->cfg.pw_lock_seconds) : (int64_t)0, email);
		kms_audit(ctx, "password_failed", email, req->client,
		    json_pack("{s:I}", "failures", (json_int_t)failures));
		kms_resp_error(resp, 401, "wrong_password", "the key-protection password is wrong");
	}
	free(verifier);
	return ok;
}

void
kms_api_password_set(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	char *email, verifier[256];
	const char *pw, *old;
	json_t *jold;

	if ((email = kms_session_email(ctx, req, resp)) == NULL)
		return;
	if ((pw = kms_req_str(req, resp, "password", PW_MAX)) == NULL)
		goto done;
	if (strlen(pw) < PW_MIN) {
		kms_resp_error(resp, 400, "weak_password", "at least %d characters", PW_MIN);
		goto done;
	}
	jold = json_object_get(req->json, "old_password");
	old = json_is_string(jold) ? json_string_value(jold) : NULL;
	/* Changing an existing password needs the old one. */
	if (!kms_password_check(ctx, email, old, req, resp))
		goto done;
	if (make_verifier(ctx, pw, verifier, sizeof(verifier)) != KW_OK ||
	    kms_db_exec(ctx->db, "INSERT OR REPLACE INTO passwords (email, verifier,"
	    " failures, locked_until) VALUES (?, ?, 0, 0)", "tt", email, verifier) != KW_OK) {
		kms_resp_error(resp, 500, "internal", "cannot store the password verifier");
		goto done;
	}
	kms_audit(ctx, "password_set", email, req->client, NULL);
	kms_resp_json(resp, 200, json_pack("{s:s}", "status", "set"));
done:
	kw_memzero(verifier, sizeof(verifier));
	free(email);
}
