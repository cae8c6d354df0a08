/* The key-protection password (enhanced protection level): an Argon2id
 * verifier (libargon2, encoded form with its own salt and parameters).
 * Wrong guesses count (atomically, in the store); password.max_failures of
 * them lock delivery for password.lock_seconds. The Argon2 work runs
 * outside any transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>

#include "kms_service.h"
#include "kw_secret.h"

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

kw_rv
kms_password_check(kms_ctx *ctx, const char *email, const char *pw, const char *client,
    kms_pw_verdict *v, int64_t *wait)
{
	kms_pw rec;
	int64_t failures;
	kw_rv rv;

	*v = KMS_PW_OK;
	*wait = 0;
	rv = kms_store_password_get(ctx->store, email, &rec);
	if (rv == KW_ERR_NOT_FOUND)
		return KW_OK;
	if (rv != KW_OK)
		return rv;
	if (rec.locked_until > (int64_t)kms_now()) {
		*v = KMS_PW_LOCKED;
		*wait = rec.locked_until - (int64_t)kms_now();
	} else if (pw == NULL)
		*v = KMS_PW_REQUIRED;
	else if (strlen(pw) <= PW_MAX &&
	    argon2id_verify(rec.verifier, pw, strlen(pw)) == ARGON2_OK) {
		if (rec.failures > 0)
			rv = kms_store_password_ok(ctx->store, email);
	} else {
		*v = KMS_PW_WRONG;
		rv = kms_store_password_fail(ctx->store, email, ctx->cfg.pw_max_failures,
		    kms_now(), ctx->cfg.pw_lock_seconds, client, &failures);
	}
	kw_memzero(&rec, sizeof(rec));
	return rv;
}

kw_rv
kms_password_set(kms_ctx *ctx, const char *email, const char *pw, const char *client)
{
	char verifier[256];
	kms_audit_ev ev = { "password_set", email, client, NULL };
	kw_rv rv;

	if ((rv = make_verifier(ctx, pw, verifier, sizeof(verifier))) == KW_OK)
		rv = kms_store_password_put(ctx->store, email, verifier, &ev);
	kw_memzero(verifier, sizeof(verifier));
	return rv;
}
