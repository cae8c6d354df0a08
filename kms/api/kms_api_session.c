/* Authentication of API requests and the mapping of service errors. */
#include <string.h>

#include "kms_api.h"

bool
kms_api_session(kms_ctx *ctx, const kms_req *req, kms_resp *resp, char *email)
{
	kw_rv rv = kms_session_email(ctx, req->bearer, email);

	if (rv == KW_OK)
		return true;
	if (rv == KW_ERR_IO)
		kms_resp_error(resp, 503, "storage_unavailable", "the session store cannot be read");
	else
		kms_resp_error(resp, 401, "unauthorized",
		    "a valid session is required (validate the email address first)");
	return false;
}

bool
kms_api_admin(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	if (kms_admin_token_ok(ctx, req->bearer))
		return true;
	kms_resp_error(resp, 401, "unauthorized", "the admin token is required");
	return false;
}

void
kms_api_fail(kms_resp *resp, kw_rv rv, const char *what, const char *err)
{
	const char *why = err != NULL && err[0] != '\0' ? err : kw_strerror(rv);

	switch (rv) {
	case KW_ERR_IO:
		kms_resp_error(resp, 503, "storage_unavailable", "%s: storage or audit log "
		    "unavailable, nothing was changed (%.200s)", what, why);
		break;
	case KW_ERR_NO_SERVICE:
		kms_resp_error(resp, 503, "share_server_unavailable", "%s: %.250s", what, why);
		break;
	case KW_ERR_FORMAT:
		kms_resp_error(resp, 500, "integrity_error", "%s: %.250s", what, why);
		break;
	case KW_ERR_NOT_FOUND:
		kms_resp_error(resp, 404, "not_found", "%s: not found", what);
		break;
	case KW_ERR_CRYPTO:
		kms_resp_error(resp, 500, "hsm_error", "%s: %.250s", what, why);
		break;
	default:
		kms_resp_error(resp, 500, "internal", "%s: %.250s", what, why);
	}
}
