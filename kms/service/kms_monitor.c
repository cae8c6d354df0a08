/* Health of what the front depends on, and reconciliation of what a
 * crash can leave behind.
 *
 * Reconciliation (at start, before serving, and then every few seconds
 * in the monitor thread while intents remain): an escrow intent is a key
 * whose creation did not commit. Its shares are deleted from every share
 * server and its HSM key destroyed, then the intent is dropped with an
 * "escrow_reconciled" audit entry; if a share server cannot be reached
 * the intent stays for the next round. At start, escrow and pool keys in
 * the HSM that no intent or pool row names are destroyed too (audited).
 *
 * The monitor thread asks every share server's /v1/health every 2 s (in
 * parallel, 1 s bound), so /v1/health answers at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kms_service.h"
#include "kms_share_client.h"
#include "kw_log.h"

struct kms_monitor {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	bool up[KMS_MAX_SHARES];
	int64_t checked;
};

static void
audit_cleanup(kms_ctx *ctx, const char *what, const char *id)
{
	kms_audit_ev ev = { "escrow_reconciled", NULL, NULL, NULL };

	ev.detail = json_pack("{s:s,s:s}", "removed", what, "key", id);
	if (kms_store_audit(ctx->store, &ev) != KW_OK)
		kw_err("reconcile: cannot audit the removal of %s", id);
	json_decref(ev.detail);
}

/* Finish the unfinished intents older than `before` (a creation still
 * running in this process is younger); *left: how many remain. */
static kw_rv
intents(kms_ctx *ctx, int64_t before, size_t *left)
{
	kms_intent in[64];
	kms_audit_ev ev = { "escrow_reconciled", NULL, NULL, NULL };
	char err[300];
	size_t n = 0, i;
	bool committed;
	kw_rv rv;

	*left = 0;
	if ((rv = kms_store_escrow_intents(ctx->store, in, 64, &n)) != KW_OK)
		return rv;
	for (i = 0; i < n; i++) {
		if (in[i].created >= before)
			continue;
		if (kms_store_escrow_exists(ctx->store, in[i].id, &committed) != KW_OK) {
			(*left)++;
			continue;
		}
		err[0] = '\0';
		if (!committed && kms_shares_delete(ctx->shares, in[i].id, err,
		    sizeof(err)) != KW_OK) {
			kw_warn("reconcile: key %s: %s; trying again later", in[i].id, err);
			(*left)++;
			continue;
		}
		if (!committed && kms_hsm_has(ctx->hsm, in[i].label) &&
		    kms_hsm_destroy(ctx->hsm, in[i].label) != KW_OK) {
			(*left)++;
			continue;
		}
		ev.detail = json_pack("{s:s,s:s,s:b}", "removed", committed ? "intent" :
		    "shares and HSM key", "key", in[i].id, "committed", committed);
		if (kms_store_escrow_abort(ctx->store, in[i].id, &ev) != KW_OK)
			(*left)++;
		else
			kw_log(KW_LOG_WARN, "reconcile: removed the unfinished key %s", in[i].id);
		json_decref(ev.detail);
	}
	return KW_OK;
}

/* HSM key pairs of escrow/pool kind that nothing names. */
static kw_rv
orphans(kms_ctx *ctx)
{
	static const char *const prefixes[] = { KMS_LABEL_ESCROW_PREFIX,
		KMS_LABEL_POOL_PREFIX, KMS_LABEL_GEN_PREFIX };
	char *labels[1024];
	size_t n, i, p;
	bool known;
	kw_rv rv = KW_OK;

	for (p = 0; p < 3 && rv == KW_OK; p++) {
		n = 0;
		if ((rv = kms_hsm_list(ctx->hsm, prefixes[p], labels, 1024, &n)) != KW_OK)
			break;
		for (i = 0; i < n; i++) {
			if (rv == KW_OK && (rv = kms_store_label_known(ctx->store, labels[i],
			    &known)) == KW_OK && !known &&
			    kms_hsm_destroy(ctx->hsm, labels[i]) == KW_OK) {
				kw_log(KW_LOG_WARN, "reconcile: destroyed the orphan HSM key %s",
				    labels[i]);
				audit_cleanup(ctx, "HSM key", labels[i]);
			}
			free(labels[i]);
		}
	}
	return rv;
}

