/* Storage intents for passwords, identities, certificates, escrowed keys,
 * the key pool and the share role (see kms_store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kms_store_int.h"
#include "kw_secret.h"

/* ---- passwords ---------------------------------------------------------- */

struct pw_arg {
	const char *email, *verifier, *client;
	kms_pw *pw;
	long max, lock;
	int64_t now, *failures;
	const kms_audit_ev *ev;
};

static kw_rv
t_pw_get(kms_store *st, kms_db *db, void *arg)
{
	struct pw_arg *a = arg;
	kms_q *q;
	bool row;
	kw_rv rv;

	if ((rv = kms_q_first(st, db, Q_PW_GET, &q, &row, "t", a->email)) != KW_OK)
		return rv;
	if (!row)
		rv = KW_ERR_NOT_FOUND;
	else {
		snprintf(a->pw->verifier, sizeof(a->pw->verifier), "%s", st->be->col_text(q, 0));
		a->pw->failures = st->be->col_int(q, 1);
		a->pw->locked_until = st->be->col_int(q, 2);
	}
	st->be->finish(q);
	return rv;
}

kw_rv
kms_store_password_get(kms_store *st, const char *email, kms_pw *pw)
{
	struct pw_arg a = { .email = email, .pw = pw };

	memset(pw, 0, sizeof(*pw));
	return kms_store_txn(st, false, t_pw_get, &a);
}

static kw_rv
t_pw_put(kms_store *st, kms_db *db, void *arg)
{
	struct pw_arg *a = arg;
	kw_rv rv;

	if ((rv = kms_q_exec(st, db, Q_PW_PUT, "tt", a->email, a->verifier)) != KW_OK)
		return rv;
	return kms_audit_append(st, db, a->ev);
}

kw_rv
kms_store_password_put(kms_store *st, const char *email, const char *verifier,
    const kms_audit_ev *ev)
{
	struct pw_arg a = { .email = email, .verifier = verifier, .ev = ev };

	return kms_store_txn(st, true, t_pw_put, &a);
}

static kw_rv
t_pw_fail(kms_store *st, kms_db *db, void *arg)
{
	struct pw_arg *a = arg;
	kms_audit_ev ev = { "password_failed", a->email, a->client, NULL };
	kms_q *q;
	bool row, locked;
	kw_rv rv;

	if ((rv = kms_q_first(st, db, Q_PW_FAIL, &q, &row, "iiit", (int64_t)a->max,
	    (int64_t)a->max, (int64_t)(a->now + a->lock), a->email)) != KW_OK)
		return rv;
	if (!row) {
		st->be->finish(q);
		return KW_ERR_NOT_FOUND;
	}
	locked = st->be->col_int(q, 1) > a->now;
	*a->failures = locked ? a->max : st->be->col_int(q, 0);
	st->be->finish(q);
	if ((ev.detail = json_pack("{s:I,s:b}", "failures", (json_int_t)*a->failures,
	    "locked", locked)) == NULL)
		return KW_ERR_NOMEM;
	rv = kms_audit_append(st, db, &ev);
	json_decref(ev.detail);
	return rv;
}

kw_rv
kms_store_password_fail(kms_store *st, const char *email, long max, int64_t now,
    long lock_seconds, const char *client, int64_t *failures)
{
	struct pw_arg a = { .email = email, .client = client, .max = max,
		.lock = lock_seconds, .now = now, .failures = failures };

	return kms_store_txn(st, true, t_pw_fail, &a);
}

static kw_rv
t_pw_ok(kms_store *st, kms_db *db, void *arg)
{
	struct pw_arg *a = arg;

	return kms_q_exec(st, db, Q_PW_OK, "t", a->email);
}

kw_rv
kms_store_password_ok(kms_store *st, const char *email)
{
	struct pw_arg a = { .email = email };

	return kms_store_txn(st, true, t_pw_ok, &a);
}

