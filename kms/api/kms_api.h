/* The front's API: one file per endpoint family. Handlers parse and check
 * the request, call a service (service/kms_service.h) and turn its result
 * into an answer; none touches storage, the HSM or a share server. */
#ifndef KMS_API_H
#define KMS_API_H

#include "kms_http.h"
#include "kms_service.h"

extern const kms_route kms_front_routes[];

void kms_api_directory(kms_ctx *ctx, const kms_req *req, kms_resp *resp);
void kms_api_validation_start(kms_ctx *ctx, const kms_req *req, kms_resp *resp);
void kms_api_validation_finish(kms_ctx *ctx, const kms_req *req, kms_resp *resp);
void kms_api_password_set(kms_ctx *ctx, const kms_req *req, kms_resp *resp);
void kms_api_cert_sign(kms_ctx *ctx, const kms_req *req, kms_resp *resp);
void kms_api_cert_revoke(kms_ctx *ctx, const kms_req *req, kms_resp *resp);
void kms_api_delivery(kms_ctx *ctx, const kms_req *req, kms_resp *resp);
void kms_api_admin_identity(kms_ctx *ctx, const kms_req *req, kms_resp *resp);
void kms_api_admin_rotate(kms_ctx *ctx, const kms_req *req, kms_resp *resp);
void kms_api_admin_revoke(kms_ctx *ctx, const kms_req *req, kms_resp *resp);

/* ---- kms_api_session.c ------------------------------------------------ */
/* The session's address into email (256 bytes), or false with a 401. */
bool kms_api_session(kms_ctx *ctx, const kms_req *req, kms_resp *resp, char *email);
bool kms_api_admin(kms_ctx *ctx, const kms_req *req, kms_resp *resp);
/* A service failure as an answer (what says what was attempted). */
void kms_api_fail(kms_resp *resp, kw_rv rv, const char *what, const char *err);
/* Password check for delivery/replacement (kms_api_validation.c): true
 * when none is set or pw is right, else the answer is set. */
bool kms_api_password_ok(kms_ctx *ctx, const char *email, const char *pw,
    const kms_req *req, kms_resp *resp);
/* Shared by the user and admin revocation endpoints (owner NULL: admin). */
void kms_api_revoke(kms_ctx *ctx, const kms_req *req, kms_resp *resp, const char *owner);

#endif
