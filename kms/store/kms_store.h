/* The storage interface of keyward-kmsd, named by intent.
 *
 * Every function is one transaction on the calling thread's own
 * connection (opened on first use, closed when the thread ends): it
 * either happens completely or not at all. Functions that change state
 * take the audit entry describing the change (kms_audit_ev) and write it,
 * hash-chained, in the same transaction: if the entry cannot be written,
 * nothing is changed and the function fails (KW_ERR_IO). No caller sees
 * SQL, a statement or a connection.
 *
 * Backends (kms_store_int.h): SQLite (store/sqlite/, the embedded
 * default: one connection per thread, WAL, synchronous=FULL); the
 * interface is written so that a server database (PostgreSQL) can sit
 * behind it: no function relies on SQLite's locking, every read-modify-
 * write is inside one call, and transactions may be retried whole.
 *
 * Errors: KW_ERR_NOT_FOUND (no such row), KW_ERR_CONDITIONS (a
 * constraint or precondition failed, nothing changed), KW_ERR_IO
 * (storage failed: full, unreadable, locked too long; nothing changed). */
#ifndef KMS_STORE_H
#define KMS_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "kw_buf.h"

typedef struct kms_store kms_store;

typedef enum kms_store_role { KMS_STORE_FRONT = 1, KMS_STORE_SHARE = 2 } kms_store_role;

/* One audit entry. detail is borrowed (may be NULL). */
typedef struct kms_audit_ev {
	const char *event;
	const char *email;
	const char *client;
	json_t *detail;
} kms_audit_ev;

/* url: a file path (SQLite; "sqlite:PATH" too). */
kw_rv kms_store_open(const char *url, kms_store_role role, kms_store **out);
void kms_store_free(kms_store **st);
/* Is the database answering? */
kw_rv kms_store_ping(kms_store *st);

/* ---- meta (small settings: token hashes) -------------------------- */
kw_rv kms_store_meta_get(kms_store *st, const char *k, char *v, size_t vsz);
kw_rv kms_store_meta_put(kms_store *st, const char *k, const char *v);

/* ---- audit ----------------------------------------------------------- */
kw_rv kms_store_audit(kms_store *st, const kms_audit_ev *ev);
/* Write the log as JSON lines (the format kms_audit_verify_file reads),
 * checking the chain as it goes; *n entries. */
kw_rv kms_store_audit_export(kms_store *st, FILE *out, size_t *n);
/* Check the stored chain; *n intact entries before a break. */
kw_rv kms_store_audit_verify(kms_store *st, size_t *n);
/* An exported log (JSON lines). */
kw_rv kms_audit_verify_file(const char *path, size_t *n);

/* ---- rate limits ------------------------------------------------------ */
/* Count the hits of (kind, subject) younger than window seconds; below
 * limit, record one more and return KW_OK, else KW_ERR_CONDITIONS. */
kw_rv kms_store_rate_hit(kms_store *st, const char *kind, const char *subject,
    long limit, long window, int64_t now);

/* ---- email validation -------------------------------------------------- */
typedef struct kms_challenge {
	const char *email;
	const uint8_t *hash;     /* 32 bytes: SHA-256 of email ":" value */
	int64_t expires;
	const char *client;
	const char *mail;        /* the message for the outbox (RFC 5322 text) */
	long per_address, per_client, window; /* rate limits, checked inside */
} kms_challenge;
typedef enum kms_rate_which { KMS_RATE_OK = 0, KMS_RATE_ADDRESS, KMS_RATE_CLIENT } kms_rate_which;
/* Rate limits, void older values, store the new one, queue its mail and
 * audit, all at once. *limited says which limit refused (then nothing). */
kw_rv kms_store_challenge_create(kms_store *st, const kms_challenge *c, int64_t now,
    const kms_audit_ev *ev, kms_rate_which *limited);

typedef enum kms_ch_result {
	KMS_CH_OK = 0, KMS_CH_NONE, KMS_CH_EXPIRED, KMS_CH_WRONG,
} kms_ch_result;
/* Compare hash (constant time) with the newest pending value of email.
 * Right: the value is used up and the session (SHA-256 session_hash,
 * expiry) granted, audited "validated". Otherwise the attempt is counted
 * (max_attempts voids the value) and "validation_failed" audited with
 * the reason. *res tells which. */
kw_rv kms_store_challenge_consume(kms_store *st, const char *email, const uint8_t hash[32],
    int64_t now, long max_attempts, const uint8_t session_hash[32],
    int64_t session_expires, const char *client, kms_ch_result *res);
/* The address of a live session. */
kw_rv kms_store_session_lookup(kms_store *st, const uint8_t hash[32], int64_t now,
    char *email, size_t emailsz);

/* ---- mail outbox ------------------------------------------------------ */
typedef struct kms_mail {
	int64_t id;
	char rcpt[256];
	char *text;             /* malloc'd; wiped and freed by kms_mail_clear */
	long tries;
} kms_mail;
void kms_mail_clear(kms_mail *m);
/* The oldest message due at now; KW_ERR_NOT_FOUND when none. */
kw_rv kms_store_outbox_next(kms_store *st, int64_t now, kms_mail *m);
kw_rv kms_store_outbox_done(kms_store *st, int64_t id, const kms_audit_ev *ev);
kw_rv kms_store_outbox_retry(kms_store *st, int64_t id, int64_t next_try);
/* Seconds until the next message is due (KW_ERR_NOT_FOUND: none). */
kw_rv kms_store_outbox_due(kms_store *st, int64_t now, int64_t *wait);

