/* Admin endpoints (Authorization: Bearer <STATE/admin.token>):
 *   POST /v1/admin/identity {"email","level":"V1".."V4","name","organization"}
 *   POST /v1/admin/rotate   {"email"}   force a new encryption key now
 *   POST /v1/admin/revoke   {"serial","reason"} */
#include <stdlib.h>
#include <string.h>

#include "kms_api.h"

static const char *
opt_str(const kms_req *req, const char *name)
{
	json_t *v = json_object_get(req->json, name);

	return json_is_string(v) && json_string_length(v) <= 200 &&
	    strlen(json_string_value(v)) == json_string_length(v) ? json_string_value(v) : NULL;
}

void
kms_api_admin_identity(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	const char *level, *name = opt_str(req, "name"), *org = opt_str(req, "organization");
	char *email = NULL;
	bool named, orgd;
	kw_rv rv;

	if (!kms_api_admin(ctx, req, resp) ||
	    (level = kms_req_str(req, resp, "level", 2)) == NULL)
		return;
	if ((email = kms_email_normalize(opt_str(req, "email"))) == NULL) {
		kms_resp_error(resp, 400, "bad_email", "email must be a valid address");
		return;
	}
	named = strcmp(level, "V2") == 0 || strcmp(level, "V4") == 0;
	orgd = strcmp(level, "V3") == 0 || strcmp(level, "V4") == 0;
	if ((strcmp(level, "V1") != 0 && !named && !orgd) || (named && name == NULL) ||
	    (orgd && org == NULL))
		kms_resp_error(resp, 400, "bad_request", "level V1..V4; V2/V4 need name, "
		    "V3/V4 need organization");
	else if ((rv = kms_identity_set(ctx, email, level, name, org, req->client)) != KW_OK)
		kms_api_fail(resp, rv, "cannot record the identity", NULL);
	else
		kms_resp_json(resp, 200, json_pack("{s:s,s:s}", "email", email, "level", level));
	free(email);
}

void
kms_api_admin_rotate(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	char *email, err[300] = "";
	bool made;
	kw_rv rv;

	if (!kms_api_admin(ctx, req, resp))
		return;
	if ((email = kms_email_normalize(opt_str(req, "email"))) == NULL) {
		kms_resp_error(resp, 400, "bad_email", "email must be a valid address");
		return;
	}
	if ((rv = kms_escrow_create(ctx, email, req->client, "admin rotation", -1, &made, err,
	    sizeof(err))) != KW_OK)
		kms_api_fail(resp, rv, "rotation failed", err);
	else
		kms_resp_json(resp, 200, json_pack("{s:s,s:s}", "email", email, "status",
		    "rotated"));
	free(email);
}

void
kms_api_admin_revoke(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	if (kms_api_admin(ctx, req, resp))
		kms_api_revoke(ctx, req, resp, NULL);
}