kw_rv
kms_reconcile(kms_ctx *ctx)
{
	size_t left;
	kw_rv rv;

	if ((rv = intents(ctx, INT64_MAX, &left)) != KW_OK || (rv = orphans(ctx)) != KW_OK)
		kw_err("reconcile: the store could not be read");
	else if (left > 0)
		kw_warn("reconcile: %zu unfinished keys wait for a share server", left);
	return rv;
}

static void *
run(void *arg)
{
	kms_ctx *ctx = arg;
	kms_monitor *m = ctx->monitor;
	bool up[KMS_MAX_SHARES] = { false };
	struct timespec ts;
	size_t left = 0;
	unsigned round = 0;

	for (;;) {
		if (kms_shares_health(ctx->shares, up) == KW_OK) {
			pthread_mutex_lock(&m->mu);
			memcpy(m->up, up, sizeof(up));
			m->checked = kms_now();
			pthread_mutex_unlock(&m->mu);
		}
		if (round++ % 5 == 0)
			intents(ctx, kms_now() - 120, &left);
		pthread_mutex_lock(&m->mu);
		if (!m->stop) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 2;
			pthread_cond_timedwait(&m->cv, &m->mu, &ts);
		}
		if (m->stop) {
			pthread_mutex_unlock(&m->mu);
			break;
		}
		pthread_mutex_unlock(&m->mu);
	}
	return NULL;
}

kw_rv
kms_monitor_start(kms_ctx *ctx)
{
	kms_monitor *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return KW_ERR_NOMEM;
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	kms_shares_health(ctx->shares, m->up);
	m->checked = kms_now();
	ctx->monitor = m;
	if (pthread_create(&m->thread, NULL, run, ctx) != 0) {
		ctx->monitor = NULL;
		pthread_mutex_destroy(&m->mu);
		pthread_cond_destroy(&m->cv);
		free(m);
		return KW_ERR_INTERNAL;
	}
	return KW_OK;
}

void
kms_monitor_stop(kms_ctx *ctx)
{
	kms_monitor *m = ctx->monitor;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	m->stop = true;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
	pthread_join(m->thread, NULL);
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->cv);
	free(m);
	ctx->monitor = NULL;
}

json_t *
kms_health(kms_ctx *ctx, bool *ok)
{
	kms_monitor *m = ctx->monitor;
	bool up[KMS_MAX_SHARES] = { false }, all = true;
	json_t *arr = json_array(), *j;
	int64_t checked = 0;
	long i;

	*ok = kms_store_ping(ctx->store) == KW_OK;
	if (m != NULL) {
		pthread_mutex_lock(&m->mu);
		memcpy(up, m->up, sizeof(up));
		checked = m->checked;
		pthread_mutex_unlock(&m->mu);
	}
	for (i = 0; arr != NULL && i < ctx->cfg.share_count; i++) {
		all = all && up[i];
		json_array_append_new(arr, json_pack("{s:I,s:s,s:b}", "index", (json_int_t)(i + 1),
		    "url", ctx->cfg.share_url[i], "ok", up[i]));
	}
	j = json_pack("{s:s,s:s,s:I,s:s,s:o,s:I}", "status", *ok && all ? "ok" :
	    *ok ? "degraded" : "unavailable", "role", "front",
	    "pool", (json_int_t)(*ok ? kms_pool_level(ctx) : 0),
	    "db", *ok ? "ok" : "unreachable", "shares", arr != NULL ? arr : json_array(),
	    "checked", (json_int_t)checked);
	return j;
}
