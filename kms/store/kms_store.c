/* The storage intents (kms_store.h) over a backend (kms_store_int.h):
 * connections per thread, transactions with retry, and each intent as one
 * transaction body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kms_store_int.h"
#include "kw_log.h"
#include "kw_secret.h"

struct kms_conn_node {
	kms_store *st;
	kms_db *db;
	struct kms_conn_node *next;
};

static void
unlink_node(kms_store *st, struct kms_conn_node *n)
{
	struct kms_conn_node **pp;

	pthread_mutex_lock(&st->mu);
	for (pp = &st->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	pthread_mutex_unlock(&st->mu);
}

static void
thread_gone(void *arg)
{
	struct kms_conn_node *n = arg;

	unlink_node(n->st, n);
	n->st->be->disconnect(n->db);
	free(n);
}

kw_rv
kms_store_open(const char *url, kms_store_role role, kms_store **out)
{
	kms_store *st;
	kw_rv rv;

	*out = NULL;
	if (url == NULL || (st = calloc(1, sizeof(*st))) == NULL)
		return KW_ERR_NOMEM;
	st->role = role;
	st->be = &kms_store_sqlite;
	if ((st->url = strdup(url)) == NULL) {
		free(st);
		return KW_ERR_NOMEM;
	}
	pthread_mutex_init(&st->mu, NULL);
	if (pthread_key_create(&st->key, thread_gone) != 0) {
		pthread_mutex_destroy(&st->mu);
		free(st->url);
		free(st);
		return KW_ERR_INTERNAL;
	}
	if ((rv = st->be->init(st, url)) != KW_OK) {
		kms_store_free(&st);
		return rv;
	}
	*out = st;
	return KW_OK;
}

void
kms_store_free(kms_store **stp)
{
	kms_store *st = *stp;
	struct kms_conn_node *n, *next;

	if (st == NULL)
		return;
	/* Every other thread using the store has been joined by now. */
	pthread_setspecific(st->key, NULL);
	for (n = st->conns; n != NULL; n = next) {
		next = n->next;
		st->be->disconnect(n->db);
		free(n);
	}
	pthread_key_delete(st->key);
	pthread_mutex_destroy(&st->mu);
	free(st->url);
	free(st);
	*stp = NULL;
}

kw_rv
kms_store_db(kms_store *st, kms_db **db)
{
	struct kms_conn_node *n = pthread_getspecific(st->key);
	kw_rv rv;

	if (n != NULL) {
		*db = n->db;
		return KW_OK;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return KW_ERR_NOMEM;
	if ((rv = st->be->connect(st, &n->db)) != KW_OK) {
		free(n);
		return rv;
	}
	n->st = st;
	pthread_mutex_lock(&st->mu);
	n->next = st->conns;
	st->conns = n;
	pthread_mutex_unlock(&st->mu);
	pthread_setspecific(st->key, n);
	*db = n->db;
	return KW_OK;
}

kw_rv
kms_q_exec(kms_store *st, kms_db *db, enum kms_stmt id, const char *fmt, ...)
{
	kms_q *q = NULL;
	va_list ap;
	bool row;
	kw_rv rv;

	va_start(ap, fmt);
	rv = st->be->run(db, id, &q, fmt, ap);
	va_end(ap);
	if (rv != KW_OK)
		return rv;
	do
		rv = st->be->step(q, &row);
	while (rv == KW_OK && row);
	st->be->finish(q);
	return rv;
}

kw_rv
kms_q_first(kms_store *st, kms_db *db, enum kms_stmt id, kms_q **q, bool *row,
    const char *fmt, ...)
{
	va_list ap;
	kw_rv rv;

	*row = false;
	va_start(ap, fmt);
	rv = st->be->run(db, id, q, fmt, ap);
	va_end(ap);
	if (rv != KW_OK)
		return rv;
	if ((rv = st->be->step(*q, row)) != KW_OK) {
		st->be->finish(*q);
		*q = NULL;
	}
	return rv;
}

kw_rv
kms_store_txn(kms_store *st, bool write, kms_txn_fn fn, void *arg)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	kms_db *db;
	int attempt;
	kw_rv rv;

	if ((rv = kms_store_db(st, &db)) != KW_OK)
		return rv;
	for (attempt = 0; attempt < 5; attempt++) {
		if ((rv = st->be->begin(db, write)) == KW_OK) {
			rv = fn(st, db, arg);
			if (rv == KW_OK)
				rv = st->be->commit(db);
			if (rv != KW_OK)
				st->be->rollback(db);
		}
		if (rv != KW_ERR_TIMEOUT)
			break;
		nanosleep(&pause, NULL);
	}
	if (rv == KW_ERR_TIMEOUT)
		rv = KW_ERR_IO;
	return rv;
}

