/* The front's client of the share servers (libcurl over TLS, each share
 * server's certificate pinned, bearer token from the front's HSM). Every
 * call asks all servers in parallel; safe to call from any thread. */
#ifndef KMS_SHARE_CLIENT_H
#define KMS_SHARE_CLIENT_H

#include <stdbool.h>

#include "kms_config.h"
#include "kw_buf.h"

typedef struct kms_shares kms_shares;

kw_rv kms_shares_new(const kms_config *cfg, kw_view token, kms_shares **out);
void kms_shares_free(kms_shares **s);

/* Store shares[i] of key_id on server i+1, all at once. Not all-or-
 * nothing by itself: on failure the caller deletes (kms_shares_delete).
 * err names the failing server. KW_ERR_NO_SERVICE: a server is down. */
kw_rv kms_shares_store(kms_shares *s, const char *key_id, const kw_buf *shares,
    char *err, size_t errsz);
/* Fetch `need` shares of key_id (views point into bufs[]); *got is how
 * many. KW_ERR_NO_SERVICE when too few servers answer, KW_ERR_FORMAT
 * when a server holds a share that does not open (integrity error). */
kw_rv kms_shares_fetch(kms_shares *s, const char *key_id, unsigned need, kw_buf *bufs,
    kw_view *views, unsigned *got, char *err, size_t errsz);
/* Remove key_id's shares from every server (absent ones count as done);
 * KW_ERR_NO_SERVICE if a server could not be reached. */
kw_rv kms_shares_delete(kms_shares *s, const char *key_id, char *err, size_t errsz);
/* up[i]: does server i+1 answer /v1/health (1 s bound)? */
kw_rv kms_shares_health(kms_shares *s, bool *up);

#endif
