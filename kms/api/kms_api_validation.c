/* Email control validation and key-protection password endpoints (the work is in kms_validation.c).
 *   POST /v1/validation/start  {"email"}          -> 202 (mail queued)
 *   POST /v1/validation/finish {"email","value"}  -> 200 session token
 * finish answers every failure the same way (400 wrong_value): whether a
 * value is pending for an address, expired or used up is not told to
 * whoever guesses. */
#include <stdlib.h>
#include <string.h>

#include "kms_api.h"
#include "kw_secret.h"

void
kms_api_validation_start(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	const char *raw;
	char *email;
	kms_rate_which limited;
	kw_rv rv;

	if ((raw = kms_req_str(req, resp, "email", 254)) == NULL)
		return;
	if ((email = kms_email_normalize(raw)) == NULL) {
		kms_resp_error(resp, 400, "bad_email", "not a valid email address");
		return;
	}
	rv = kms_validation_start(ctx, email, req->client, &limited);
	if (rv == KW_ERR_CONDITIONS && limited == KMS_RATE_ADDRESS)
		kms_resp_error(resp, 429, "rate_limited",
		    "too many validation requests for this address; try again later");
	else if (rv == KW_ERR_CONDITIONS && limited == KMS_RATE_CLIENT)
		kms_resp_error(resp, 429, "rate_limited",
		    "too many validation requests from this client; try again later");
	else if (rv != KW_OK)
		kms_api_fail(resp, rv, "cannot start the validation", NULL);
	else
		kms_resp_json(resp, 202, json_pack("{s:s,s:I}", "status", "sent",
		    "expires_in", (json_int_t)ctx->cfg.validation_ttl));
	free(email);
}

void
kms_api_validation_finish(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	const char *raw, *value;
	char *email, token[65];
	kms_ch_result res;
	kw_rv rv;

	if ((raw = kms_req_str(req, resp, "email", 254)) == NULL ||
	    (value = kms_req_str(req, resp, "value", 64)) == NULL)
		return;
	if ((email = kms_email_normalize(raw)) == NULL) {
		kms_resp_error(resp, 400, "bad_email", "not a valid email address");
		return;
	}
	rv = kms_validation_finish(ctx, email, value, req->client, token, &res);
	if (rv != KW_OK)
		kms_api_fail(resp, rv, "cannot check the validation", NULL);
	else if (res != KMS_CH_OK)
		kms_resp_error(resp, 400, "wrong_value", "the validation value is wrong, "
		    "expired or used up; request a new one if in doubt");
	else
		kms_resp_json(resp, 200, json_pack("{s:s,s:s,s:I}", "email", email, "session",
		    token, "expires_in", (json_int_t)ctx->cfg.session_ttl));
	kw_memzero(token, sizeof(token));
	free(email);
}

#define PW_MIN 8
#define PW_MAX 1024

/* false with the answer set unless no password is set or pw is right. */
static bool
password_ok(kms_ctx *ctx, const char *email, const char *pw, const kms_req *req,
    kms_resp *resp)
{
	kms_pw_verdict v;
	int64_t wait;
	kw_rv rv = kms_password_check(ctx, email, pw, req->client, &v, &wait);

	if (rv != KW_OK && v != KMS_PW_WRONG) {
		kms_api_fail(resp, rv, "cannot check the password", NULL);
		return false;
	}
	switch (v) {
	case KMS_PW_OK:
		return true;
	case KMS_PW_LOCKED:
		kms_resp_error(resp, 429, "password_locked", "too many wrong passwords; "
		    "try again in %lld seconds", (long long)wait);
		break;
	case KMS_PW_REQUIRED:
		kms_resp_error(resp, 401, "password_required",
		    "this address has a key-protection password");
		break;
	default:
		if (rv != KW_OK)
			kms_api_fail(resp, rv, "cannot count the wrong password", NULL);
		else
			kms_resp_error(resp, 401, "wrong_password",
			    "the key-protection password is wrong");
	}
	return false;
}

void
kms_api_password_set(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	char email[256];
	const char *pw;
	json_t *jold;
	kw_rv rv;

	if (!kms_api_session(ctx, req, resp, email) ||
	    (pw = kms_req_str(req, resp, "password", PW_MAX)) == NULL)
		return;
	if (strlen(pw) < PW_MIN) {
		kms_resp_error(resp, 400, "weak_password", "at least %d characters", PW_MIN);
		return;
	}
	jold = json_object_get(req->json, "old_password");
	/* Changing an existing password needs the old one. */
	if (!password_ok(ctx, email, json_is_string(jold) ? json_string_value(jold) : NULL,
	    req, resp))
		return;
	if ((rv = kms_password_set(ctx, email, pw, req->client)) != KW_OK)
		kms_api_fail(resp, rv, "cannot store the password verifier", NULL);
	else
		kms_resp_json(resp, 200, json_pack("{s:s}", "status", "set"));
}

bool
kms_api_password_ok(kms_ctx *ctx, const char *email, const char *pw, const kms_req *req,
    kms_resp *resp)
{
	return password_ok(ctx, email, pw, req, resp);
}
