/* Key-protection password check (see kms_password.c). */
#ifndef KMS_PASSWORD_H
#define KMS_PASSWORD_H

#include "kms_http.h"

/* true when no password is set or pw is right; else resp carries a 401
 * (missing/wrong) or 429 (locked) error. */
bool kms_password_check(kms_ctx *ctx, const char *email, const char *pw,
    const kms_req *req, kms_resp *resp);

#endif
