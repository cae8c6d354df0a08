/* keyward-kmsd's base layer: configuration, randomness, hashing, base64,
 * files, addresses and secret splitting. Knows nothing of HTTP, storage
 * or the HSM; every other layer may use it. */
#ifndef KMS_BASE_H
#define KMS_BASE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "kms_config.h"
#include "kw_buf.h"

/* Current time; KEYWARD_KMS_TIME_OFFSET (seconds, tests only) shifts it. */
time_t kms_now(void);

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

/* ---- kms_split.c ---------------------------------------------------- */
/* Split secret into n shares, any m of which recover it (m == n == 2 with
 * xor: XOR split; otherwise Shamir over GF(256), share = x || y-bytes). */
kw_rv kms_split(kw_view secret, unsigned m, unsigned n, bool xor_split,
    kw_buf *shares);
/* Combine: shares[i] are the share bytes (Shamir: with the x byte). */
kw_rv kms_combine(const kw_view *shares, unsigned count, bool xor_split,
    kw_buf *secret);

#endif