/* ---- identities ------------------------------------------------------------ */

struct id_arg {
	const char *email, *level_in, *name_in, *org_in;
	char *level, **name, **org;
	const kms_audit_ev *ev;
};

static kw_rv
t_id_get(kms_store *st, kms_db *db, void *arg)
{
	struct id_arg *a = arg;
	kms_q *q;
	bool row;
	kw_rv rv;

	if ((rv = kms_q_first(st, db, Q_ID_GET, &q, &row, "t", a->email)) != KW_OK)
		return rv;
	if (row) {
		snprintf(a->level, 3, "%.2s", st->be->col_text(q, 0));
		if ((!st->be->col_null(q, 1) &&
		    (*a->name = strdup(st->be->col_text(q, 1))) == NULL) ||
		    (!st->be->col_null(q, 2) &&
		    (*a->org = strdup(st->be->col_text(q, 2))) == NULL))
			rv = KW_ERR_NOMEM;
	}
	st->be->finish(q);
	return rv;
}

kw_rv
kms_store_identity_get(kms_store *st, const char *email, char level[3], char **name,
    char **org)
{
	struct id_arg a = { .email = email, .level = level, .name = name, .org = org };
	kw_rv rv;

	snprintf(level, 3, "V1");
	*name = NULL;
	*org = NULL;
	if ((rv = kms_store_txn(st, false, t_id_get, &a)) != KW_OK) {
		free(*name);
		free(*org);
		*name = *org = NULL;
	}
	return rv;
}

static kw_rv
t_id_put(kms_store *st, kms_db *db, void *arg)
{
	struct id_arg *a = arg;
	kw_rv rv;

	if ((rv = kms_q_exec(st, db, Q_ID_PUT, "tttt", a->email, a->level_in, a->name_in,
	    a->org_in)) != KW_OK)
		return rv;
	return kms_audit_append(st, db, a->ev);
}

kw_rv
kms_store_identity_put(kms_store *st, const char *email, const char *level,
    const char *name, const char *org, const kms_audit_ev *ev)
{
	struct id_arg a = { .email = email, .level_in = level, .name_in = name,
		.org_in = org, .ev = ev };

	return kms_store_txn(st, true, t_id_put, &a);
}

/* ---- certificates -------------------------------------------------------------- */

static kw_rv
cert_add(kms_store *st, kms_db *db, const kms_cert_rec *c)
{
	return kms_q_exec(st, db, Q_CERT_ADD, "ttttiib", c->serial, c->email, c->kind,
	    c->profile, c->not_before, c->not_after, c->der.ptr, c->der.len);
}

struct cert_arg { const kms_cert_rec *c; const kms_audit_ev *ev; };

static kw_rv
t_cert_put(kms_store *st, kms_db *db, void *arg)
{
	struct cert_arg *a = arg;
	kw_rv rv;

	if ((rv = cert_add(st, db, a->c)) != KW_OK)
		return rv;
	return kms_audit_append(st, db, a->ev);
}

kw_rv
kms_store_cert_put(kms_store *st, const kms_cert_rec *c, const kms_audit_ev *ev)
{
	struct cert_arg a = { c, ev };

	return kms_store_txn(st, true, t_cert_put, &a);
}

struct revoke_arg { const char *serial, *owner, *client; int64_t now; long reason; };

