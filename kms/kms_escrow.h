/* Escrowed encryption keys: creation (HSM key -> wrapped -> split ->
 * share servers, certificate), recovery for delivery, rotation. */
#ifndef KMS_ESCROW_H
#define KMS_ESCROW_H

#include "kms.h"

typedef struct kms_escrow_key {
	char id[33];
	int64_t seq;
	char alg[16];
	char serial[33];
	int64_t not_after;
} kms_escrow_key;

/* Make the next encryption key of `email` (a new user, or a rotation).
 * All or nothing: shares, certificate and record exist together or not at
 * all. err gets a message for the client on failure. */
kw_rv kms_escrow_create(kms_ctx *ctx, const char *email, const char *client,
    const char *reason, char *err, size_t errsz);
/* Keys of email, newest first (at most max). */
kw_rv kms_escrow_list(kms_ctx *ctx, const char *email, kms_escrow_key *keys,
    size_t max, size_t *n);
/* Recover key k from the share servers and re-wrap it inside the HSM for
 * the client's RSA public key. */
kw_rv kms_escrow_wrap_for(kms_ctx *ctx, const kms_escrow_key *k, kw_view client_spki,
    kw_buf *enc_transport_key, kw_buf *wrapped_key, char *err, size_t errsz);

/* kms_rotation.c: rotate when the current key expires within
 * ca.rotate_before_days (or has no key: first key). *made: a key was made. */
kw_rv kms_rotation_check(kms_ctx *ctx, const char *email, const char *client,
    bool *made, char *err, size_t errsz);

/* Identity profile of an address (V1 unless an admin recorded more). */
kw_rv kms_identity_get(kms_ctx *ctx, const char *email, char level[3],
    char **name, char **org);

#endif
