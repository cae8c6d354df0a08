/* C_CreateObject (certificates: PUT DATA; private keys: YubiKey IMPORT)
 * and C_DestroyObject (certificates and session objects). Writes need the
 * management key (p11_keygen.c) and a R/W session. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "kw_log.h"
#include "p11_int.h"

static CK_RV
obj_slot(const CK_ATTRIBUTE *t, CK_ULONG n, uint8_t *slot)
{
	const CK_ATTRIBUTE *a = kwp11_tmpl_find(t, n, CKA_ID);

	if (a == NULL)
		return CKR_TEMPLATE_INCOMPLETE;
	if (a->pValue == NULL || a->ulValueLen != 1 ||
	    (*slot = kwp11_id_to_slot(*(const uint8_t *)a->pValue)) == 0)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	return CKR_OK;
}

static CK_RV
card_write(kwp11_token *tok, uint8_t slot, const uint8_t *der, size_t len,
    const EVP_PKEY *key)
{
	kw_rv rv;

	if ((rv = kwp11_token_begin(tok)) != KW_OK)
		return kwp11_token_fail(tok, rv);
	if ((rv = kw_piv_select(tok->piv)) == KW_OK && (rv = kwp11_mgmt_auth(tok)) == KW_OK) {
		if (key != NULL)
			rv = kw_piv_import_key(tok->piv, slot, key, KW_PIV_PIN_POLICY_DEFAULT,
			    KW_PIV_TOUCH_POLICY_DEFAULT);
		else
			rv = kw_piv_write_cert(tok->piv, slot, der, len);
	}
	kwp11_token_end(tok);
	if (rv == KW_ERR_SECURITY)
		return CKR_USER_NOT_LOGGED_IN;
	return rv == KW_OK ? CKR_OK : kwp11_token_fail(tok, rv);
}

static CK_RV
handle_of(kwp11_token *tok, uint8_t slot, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *out)
{
	kwp11_obj *o = kwp11_obj_find_slot(tok, slot, cls);

	if (o == NULL)
		return CKR_GENERAL_ERROR;
	*out = kwp11_obj_handle(tok, (size_t)(o - tok->objs));
	return CKR_OK;
}

static CK_RV
create_cert(kwp11_token *tok, const CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_HANDLE *out)
{
	const CK_ATTRIBUTE *v = kwp11_tmpl_find(t, n, CKA_VALUE);
	const unsigned char *p;
	CK_ULONG ct;
	uint8_t slot = 0;
	X509 *x;
	CK_RV rv;

	if (kwp11_tmpl_ulong(t, n, CKA_CERTIFICATE_TYPE, &ct) == CKR_OK && ct != CKC_X_509)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if ((rv = obj_slot(t, n, &slot)) != CKR_OK)
		return rv;
	if (v == NULL)
		return CKR_TEMPLATE_INCOMPLETE;
	p = v->pValue;
	if (p == NULL || (x = d2i_X509(NULL, &p, (long)v->ulValueLen)) == NULL)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	X509_free(x);
	if ((rv = card_write(tok, slot, v->pValue, v->ulValueLen, NULL)) != CKR_OK)
		return rv;
	if (tok->have_serial)
		(void)kwp11_cache_drop(tok->serial, slot);   /* re-read and re-recorded later */
	if (kwp11_obj_find_slot(tok, slot, CKO_PRIVATE_KEY) != NULL)
		rv = kwp11_obj_set_slot(tok, slot, NULL, v->pValue, v->ulValueLen, true);
	else
		rv = kwp11_obj_set_slot(tok, slot, NULL, v->pValue, v->ulValueLen, false);
	return rv == CKR_OK ? handle_of(tok, slot, CKO_CERTIFICATE, out) : rv;
}

static int
bld_bn(OSSL_PARAM_BLD *b, const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type,
    const char *name, BIGNUM **keep)
{
	const CK_ATTRIBUTE *a = kwp11_tmpl_find(t, n, type);

	if (a == NULL || a->pValue == NULL || a->ulValueLen == 0)
		return 0;
	if ((*keep = BN_bin2bn(a->pValue, (int)a->ulValueLen, NULL)) == NULL)
		return 0;
	BN_set_flags(*keep, BN_FLG_CONSTTIME);
	return OSSL_PARAM_BLD_push_BN(b, name, *keep);
}