/* ---- small intents ---------------------------------------------------- */

static kw_rv
t_ping(kms_store *st, kms_db *db, void *arg)
{
	(void)arg;
	return kms_q_exec(st, db, Q_PING, "");
}

kw_rv
kms_store_ping(kms_store *st)
{
	return kms_store_txn(st, false, t_ping, NULL);
}

struct meta_arg { const char *k; const char *v; char *out; size_t outsz; };

static kw_rv
t_meta_get(kms_store *st, kms_db *db, void *arg)
{
	struct meta_arg *a = arg;
	kms_q *q;
	bool row;
	kw_rv rv;

	if ((rv = kms_q_first(st, db, Q_META_GET, &q, &row, "t", a->k)) != KW_OK)
		return rv;
	if (!row)
		rv = KW_ERR_NOT_FOUND;
	else if ((size_t)snprintf(a->out, a->outsz, "%s", st->be->col_text(q, 0)) >= a->outsz)
		rv = KW_ERR_RANGE;
	st->be->finish(q);
	return rv;
}

kw_rv
kms_store_meta_get(kms_store *st, const char *k, char *v, size_t vsz)
{
	struct meta_arg a = { k, NULL, v, vsz };

	return kms_store_txn(st, false, t_meta_get, &a);
}

static kw_rv
t_meta_put(kms_store *st, kms_db *db, void *arg)
{
	struct meta_arg *a = arg;

	return kms_q_exec(st, db, Q_META_PUT, "tt", a->k, a->v);
}

kw_rv
kms_store_meta_put(kms_store *st, const char *k, const char *v)
{
	struct meta_arg a = { k, v, NULL, 0 };

	return kms_store_txn(st, true, t_meta_put, &a);
}

static kw_rv
t_audit(kms_store *st, kms_db *db, void *arg)
{
	return kms_audit_append(st, db, arg);
}

kw_rv
kms_store_audit(kms_store *st, const kms_audit_ev *ev)
{
	return kms_store_txn(st, true, t_audit, (void *)ev);
}

/* ---- rate limits -------------------------------------------------------- */

static kw_rv
rate_hit(kms_store *st, kms_db *db, const char *kind, const char *subject, long limit,
    long window, int64_t now)
{
	kms_q *q;
	bool row;
	int64_t n = 0;
	kw_rv rv;

	if ((rv = kms_q_exec(st, db, Q_RATE_PRUNE, "tti", kind, subject,
	    (int64_t)(now - window))) != KW_OK ||
	    (rv = kms_q_first(st, db, Q_RATE_COUNT, &q, &row, "tti", kind, subject,
	    (int64_t)(now - window))) != KW_OK)
		return rv;
	n = row ? st->be->col_int(q, 0) : 0;
	st->be->finish(q);
	if (n >= limit)
		return KW_ERR_CONDITIONS;
	return kms_q_exec(st, db, Q_RATE_ADD, "tti", kind, subject, now);
}

struct rate_arg { const char *kind, *subject; long limit, window; int64_t now; };

static kw_rv
t_rate(kms_store *st, kms_db *db, void *arg)
{
	struct rate_arg *a = arg;

	return rate_hit(st, db, a->kind, a->subject, a->limit, a->window, a->now);
}

kw_rv
kms_store_rate_hit(kms_store *st, const char *kind, const char *subject, long limit,
    long window, int64_t now)
{
	struct rate_arg a = { kind, subject, limit, window, now };

	return kms_store_txn(st, true, t_rate, &a);
}

/* ---- validation ------------------------------------------------------------ */

struct ch_arg {
	const kms_challenge *c;
	int64_t now;
	const kms_audit_ev *ev;
	kms_rate_which *limited;
};