static kw_rv
t_revoke(kms_store *st, kms_db *db, void *arg)
{
	struct revoke_arg *a = arg;
	kms_audit_ev ev = { "revoke", NULL, a->client, NULL };
	char email[256];
	kms_q *q;
	bool row, ok;
	kw_rv rv;

	if ((rv = kms_q_first(st, db, Q_CERT_OWNER, &q, &row, "t", a->serial)) != KW_OK)
		return rv;
	ok = row && (a->owner == NULL || (strcmp(st->be->col_text(q, 0), a->owner) == 0 &&
	    strcmp(st->be->col_text(q, 1), "sign") == 0));
	if (ok)
		snprintf(email, sizeof(email), "%s", st->be->col_text(q, 0));
	st->be->finish(q);
	if (!ok)
		return KW_ERR_NOT_FOUND;
	if ((rv = kms_q_exec(st, db, Q_CERT_REVOKE, "iit", a->now, (int64_t)a->reason,
	    a->serial)) != KW_OK)
		return rv;
	ev.email = email;
	if ((ev.detail = json_pack("{s:s,s:I}", "serial", a->serial, "reason",
	    (json_int_t)a->reason)) == NULL)
		return KW_ERR_NOMEM;
	rv = kms_audit_append(st, db, &ev);
	json_decref(ev.detail);
	return rv;
}

kw_rv
kms_store_revoke(kms_store *st, const char *serial, const char *owner, int64_t now,
    long reason, const char *client)
{
	struct revoke_arg a = { serial, owner, client, now, reason };

	return kms_store_txn(st, true, t_revoke, &a);
}

struct revoked_arg { kms_revoked_fn fn; void *arg; };

static kw_rv
t_revoked(kms_store *st, kms_db *db, void *arg)
{
	struct revoked_arg *a = arg;
	kms_q *q;
	bool row;
	kw_rv rv;

	if ((rv = kms_q_first(st, db, Q_CERT_REVOKED, &q, &row, "")) != KW_OK)
		return rv;
	while (rv == KW_OK && row) {
		rv = a->fn(a->arg, st->be->col_text(q, 0), st->be->col_int(q, 1),
		    (long)st->be->col_int(q, 2));
		if (rv == KW_OK)
			rv = st->be->step(q, &row);
	}
	st->be->finish(q);
	return rv;
}

kw_rv
kms_store_revoked(kms_store *st, kms_revoked_fn fn, void *arg)
{
	struct revoked_arg a = { fn, arg };

	return kms_store_txn(st, false, t_revoked, &a);
}

struct dir_arg { const char *email; kw_buf *der; char *serial; int64_t *not_after; };

static kw_rv
t_directory(kms_store *st, kms_db *db, void *arg)
{
	struct dir_arg *a = arg;
	kms_q *q;
	bool row;
	kw_rv rv;

	if ((rv = kms_q_first(st, db, Q_DIR_GET, &q, &row, "t", a->email)) != KW_OK)
		return rv;
	if (!row)
		rv = KW_ERR_NOT_FOUND;
	else {
		kw_buf_reset(a->der);
		rv = kw_buf_put_view(a->der, st->be->col_blob(q, 0));
		snprintf(a->serial, 33, "%s", st->be->col_text(q, 1));
		*a->not_after = st->be->col_int(q, 2);
	}
	st->be->finish(q);
	return rv;
}

kw_rv
kms_store_directory(kms_store *st, const char *email, kw_buf *der, char serial[33],
    int64_t *not_after)
{
	struct dir_arg a = { email, der, serial, not_after };

	return kms_store_txn(st, false, t_directory, &a);
}

/* ---- escrowed keys ---------------------------------------------------------------- */

void
kms_escrow_keys_free(kms_escrow_key *keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		kw_buf_free(&keys[i].cert);
}

struct esc_arg {
	const char *email, *id, *alg, *split;
	long threshold, shares;
	const kms_cert_rec *cert;
	int64_t expect_seq, now;
	const kms_audit_ev *ev;
	bool use_pool, *pooled, *flag;
	char *label;
	kms_escrow_key *keys;
	kms_intent *intents;
	size_t max, *n;
};