static CK_RV
rsa_key(const CK_ATTRIBUTE *t, CK_ULONG n, OSSL_PARAM_BLD *b, BIGNUM **bn)
{
	if (!bld_bn(b, t, n, CKA_MODULUS, OSSL_PKEY_PARAM_RSA_N, &bn[0]) ||
	    !bld_bn(b, t, n, CKA_PUBLIC_EXPONENT, OSSL_PKEY_PARAM_RSA_E, &bn[1]) ||
	    !bld_bn(b, t, n, CKA_PRIVATE_EXPONENT, OSSL_PKEY_PARAM_RSA_D, &bn[2]) ||
	    !bld_bn(b, t, n, CKA_PRIME_1, OSSL_PKEY_PARAM_RSA_FACTOR1, &bn[3]) ||
	    !bld_bn(b, t, n, CKA_PRIME_2, OSSL_PKEY_PARAM_RSA_FACTOR2, &bn[4]) ||
	    !bld_bn(b, t, n, CKA_EXPONENT_1, OSSL_PKEY_PARAM_RSA_EXPONENT1, &bn[5]) ||
	    !bld_bn(b, t, n, CKA_EXPONENT_2, OSSL_PKEY_PARAM_RSA_EXPONENT2, &bn[6]) ||
	    !bld_bn(b, t, n, CKA_COEFFICIENT, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, &bn[7]))
		return CKR_TEMPLATE_INCOMPLETE;
	return CKR_OK;
}

static CK_RV
ec_key(const CK_ATTRIBUTE *t, CK_ULONG n, OSSL_PARAM_BLD *b, BIGNUM **bn)
{
	static const uint8_t p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
	static const uint8_t p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
	const CK_ATTRIBUTE *a = kwp11_tmpl_find(t, n, CKA_EC_PARAMS);
	const char *curve;

	if (a == NULL || a->pValue == NULL)
		return CKR_TEMPLATE_INCOMPLETE;
	if (a->ulValueLen == sizeof(p256) && memcmp(a->pValue, p256, sizeof(p256)) == 0)
		curve = "P-256";
	else if (a->ulValueLen == sizeof(p384) && memcmp(a->pValue, p384, sizeof(p384)) == 0)
		curve = "P-384";
	else
		return CKR_CURVE_NOT_SUPPORTED;
	if (!OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, curve, 0) ||
	    !bld_bn(b, t, n, CKA_VALUE, OSSL_PKEY_PARAM_PRIV_KEY, &bn[0]))
		return CKR_TEMPLATE_INCOMPLETE;
	return CKR_OK;
}

