/* Private to libkwkms. */
#ifndef KWKMS_INT_H
#define KWKMS_INT_H

#include <jansson.h>
#include <openssl/evp.h>

#include "kw_buf.h"
#include "kwkms.h"

kw_rv kwkms_call(kwkms *k, const char *method, const char *path, json_t *req,
    json_t **out, kw_buf *raw);
/* Tests and fuzzing: every call is answered by fn (the KMS's HTTP status
 * and body for method, path and the JSON request body or NULL) instead of
 * HTTPS; NULL restores libcurl. A kw_rv other than KW_OK is a transport
 * failure. */
typedef kw_rv (*kwkms_exchange_fn)(void *arg, const char *method, const char *path,
    const char *body, long *status, kw_buf *resp);
void kwkms_test_set_exchange(kwkms_exchange_fn fn, void *arg);

/* Unwrap one delivered key with the ephemeral private key. */
kw_rv kwkms_unwrap_key(EVP_PKEY *eph, const char *etk_b64, const char *wk_b64,
    kw_secret *pkcs8);
/* Does the PKCS#8 private key belong to the certificate? */
kw_rv kwkms_key_matches(const kw_secret *pkcs8, const char *cert_pem);

#endif
