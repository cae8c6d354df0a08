/* SQLite storage of keyward-kmsd: schema and small binding helpers.
 * The database holds no private key: escrow keys are stored split on
 * the share servers; the front keeps certificates and bookkeeping. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kms.h"
#include "kw_log.h"

static const char front_schema[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS enc_keys (id TEXT PRIMARY KEY, email TEXT NOT NULL,"
    " seq INTEGER NOT NULL, alg TEXT NOT NULL, serial TEXT NOT NULL,"
    " not_after INTEGER NOT NULL, created INTEGER NOT NULL,"
    " split TEXT NOT NULL, threshold INTEGER NOT NULL, shares INTEGER NOT NULL,"
    " UNIQUE(email, seq));"
    "CREATE TABLE IF NOT EXISTS certs (serial TEXT PRIMARY KEY, email TEXT NOT NULL,"
    " kind TEXT NOT NULL, profile TEXT NOT NULL, not_before INTEGER NOT NULL,"
    " not_after INTEGER NOT NULL, der BLOB NOT NULL, revoked_at INTEGER,"
    " reason INTEGER);"
    "CREATE TABLE IF NOT EXISTS challenges (email TEXT NOT NULL, hash BLOB NOT NULL,"
    " expires INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " used INTEGER NOT NULL DEFAULT 0, client TEXT, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sessions (hash BLOB PRIMARY KEY, email TEXT NOT NULL,"
    " expires INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS passwords (email TEXT PRIMARY KEY, verifier TEXT NOT NULL,"
    " failures INTEGER NOT NULL DEFAULT 0, locked_until INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS identities (email TEXT PRIMARY KEY, level TEXT NOT NULL,"
    " name TEXT, organization TEXT);"
    "CREATE TABLE IF NOT EXISTS events (kind TEXT NOT NULL, subject TEXT NOT NULL,"
    " ts INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);";

static const char share_schema[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS shares (key_id TEXT NOT NULL, idx INTEGER NOT NULL,"
    " sealed BLOB NOT NULL, created INTEGER NOT NULL, PRIMARY KEY(key_id, idx));"
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);";

kw_rv
kms_store_open(const char *path, bool front, sqlite3 **db)
{
	char *err = NULL;

	*db = NULL;
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		kw_err("db: cannot open %.200s: %s", path, sqlite3_errmsg(*db));
		kms_store_close(db);
		return KW_ERR_IO;
	}
	sqlite3_busy_timeout(*db, 5000);
	if (sqlite3_exec(*db, front ? front_schema : share_schema, NULL, NULL,
	    &err) != SQLITE_OK) {
		kw_err("db: schema: %s", err != NULL ? err : "?");
		sqlite3_free(err);
		kms_store_close(db);
		return KW_ERR_IO;
	}
	return KW_OK;
}

void
kms_store_close(sqlite3 **db)
{
	if (*db != NULL)
		sqlite3_close(*db);
	*db = NULL;
}

static sqlite3_stmt *
prepare_va(sqlite3 *db, const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt *st = NULL;
	const void *p;
	int i, r = SQLITE_OK;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		kw_err("db: %s", sqlite3_errmsg(db));
		return NULL;
	}
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
			r = sqlite3_bind_blob(st, i + 1, p, (int)va_arg(ap, size_t),
			    SQLITE_TRANSIENT);
			break;
		default:
			r = SQLITE_MISUSE;
		}
	}
	if (r != SQLITE_OK) {
		kw_err("db: bind: %s", sqlite3_errstr(r));
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

sqlite3_stmt *
kms_db_prepare(sqlite3 *db, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, fmt);
	st = prepare_va(db, sql, fmt, ap);
	va_end(ap);
	return st;
}

kw_rv
kms_db_exec(sqlite3 *db, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int r;

	va_start(ap, fmt);
	st = prepare_va(db, sql, fmt, ap);
	va_end(ap);
	if (st == NULL)
		return KW_ERR_IO;
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE && r != SQLITE_ROW) {
		kw_err("db: %s", sqlite3_errmsg(db));
		return r == SQLITE_CONSTRAINT ? KW_ERR_CONDITIONS : KW_ERR_IO;
	}
	return KW_OK;
}

kw_rv
kms_db_begin(sqlite3 *db)
{
	return kms_db_exec(db, "BEGIN IMMEDIATE", "");
}

kw_rv
kms_db_commit(sqlite3 *db)
{
	return kms_db_exec(db, "COMMIT", "");
}

void
kms_db_rollback(sqlite3 *db)
{
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

char *
kms_db_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t != NULL ? strdup((const char *)t) : NULL;
}
