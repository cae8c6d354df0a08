/* keyward-kmsd internals: the process context and the interfaces between
 * its files. Each concern lives in its own kms_*.c file. */
#ifndef KMS_H
#define KMS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "kms_config.h"
#include "kms_hsm.h"
#include "kw_buf.h"

/* HSM object labels. */
#define KMS_LABEL_CA "kms-ca"
#define KMS_LABEL_KEK "kms-kek"            /* wraps escrow keys for storage */
#define KMS_LABEL_SHARE_KEY "share-key"    /* share role: seals stored shares */
#define KMS_LABEL_TLS_PASS "tls-key-pass"  /* passphrase of the TLS key file */
#define KMS_LABEL_SHARE_TOKEN "share-token" /* front: bearer for share servers */
#define KMS_LABEL_POOL_PREFIX "pool-"

struct kms_route;
typedef struct kms_pool kms_pool;
typedef struct kms_ca kms_ca;

typedef struct kms_ctx {
	kms_config cfg;
	kms_hsm *hsm;
	sqlite3 *db;
	kms_pool *pool;
	kms_ca *ca;
	kw_buf share_token;      /* front: the bearer token for share servers */
	pthread_mutex_t lock;    /* serializes API handlers (one db connection) */
	const struct kms_route *routes; /* set by kms_http_start */
	pthread_mutex_t audit_lock;
	char audit_prev[65];     /* hash of the last audit entry (hex) */
	uint64_t audit_seq;
	bool audit_loaded;
} kms_ctx;

/* Current time; KEYWARD_KMS_TIME_OFFSET (seconds, tests only) shifts it. */
time_t kms_now(void);

/* ---- kms_store.c: SQLite ------------------------------------------- */
kw_rv kms_store_open(const char *path, bool front, sqlite3 **db);
void kms_store_close(sqlite3 **db);
/* Bind by fmt: 't' text, 'i' int64, 'b' blob (ptr, size_t len). */
sqlite3_stmt *kms_db_prepare(sqlite3 *db, const char *sql, const char *fmt, ...);
kw_rv kms_db_exec(sqlite3 *db, const char *sql, const char *fmt, ...);
kw_rv kms_db_begin(sqlite3 *db);
kw_rv kms_db_commit(sqlite3 *db);
void kms_db_rollback(sqlite3 *db);
/* Text column copied into a kw_buf-free C string; NULL on NULL. */
char *kms_db_text(sqlite3_stmt *st, int col);

/* ---- kms_util.c ---------------------------------------------------- */
kw_rv kms_random(void *p, size_t n);
/* Random token: n bytes as lowercase hex (out >= 2n+1). */
kw_rv kms_random_hex(char *out, size_t n);
void kms_sha256(const void *p, size_t n, uint8_t out[32]);
char *kms_b64_encode(const uint8_t *p, size_t n);
kw_rv kms_b64_decode(const char *s, kw_buf *out);
/* Lower-cased, validated address (local@domain, printable, <= 254). */
char *kms_email_normalize(const char *s);
kw_rv kms_file_read(const char *path, kw_buf *out, size_t max);
/* Write a file atomically with mode (0600 for secrets). */
kw_rv kms_file_write(const char *path, const void *p, size_t n, int mode);
char *kms_path(const char *dir, const char *file);
char *kms_der_to_pem(const char *type, kw_view der);

/* ---- kms_audit.c: append-only, hash-chained JSON lines ------------- */
void kms_audit(kms_ctx *ctx, const char *event, const char *email,
    const char *client, json_t *detail /* stolen, may be NULL */);
/* Verify the chain of an audit file; number of entries in *n. */
kw_rv kms_audit_verify(const char *path, size_t *n);

/* ---- kms_split.c ------------------------------------------------------ */
/* Split secret into n shares, any m of which recover it (m == n == 2 with
 * xor: XOR split; otherwise Shamir over GF(256), share = x || y-bytes). */
kw_rv kms_split(kw_view secret, unsigned m, unsigned n, bool xor_split,
    kw_buf *shares);
/* Combine: shares[i] are the share bytes (Shamir: with the x byte). */
kw_rv kms_combine(const kw_view *shares, unsigned count, bool xor_split,
    kw_buf *secret);

#endif

/* ---- kms_ctx.c ------------------------------------------------------- */
/* Load the config, point SOFTHSM2_CONF at the state dir, load the HSM
 * module. *errmsg as kms_config_load. */
kw_rv kms_ctx_open(kms_ctx *ctx, const char *config_path, char **errmsg);
/* Log in to the HSM (PIN file), open the database, load CA and tokens. */
kw_rv kms_ctx_start(kms_ctx *ctx);
/* Only the HSM login and the database (used by --init). */
kw_rv kms_ctx_start_hsm_db(kms_ctx *ctx);
void kms_ctx_close(kms_ctx *ctx);

/* ---- kms_init.c ------------------------------------------------------ */
/* --init: create the state dir, HSM token, keys, TLS identity and (front)
 * the CA, then each locally configured share server. share_token: for a
 * share server, the front's bearer token (its hash is stored). */
kw_rv kms_init(kms_ctx *ctx, const char *self_exe, const char *share_token);

/* ---- kms_pool.c ------------------------------------------------------ */
kw_rv kms_pool_start(kms_ctx *ctx);
void kms_pool_stop(kms_ctx *ctx);
/* Take a pre-generated escrow key (relabelled to `label`); KW_ERR_NOT_FOUND
 * when the pool is empty or disabled. */
kw_rv kms_pool_take(kms_ctx *ctx, const char *label);
size_t kms_pool_level(kms_ctx *ctx);
