/* The front's route table and its public, unauthenticated endpoints:
 * health, the CA certificate, the CRL and the directory. */
#include <stdlib.h>
#include <string.h>

#include "kms_api.h"

static void
api_health(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	bool ok;
	json_t *j = kms_health(ctx, &ok);

	(void)req;
	if (j == NULL)
		kms_resp_error(resp, 500, "internal", "out of memory");
	else
		kms_resp_json(resp, ok ? 200 : 503, j);
}

static void
api_ca(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	const char *pem = kms_ca_pem(ctx);

	(void)req;
	resp->status = 200;
	resp->content_type = "application/pem-certificate-chain";
	if (kw_buf_put(&resp->raw, pem, strlen(pem)) != KW_OK)
		kms_resp_error(resp, 500, "internal", "out of memory");
}

static void
api_crl(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	kw_rv rv;

	(void)req;
	if ((rv = kms_crl(ctx, &resp->raw)) != KW_OK) {
		kms_api_fail(resp, rv, "cannot produce the CRL", NULL);
		return;
	}
	resp->status = 200;
	resp->content_type = "application/pkix-crl";
}

void
kms_api_directory(kms_ctx *ctx, const kms_req *req, kms_resp *resp)
{
	char *email = kms_email_normalize(kms_req_query(req, "email")), *pem = NULL;
	char serial[33];
	int64_t not_after;
	kw_rv rv;

	if (email == NULL) {
		kms_resp_error(resp, 400, "bad_email", "?email= must be a valid address");
		return;
	}
	rv = kms_directory_get(ctx, email, &pem, serial, &not_after);
	if (rv == KW_ERR_NOT_FOUND)
		kms_resp_error(resp, 404, "not_found", "no encryption certificate for %.254s",
		    email);
	else if (rv != KW_OK)
		kms_api_fail(resp, rv, "directory", NULL);
	else
		kms_resp_json(resp, 200, json_pack("{s:s,s:s,s:s,s:I}", "email", email,
		    "cert", pem, "serial", serial, "not_after", (json_int_t)not_after));
	free(pem);
	free(email);
}

const kms_route kms_front_routes[] = {
	{ "GET", "/v1/health", api_health, false },
	{ "GET", "/v1/ca", api_ca, false },
	{ "GET", "/v1/crl", api_crl, false },
	{ "GET", "/v1/directory", kms_api_directory, false },
	{ "POST", "/v1/validation/start", kms_api_validation_start, true },
	{ "POST", "/v1/validation/finish", kms_api_validation_finish, true },
	{ "POST", "/v1/password", kms_api_password_set, true },
	{ "POST", "/v1/certs/sign", kms_api_cert_sign, true },
	{ "POST", "/v1/certs/revoke", kms_api_cert_revoke, true },
	{ "POST", "/v1/keys/delivery", kms_api_delivery, true },
	{ "POST", "/v1/admin/identity", kms_api_admin_identity, true },
	{ "POST", "/v1/admin/rotate", kms_api_admin_rotate, true },
	{ "POST", "/v1/admin/revoke", kms_api_admin_revoke, true },
	{ NULL, NULL, NULL, false },
};
