/* Bearer tokens: user sessions (after email validation) and the admin
 * token. Only SHA-256 hashes of tokens are stored. */
#include <string.h>

#include "kms_service.h"
#include "kw_secret.h"

kw_rv
kms_session_email(kms_ctx *ctx, const char *bearer, char email[256])
{
	uint8_t h[32];

	email[0] = '\0';
	if (bearer == NULL || strlen(bearer) != 64)
		return KW_ERR_NOT_FOUND;
	kms_sha256(bearer, 64, h);
	return kms_store_session_lookup(ctx->store, h, kms_now(), email, 256);
}

bool
kms_admin_token_ok(kms_ctx *ctx, const char *bearer)
{
	uint8_t h[32];
	char hex[65], want[80];

	if (bearer == NULL ||
	    kms_store_meta_get(ctx->store, "admin_token_sha256", want, sizeof(want)) != KW_OK ||
	    strlen(want) != 64)
		return false;
	kms_sha256(bearer, strlen(bearer), h);
	kw_hex_encode(h, sizeof(h), hex, sizeof(hex));
	return kw_timingsafe_eq(want, hex, 64);
}
