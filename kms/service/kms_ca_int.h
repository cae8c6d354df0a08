/* Private to kms_ca*.c. */
#ifndef KMS_CA_INT_H
#define KMS_CA_INT_H

#include "kms_ca.h"

struct kms_ca {
	X509 *cert;
	char *pem;
	EVP_PKEY *tmpl;     /* throwaway key fixing the AlgorithmIdentifier */
	kms_key_type type;
};

static inline EVP_PKEY *kms_ca_template(kms_ctx *ctx) { return ctx->ca->tmpl; }

#endif
