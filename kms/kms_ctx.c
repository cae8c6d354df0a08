/* Process context of keyward-kmsd: configuration, HSM, database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kms.h"
#include "kms_ca.h"
#include "kw_log.h"
#include "kw_secret.h"

kw_rv
kms_ctx_open(kms_ctx *ctx, const char *config_path, char **errmsg)
{
	kw_rv rv;

	memset(ctx, 0, sizeof(*ctx));
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_mutex_init(&ctx->audit_lock, NULL);
	kw_buf_init(&ctx->share_token, 256);
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
	if ((dbpath = kms_path(ctx->cfg.state_dir, "kms.sqlite")) == NULL)
		return KW_ERR_NOMEM;
	rv = kms_store_open(dbpath, front, &ctx->db);
	free(dbpath);
	return rv;
}

kw_rv
kms_ctx_start(kms_ctx *ctx)
{
	kw_rv rv;

	if ((rv = kms_ctx_start_hsm_db(ctx)) != KW_OK ||
	    !kms_config_is_front(&ctx->cfg))
		return rv;
	if ((rv = kms_ca_load(ctx)) != KW_OK) {
		kw_err("cannot load the CA (run keyward-kmsd --init)");
		return rv;
	}
	return kms_hsm_data_get(ctx->hsm, KMS_LABEL_SHARE_TOKEN, &ctx->share_token);
}

void
kms_ctx_close(kms_ctx *ctx)
{
	kms_ca_free(&ctx->ca);
	kms_store_close(&ctx->db);
	kms_hsm_free(&ctx->hsm);
	kw_buf_free(&ctx->share_token);
	kms_config_free(&ctx->cfg);
	pthread_mutex_destroy(&ctx->lock);
	pthread_mutex_destroy(&ctx->audit_lock);
}
