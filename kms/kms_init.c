/* keyward-kmsd --init: a local deployment from nothing.
 *
 * front: state dir, SoftHSM token (random PINs; the user PIN in a 0600
 * file, the SO PIN discarded), the CA key and certificate, the key-
 * encryption key for escrow storage, the bearer token for the share
 * servers (in the HSM), an admin token, the TLS identity; then every share
 * server with a local `shares.config.N` is initialized by running
 * `keyward-kmsd --init --config FILE --share-token-stdin`.
 * share: state dir, token, the AES key sealing its shares, the hash of the
 * front's bearer token, the TLS identity. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kms.h"
#include "kms_ca.h"
#include "kms_tls.h"
#include "kw_log.h"
#include "kw_secret.h"

static kw_rv
make_dir(const char *path)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		kw_err("cannot create %.200s: %s", path, strerror(errno));
		return KW_ERR_IO;
	}
	return KW_OK;
}

static kw_rv
softhsm_setup(kms_ctx *ctx)
{
	char *tokens = kms_path(ctx->cfg.state_dir, "tokens");
	char conf[4300];
	int n;
	kw_rv rv = KW_ERR_NOMEM;

	if (ctx->cfg.softhsm_conf == NULL) {
		free(tokens);
		return KW_OK;
	}
	if (tokens == NULL || (rv = make_dir(tokens)) != KW_OK)
		goto fail;
	n = snprintf(conf, sizeof(conf), "# written by keyward-kmsd --init\n"
	    "directories.tokendir = %s\nobjectstore.backend = file\n"
	    "log.level = ERROR\nslots.removable = false\n", tokens);
	rv = n > 0 && (size_t)n < sizeof(conf) ?
	    kms_file_write(ctx->cfg.softhsm_conf, conf, (size_t)n, 0600) : KW_ERR_RANGE;
fail:
	free(tokens);
	return rv;
}

static kw_rv
token_setup(kms_ctx *ctx)
{
	char so[33], user[33];
	kw_rv rv;

	if ((rv = kms_random_hex(so, 16)) != KW_OK ||
	    (rv = kms_random_hex(user, 16)) != KW_OK)
		goto fail;
	if ((rv = kms_hsm_open(ctx->cfg.hsm_module, &ctx->hsm)) != KW_OK ||
	    (rv = kms_hsm_init_token(ctx->hsm, ctx->cfg.hsm_token, so, user)) != KW_OK ||
	    (rv = kms_file_write(ctx->cfg.hsm_pin_file, user, strlen(user), 0600)) != KW_OK)
		goto fail;
fail:
	kw_memzero(so, sizeof(so));
	kw_memzero(user, sizeof(user));
	return rv;
}

static kw_rv
meta_set_hash(kms_ctx *ctx, const char *key, const char *secret)
{
	uint8_t h[32];
	char hex[65];

	kms_sha256(secret, strlen(secret), h);
	kw_hex_encode(h, sizeof(h), hex, sizeof(hex));
	return kms_store_meta_put(ctx->store, key, hex);
}

static kw_rv
init_share_child(const char *self_exe, const char *config, const char *token)
{
	int fds[2], status;
	pid_t pid;
	size_t n = strlen(token);

	if (pipe(fds) != 0)
		return KW_ERR_IO;
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return KW_ERR_IO;
	}
	if (pid == 0) {
		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		execl(self_exe, self_exe, "--init", "--config", config,
		    "--share-token-stdin", (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	if (write(fds[1], token, n) != (ssize_t)n || write(fds[1], "\n", 1) != 1)
		kw_err("cannot pass the share token to %.200s", config);
	close(fds[1]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		kw_err("initializing the share server of %.200s failed", config);
		return KW_ERR_IO;
	}
	return KW_OK;
}

static kw_rv
init_front(kms_ctx *ctx, const char *self_exe)
{
	char token[65], admin[65], *path = NULL;
	long i;
	kw_rv rv;

	if ((rv = kms_hsm_gen_aes(ctx->hsm, KMS_LABEL_KEK, true)) != KW_OK ||
	    (rv = kms_ca_create(ctx)) != KW_OK ||
	    (rv = kms_random_hex(token, 32)) != KW_OK ||
	    (rv = kms_hsm_data_put(ctx->hsm, KMS_LABEL_SHARE_TOKEN,
	    kw_view_make(token, strlen(token)))) != KW_OK ||
	    (rv = kms_random_hex(admin, 32)) != KW_OK ||
	    (rv = meta_set_hash(ctx, "admin_token_sha256", admin)) != KW_OK)
		goto fail;
	if ((path = kms_path(ctx->cfg.state_dir, "admin.token")) == NULL ||
	    (rv = kms_file_write(path, admin, strlen(admin), 0600)) != KW_OK)
		goto fail;
	for (i = 0; i < ctx->cfg.share_count && rv == KW_OK; i++)
		if (ctx->cfg.share_config[i] != NULL)
			rv = init_share_child(self_exe, ctx->cfg.share_config[i], token);
fail:
	free(path);
	kw_memzero(token, sizeof(token));
	kw_memzero(admin, sizeof(admin));
	return rv;
}

kw_rv
kms_init(kms_ctx *ctx, const char *self_exe, const char *share_token)
{
	bool front = kms_config_is_front(&ctx->cfg);
	char *dbpath = kms_ctx_db_url(ctx);
	kw_rv rv = KW_ERR_NOMEM;

	if (dbpath == NULL)
		goto fail;
	if (access(dbpath, F_OK) == 0) {
		kw_err("%.200s is already initialized", ctx->cfg.state_dir);
		rv = KW_ERR_CONDITIONS;
		goto fail;
	}
	if (!front && share_token == NULL) {
		kw_err("a share server needs the front's token (--share-token-stdin)");
		rv = KW_ERR_ARG;
		goto fail;
	}
	if ((rv = make_dir(ctx->cfg.state_dir)) != KW_OK ||
	    (rv = softhsm_setup(ctx)) != KW_OK ||
	    (rv = token_setup(ctx)) != KW_OK ||
	    (rv = kms_ctx_start_hsm_db(ctx)) != KW_OK ||
	    (rv = kms_tls_create(ctx, front ? "keyward-kmsd front" :
	    "keyward-kmsd share")) != KW_OK)
		goto fail;
	if (front)
		rv = init_front(ctx, self_exe);
	else if ((rv = kms_hsm_gen_aes(ctx->hsm, KMS_LABEL_SHARE_KEY, false)) == KW_OK)
		rv = meta_set_hash(ctx, "token_sha256", share_token);
fail:
	free(dbpath);
	return rv;
}