static kw_rv
t_escrow_begin(kms_store *st, kms_db *db, void *arg)
{
	struct esc_arg *a = arg;
	kms_q *q;
	bool row = false;
	kw_rv rv;

	*a->pooled = false;
	snprintf(a->label, 48, "esc-%s", a->id);
	if (a->use_pool) {
		if ((rv = kms_q_first(st, db, Q_POOL_CLAIM, &q, &row, "")) != KW_OK)
			return rv;
		if (row) {
			snprintf(a->label, 48, "%s", st->be->col_text(q, 0));
			*a->pooled = true;
		}
		st->be->finish(q);
	}
	return kms_q_exec(st, db, Q_INT_ADD, "tti", a->id, a->label, a->now);
}

kw_rv
kms_store_escrow_begin(kms_store *st, const char *id, bool use_pool, int64_t now,
    char label[48], bool *pooled)
{
	struct esc_arg a = { .id = id, .use_pool = use_pool, .now = now, .label = label,
		.pooled = pooled };

	return kms_store_txn(st, true, t_escrow_begin, &a);
}

static kw_rv
t_escrow_put(kms_store *st, kms_db *db, void *arg)
{
	struct esc_arg *a = arg;
	kms_q *q;
	bool row;
	int64_t seq;
	kw_rv rv;

	if ((rv = kms_q_first(st, db, Q_KEY_MAXSEQ, &q, &row, "t", a->email)) != KW_OK)
		return rv;
	seq = row ? st->be->col_int(q, 0) : 0;
	st->be->finish(q);
	if (a->expect_seq >= 0 && seq != a->expect_seq)
		return KW_ERR_CONDITIONS;
	if ((rv = cert_add(st, db, a->cert)) != KW_OK ||
	    (rv = kms_q_exec(st, db, Q_KEY_ADD, "ttittiitii", a->id, a->email, seq + 1,
	    a->alg, a->cert->serial, a->cert->not_after, a->now, a->split,
	    (int64_t)a->threshold, (int64_t)a->shares)) != KW_OK ||
	    (rv = kms_q_exec(st, db, Q_INT_DEL, "t", a->id)) != KW_OK)
		return rv;
	return kms_audit_append(st, db, a->ev);
}

kw_rv
kms_store_escrow_put(kms_store *st, const char *email, const char *id, const char *alg,
    const char *split, long threshold, long shares, const kms_cert_rec *cert,
    int64_t expect_seq, int64_t now, const kms_audit_ev *ev)
{
	struct esc_arg a = { .email = email, .id = id, .alg = alg, .split = split,
		.threshold = threshold, .shares = shares, .cert = cert,
		.expect_seq = expect_seq, .now = now, .ev = ev };

	return kms_store_txn(st, true, t_escrow_put, &a);
}

static kw_rv
t_escrow_abort(kms_store *st, kms_db *db, void *arg)
{
	struct esc_arg *a = arg;
	kw_rv rv;

	if ((rv = kms_q_exec(st, db, Q_INT_DEL, "t", a->id)) != KW_OK || a->ev == NULL)
		return rv;
	return kms_audit_append(st, db, a->ev);
}

kw_rv
kms_store_escrow_abort(kms_store *st, const char *id, const kms_audit_ev *ev)
{
	struct esc_arg a = { .id = id, .ev = ev };

	return kms_store_txn(st, true, t_escrow_abort, &a);
}

static kw_rv
t_escrow_list(kms_store *st, kms_db *db, void *arg)
{
	struct esc_arg *a = arg;
	kms_escrow_key *k;
	kms_q *q;
	bool row;
	kw_rv rv;

	if ((rv = kms_q_first(st, db, Q_KEY_LIST, &q, &row, "t", a->email)) != KW_OK)
		return rv;
	while (rv == KW_OK && row) {
		if (*a->n == a->max) {
			rv = KW_ERR_RANGE;
			break;
		}
		k = &a->keys[*a->n];
		snprintf(k->id, sizeof(k->id), "%s", st->be->col_text(q, 0));
		k->seq = st->be->col_int(q, 1);
		snprintf(k->alg, sizeof(k->alg), "%s", st->be->col_text(q, 2));
		snprintf(k->serial, sizeof(k->serial), "%s", st->be->col_text(q, 3));
		k->not_after = st->be->col_int(q, 4);
		snprintf(k->split, sizeof(k->split), "%s", st->be->col_text(q, 5));
		k->threshold = (long)st->be->col_int(q, 6);
		k->shares = (long)st->be->col_int(q, 7);
		kw_buf_init(&k->cert, 1 << 16);
		(*a->n)++;
		if ((rv = kw_buf_put_view(&k->cert, st->be->col_blob(q, 8))) == KW_OK)
			rv = st->be->step(q, &row);
	}
	st->be->finish(q);
	return rv;
}

