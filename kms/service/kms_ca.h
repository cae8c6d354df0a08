/* The S/MIME CA of keyward-kmsd. Its key lives in the HSM; certificates
 * are assembled with OpenSSL and signed by the HSM (see kms_ca_sign.c). */
#ifndef KMS_CA_H
#define KMS_CA_H

#include <openssl/x509.h>

#include "kms.h"

/* Certificate policy of each profile: the CA/Browser Forum S/MIME Baseline
 * Requirements' identifier of the same validation type, "legacy" generation
 * (V1 mailbox-validated, V2 individual-validated, V3 organization-validated,
 * V4 sponsor-validated). Every arc fits 32 bits: parsers such as Debian
 * 12's python3-cryptography (rust-asn1) reject longer arcs, and with them
 * every extension of the certificate (the former 2.25.<UUID> arc). */
#define KMS_POLICY_V1 "2.23.140.1.5.1.1"
#define KMS_POLICY_V2 "2.23.140.1.5.4.1"
#define KMS_POLICY_V3 "2.23.140.1.5.2.1"
#define KMS_POLICY_V4 "2.23.140.1.5.3.1"

typedef enum kms_cert_kind { KMS_CERT_ENC = 1, KMS_CERT_SIGN = 2 } kms_cert_kind;

typedef struct kms_cert_req {
	const char *email;
	kms_cert_kind kind;
	const char *profile;       /* "V1".."V4" */
	const char *name;          /* V2, V4 */
	const char *organization;  /* V3, V4 */
	EVP_PKEY *pub;
	long days;
} kms_cert_req;

/* At --init: CA key pair in the HSM and a self-signed CA certificate
 * written to STATE/ca.crt. */
kw_rv kms_ca_create(kms_ctx *ctx);
kw_rv kms_ca_load(kms_ctx *ctx);
void kms_ca_free(kms_ca **ca);

/* Build and sign a certificate (recording it is the caller's: it goes
 * into the store with the action's other records). */
kw_rv kms_ca_issue(kms_ctx *ctx, const kms_cert_req *r, kw_buf *der,
    char serial[33], time_t *not_before, time_t *not_after);
/* A fresh CRL (DER) listing every revoked certificate. */
kw_rv kms_ca_crl(kms_ctx *ctx, kw_buf *der);

/* kms_ca_sign.c: sign an assembled certificate / CRL with the HSM key. */
kw_rv kms_ca_sign_cert(kms_ctx *ctx, X509 *x, kw_buf *der);
kw_rv kms_ca_sign_crl(kms_ctx *ctx, X509_CRL *crl, kw_buf *der);
/* The throwaway software key that fixes the AlgorithmIdentifier. */
kw_rv kms_ca_template_key(kms_key_type type, EVP_PKEY **out);

#endif
