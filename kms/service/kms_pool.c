/* A pool of pre-generated escrow key pairs in the HSM (labels "pool-*",
 * listed in the store's pool table), refilled by pool.threads threads
 * (one per core by default), so that enrolling a new user costs a wrap
 * and the share writes, not an RSA key generation (~20/s/core). A key is
 * generated under its final label and only then added to the table, so a
 * claim (kms_store_escrow_begin, one transaction) never sees a key still
 * being written; a crash in between leaves an HSM key no row names, which
 * reconciliation removes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kms_service.h"
#include "kw_log.h"

struct kms_pool {
	pthread_t threads[64];
	long nthreads;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	size_t level;
};

static void
set_level(kms_pool *p, size_t n)
{
	pthread_mutex_lock(&p->mu);
	p->level = n;
	pthread_mutex_unlock(&p->mu);
}

static bool
make_one(kms_ctx *ctx, kms_key_type type)
{
	char label[48], hex[17];

	if (kms_random_hex(hex, 8) != KW_OK)
		return false;
	snprintf(label, sizeof(label), "%s%s", KMS_LABEL_POOL_PREFIX, hex);
	if (kms_hsm_gen_keypair(ctx->hsm, type, label, true, NULL) != KW_OK) {
		kw_err("pool: key generation failed");
		return false;
	}
	if (kms_store_pool_add(ctx->store, label, kms_now()) != KW_OK) {
		kw_err("pool: cannot record a new key (storage unavailable)");
		kms_hsm_destroy(ctx->hsm, label);
		return false;
	}
	return true;
}

static void *
refill(void *arg)
{
	kms_ctx *ctx = arg;
	kms_pool *p = ctx->pool;
	kms_key_type type = kms_key_type_parse(ctx->cfg.enc_key_type);
	struct timespec ts;
	size_t n = 0;
	bool idle, counted;

	for (;;) {
		counted = kms_store_pool_count(ctx->store, &n) == KW_OK;
		if (counted)
			set_level(p, n);
		idle = !counted || n >= (size_t)ctx->cfg.pool_size;
		if (!idle && !make_one(ctx, type))
			idle = true;
		pthread_mutex_lock(&p->mu);
		if (idle && !p->stop) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&p->cv, &p->mu, &ts);
		}
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		pthread_mutex_unlock(&p->mu);
	}
	return NULL;
}

kw_rv
kms_pool_start(kms_ctx *ctx)
{
	kms_pool *p;
	long i;

	if (ctx->cfg.pool_size == 0)
		return KW_OK;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return KW_ERR_NOMEM;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	ctx->pool = p;
	for (i = 0; i < ctx->cfg.pool_threads && i < 64; i++) {
		if (pthread_create(&p->threads[i], NULL, refill, ctx) != 0) {
			kms_pool_stop(ctx);
			return KW_ERR_INTERNAL;
		}
		p->nthreads++;
	}
	return KW_OK;
}

void
kms_pool_stop(kms_ctx *ctx)
{
	kms_pool *p = ctx->pool;
	long i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
	ctx->pool = NULL;
}

void
kms_pool_wake(kms_ctx *ctx)
{
	if (ctx->pool == NULL)
		return;
	pthread_mutex_lock(&ctx->pool->mu);
	pthread_cond_broadcast(&ctx->pool->cv);
	pthread_mutex_unlock(&ctx->pool->mu);
}

size_t
kms_pool_level(kms_ctx *ctx)
{
	size_t n = 0;

	if (ctx->pool != NULL && kms_store_pool_count(ctx->store, &n) != KW_OK)
		n = 0;
	return n;
}