kw_rv
kms_store_escrow_list(kms_store *st, const char *email, kms_escrow_key *keys,
    size_t max, size_t *n)
{
	struct esc_arg a = { .email = email, .keys = keys, .max = max, .n = n };
	kw_rv rv;

	*n = 0;
	if ((rv = kms_store_txn(st, false, t_escrow_list, &a)) != KW_OK) {
		kms_escrow_keys_free(keys, *n);
		*n = 0;
	}
	return rv;
}

struct cur_arg { const char *email; int64_t *seq, *not_after; };

static kw_rv
t_current(kms_store *st, kms_db *db, void *arg)
{
	struct cur_arg *a = arg;
	kms_q *q;
	bool row;
	kw_rv rv;

	if ((rv = kms_q_first(st, db, Q_KEY_CURRENT, &q, &row, "t", a->email)) != KW_OK)
		return rv;
	if (!row)
		rv = KW_ERR_NOT_FOUND;
	else {
		*a->seq = st->be->col_int(q, 0);
		*a->not_after = st->be->col_int(q, 1);
	}
	st->be->finish(q);
	return rv;
}

kw_rv
kms_store_escrow_current(kms_store *st, const char *email, int64_t *seq,
    int64_t *not_after)
{
	struct cur_arg a = { email, seq, not_after };

	return kms_store_txn(st, false, t_current, &a);
}

static kw_rv
t_intents(kms_store *st, kms_db *db, void *arg)
{
	struct esc_arg *a = arg;
	kms_q *q;
	bool row;
	kw_rv rv;

	if ((rv = kms_q_first(st, db, Q_INT_LIST, &q, &row, "")) != KW_OK)
		return rv;
	while (rv == KW_OK && row && *a->n < a->max) {
		snprintf(a->intents[*a->n].id, 33, "%s", st->be->col_text(q, 0));
		snprintf(a->intents[*a->n].label, 48, "%s", st->be->col_text(q, 1));
		a->intents[*a->n].created = st->be->col_int(q, 2);
		(*a->n)++;
		rv = st->be->step(q, &row);
	}
	st->be->finish(q);
	return rv;
}

kw_rv
kms_store_escrow_intents(kms_store *st, kms_intent *out, size_t max, size_t *n)
{
	struct esc_arg a = { .intents = out, .max = max, .n = n };
	kw_rv rv;

	*n = 0;
	if ((rv = kms_store_txn(st, false, t_intents, &a)) != KW_OK)
		*n = 0;
	return rv;
}

static kw_rv
t_has(kms_store *st, kms_db *db, enum kms_stmt id, const char *fmt, const char *v,
    bool *flag)
{
	kms_q *q;
	bool row;
	kw_rv rv;

	rv = fmt[1] == 't' ? kms_q_first(st, db, id, &q, &row, fmt, v, v) :
	    kms_q_first(st, db, id, &q, &row, fmt, v);
	if (rv != KW_OK)
		return rv;
	*flag = row;
	st->be->finish(q);
	return KW_OK;
}

static kw_rv
t_label_known(kms_store *st, kms_db *db, void *arg)
{
	struct esc_arg *a = arg;

	return t_has(st, db, Q_INT_HAS, "tt", a->label, a->flag);
}

