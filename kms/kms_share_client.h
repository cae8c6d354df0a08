/* The front's client of the share servers (libcurl over TLS, each share
 * server's certificate pinned, bearer token from the front's HSM). */
#ifndef KMS_SHARE_CLIENT_H
#define KMS_SHARE_CLIENT_H

#include "kms.h"

/* Store shares[0..count-1] of key_id on servers 1..count. All or nothing:
 * on any failure the shares already written are deleted again. err gets a
 * message naming the failing server. */
kw_rv kms_shares_store(kms_ctx *ctx, const char *key_id, const kw_buf *shares,
    char *err, size_t errsz);
/* Fetch enough shares to recover key_id (views point into bufs[]);
 * *got is how many. KW_ERR_NO_SERVICE when too few servers answer. */
kw_rv kms_shares_fetch(kms_ctx *ctx, const char *key_id, kw_buf *bufs,
    kw_view *views, unsigned *got, char *err, size_t errsz);
/* Best effort removal from every server. */
void kms_shares_delete(kms_ctx *ctx, const char *key_id);

#endif
