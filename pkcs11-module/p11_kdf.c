/* The key derivation functions of CKM_ECDH1_DERIVE: CKD_NULL (the raw
 * shared secret) and CKD_SHAx_KDF, the ANSI X9.63 KDF (SEC 1 3.6.1) over
 * the shared secret the card computed, with the caller's shared data (for
 * S/MIME: the DER ECC-CMS-SharedInfo of RFC 5753). OpenSSL's "X963KDF"
 * does the hashing. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "p11_int.h"

CK_RV
kwp11_kdf_md(CK_ULONG kdf, const EVP_MD **md)
{
	*md = NULL;
	switch (kdf) {
	case CKD_NULL: return CKR_OK;
	case CKD_SHA1_KDF: *md = EVP_sha1(); break;
	case CKD_SHA224_KDF: *md = EVP_sha224(); break;
	case CKD_SHA256_KDF: *md = EVP_sha256(); break;
	case CKD_SHA384_KDF: *md = EVP_sha384(); break;
	case CKD_SHA512_KDF: *md = EVP_sha512(); break;
	default: return CKR_MECHANISM_PARAM_INVALID;
	}
	return *md != NULL ? CKR_OK : CKR_MECHANISM_PARAM_INVALID;
}

kw_rv
kwp11_x963_kdf(const EVP_MD *md, const uint8_t *z, size_t zlen, const uint8_t *info,
    size_t ilen, uint8_t *out, size_t outlen)
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM p[4], *q = p;
	char mdname[32];
	kw_rv rv = KW_ERR_CRYPTO;

	if (md == NULL || z == NULL || zlen == 0 || out == NULL || outlen == 0 ||
	    (info == NULL && ilen > 0) || ilen > KWP11_SHARED_DATA_MAX)
		return KW_ERR_ARG;
	memset(out, 0, outlen);
	if (strlen(EVP_MD_get0_name(md)) >= sizeof(mdname))
		return KW_ERR_ARG;
	strcpy(mdname, EVP_MD_get0_name(md));
	if ((kdf = EVP_KDF_fetch(NULL, "X963KDF", NULL)) == NULL ||
	    (ctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, mdname, 0);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)z, zlen);
	if (ilen > 0)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, ilen);
	*q = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, outlen, p) != 1) {
		kw_memzero(out, outlen);
		goto out;
	}
	rv = KW_OK;
out:
	EVP_KDF_CTX_free(ctx);   /* clears its copy of the secret */
	EVP_KDF_free(kdf);
	return rv;
}
