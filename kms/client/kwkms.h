/* libkwkms: the client of keyward-kmsd used by `keyward enroll`.
 * HTTPS (libcurl, the KMS certificate or its CA pinned with ca_file), JSON
 * (jansson). Functions return kw_rv; on a KMS error (4xx/5xx) they return
 * KW_ERR_PROTOCOL and kwkms_error()/kwkms_status() tell what the KMS said.
 *
 * Key delivery: kwkms_fetch_keys() makes a fresh RSA-2048 ephemeral key
 * for the call, sends its public half, and unwraps each delivered key
 * (RSA-OAEP transport key, then AES-256 key wrap with padding) into a
 * kw_secret (locked, wiped on free) holding the PKCS#8 DER private key.
 * Each unwrapped key is checked against its certificate. The ephemeral
 * private key is freed before the call returns. */
#ifndef KWKMS_H
#define KWKMS_H

#include <stdbool.h>
#include <stddef.h>

#include "kw_err.h"
#include "kw_secret.h"

typedef struct kwkms kwkms;

typedef struct kwkms_key {
	char key_id[33];
	long seq;
	bool current;
	char alg[16];         /* "rsa2048" or "p256" */
	char *cert_pem;       /* encryption certificate */
	kw_secret pkcs8;      /* PrivateKeyInfo DER, plaintext: import, then free */
} kwkms_key;

kw_rv kwkms_new(const char *url, const char *ca_file, kwkms **out);
void kwkms_free(kwkms **k);
/* Last KMS error code ("wrong_value", ...) and message; "" if none. When
 * the KMS was not reached: "unreachable", or "tls_untrusted" (its TLS
 * certificate does not verify against the CA file, or the system's trust
 * store without one) or "bad_ca_file" (the CA file cannot be read). */
const char *kwkms_error(const kwkms *k);
const char *kwkms_message(const kwkms *k);
long kwkms_status(const kwkms *k);

/* Mails a validation value; *expires_in (may be NULL) gets its lifetime in
 * seconds as the KMS states it (0 if it does not). */
kw_rv kwkms_validation_start(kwkms *k, const char *email, long *expires_in);
/* On success the session token is kept for the calls below. */
kw_rv kwkms_validation_finish(kwkms *k, const char *email, const char *value);
kw_rv kwkms_set_session(kwkms *k, const char *token);
const char *kwkms_session(const kwkms *k);

kw_rv kwkms_set_password(kwkms *k, const char *password, const char *old_password);
/* CSR (PEM) -> signing certificate (PEM) and its serial (hex). */
kw_rv kwkms_sign_csr(kwkms *k, const char *csr_pem, char **cert_pem, char **serial);
/* The same with the token's attestation: att_pem = [attestation of the
 * slot, attestation-key certificate] (n_att 2; NULL/0 = none). *attested
 * tells whether the KMS verified it. */
kw_rv kwkms_sign_csr_attested(kwkms *k, const char *csr_pem, const char *const *att_pem,
    size_t n_att, char **cert_pem, char **serial, bool *attested);
kw_rv kwkms_revoke(kwkms *k, const char *serial, int reason);
/* Current + older encryption keys, newest first. */
kw_rv kwkms_fetch_keys(kwkms *k, const char *password, kwkms_key **keys, size_t *n);
void kwkms_keys_free(kwkms_key **keys, size_t n);
/* Directory: the current encryption certificate of email (PEM). */
kw_rv kwkms_directory(kwkms *k, const char *email, char **cert_pem);
kw_rv kwkms_ca(kwkms *k, char **ca_pem);

#endif
