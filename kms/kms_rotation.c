/* Rotation of encryption keys: when the current key's certificate ends
 * within ca.rotate_before_days, a new key pair becomes current. Older keys
 * are never deleted: delivery hands out the whole history so that old mail
 * stays readable. A failed rotation leaves the old key current. */
#include <stdio.h>

#include "kms_escrow.h"

kw_rv
kms_rotation_check(kms_ctx *ctx, const char *email, const char *client, bool *made,
    char *err, size_t errsz)
{
	kms_escrow_key cur;
	size_t n = 0;
	kw_rv rv;

	*made = false;
	if ((rv = kms_escrow_list(ctx, email, &cur, 1, &n)) != KW_OK)
		return rv;
	if (n == 1 && cur.not_after - (int64_t)kms_now() >
	    (int64_t)ctx->cfg.rotate_before_days * 86400)
		return KW_OK;
	rv = kms_escrow_create(ctx, email, client, n == 0 ? "enrollment" : "rotation",
	    err, errsz);
	*made = rv == KW_OK;
	return rv;
}
