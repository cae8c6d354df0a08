/* Conversions between PKCS#11 objects and OpenSSL/DER for kms_hsm.c. */
#ifndef KMS_P11UTIL_H
#define KMS_P11UTIL_H

#include <p11-kit/pkcs11.h>

#include "kms_hsm.h"

/* SubjectPublicKeyInfo DER of a public key object. */
kw_rv kms_p11_spki(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s,
    CK_OBJECT_HANDLE pub, kms_key_type type, kw_buf *spki);
/* Import an RSA (>= 2048 bits) SubjectPublicKeyInfo as a session
 * public key usable for wrapping. */
kw_rv kms_p11_import_rsa_pub(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s,
    kw_view spki, CK_OBJECT_HANDLE *pub);
void kms_p11_sha256(kw_view data, uint8_t out[32]);
/* PKCS#11 ECDSA r||s -> DER ECDSA-Sig-Value. */
kw_rv kms_p11_ecdsa_to_der(kw_view raw, kw_buf *der);

#endif
