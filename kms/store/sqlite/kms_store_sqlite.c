/* The SQLite backend of the store (the embedded default).
 *
 * One connection per thread (SQLITE_OPEN_NOMUTEX: a connection is never
 * shared), WAL so that readers never wait for the writer, synchronous =
 * FULL so that an answered request survives a crash of the process or
 * the machine, BEGIN IMMEDIATE for writing transactions (writers queue
 * on the database lock, busy_timeout bounds the wait). Statements are
 * prepared once per connection and reused.
 *
 * The database holds no private key: escrow keys are stored split on
 * the share servers; the front keeps certificates and bookkeeping. */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "kms_store_int.h"
#include "kw_log.h"

static const char front_schema[] =
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL,"
    " line TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS enc_keys (id TEXT PRIMARY KEY, email TEXT NOT NULL,"
    " seq INTEGER NOT NULL, alg TEXT NOT NULL, serial TEXT NOT NULL,"
    " not_after INTEGER NOT NULL, created INTEGER NOT NULL,"
    " split TEXT NOT NULL, threshold INTEGER NOT NULL, shares INTEGER NOT NULL,"
    " UNIQUE(email, seq));"
    "CREATE TABLE IF NOT EXISTS escrow_intents (id TEXT PRIMARY KEY, label TEXT NOT NULL,"
    " created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS pool (label TEXT PRIMARY KEY, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS certs (serial TEXT PRIMARY KEY, email TEXT NOT NULL,"
    " kind TEXT NOT NULL, profile TEXT NOT NULL, not_before INTEGER NOT NULL,"
    " not_after INTEGER NOT NULL, der BLOB NOT NULL, revoked_at INTEGER,"
    " reason INTEGER);"
    "CREATE INDEX IF NOT EXISTS certs_revoked ON certs(revoked_at);"
    "CREATE TABLE IF NOT EXISTS challenges (id INTEGER PRIMARY KEY, email TEXT NOT NULL,"
    " hash BLOB NOT NULL, expires INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " used INTEGER NOT NULL DEFAULT 0, client TEXT, created INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS challenges_email ON challenges(email, used);"
    "CREATE TABLE IF NOT EXISTS sessions (hash BLOB PRIMARY KEY, email TEXT NOT NULL,"
    " expires INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, rcpt TEXT NOT NULL,"
    " body TEXT NOT NULL, next_try INTEGER NOT NULL, tries INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS passwords (email TEXT PRIMARY KEY, verifier TEXT NOT NULL,"
    " failures INTEGER NOT NULL DEFAULT 0, locked_until INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS identities (email TEXT PRIMARY KEY, level TEXT NOT NULL,"
    " name TEXT, organization TEXT);"
    "CREATE TABLE IF NOT EXISTS rate (kind TEXT NOT NULL, subject TEXT NOT NULL,"
    " ts INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS rate_subject ON rate(kind, subject, ts);"
    "INSERT OR IGNORE INTO meta (k, v) VALUES ('schema', '2');";