/* ---- key-protection passwords --------------------------------------- */
typedef struct kms_pw {
	char verifier[256];
	int64_t failures;
	int64_t locked_until;
} kms_pw;
kw_rv kms_store_password_get(kms_store *st, const char *email, kms_pw *pw);
kw_rv kms_store_password_put(kms_store *st, const char *email, const char *verifier,
    const kms_audit_ev *ev);
/* One more failure (atomically); at max the address is locked until
 * now + lock_seconds and the count restarts. *failures: the new count. */
kw_rv kms_store_password_fail(kms_store *st, const char *email, long max,
    int64_t now, long lock_seconds, const char *client, int64_t *failures);
kw_rv kms_store_password_ok(kms_store *st, const char *email);

/* ---- identity levels -------------------------------------------------- */
/* level "V1" and NULL name/org when none recorded. name/org malloc'd. */
kw_rv kms_store_identity_get(kms_store *st, const char *email, char level[3],
    char **name, char **org);
kw_rv kms_store_identity_put(kms_store *st, const char *email, const char *level,
    const char *name, const char *org, const kms_audit_ev *ev);

/* ---- certificates ------------------------------------------------------- */
typedef struct kms_cert_rec {
	const char *serial;
	const char *email;
	const char *kind;        /* "enc" / "sign" */
	const char *profile;
	int64_t not_before, not_after;
	kw_view der;
} kms_cert_rec;
kw_rv kms_store_cert_put(kms_store *st, const kms_cert_rec *c, const kms_audit_ev *ev);
/* Revoke serial; with owner, only owner's own signing certificates.
 * The audit entry gets the certificate's address. KW_ERR_NOT_FOUND. */
kw_rv kms_store_revoke(kms_store *st, const char *serial, const char *owner,
    int64_t now, long reason, const char *client);
typedef kw_rv (*kms_revoked_fn)(void *arg, const char *serial, int64_t when, long reason);
/* Every revoked certificate (a read error fails the whole listing). */
kw_rv kms_store_revoked(kms_store *st, kms_revoked_fn fn, void *arg);
/* Current encryption certificate of email. */
kw_rv kms_store_directory(kms_store *st, const char *email, kw_buf *der,
    char serial[33], int64_t *not_after);

/* ---- escrowed keys ------------------------------------------------------ */
typedef struct kms_escrow_key {
	char id[33];
	int64_t seq;
	char alg[16];
	char serial[33];
	int64_t not_after;
	char split[8];
	long threshold, shares;
	kw_buf cert;             /* DER of its certificate (kms_escrow_list) */
} kms_escrow_key;
void kms_escrow_keys_free(kms_escrow_key *keys, size_t n);

/* Start making key `id`: claim a pool key (label into label, pooled
 * true) or, pool empty, name `esc-<id>` (to be generated); record the
 * intent, so that a crash leaves something reconcile can clean up. */
kw_rv kms_store_escrow_begin(kms_store *st, const char *id, bool use_pool, int64_t now,
    char label[48], bool *pooled);
/* Commit key `id` of email with its certificate and audit entry; the
 * intent goes. expect_seq >= 0: only if the address's newest key still
 * has that seq (0: none), else KW_ERR_CONDITIONS and nothing changes. */
kw_rv kms_store_escrow_put(kms_store *st, const char *email, const char *id,
    const char *alg, const char *split, long threshold, long shares,
    const kms_cert_rec *cert, int64_t expect_seq, int64_t now, const kms_audit_ev *ev);
/* Drop the intent of id (its shares and HSM key are gone). */
kw_rv kms_store_escrow_abort(kms_store *st, const char *id, const kms_audit_ev *ev);
/* Keys of email, newest first, with their certificates (at most max).
 * A read error is an error, never a shorter list. */
kw_rv kms_store_escrow_list(kms_store *st, const char *email, kms_escrow_key *keys,
    size_t max, size_t *n);
/* seq and certificate end of the newest key of email (NOT_FOUND: none). */
kw_rv kms_store_escrow_current(kms_store *st, const char *email, int64_t *seq,
    int64_t *not_after);
/* Unfinished intents (id, HSM label), at most max. */
typedef struct kms_intent { char id[33]; char label[48]; int64_t created; } kms_intent;
kw_rv kms_store_escrow_intents(kms_store *st, kms_intent *out, size_t max, size_t *n);
/* Is label the HSM label of a pool key or of an unfinished intent? */
kw_rv kms_store_label_known(kms_store *st, const char *label, bool *known);
/* Does a committed key id exist? */
kw_rv kms_store_escrow_exists(kms_store *st, const char *id, bool *exists);

/* ---- escrow key pool ---------------------------------------------------- */
kw_rv kms_store_pool_add(kms_store *st, const char *label, int64_t now);
kw_rv kms_store_pool_count(kms_store *st, size_t *n);

/* ---- share role ---------------------------------------------------------- */
/* KW_ERR_CONDITIONS when (key_id, idx) is already stored. */
kw_rv kms_store_share_put(kms_store *st, const char *key_id, long idx, kw_view sealed,
    int64_t now);
kw_rv kms_store_share_get(kms_store *st, const char *key_id, long idx, kw_buf *sealed);
kw_rv kms_store_share_delete(kms_store *st, const char *key_id, long idx);

#endif
