/* Process context of keyward-kmsd: configuration, HSM, database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kms.h"
#include "kms_ca.h"
#include "kms_service.h"
#include "kms_share_client.h"
#include "kw_log.h"
#include "kw_secret.h"

kw_rv
kms_ctx_open(kms_ctx *ctx, const char *config_path, char **errmsg)
{
	kw_rv rv;

	memset(ctx, 0, sizeof(*ctx));
	if ((rv = kms_config_load(config_path, &ctx->cfg, errmsg)) != KW_OK)
		return rv;
	if (ctx->cfg.softhsm_conf != NULL &&
	    setenv("SOFTHSM2_CONF", ctx->cfg.softhsm_conf, 1) != 0)
		return KW_ERR_IO;
	return KW_OK;
}

static kw_rv
read_pin(const char *path, char *pin, size_t pinsz)
{
	kw_buf b;
	kw_rv rv;

	kw_buf_init(&b, 256);
	if ((rv = kms_file_read(path, &b, 255)) == KW_OK) {
		while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
			b.len--;
		if (b.len == 0 || b.len >= pinsz)
			rv = KW_ERR_FORMAT;
		else {
			memcpy(pin, b.data, b.len);
			pin[b.len] = '\0';
		}
	}
	kw_buf_free(&b);
	return rv;
}

char *
kms_ctx_db_url(const kms_ctx *ctx)
{
	return kms_path(ctx->cfg.state_dir, "kms.sqlite");
}

kw_rv
kms_ctx_start_hsm_db(kms_ctx *ctx)
{
	char pin[128], *dbpath = NULL;
	bool front = kms_config_is_front(&ctx->cfg);
	kw_rv rv;

	if (ctx->hsm == NULL &&
	    (rv = kms_hsm_open(ctx->cfg.hsm_module, &ctx->hsm)) != KW_OK)
		return rv;
	if ((rv = read_pin(ctx->cfg.hsm_pin_file, pin, sizeof(pin))) != KW_OK) {
		kw_err("cannot read the HSM PIN from %.200s", ctx->cfg.hsm_pin_file);
		return rv;
	}
	rv = kms_hsm_login(ctx->hsm, ctx->cfg.hsm_token, pin);
	kw_memzero(pin, sizeof(pin));
	if (rv != KW_OK)
		return rv;
	if ((dbpath = kms_ctx_db_url(ctx)) == NULL)
		return KW_ERR_NOMEM;
	rv = kms_store_open(dbpath, front ? KMS_STORE_FRONT : KMS_STORE_SHARE, &ctx->store);
	free(dbpath);
	return rv;
}

kw_rv
kms_ctx_start(kms_ctx *ctx)
{
	kw_buf token;
	kw_rv rv;

	if ((rv = kms_ctx_start_hsm_db(ctx)) != KW_OK)
		return rv;
	if (!kms_config_is_front(&ctx->cfg)) {
		if ((rv = kms_hsm_cache_key(ctx->hsm, KMS_LABEL_SHARE_KEY, false)) != KW_OK)
			kw_err("no share-sealing key in the HSM (run keyward-kmsd --init)");
		return rv;
	}
	if ((rv = kms_ca_load(ctx)) != KW_OK) {
		kw_err("cannot load the CA (run keyward-kmsd --init)");
		return rv;
	}
	if ((rv = kms_hsm_cache_key(ctx->hsm, KMS_LABEL_CA, true)) != KW_OK ||
	    (rv = kms_hsm_cache_key(ctx->hsm, KMS_LABEL_KEK, false)) != KW_OK ||
	    (rv = kms_attest_load(ctx)) != KW_OK)
		return rv;
	kw_buf_init(&token, 256);
	if ((rv = kms_hsm_data_get(ctx->hsm, KMS_LABEL_SHARE_TOKEN, &token)) == KW_OK)
		rv = kms_shares_new(&ctx->cfg, kw_buf_view(&token), &ctx->shares);
	kw_buf_free(&token);
	return rv;
}

void
kms_ctx_close(kms_ctx *ctx)
{
	kms_attest_free(ctx);
	kms_shares_free(&ctx->shares);
	kms_ca_free(&ctx->ca);
	kms_store_free(&ctx->store);
	kms_hsm_free(&ctx->hsm);
	kms_config_free(&ctx->cfg);
}