static kw_rv
t_challenge_create(kms_store *st, kms_db *db, void *arg)
{
	struct ch_arg *a = arg;
	const kms_challenge *c = a->c;
	kw_rv rv;

	*a->limited = KMS_RATE_OK;
	rv = rate_hit(st, db, "vstart-addr", c->email, c->per_address, c->window, a->now);
	if (rv == KW_ERR_CONDITIONS) {
		*a->limited = KMS_RATE_ADDRESS;
		return rv;
	}
	if (rv == KW_OK && (rv = rate_hit(st, db, "vstart-client", c->client, c->per_client,
	    c->window, a->now)) == KW_ERR_CONDITIONS) {
		*a->limited = KMS_RATE_CLIENT;
		return rv;
	}
	if (rv != KW_OK ||
	    (rv = kms_q_exec(st, db, Q_CH_VOID, "t", c->email)) != KW_OK ||
	    (rv = kms_q_exec(st, db, Q_CH_ADD, "tbiti", c->email, c->hash, (size_t)32,
	    c->expires, c->client, a->now)) != KW_OK ||
	    (rv = kms_q_exec(st, db, Q_OUT_ADD, "tti", c->email, c->mail, a->now)) != KW_OK)
		return rv;
	return kms_audit_append(st, db, a->ev);
}

kw_rv
kms_store_challenge_create(kms_store *st, const kms_challenge *c, int64_t now,
    const kms_audit_ev *ev, kms_rate_which *limited)
{
	struct ch_arg a = { c, now, ev, limited };
	kw_rv rv = kms_store_txn(st, true, t_challenge_create, &a);

	if (rv != KW_ERR_CONDITIONS)
		*limited = KMS_RATE_OK;
	return rv;
}

struct consume_arg {
	const char *email;
	const uint8_t *hash;
	int64_t now;
	long max_attempts;
	const uint8_t *session_hash;
	int64_t session_expires;
	const char *client;
	kms_ch_result *res;
};

static kw_rv
t_consume(kms_store *st, kms_db *db, void *arg)
{
	static const uint8_t zero[32];
	struct consume_arg *a = arg;
	kms_audit_ev ev = { "validation_failed", a->email, a->client, NULL };
	const char *why;
	kms_q *q;
	bool row, match, expired = false;
	int64_t id = 0;
	kw_view h;
	kw_rv rv;

	if ((rv = kms_q_first(st, db, Q_CH_NEWEST, &q, &row, "t", a->email)) != KW_OK)
		return rv;
	if (row) {
		id = st->be->col_int(q, 0);
		h = st->be->col_blob(q, 1);
		expired = st->be->col_int(q, 2) <= a->now;
		match = h.len == 32 && kw_timingsafe_eq(h.ptr, a->hash, 32);
	} else /* same work either way */
		match = kw_timingsafe_eq(zero, a->hash, 32) && false;
	st->be->finish(q);
	if (!row) {
		*a->res = KMS_CH_NONE;
		why = "no pending value";
	} else if (expired) {
		*a->res = KMS_CH_EXPIRED;
		why = "expired";
		rv = kms_q_exec(st, db, Q_CH_USE, "i", id);
	} else if (!match) {
		*a->res = KMS_CH_WRONG;
		why = "wrong value";
		rv = kms_q_exec(st, db, Q_CH_FAIL, "ii", (int64_t)a->max_attempts, id);
	} else {
		*a->res = KMS_CH_OK;
		why = NULL;
		ev.event = "validated";
		if ((rv = kms_q_exec(st, db, Q_CH_USE, "i", id)) == KW_OK)
			rv = kms_q_exec(st, db, Q_SESS_ADD, "bti", a->session_hash, (size_t)32,
			    a->email, a->session_expires);
	}
	if (rv != KW_OK)
		return rv;
	if (why != NULL && (ev.detail = json_pack("{s:s}", "reason", why)) == NULL)
		return KW_ERR_NOMEM;
	rv = kms_audit_append(st, db, &ev);
	json_decref(ev.detail);
	return rv;
}

kw_rv
kms_store_challenge_consume(kms_store *st, const char *email, const uint8_t hash[32],
    int64_t now, long max_attempts, const uint8_t session_hash[32],
    int64_t session_expires, const char *client, kms_ch_result *res)
{
	struct consume_arg a = { email, hash, now, max_attempts, session_hash,
		session_expires, client, res };

	return kms_store_txn(st, true, t_consume, &a);
}

