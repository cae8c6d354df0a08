/* Small PKCS#11 client helpers shared by the interop test programs
 * (tests/interop/p11_threads.c) and the benchmark (bench/p11bench.c).
 * They dlopen() any module (keyward-pkcs11.so, opensc-pkcs11.so,
 * libykcs11.so) and check signatures with OpenSSL, independently of the
 * module under test. */
#ifndef KWI_P11_UTIL_H
#define KWI_P11_UTIL_H

#include <stddef.h>
#include <p11-kit/pkcs11.h>
#include <openssl/evp.h>

struct kwi_p11 {
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	CK_SLOT_ID slot;
	int initialized;
};

/* One key of the token, found by CKA_ID, with the public key of its
 * certificate (for verifying) and whether it needs CKU_CONTEXT_SPECIFIC. */
struct kwi_key {
	unsigned char id[16];
	size_t id_len;
	int is_ec;
	int always_auth;
	EVP_PKEY *pub;
};

/* dlopen the module and get its function list. 0 on success. */
int kwi_p11_load(struct kwi_p11 *p, const char *path);
/* C_Initialize (CKF_OS_LOCKING_OK) and pick the first slot with a token. */
CK_RV kwi_p11_init(struct kwi_p11 *p);
void kwi_p11_unload(struct kwi_p11 *p);

CK_RV kwi_p11_open(struct kwi_p11 *p, CK_SESSION_HANDLE *s);
CK_RV kwi_p11_login(struct kwi_p11 *p, CK_SESSION_HANDLE s, CK_USER_TYPE who,
    const char *pin);
CK_RV kwi_p11_find(struct kwi_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
    const struct kwi_key *k, CK_OBJECT_HANDLE *out);
/* Value of an attribute in a malloc'd buffer (caller frees). */
CK_RV kwi_p11_attr(struct kwi_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    CK_ATTRIBUTE_TYPE type, unsigned char **val, size_t *len);
/* Fill k->pub, k->is_ec, k->always_auth from the token. */
CK_RV kwi_p11_key_load(struct kwi_p11 *p, CK_SESSION_HANDLE s, struct kwi_key *k);
void kwi_key_clear(struct kwi_key *k);
/* Parse "01" or "0a0b" into k->id. 0 on success. */
int kwi_key_set_id(struct kwi_key *k, const char *hex);

/* Sign msg with the key: RSA with CKM_SHA256_RSA_PKCS, EC with CKM_ECDSA over
 * a SHA-256 digest computed here. Does the context-specific login when the
 * key needs it. sig must hold 512 bytes. */
CK_RV kwi_p11_sign(struct kwi_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key,
    const struct kwi_key *k, const char *pin, const unsigned char *msg,
    size_t msg_len, unsigned char *sig, size_t *sig_len);
/* RSA PKCS#1 v1.5 decryption (CKM_RSA_PKCS). out must hold 512 bytes. */
CK_RV kwi_p11_decrypt(struct kwi_p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key,
    const struct kwi_key *k, const char *pin, const unsigned char *in,
    size_t in_len, unsigned char *out, size_t *out_len);
/* Verify a signature made by kwi_p11_sign with OpenSSL. 1 if valid. */
int kwi_verify(const struct kwi_key *k, const unsigned char *msg, size_t msg_len,
    const unsigned char *sig, size_t sig_len);
/* RSA PKCS#1 v1.5 encryption to k->pub with OpenSSL. 0 on success. */
int kwi_encrypt(const struct kwi_key *k, const unsigned char *in, size_t in_len,
    unsigned char *out, size_t *out_len);

/* Monotonic time in seconds. */
double kwi_now(void);

#endif
