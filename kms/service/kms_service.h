/* The services of the front: what the API handlers may ask for. Each
 * function is safe to call from any worker thread at once; none holds a
 * lock or a transaction across network I/O. Errors (kw_rv):
 *   KW_ERR_NOT_FOUND   no such session/certificate/entry
 *   KW_ERR_NO_SERVICE  a share server is down or refused (err names it)
 *   KW_ERR_IO          storage (or its audit entry) failed: nothing done
 *   KW_ERR_FORMAT      integrity: a share or stored key does not open
 *   KW_ERR_CONDITIONS  refused by policy (the function says which)
 * and err (when given) gets a message for the client. */
#ifndef KMS_SERVICE_H
#define KMS_SERVICE_H

#include <jansson.h>
#include <openssl/evp.h>

#include "kms.h"

/* ---- kms_session.c -------------------------------------------------- */
/* Address of a live session token (64 hex). */
kw_rv kms_session_email(kms_ctx *ctx, const char *bearer, char email[256]);
bool kms_admin_token_ok(kms_ctx *ctx, const char *bearer);

/* ---- kms_validation.c ----------------------------------------------- */
/* Rate limits, a fresh value, its mail queued, audited: at once. */
kw_rv kms_validation_start(kms_ctx *ctx, const char *email, const char *client,
    kms_rate_which *limited);
/* KW_OK with a session token (65 bytes) when res == KMS_CH_OK. */
kw_rv kms_validation_finish(kms_ctx *ctx, const char *email, const char *value,
    const char *client, char token[65], kms_ch_result *res);

/* ---- kms_mailer.c: the outbox sender thread ---------------------------- */
kw_rv kms_mailer_start(kms_ctx *ctx);
void kms_mailer_wake(kms_ctx *ctx);
void kms_mailer_stop(kms_ctx *ctx);

/* ---- kms_password.c ------------------------------------------------- */
typedef enum kms_pw_verdict {
	KMS_PW_OK = 0, KMS_PW_REQUIRED, KMS_PW_WRONG, KMS_PW_LOCKED,
} kms_pw_verdict;
/* No password set or pw right: KMS_PW_OK. *wait: seconds of a lock. */
kw_rv kms_password_check(kms_ctx *ctx, const char *email, const char *pw,
    const char *client, kms_pw_verdict *v, int64_t *wait);
kw_rv kms_password_set(kms_ctx *ctx, const char *email, const char *pw,
    const char *client);

/* ---- kms_attest.c ----------------------------------------------------- */
/* 1: att proves pub was generated on a token whose attestation key
 * chains to one of attestation.ca's roots; 0: no attestation (or no roots
 * configured) and none required; -1: refused, *code/msg say why. */
int kms_attest_check(kms_ctx *ctx, json_t *att, const EVP_PKEY *pub, const char **code,
    char *msg, size_t msgsz);
/* Load the configured roots (file or directory) at start. */
kw_rv kms_attest_load(kms_ctx *ctx);
void kms_attest_free(kms_ctx *ctx);

/* ---- kms_certs.c ------------------------------------------------------- */
typedef struct kms_issued {
	char *pem;
	char serial[33];
	char profile[3];
	int64_t not_after;
} kms_issued;
void kms_issued_clear(kms_issued *i);
/* A signing certificate for pub (profile from the identity level). */
kw_rv kms_sign_cert(kms_ctx *ctx, const char *email, EVP_PKEY *pub, bool attested,
    const char *client, kms_issued *out);
/* Revoke (owner: only owner's own signing certificates; NULL: admin). */
kw_rv kms_revoke(kms_ctx *ctx, const char *serial, long reason, const char *owner,
    const char *client);
kw_rv kms_crl(kms_ctx *ctx, kw_buf *der);
const char *kms_ca_pem(const kms_ctx *ctx);
kw_rv kms_directory_get(kms_ctx *ctx, const char *email, char **pem, char serial[33],
    int64_t *not_after);
kw_rv kms_identity_set(kms_ctx *ctx, const char *email, const char *level,
    const char *name, const char *org, const char *client);

/* ---- kms_escrow.c / kms_rotation.c / kms_delivery.c -------------------------- */
/* Make the next encryption key of email. expect_seq >= 0: only if the
 * newest key still has that seq (a concurrent request may have made one:
 * then KW_OK, *made false). */
kw_rv kms_escrow_create(kms_ctx *ctx, const char *email, const char *client,
    const char *reason, int64_t expect_seq, bool *made, char *err, size_t errsz);
/* Rotate when the current key ends within ca.rotate_before_days, or make
 * the first one. */
kw_rv kms_rotation_check(kms_ctx *ctx, const char *email, const char *client,
    char *err, size_t errsz);
/* All keys of email re-wrapped for the client's RSA key (spki), newest
 * first, as the API's JSON array; audited before it is returned. */
kw_rv kms_delivery(kms_ctx *ctx, const char *email, kw_view spki, const char *client,
    json_t **keys, char *err, size_t errsz);

/* ---- kms_pool.c -------------------------------------------------------- */
kw_rv kms_pool_start(kms_ctx *ctx);
void kms_pool_stop(kms_ctx *ctx);
void kms_pool_wake(kms_ctx *ctx);
size_t kms_pool_level(kms_ctx *ctx);

/* ---- kms_monitor.c: share-server health, crash reconciliation -------------- */
/* At start, before serving: remove what a crash left (HSM keys and shares
 * no committed record names), audited. Unreachable share servers leave
 * the intent for the monitor thread to finish later. */
kw_rv kms_reconcile(kms_ctx *ctx);
kw_rv kms_monitor_start(kms_ctx *ctx);
void kms_monitor_stop(kms_ctx *ctx);
/* {"status","role","pool","db","shares":[...]}; *ok: database reachable. */
json_t *kms_health(kms_ctx *ctx, bool *ok);

#endif