struct sess_arg { const uint8_t *hash; int64_t now; char *email; size_t emailsz; };

static kw_rv
t_session(kms_store *st, kms_db *db, void *arg)
{
	struct sess_arg *a = arg;
	kms_q *q;
	bool row;
	kw_rv rv;

	if ((rv = kms_q_first(st, db, Q_SESS_GET, &q, &row, "bi", a->hash, (size_t)32,
	    a->now)) != KW_OK)
		return rv;
	if (!row)
		rv = KW_ERR_NOT_FOUND;
	else if ((size_t)snprintf(a->email, a->emailsz, "%s", st->be->col_text(q, 0)) >=
	    a->emailsz)
		rv = KW_ERR_RANGE;
	st->be->finish(q);
	return rv;
}

kw_rv
kms_store_session_lookup(kms_store *st, const uint8_t hash[32], int64_t now,
    char *email, size_t emailsz)
{
	struct sess_arg a = { hash, now, email, emailsz };

	return kms_store_txn(st, false, t_session, &a);
}

/* ---- outbox ------------------------------------------------------------------ */

void
kms_mail_clear(kms_mail *m)
{
	if (m->text != NULL)
		kw_freezero(m->text, strlen(m->text));
	memset(m, 0, sizeof(*m));
}

struct out_arg { int64_t now, id, next; kms_mail *m; const kms_audit_ev *ev; int64_t *wait; };

static kw_rv
t_out_next(kms_store *st, kms_db *db, void *arg)
{
	struct out_arg *a = arg;
	kms_q *q;
	bool row;
	kw_rv rv;

	if ((rv = kms_q_first(st, db, Q_OUT_NEXT, &q, &row, "i", a->now)) != KW_OK)
		return rv;
	if (!row)
		rv = KW_ERR_NOT_FOUND;
	else {
		a->m->id = st->be->col_int(q, 0);
		snprintf(a->m->rcpt, sizeof(a->m->rcpt), "%s", st->be->col_text(q, 1));
		a->m->tries = (long)st->be->col_int(q, 3);
		if ((a->m->text = strdup(st->be->col_text(q, 2))) == NULL)
			rv = KW_ERR_NOMEM;
	}
	st->be->finish(q);
	return rv;
}

kw_rv
kms_store_outbox_next(kms_store *st, int64_t now, kms_mail *m)
{
	struct out_arg a = { .now = now, .m = m };

	memset(m, 0, sizeof(*m));
	return kms_store_txn(st, false, t_out_next, &a);
}

static kw_rv
t_out_done(kms_store *st, kms_db *db, void *arg)
{
	struct out_arg *a = arg;
	kw_rv rv;

	if ((rv = kms_q_exec(st, db, Q_OUT_DEL, "i", a->id)) != KW_OK || a->ev == NULL)
		return rv;
	return kms_audit_append(st, db, a->ev);
}

kw_rv
kms_store_outbox_done(kms_store *st, int64_t id, const kms_audit_ev *ev)
{
	struct out_arg a = { .id = id, .ev = ev };

	return kms_store_txn(st, true, t_out_done, &a);
}

static kw_rv
t_out_retry(kms_store *st, kms_db *db, void *arg)
{
	struct out_arg *a = arg;

	return kms_q_exec(st, db, Q_OUT_RETRY, "ii", a->next, a->id);
}

kw_rv
kms_store_outbox_retry(kms_store *st, int64_t id, int64_t next_try)
{
	struct out_arg a = { .id = id, .next = next_try };

	return kms_store_txn(st, true, t_out_retry, &a);
}

static kw_rv
t_out_due(kms_store *st, kms_db *db, void *arg)
{
	struct out_arg *a = arg;
	kms_q *q;
	bool row;
	kw_rv rv;

	if ((rv = kms_q_first(st, db, Q_OUT_DUE, &q, &row, "")) != KW_OK)
		return rv;
	if (!row || st->be->col_null(q, 0))
		rv = KW_ERR_NOT_FOUND;
	else
		*a->wait = st->be->col_int(q, 0) - a->now;
	st->be->finish(q);
	return rv;
}

kw_rv
kms_store_outbox_due(kms_store *st, int64_t now, int64_t *wait)
{
	struct out_arg a = { .now = now, .wait = wait };

	return kms_store_txn(st, false, t_out_due, &a);
}
