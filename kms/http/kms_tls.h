/* TLS key and certificate of a keyward-kmsd process (see kms_tls.c). */
#ifndef KMS_TLS_H
#define KMS_TLS_H

#include "kms.h"

typedef struct kms_tls {
	kw_buf cert;   /* PEM, NUL-terminated */
	kw_buf key;    /* encrypted PKCS#8 PEM, NUL-terminated */
	kw_buf pass;   /* its passphrase, from the HSM, NUL-terminated */
} kms_tls;

kw_rv kms_tls_create(kms_ctx *ctx, const char *cn);
kw_rv kms_tls_load(kms_ctx *ctx, kms_tls *t);
void kms_tls_free(kms_tls *t);

#endif
