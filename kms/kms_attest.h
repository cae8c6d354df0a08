/* Verification of a token's key attestation sent with a CSR. */
#ifndef KMS_ATTEST_H
#define KMS_ATTEST_H

#include <openssl/evp.h>

#include "kms.h"
#include "kms_http.h"

/* 1: the request's "attestation" proves csr_pub was generated on a token
 * whose attestation key chains to attestation.ca; 0: no attestation (or no
 * CA configured) and none required; -1: rejected, resp holds the error. */
int kms_attest_check(kms_ctx *ctx, const kms_req *req, const EVP_PKEY *csr_pub,
    kms_resp *resp);

#endif
