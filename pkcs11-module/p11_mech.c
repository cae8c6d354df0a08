/* The mechanism table. The RSA and EC entries are performed by the token
 * (CKF_HW); hashing, padding and signature encoding happen on the host
 * around the card's raw private-key operation. The AES key-wrap entries
 * work with the session secret keys ECDH derivation makes, on the host
 * (no CKF_HW): decrypt and unwrap only. */
#include <string.h>

#include "p11_int.h"

#define EC_FLAGS (CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS)

enum { M_EC = 0, M_RSA, M_AES };

typedef struct mech_def {
	CK_MECHANISM_TYPE type;
	int kind;
	CK_FLAGS flags;
} mech_def;

static const mech_def mechs[] = {
	{ CKM_RSA_PKCS, M_RSA, CKF_HW | CKF_SIGN | CKF_DECRYPT },
	{ CKM_RSA_PKCS_PSS, M_RSA, CKF_HW | CKF_SIGN },
	{ CKM_RSA_PKCS_OAEP, M_RSA, CKF_HW | CKF_DECRYPT },
	{ CKM_RSA_X_509, M_RSA, CKF_HW | CKF_SIGN | CKF_DECRYPT },
	{ CKM_SHA1_RSA_PKCS, M_RSA, CKF_HW | CKF_SIGN },
	{ CKM_SHA256_RSA_PKCS, M_RSA, CKF_HW | CKF_SIGN },
	{ CKM_SHA384_RSA_PKCS, M_RSA, CKF_HW | CKF_SIGN },
	{ CKM_SHA512_RSA_PKCS, M_RSA, CKF_HW | CKF_SIGN },
	{ CKM_SHA256_RSA_PKCS_PSS, M_RSA, CKF_HW | CKF_SIGN },
	{ CKM_SHA384_RSA_PKCS_PSS, M_RSA, CKF_HW | CKF_SIGN },
	{ CKM_SHA512_RSA_PKCS_PSS, M_RSA, CKF_HW | CKF_SIGN },
	{ CKM_RSA_PKCS_KEY_PAIR_GEN, M_RSA, CKF_HW | CKF_GENERATE_KEY_PAIR },
	{ CKM_ECDSA, M_EC, CKF_HW | CKF_SIGN | EC_FLAGS },
	{ CKM_ECDSA_SHA1, M_EC, CKF_HW | CKF_SIGN | EC_FLAGS },
	{ CKM_ECDSA_SHA256, M_EC, CKF_HW | CKF_SIGN | EC_FLAGS },
	{ CKM_ECDSA_SHA384, M_EC, CKF_HW | CKF_SIGN | EC_FLAGS },
	{ CKM_ECDSA_SHA512, M_EC, CKF_HW | CKF_SIGN | EC_FLAGS },
	{ CKM_ECDH1_DERIVE, M_EC, CKF_HW | CKF_DERIVE | EC_FLAGS },
	{ CKM_EC_KEY_PAIR_GEN, M_EC, CKF_HW | CKF_GENERATE_KEY_PAIR | EC_FLAGS },
	{ CKM_AES_KEY_WRAP, M_AES, CKF_DECRYPT | CKF_UNWRAP },
	{ CKM_AES_KEY_WRAP_PAD, M_AES, CKF_DECRYPT | CKF_UNWRAP },
	{ CKM_AES_KEY_WRAP_KWP, M_AES, CKF_DECRYPT | CKF_UNWRAP },
};
#define NMECHS (sizeof(mechs) / sizeof(mechs[0]))

static const mech_def *
mech_find(CK_MECHANISM_TYPE type)
{
	size_t i;

	for (i = 0; i < NMECHS; i++)
		if (mechs[i].type == type)
			return &mechs[i];
	return NULL;
}

CK_RV
kwp11_mech_list(kwp11_token *tok, CK_MECHANISM_TYPE *list, CK_ULONG *count)
{
	size_t i;

	(void)tok;
	if (list != NULL && *count < NMECHS) {
		*count = NMECHS;
		return CKR_BUFFER_TOO_SMALL;
	}
	for (i = 0; list != NULL && i < NMECHS; i++)
		list[i] = mechs[i].type;
	*count = NMECHS;
	return CKR_OK;
}

CK_RV
kwp11_mech_info(kwp11_token *tok, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info)
{
	const mech_def *d = mech_find(type);

	(void)tok;
	if (d == NULL)
		return CKR_MECHANISM_INVALID;
	memset(info, 0, sizeof(*info));
	/* bits for RSA and EC, bytes for AES (PKCS#11's units) */
	info->ulMinKeySize = d->kind == M_RSA ? 1024 : d->kind == M_AES ? 16 : 256;
	info->ulMaxKeySize = d->kind == M_RSA ? 4096 : d->kind == M_AES ? 32 : 384;
	info->flags = d->flags;
	return CKR_OK;
}

CK_RV
kwp11_mech_check(CK_MECHANISM_TYPE type, CK_FLAGS flag, const kwp11_obj *key)
{
	const mech_def *d = mech_find(type);

	if (d == NULL || (d->flags & flag) == 0)
		return CKR_MECHANISM_INVALID;
	if (key->cls != CKO_PRIVATE_KEY || d->kind == M_AES)
		return CKR_KEY_TYPE_INCONSISTENT;
	if ((d->kind == M_RSA) != kw_piv_alg_is_rsa(key->alg))
		return CKR_KEY_TYPE_INCONSISTENT;
	if (d->kind == M_EC && !kw_piv_alg_is_ec(key->alg))
		return CKR_KEY_TYPE_INCONSISTENT;
	return CKR_OK;
}

const EVP_MD *
kwp11_mech_md(CK_MECHANISM_TYPE hash)
{
	switch (hash) {
	case CKM_SHA_1: return EVP_sha1();
	case CKM_SHA224: return EVP_sha224();
	case CKM_SHA256: return EVP_sha256();
	case CKM_SHA384: return EVP_sha384();
	case CKM_SHA512: return EVP_sha512();
	default: return NULL;
	}
}

const EVP_MD *
kwp11_mgf_md(CK_RSA_PKCS_MGF_TYPE mgf)
{
	switch (mgf) {
	case CKG_MGF1_SHA1: return EVP_sha1();
	case CKG_MGF1_SHA224: return EVP_sha224();
	case CKG_MGF1_SHA256: return EVP_sha256();
	case CKG_MGF1_SHA384: return EVP_sha384();
	case CKG_MGF1_SHA512: return EVP_sha512();
	default: return NULL;
	}
}
