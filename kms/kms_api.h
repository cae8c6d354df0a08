/* Handlers of the front's API, one file per endpoint family. */
#ifndef KMS_API_H
#define KMS_API_H

#include "kms_http.h"

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



/* Shared by the user and admin revocation endpoints (owner NULL: admin). */
void kms_revoke(kms_ctx *ctx, const kms_req *req, kms_resp *resp, const char *owner);
#endif
