/* The KMS's HSM: a PKCS#11 module loaded with dlopen (SoftHSMv2 by
 * default). Every key the KMS owns lives here; private keys leave only
 * wrapped. Objects are named by CKA_LABEL (a short ASCII string).
 *
 * One login (a session kept open for the process) and one operation
 * session per thread, opened on first use: any number of threads may call
 * these functions at once (the module is initialized with OS locking).
 * Session objects made for one delivery (unwrapped escrow key, transport
 * key, the client's public key) are destroyed when that operation ends,
 * whatever happens. */
#ifndef KMS_HSM_H
#define KMS_HSM_H

#include <stdbool.h>

#include "kw_buf.h"

typedef struct kms_hsm kms_hsm;

typedef enum kms_key_type {
	KMS_KEY_RSA2048 = 1,
	KMS_KEY_P256 = 2,
} kms_key_type;

const char *kms_key_type_name(kms_key_type t);
/* "rsa2048" / "p256" -> type; 0 if unknown. */
kms_key_type kms_key_type_parse(const char *s);

/* dlopen the module and C_Initialize it (OS locking). */
kw_rv kms_hsm_open(const char *module_path, kms_hsm **out);
void kms_hsm_free(kms_hsm **h);

/* Initialize the first free slot as a token `label` with the two PINs. */
kw_rv kms_hsm_init_token(kms_hsm *h, const char *label, const char *so_pin,
    const char *user_pin);
/* Find the token by label and log in as user (kept for the process). */
kw_rv kms_hsm_login(kms_hsm *h, const char *label, const char *user_pin);

/* Keep a long-lived key (the CA key, a KEK) in memory as a session object
 * of the login session and skip the look-up at each use. Call before
 * other threads start. */
kw_rv kms_hsm_cache_key(kms_hsm *h, const char *label, bool private_key);

/* Key pair: private key token object `label` (sensitive; extractable
 * only when `extractable`, i.e. an escrow key that is wrapped for storage).
 * spki gets the public key as DER SubjectPublicKeyInfo. */
kw_rv kms_hsm_gen_keypair(kms_hsm *h, kms_key_type type, const char *label,
    bool extractable, kw_buf *spki);
/* Read the public key of a key pair. */
kw_rv kms_hsm_get_spki(kms_hsm *h, const char *label, kw_buf *spki);
/* AES-256 token key; `wrap` selects wrap/unwrap usage, else encrypt/decrypt. */
kw_rv kms_hsm_gen_aes(kms_hsm *h, const char *label, bool wrap);
/* Does a private key / secret key / data object with this label exist? */
bool kms_hsm_has(kms_hsm *h, const char *label);
/* Destroy every object (private, public, secret, data) with this label. */
kw_rv kms_hsm_destroy(kms_hsm *h, const char *label);
/* Rename every object with label `from` (atomic claim of a pool key). */
kw_rv kms_hsm_relabel(kms_hsm *h, const char *from, const char *to);
/* Labels of private keys whose label starts with prefix (at most max). */
kw_rv kms_hsm_list(kms_hsm *h, const char *prefix, char **labels, size_t max,
    size_t *n);

/* Sign data with SHA-256 (RSA PKCS#1 v1.5 or ECDSA; ECDSA is returned
 * DER-encoded as X.509 wants it). */
kw_rv kms_hsm_sign(kms_hsm *h, const char *label, kw_view data, kw_buf *sig);

/* Wrap the private key `label` under AES key `kek` (CKM_AES_KEY_WRAP_PAD). */
kw_rv kms_hsm_wrap_private(kms_hsm *h, const char *kek, const char *label,
    kw_buf *wrapped);
/* Re-wrap a stored escrow blob for a client, inside the HSM: unwrap `blob`
 * under `kek` into a session key, make a session AES-256 transport key,
 * wrap the private key under it (KWP) and the transport key under the
 * client's RSA public key (OAEP, SHA-1: SoftHSM's limit). */
kw_rv kms_hsm_rewrap_for_client(kms_hsm *h, const char *kek, kms_key_type type,
    kw_view blob, kw_view client_spki, kw_buf *enc_transport_key,
    kw_buf *wrapped_key);

/* AES-256-GCM with a token key: out = iv(12) || ciphertext || tag(16). */
kw_rv kms_hsm_seal(kms_hsm *h, const char *label, kw_view aad, kw_view in,
    kw_buf *out);
kw_rv kms_hsm_open_sealed(kms_hsm *h, const char *label, kw_view aad,
    kw_view in, kw_buf *out);

/* Private data objects (secrets the process needs at start-up). */
kw_rv kms_hsm_data_put(kms_hsm *h, const char *label, kw_view data);
kw_rv kms_hsm_data_get(kms_hsm *h, const char *label, kw_buf *data);

kw_rv kms_hsm_random(kms_hsm *h, void *p, size_t n);

#endif
