/* Between the storage intents (kms_store.c, kms_audit.c) and a backend.
 *
 * A backend gives connections, transactions and the statements below
 * (each backend has its own SQL text for every statement id, so dialects
 * may differ); the intents are written once over them. Binds by a format
 * string: 't' text (NULL allowed), 'i' int64_t, 'b' blob (pointer,
 * size_t). A backend reports KW_ERR_CONDITIONS for a constraint
 * violation, KW_ERR_TIMEOUT for a conflict after which the whole
 * transaction may be retried (busy, serialization failure, deadlock) and
 * KW_ERR_IO for anything else. */
#ifndef KMS_STORE_INT_H
#define KMS_STORE_INT_H

#include <pthread.h>
#include <stdarg.h>

#include "kms_store.h"

enum kms_stmt {
	Q_PING,
	Q_META_GET, Q_META_PUT,
	Q_AUDIT_HEAD, Q_AUDIT_ADD, Q_AUDIT_ALL,
	Q_RATE_COUNT, Q_RATE_ADD, Q_RATE_PRUNE,
	Q_CH_VOID, Q_CH_ADD, Q_CH_NEWEST, Q_CH_FAIL, Q_CH_USE,
	Q_SESS_ADD, Q_SESS_GET,
	Q_OUT_ADD, Q_OUT_NEXT, Q_OUT_DEL, Q_OUT_RETRY, Q_OUT_DUE,
	Q_PW_GET, Q_PW_PUT, Q_PW_FAIL, Q_PW_OK,
	Q_ID_GET, Q_ID_PUT,
	Q_CERT_ADD, Q_CERT_OWNER, Q_CERT_REVOKE, Q_CERT_REVOKED,
	Q_DIR_GET,
	Q_KEY_MAXSEQ, Q_KEY_CURRENT, Q_KEY_ADD, Q_KEY_LIST, Q_KEY_HAS,
	Q_INT_ADD, Q_INT_DEL, Q_INT_LIST, Q_INT_HAS,
	Q_POOL_ADD, Q_POOL_CLAIM, Q_POOL_COUNT, Q_POOL_HAS,
	Q_SH_PUT, Q_SH_GET, Q_SH_DEL,
	Q_COUNT
};

typedef struct kms_db kms_db;   /* one connection, one thread */
typedef struct kms_q kms_q;     /* a statement being run */

typedef struct kms_store_backend {
	const char *name;
	kw_rv (*init)(kms_store *st, const char *url);  /* schema */
	kw_rv (*connect)(kms_store *st, kms_db **db);
	void (*disconnect)(kms_db *db);
	kw_rv (*begin)(kms_db *db, bool write);
	kw_rv (*commit)(kms_db *db);
	void (*rollback)(kms_db *db);
	kw_rv (*run)(kms_db *db, enum kms_stmt id, kms_q **q, const char *fmt, va_list ap);
	/* *row: a row is ready; false at the end. */
	kw_rv (*step)(kms_q *q, bool *row);
	int64_t (*col_int)(kms_q *q, int i);
	const char *(*col_text)(kms_q *q, int i);   /* "" for NULL */
	bool (*col_null)(kms_q *q, int i);
	kw_view (*col_blob)(kms_q *q, int i);
	void (*finish)(kms_q *q);
} kms_store_backend;

extern const kms_store_backend kms_store_sqlite;

struct kms_conn_node;

struct kms_store {
	const kms_store_backend *be;
	kms_store_role role;
	char *url;
	pthread_key_t key;          /* this thread's kms_conn_node */
	pthread_mutex_t mu;         /* the list of connections */
	struct kms_conn_node *conns;
};

/* The calling thread's connection. */
kw_rv kms_store_db(kms_store *st, kms_db **db);

/* Helpers for intents, inside a transaction. */
kw_rv kms_q_exec(kms_store *st, kms_db *db, enum kms_stmt id, const char *fmt, ...);
/* Run and step to the first row; *row false if none. Caller finishes q. */
kw_rv kms_q_first(kms_store *st, kms_db *db, enum kms_stmt id, kms_q **q, bool *row,
    const char *fmt, ...);

/* Run body in one transaction (retried on KW_ERR_TIMEOUT). */
typedef kw_rv (*kms_txn_fn)(kms_store *st, kms_db *db, void *arg);
kw_rv kms_store_txn(kms_store *st, bool write, kms_txn_fn fn, void *arg);

/* kms_audit.c: append ev to the chain inside the current transaction. */
kw_rv kms_audit_append(kms_store *st, kms_db *db, const kms_audit_ev *ev);

#endif
