/* A pool of pre-generated escrow key pairs in the HSM (labels "pool-*"),
 * refilled by a background thread, so that enrolling a new user costs a
 * wrap and two share writes, not an RSA key generation (~5/s/core). The
 * keys are ordinary sensitive HSM token objects until taken; a taken key
 * is relabelled atomically and then handled like a freshly made one. */
#include <stdlib.h>
#include <string.h>

#include "kms.h"
#include "kw_log.h"

struct kms_pool {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	bool running;
	size_t level;
};

static size_t
count(kms_ctx *ctx)
{
	char *labels[256];
	size_t n = 0, i;

	if (kms_hsm_list(ctx->hsm, KMS_LABEL_POOL_PREFIX, labels, 256, &n) != KW_OK)
		return 0;
	for (i = 0; i < n; i++)
		free(labels[i]);
	return n;
}

static void *
refill(void *arg)
{
	kms_ctx *ctx = arg;
	kms_pool *p = ctx->pool;
	kms_key_type type = kms_key_type_parse(ctx->cfg.enc_key_type);
	char label[40], tmp[40], hex[17];
	struct timespec ts;
	size_t level = count(ctx);

	pthread_mutex_lock(&p->mu);
	p->level = level;
	while (!p->stop) {
		if (p->level >= (size_t)ctx->cfg.pool_size) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&p->cv, &p->mu, &ts);
			continue;
		}
		pthread_mutex_unlock(&p->mu);
		/* Generated under a temporary label and published by a relabel,
		 * so a claim never sees a key pair still being written. */
		if (kms_random_hex(hex, 8) == KW_OK) {
			snprintf(tmp, sizeof(tmp), "gen-%s", hex);
			snprintf(label, sizeof(label), "%s%s", KMS_LABEL_POOL_PREFIX, hex);
			if (kms_hsm_gen_keypair(ctx->hsm, type, tmp, true, NULL) != KW_OK ||
			    kms_hsm_relabel(ctx->hsm, tmp, label) != KW_OK)
				kw_err("pool: key generation failed");
		}
		level = count(ctx);
		pthread_mutex_lock(&p->mu);
		p->level = level;
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

kw_rv
kms_pool_start(kms_ctx *ctx)
{
	kms_pool *p;

	if (ctx->cfg.pool_size == 0)
		return KW_OK;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return KW_ERR_NOMEM;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	ctx->pool = p;
	if (pthread_create(&p->thread, NULL, refill, ctx) != 0) {
		kms_pool_stop(ctx);
		return KW_ERR_INTERNAL;
	}
	p->running = true;
	return KW_OK;
}

void
kms_pool_stop(kms_ctx *ctx)
{
	kms_pool *p = ctx->pool;

	if (p == NULL)
		return;
	if (p->running) {
		pthread_mutex_lock(&p->mu);
		p->stop = true;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->thread, NULL);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
	ctx->pool = NULL;
}

kw_rv
kms_pool_take(kms_ctx *ctx, const char *label)
{
	char *labels[4];
	size_t n = 0, i;
	kw_rv rv = KW_ERR_NOT_FOUND;

	if (ctx->pool == NULL)
		return KW_ERR_NOT_FOUND;
	if (kms_hsm_list(ctx->hsm, KMS_LABEL_POOL_PREFIX, labels, 4, &n) != KW_OK)
		return KW_ERR_NOT_FOUND;
	for (i = 0; i < n; i++) {
		if (rv != KW_OK)
			rv = kms_hsm_relabel(ctx->hsm, labels[i], label);
		free(labels[i]);
	}
	pthread_mutex_lock(&ctx->pool->mu);
	if (rv == KW_OK && ctx->pool->level > 0)
		ctx->pool->level--;
	pthread_cond_signal(&ctx->pool->cv);
	pthread_mutex_unlock(&ctx->pool->mu);
	return rv;
}

size_t
kms_pool_level(kms_ctx *ctx)
{
	size_t n;

	if (ctx->pool == NULL)
		return 0;
	pthread_mutex_lock(&ctx->pool->mu);
	n = ctx->pool->level;
	pthread_mutex_unlock(&ctx->pool->mu);
	return n;
}