static const char share_schema[] =
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS shares (key_id TEXT NOT NULL, idx INTEGER NOT NULL,"
    " sealed BLOB NOT NULL, created INTEGER NOT NULL, PRIMARY KEY(key_id, idx));"
    "INSERT OR IGNORE INTO meta (k, v) VALUES ('schema', '2');";

static const char *const sql[Q_COUNT] = {
	[Q_PING] = "SELECT 1",
	[Q_META_GET] = "SELECT v FROM meta WHERE k = ?",
	[Q_META_PUT] = "INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)",
	[Q_AUDIT_HEAD] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
	[Q_AUDIT_ADD] = "INSERT INTO audit (seq, hash, line) VALUES (?, ?, ?)",
	[Q_AUDIT_ALL] = "SELECT seq, line FROM audit ORDER BY seq",
	[Q_RATE_COUNT] = "SELECT COUNT(*) FROM rate WHERE kind = ? AND subject = ? AND ts > ?",
	[Q_RATE_ADD] = "INSERT INTO rate (kind, subject, ts) VALUES (?, ?, ?)",
	[Q_RATE_PRUNE] = "DELETE FROM rate WHERE kind = ? AND subject = ? AND ts <= ?",
	[Q_CH_VOID] = "UPDATE challenges SET used = 1 WHERE email = ? AND used = 0",
	[Q_CH_ADD] = "INSERT INTO challenges (email, hash, expires, client, created)"
	    " VALUES (?, ?, ?, ?, ?)",
	[Q_CH_NEWEST] = "SELECT id, hash, expires FROM challenges WHERE email = ?"
	    " AND used = 0 ORDER BY id DESC LIMIT 1",
	[Q_CH_FAIL] = "UPDATE challenges SET attempts = attempts + 1,"
	    " used = (attempts + 1 >= ?) WHERE id = ?",
	[Q_CH_USE] = "UPDATE challenges SET used = 1 WHERE id = ?",
	[Q_SESS_ADD] = "INSERT INTO sessions (hash, email, expires) VALUES (?, ?, ?)",
	[Q_SESS_GET] = "SELECT email FROM sessions WHERE hash = ? AND expires > ?",
	[Q_OUT_ADD] = "INSERT INTO outbox (rcpt, body, next_try) VALUES (?, ?, ?)",
	[Q_OUT_NEXT] = "SELECT id, rcpt, body, tries FROM outbox WHERE next_try <= ?"
	    " ORDER BY next_try, id LIMIT 1",
	[Q_OUT_DEL] = "DELETE FROM outbox WHERE id = ?",
	[Q_OUT_RETRY] = "UPDATE outbox SET tries = tries + 1, next_try = ? WHERE id = ?",
	[Q_OUT_DUE] = "SELECT MIN(next_try) FROM outbox",
	[Q_PW_GET] = "SELECT verifier, failures, locked_until FROM passwords WHERE email = ?",
	[Q_PW_PUT] = "INSERT OR REPLACE INTO passwords (email, verifier, failures,"
	    " locked_until) VALUES (?, ?, 0, 0)",
	[Q_PW_FAIL] = "UPDATE passwords SET failures = CASE WHEN failures + 1 >= ? THEN 0"
	    " ELSE failures + 1 END, locked_until = CASE WHEN failures + 1 >= ? THEN ?"
	    " ELSE 0 END WHERE email = ? RETURNING failures, locked_until",
	[Q_PW_OK] = "UPDATE passwords SET failures = 0 WHERE email = ?",
	[Q_ID_GET] = "SELECT level, name, organization FROM identities WHERE email = ?",
	[Q_ID_PUT] = "INSERT OR REPLACE INTO identities (email, level, name, organization)"
	    " VALUES (?, ?, ?, ?)",
	[Q_CERT_ADD] = "INSERT INTO certs (serial, email, kind, profile, not_before,"
	    " not_after, der) VALUES (?, ?, ?, ?, ?, ?, ?)",
	[Q_CERT_OWNER] = "SELECT email, kind FROM certs WHERE serial = ?"
	    " AND revoked_at IS NULL",
	[Q_CERT_REVOKE] = "UPDATE certs SET revoked_at = ?, reason = ? WHERE serial = ?",
	[Q_CERT_REVOKED] = "SELECT serial, revoked_at, reason FROM certs"
	    " WHERE revoked_at IS NOT NULL ORDER BY revoked_at",
	[Q_DIR_GET] = "SELECT c.der, c.serial, c.not_after FROM enc_keys k"
	    " JOIN certs c ON c.serial = k.serial WHERE k.email = ? AND c.revoked_at IS NULL"
	    " ORDER BY k.seq DESC LIMIT 1",
	[Q_KEY_MAXSEQ] = "SELECT COALESCE(MAX(seq), 0) FROM enc_keys WHERE email = ?",
	[Q_KEY_CURRENT] = "SELECT seq, not_after FROM enc_keys WHERE email = ?"
	    " ORDER BY seq DESC LIMIT 1",
	[Q_KEY_ADD] = "INSERT INTO enc_keys (id, email, seq, alg, serial, not_after, created,"
	    " split, threshold, shares) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[Q_KEY_LIST] = "SELECT k.id, k.seq, k.alg, k.serial, k.not_after, k.split,"
	    " k.threshold, k.shares, c.der FROM enc_keys k JOIN certs c ON c.serial = k.serial"
	    " WHERE k.email = ? ORDER BY k.seq DESC",
	[Q_KEY_HAS] = "SELECT 1 FROM enc_keys WHERE id = ?",
	[Q_INT_ADD] = "INSERT INTO escrow_intents (id, label, created) VALUES (?, ?, ?)",
	[Q_INT_DEL] = "DELETE FROM escrow_intents WHERE id = ?",
	[Q_INT_LIST] = "SELECT id, label, created FROM escrow_intents ORDER BY created",
	[Q_INT_HAS] = "SELECT 1 FROM escrow_intents WHERE label = ?"
	    " UNION ALL SELECT 1 FROM pool WHERE label = ?",
	[Q_POOL_ADD] = "INSERT INTO pool (label, created) VALUES (?, ?)",
	[Q_POOL_CLAIM] = "DELETE FROM pool WHERE label = (SELECT label FROM pool"
	    " ORDER BY created LIMIT 1) RETURNING label",
	[Q_POOL_COUNT] = "SELECT COUNT(*) FROM pool",
	[Q_POOL_HAS] = "SELECT 1 FROM pool WHERE label = ?",
	[Q_SH_PUT] = "INSERT INTO shares (key_id, idx, sealed, created) VALUES (?, ?, ?, ?)",
	[Q_SH_GET] = "SELECT sealed FROM shares WHERE key_id = ? AND idx = ?",
	[Q_SH_DEL] = "DELETE FROM shares WHERE key_id = ? AND idx = ?",
};

struct kms_q {
	sqlite3_stmt *st;
	kms_db *db;
};

struct kms_db {
	sqlite3 *h;
	sqlite3_stmt *st[Q_COUNT];
	struct kms_q q;
};

static const char *
path_of(const char *url)
{
	return strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
}

static kw_rv
err_of(sqlite3 *h, int r, const char *what)
{
	switch (r & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		kw_warn("db: %s: %s (will retry)", what, sqlite3_errmsg(h));
		return KW_ERR_TIMEOUT;
	case SQLITE_CONSTRAINT:
		return KW_ERR_CONDITIONS;
	default:
		kw_err("db: %s: %s", what, sqlite3_errmsg(h));
		return KW_ERR_IO;
	}
}

static kw_rv
open_conn(const char *path, sqlite3 **h)
{
	char *err = NULL;

	if (sqlite3_open_v2(path, h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		kw_err("db: cannot open %.200s: %s", path, *h != NULL ? sqlite3_errmsg(*h) : "?");
		sqlite3_close(*h);
		*h = NULL;
		return KW_ERR_IO;
	}
	sqlite3_busy_timeout(*h, 10000);
	if (sqlite3_exec(*h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	    " PRAGMA secure_delete=ON; PRAGMA foreign_keys=ON", NULL, NULL, &err) != SQLITE_OK) {
		kw_err("db: %.200s: %s", path, err != NULL ? err : "?");
		sqlite3_free(err);
		sqlite3_close(*h);
		*h = NULL;
		return KW_ERR_IO;
	}
	return KW_OK;
}

static kw_rv
be_init(kms_store *st, const char *url)
{
	sqlite3 *h = NULL;
	char *err = NULL;
	kw_rv rv;

	if ((rv = open_conn(path_of(url), &h)) != KW_OK)
		return rv;
	if (sqlite3_exec(h, st->role == KMS_STORE_FRONT ? front_schema : share_schema,
	    NULL, NULL, &err) != SQLITE_OK) {
		kw_err("db: schema: %s", err != NULL ? err : "?");
		rv = KW_ERR_IO;
	}
	sqlite3_free(err);
	sqlite3_close(h);
	return rv;
}

static kw_rv
be_connect(kms_store *st, kms_db **out)
{
	kms_db *db = calloc(1, sizeof(*db));
	kw_rv rv;

	if (db == NULL)
		return KW_ERR_NOMEM;
	if ((rv = open_conn(path_of(st->url), &db->h)) != KW_OK) {
		free(db);
		return rv;
	}
	db->q.db = db;
	*out = db;
	return KW_OK;
}

static void
be_disconnect(kms_db *db)
{
	size_t i;

	if (db == NULL)
		return;
	for (i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(db->st[i]);
	sqlite3_close(db->h);
	free(db);
}

static kw_rv
exec_plain(kms_db *db, const char *s)
{
	int r = sqlite3_exec(db->h, s, NULL, NULL, NULL);

	return r == SQLITE_OK ? KW_OK : err_of(db->h, r, s);
}

static kw_rv
be_begin(kms_db *db, bool write)
{
	return exec_plain(db, write ? "BEGIN IMMEDIATE" : "BEGIN");
}

static kw_rv
be_commit(kms_db *db)
{
	return exec_plain(db, "COMMIT");
}

static void
be_rollback(kms_db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

static kw_rv
be_run(kms_db *db, enum kms_stmt id, kms_q **q, const char *fmt, va_list ap)
{
	sqlite3_stmt *st;
	const void *p;
	size_t n;
	int i, r = SQLITE_OK;

	if (id >= Q_COUNT || sql[id] == NULL)
		return KW_ERR_INTERNAL;
	if (db->st[id] == NULL && (r = sqlite3_prepare_v3(db->h, sql[id], -1,
	    SQLITE_PREPARE_PERSISTENT, &db->st[id], NULL)) != SQLITE_OK)
		return err_of(db->h, r, "prepare");
	st = db->st[id];
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	for (i = 0; fmt[i] != '\0' && r == SQLITE_OK; i++) {
		switch (fmt[i]) {
		case 't':
			r = sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1,
			    SQLITE_TRANSIENT);
			break;
		case 'i':
			r = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
			break;
		case 'b':
			p = va_arg(ap, const void *);
			n = va_arg(ap, size_t);
			r = sqlite3_bind_blob(st, i + 1, p != NULL ? p : "", (int)n,
			    SQLITE_TRANSIENT);
			break;
		default:
			r = SQLITE_MISUSE;
		}
	}
	if (r != SQLITE_OK)
		return err_of(db->h, r, "bind");
	db->q.st = st;
	*q = &db->q;
	return KW_OK;
}

static kw_rv
be_step(kms_q *q, bool *row)
{
	int r = sqlite3_step(q->st);

	*row = r == SQLITE_ROW;
	if (r == SQLITE_ROW || r == SQLITE_DONE)
		return KW_OK;
	return err_of(q->db->h, r, "step");
}

static int64_t
be_col_int(kms_q *q, int i)
{
	return sqlite3_column_int64(q->st, i);
}

static const char *
be_col_text(kms_q *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q->st, i);

	return t != NULL ? (const char *)t : "";
}

static bool
be_col_null(kms_q *q, int i)
{
	return sqlite3_column_type(q->st, i) == SQLITE_NULL;
}

static kw_view
be_col_blob(kms_q *q, int i)
{
	const void *p = sqlite3_column_blob(q->st, i);

	return kw_view_make(p, p != NULL ? (size_t)sqlite3_column_bytes(q->st, i) : 0);
}

static void
be_finish(kms_q *q)
{
	if (q != NULL && q->st != NULL) {
		sqlite3_reset(q->st);
		sqlite3_clear_bindings(q->st);
		q->st = NULL;
	}
}

const kms_store_backend kms_store_sqlite = {
	.name = "sqlite",
	.init = be_init,
	.connect = be_connect,
	.disconnect = be_disconnect,
	.begin = be_begin,
	.commit = be_commit,
	.rollback = be_rollback,
	.run = be_run,
	.step = be_step,
	.col_int = be_col_int,
	.col_text = be_col_text,
	.col_null = be_col_null,
	.col_blob = be_col_blob,
	.finish = be_finish,
};