kw_rv
kms_store_label_known(kms_store *st, const char *label, bool *known)
{
	struct esc_arg a = { .label = (char *)label, .flag = known };

	return kms_store_txn(st, false, t_label_known, &a);
}

static kw_rv
t_exists(kms_store *st, kms_db *db, void *arg)
{
	struct esc_arg *a = arg;

	return t_has(st, db, Q_KEY_HAS, "t", a->id, a->flag);
}

kw_rv
kms_store_escrow_exists(kms_store *st, const char *id, bool *exists)
{
	struct esc_arg a = { .id = id, .flag = exists };

	return kms_store_txn(st, false, t_exists, &a);
}

/* ---- pool --------------------------------------------------------------------------- */

static kw_rv
t_pool_add(kms_store *st, kms_db *db, void *arg)
{
	struct esc_arg *a = arg;

	return kms_q_exec(st, db, Q_POOL_ADD, "ti", a->label, a->now);
}

kw_rv
kms_store_pool_add(kms_store *st, const char *label, int64_t now)
{
	struct esc_arg a = { .label = (char *)label, .now = now };

	return kms_store_txn(st, true, t_pool_add, &a);
}

static kw_rv
t_pool_count(kms_store *st, kms_db *db, void *arg)
{
	struct esc_arg *a = arg;
	kms_q *q;
	bool row;
	kw_rv rv;

	if ((rv = kms_q_first(st, db, Q_POOL_COUNT, &q, &row, "")) != KW_OK)
		return rv;
	*a->n = row ? (size_t)st->be->col_int(q, 0) : 0;
	st->be->finish(q);
	return KW_OK;
}

kw_rv
kms_store_pool_count(kms_store *st, size_t *n)
{
	struct esc_arg a = { .n = n };

	*n = 0;
	return kms_store_txn(st, false, t_pool_count, &a);
}

/* ---- share role ------------------------------------------------------------------------ */

struct share_arg { const char *id; long idx; kw_view sealed; kw_buf *out; int64_t now; };

static kw_rv
t_share_put(kms_store *st, kms_db *db, void *arg)
{
	struct share_arg *a = arg;

	return kms_q_exec(st, db, Q_SH_PUT, "tibi", a->id, (int64_t)a->idx, a->sealed.ptr,
	    a->sealed.len, a->now);
}

kw_rv
kms_store_share_put(kms_store *st, const char *key_id, long idx, kw_view sealed,
    int64_t now)
{
	struct share_arg a = { key_id, idx, sealed, NULL, now };

	return kms_store_txn(st, true, t_share_put, &a);
}

static kw_rv
t_share_get(kms_store *st, kms_db *db, void *arg)
{
	struct share_arg *a = arg;
	kms_q *q;
	bool row;
	kw_rv rv;

	if ((rv = kms_q_first(st, db, Q_SH_GET, &q, &row, "ti", a->id, (int64_t)a->idx)) != KW_OK)
		return rv;
	if (!row)
		rv = KW_ERR_NOT_FOUND;
	else {
		kw_buf_reset(a->out);
		rv = kw_buf_put_view(a->out, st->be->col_blob(q, 0));
	}
	st->be->finish(q);
	return rv;
}

kw_rv
kms_store_share_get(kms_store *st, const char *key_id, long idx, kw_buf *sealed)
{
	struct share_arg a = { key_id, idx, { NULL, 0 }, sealed, 0 };

	return kms_store_txn(st, false, t_share_get, &a);
}

static kw_rv
t_share_del(kms_store *st, kms_db *db, void *arg)
{
	struct share_arg *a = arg;

	return kms_q_exec(st, db, Q_SH_DEL, "ti", a->id, (int64_t)a->idx);
}

kw_rv
kms_store_share_delete(kms_store *st, const char *key_id, long idx)
{
	struct share_arg a = { key_id, idx, { NULL, 0 }, NULL, 0 };

	return kms_store_txn(st, true, t_share_del, &a);
}