static CK_RV
build_key(const CK_ATTRIBUTE *t, CK_ULONG n, EVP_PKEY **key)
{
	BIGNUM *bn[8] = { 0 };
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	CK_ULONG kt;
	size_t i;
	CK_RV rv;

	*key = NULL;
	if (b == NULL)
		return CKR_HOST_MEMORY;
	if ((rv = kwp11_tmpl_ulong(t, n, CKA_KEY_TYPE, &kt)) != CKR_OK)
		goto out;
	if (kt == CKK_RSA)
		rv = rsa_key(t, n, b, bn);
	else if (kt == CKK_EC)
		rv = ec_key(t, n, b, bn);
	else
		rv = CKR_ATTRIBUTE_VALUE_INVALID;
	if (rv != CKR_OK)
		goto out;
	rv = CKR_ATTRIBUTE_VALUE_INVALID;
	if ((params = OSSL_PARAM_BLD_to_param(b)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, kt == CKK_RSA ? "RSA" : "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, key, EVP_PKEY_KEYPAIR, params) <= 0)
		goto out;
	rv = CKR_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	for (i = 0; i < 8; i++)
		BN_clear_free(bn[i]);
	return rv;
}

static CK_RV
create_key(kwp11_token *tok, const CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_HANDLE *out)
{
	kw_piv_metadata md;
	EVP_PKEY *key = NULL;
	uint8_t slot = 0;
	kw_rv krv;
	CK_RV rv;

	memset(&md, 0, sizeof(md));
	if ((rv = obj_slot(t, n, &slot)) != CKR_OK || (rv = build_key(t, n, &key)) != CKR_OK)
		goto out;
	if ((md.alg = kw_piv_alg_of_pkey(key)) == 0) {
		rv = CKR_ATTRIBUTE_VALUE_INVALID;
		goto out;
	}
	if ((rv = card_write(tok, slot, NULL, 0, key)) != CKR_OK)
		goto out;
	/* The public half, as the card reports it (no secret kept here). */
	if ((krv = kwp11_token_begin(tok)) == KW_OK) {
		if (kw_piv_get_metadata(tok->piv, slot, &md) != KW_OK) {
			md.alg = kw_piv_alg_of_pkey(key);
			md.origin = KW_PIV_ORIGIN_IMPORTED;
		}
		kwp11_token_end(tok);
	}
	/* a certificate of the slot belonged to the replaced key: hidden */
	rv = kwp11_obj_set_slot(tok, slot, &md, NULL, 0, false);
	kwp11_token_key_changed(tok, slot);
	if (rv == CKR_OK)
		rv = handle_of(tok, slot, CKO_PRIVATE_KEY, out);
out:
	kw_piv_metadata_clear(&md);
	EVP_PKEY_free(key);
	return rv;
}

CK_RV
kwp11_create_object(kwp11_session *s, CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_HANDLE *out)
{
	CK_ULONG cls;
	CK_RV rv;

	if ((t == NULL && n > 0) || out == NULL)
		return CKR_ARGUMENTS_BAD;
	if ((s->flags & CKF_RW_SESSION) == 0)
		return CKR_SESSION_READ_ONLY;
	if ((rv = kwp11_tmpl_ulong(t, n, CKA_CLASS, &cls)) != CKR_OK)
		return rv;
	if ((rv = kwp11_token_load(s->tok, 0, false)) != CKR_OK)
		return rv;
	switch (cls) {
	case CKO_CERTIFICATE:
		return create_cert(s->tok, t, n, out);
	case CKO_PRIVATE_KEY:
		return create_key(s->tok, t, n, out);
	default:
		return CKR_ATTRIBUTE_VALUE_INVALID;
	}
}

CK_RV
kwp11_destroy_object(kwp11_session *s, CK_OBJECT_HANDLE h)
{
	kwp11_token *tok = s->tok;
	kwp11_obj *o;
	uint8_t slot;
	kw_rv rv;
	CK_RV crv;

	if ((crv = kwp11_obj_lookup(tok, h, &o)) != CKR_OK)
		return crv;
	if (o->owner != 0) {
		kwp11_obj_clear(o);
		return CKR_OK;
	}
	if (o->cls != CKO_CERTIFICATE)
		return CKR_ACTION_PROHIBITED;
	if ((s->flags & CKF_RW_SESSION) == 0)
		return CKR_SESSION_READ_ONLY;
	slot = o->slot;
	if ((rv = kwp11_token_begin(tok)) != KW_OK)
		return kwp11_token_fail(tok, rv);
	if ((rv = kw_piv_select(tok->piv)) == KW_OK && (rv = kwp11_mgmt_auth(tok)) == KW_OK)
		rv = kw_piv_delete_cert(tok->piv, slot);
	kwp11_token_end(tok);
	if (rv != KW_OK)
		return rv == KW_ERR_SECURITY ? CKR_USER_NOT_LOGGED_IN : kwp11_token_fail(tok, rv);
	if (tok->have_serial)
		(void)kwp11_cache_drop(tok->serial, slot);
	kwp11_obj_clear(o);
	return CKR_OK;
}

/* The key template parser alone, for fuzz/fuzz_p11_input.c. */
CK_RV
kwp11_create_build_key(const CK_ATTRIBUTE *t, CK_ULONG n, EVP_PKEY **key)
{
	return build_key(t, n, key);
}
