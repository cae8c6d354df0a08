/* keyward-kmsd: the process context that ties the layers together.
 *
 *   http/     HTTPS, routing, connection limits      (knows api/)
 *   api/      request parsing, answers                (knows service/)
 *   service/  escrow, CA, validation, passwords, ... (knows store/, hsm/, share/)
 *   store/    the storage interface; store/sqlite/ its backend
 *   hsm/      PKCS#11;  share/  the share servers (client, and the share role)
 *   base/     configuration and small helpers, used by all
 *
 * kms_ctx.c builds the context, kms_init.c makes a deployment, kmsd_main.c
 * is the program. */
#ifndef KMS_H
#define KMS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "kms_base.h"
#include "kms_hsm.h"
#include "kms_store.h"
#include "kw_buf.h"

/* HSM object labels. */
#define KMS_LABEL_CA "kms-ca"
#define KMS_LABEL_KEK "kms-kek"            /* wraps escrow keys for storage */
#define KMS_LABEL_SHARE_KEY "share-key"    /* share role: seals stored shares */
#define KMS_LABEL_TLS_PASS "tls-key-pass"  /* passphrase of the TLS key file */
#define KMS_LABEL_SHARE_TOKEN "share-token" /* front: bearer for share servers */
#define KMS_LABEL_POOL_PREFIX "pool-"
#define KMS_LABEL_ESCROW_PREFIX "esc-"
#define KMS_LABEL_GEN_PREFIX "gen-"

typedef struct kms_pool kms_pool;
typedef struct kms_ca kms_ca;
typedef struct kms_shares kms_shares;
typedef struct kms_mailer kms_mailer;
typedef struct kms_monitor kms_monitor;

typedef struct kms_ctx {
	kms_config cfg;
	kms_hsm *hsm;
	kms_store *store;
	kms_ca *ca;
	kms_shares *shares;      /* front: client of the share servers */
	kms_pool *pool;          /* front: escrow key pool refill threads */
	kms_mailer *mailer;      /* front: validation mail outbox sender */
	kms_monitor *monitor;    /* front: share-server health, reconciliation */
	const void *routes;      /* set by the program: the role's route table */
	void *attest_roots;      /* STACK_OF(X509): trusted attestation roots */
} kms_ctx;

/* ---- kms_ctx.c ------------------------------------------------------- */
/* Load the config, point SOFTHSM2_CONF at the state dir, load the HSM
 * module. *errmsg as kms_config_load. */
kw_rv kms_ctx_open(kms_ctx *ctx, const char *config_path, char **errmsg);
/* Log in to the HSM (PIN file), open the store, load CA and tokens. */
kw_rv kms_ctx_start(kms_ctx *ctx);
/* Only the HSM login and the store (used by --init). */
kw_rv kms_ctx_start_hsm_db(kms_ctx *ctx);
void kms_ctx_close(kms_ctx *ctx);
/* Path (URL) of the role's database. */
char *kms_ctx_db_url(const kms_ctx *ctx);

/* ---- kms_init.c ------------------------------------------------------ */
/* --init: create the state dir, HSM token, keys, TLS identity and (front)
 * the CA, then each locally configured share server. share_token: for a
 * share server, the front's bearer token (its hash is stored). */
kw_rv kms_init(kms_ctx *ctx, const char *self_exe, const char *share_token);

#endif
