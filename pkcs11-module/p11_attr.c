/* Attribute values of keyward's objects. One table of attributes per
 * object class (constant values inline, computed ones by name), so that
 * C_GetAttributeValue and C_FindObjects see the same values. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "p11_int.h"

enum { A_BOOL, A_ULONG, A_EMPTY, A_SENSITIVE, A_FN };

typedef struct attr_def {
	CK_ATTRIBUTE_TYPE type;
	int kind;
	CK_ULONG val;
} attr_def;

#define END { (CK_ATTRIBUTE_TYPE)-1, 0, 0 }

static const attr_def common_tab[] = {
	{ CKA_CLASS, A_FN, 0 }, { CKA_TOKEN, A_FN, 0 }, { CKA_PRIVATE, A_FN, 0 },
	{ CKA_MODIFIABLE, A_BOOL, CK_FALSE }, { CKA_COPYABLE, A_BOOL, CK_FALSE },
	{ CKA_DESTROYABLE, A_FN, 0 }, { CKA_LABEL, A_FN, 0 }, END
};
static const attr_def key_tab[] = {
	{ CKA_KEY_TYPE, A_FN, 0 }, { CKA_ID, A_FN, 0 }, { CKA_START_DATE, A_EMPTY, 0 },
	{ CKA_END_DATE, A_EMPTY, 0 }, { CKA_DERIVE, A_FN, 0 }, { CKA_LOCAL, A_FN, 0 },
	{ CKA_KEY_GEN_MECHANISM, A_FN, 0 }, END
};
static const attr_def priv_tab[] = {
	{ CKA_SUBJECT, A_FN, 0 }, { CKA_SENSITIVE, A_BOOL, CK_TRUE },
	{ CKA_DECRYPT, A_FN, 0 }, { CKA_SIGN, A_BOOL, CK_TRUE },
	{ CKA_SIGN_RECOVER, A_BOOL, CK_FALSE }, { CKA_UNWRAP, A_BOOL, CK_FALSE },
	{ CKA_EXTRACTABLE, A_BOOL, CK_FALSE }, { CKA_ALWAYS_SENSITIVE, A_FN, 0 },
	{ CKA_NEVER_EXTRACTABLE, A_FN, 0 }, { CKA_WRAP_WITH_TRUSTED, A_BOOL, CK_FALSE },
	{ CKA_ALWAYS_AUTHENTICATE, A_FN, 0 }, { CKA_PUBLIC_KEY_INFO, A_FN, 0 },
	{ CKA_MODULUS, A_FN, 0 }, { CKA_PUBLIC_EXPONENT, A_FN, 0 }, { CKA_MODULUS_BITS, A_FN, 0 },
	{ CKA_PRIVATE_EXPONENT, A_SENSITIVE, 0 }, { CKA_PRIME_1, A_SENSITIVE, 0 },
	{ CKA_PRIME_2, A_SENSITIVE, 0 }, { CKA_EXPONENT_1, A_SENSITIVE, 0 },
	{ CKA_EXPONENT_2, A_SENSITIVE, 0 }, { CKA_COEFFICIENT, A_SENSITIVE, 0 },
	{ CKA_EC_PARAMS, A_FN, 0 }, { CKA_EC_POINT, A_FN, 0 }, { CKA_VALUE, A_SENSITIVE, 0 },
	END
};
static const attr_def pub_tab[] = {
	{ CKA_SUBJECT, A_FN, 0 }, { CKA_ENCRYPT, A_FN, 0 }, { CKA_VERIFY, A_BOOL, CK_TRUE },
	{ CKA_VERIFY_RECOVER, A_BOOL, CK_FALSE }, { CKA_WRAP, A_BOOL, CK_FALSE },
	{ CKA_TRUSTED, A_BOOL, CK_FALSE }, { CKA_PUBLIC_KEY_INFO, A_FN, 0 },
	{ CKA_MODULUS, A_FN, 0 }, { CKA_MODULUS_BITS, A_FN, 0 },
	{ CKA_PUBLIC_EXPONENT, A_FN, 0 }, { CKA_EC_PARAMS, A_FN, 0 }, { CKA_EC_POINT, A_FN, 0 },
	END
};
static const attr_def cert_tab[] = {
	{ CKA_CERTIFICATE_TYPE, A_ULONG, CKC_X_509 }, { CKA_TRUSTED, A_BOOL, CK_FALSE },
	{ CKA_CERTIFICATE_CATEGORY, A_ULONG, 0 }, { CKA_CHECK_VALUE, A_FN, 0 },
	{ CKA_START_DATE, A_EMPTY, 0 }, { CKA_END_DATE, A_EMPTY, 0 },
	{ CKA_PUBLIC_KEY_INFO, A_FN, 0 }, { CKA_SUBJECT, A_FN, 0 }, { CKA_ID, A_FN, 0 },
	{ CKA_ISSUER, A_FN, 0 }, { CKA_SERIAL_NUMBER, A_FN, 0 }, { CKA_VALUE, A_FN, 0 },
	{ CKA_URL, A_EMPTY, 0 }, { CKA_HASH_OF_SUBJECT_PUBLIC_KEY, A_EMPTY, 0 },
	{ CKA_HASH_OF_ISSUER_PUBLIC_KEY, A_EMPTY, 0 },
	{ CKA_JAVA_MIDP_SECURITY_DOMAIN, A_ULONG, 0 }, END
};
static const attr_def secret_tab[] = {
	{ CKA_SENSITIVE, A_FN, 0 }, { CKA_EXTRACTABLE, A_FN, 0 }, { CKA_VALUE, A_FN, 0 },
	{ CKA_VALUE_LEN, A_FN, 0 }, { CKA_ENCRYPT, A_FN, 0 },
	{ CKA_DECRYPT, A_FN, 0 }, { CKA_SIGN, A_FN, 0 },
	{ CKA_VERIFY, A_FN, 0 }, { CKA_WRAP, A_FN, 0 },
	{ CKA_UNWRAP, A_FN, 0 }, { CKA_ALWAYS_SENSITIVE, A_FN, 0 },
	{ CKA_NEVER_EXTRACTABLE, A_FN, 0 }, END
};

static const attr_def *
tab_find(const attr_def *t, CK_ATTRIBUTE_TYPE type)
{
	for (; t->type != (CK_ATTRIBUTE_TYPE)-1; t++)
		if (t->type == type)
			return t;
	return NULL;
}

static const attr_def *
attr_def_of(const kwp11_obj *o, CK_ATTRIBUTE_TYPE type)
{
	const attr_def *d;

	if ((d = tab_find(common_tab, type)) != NULL)
		return d;
	switch (o->cls) {
	case CKO_PRIVATE_KEY:
		if ((d = tab_find(key_tab, type)) != NULL)
			return d;
		return tab_find(priv_tab, type);
	case CKO_PUBLIC_KEY:
		if ((d = tab_find(key_tab, type)) != NULL)
			return d;
		return tab_find(pub_tab, type);
	case CKO_SECRET_KEY:
		if ((d = tab_find(key_tab, type)) != NULL)
			return d;
		return tab_find(secret_tab, type);
	case CKO_CERTIFICATE:
		return tab_find(cert_tab, type);
	default:
		return NULL;
	}
}

static kw_rv
put_ulong(kw_buf *b, CK_ULONG v)
{
	return kw_buf_put(b, &v, sizeof(v));
}

static kw_rv
put_bool(kw_buf *b, bool v)
{
	CK_BBOOL x = v ? CK_TRUE : CK_FALSE;
	return kw_buf_put(b, &x, 1);
}

static bool
is_rsa(const kwp11_obj *o)
{
	return o->pub != NULL ? EVP_PKEY_get_base_id(o->pub) == EVP_PKEY_RSA :
	    kw_piv_alg_is_rsa(o->alg);
}

static kw_rv
put_bn(kw_buf *b, const EVP_PKEY *k, const char *name)
{
	BIGNUM *bn = NULL;
	uint8_t tmp[1024];
	int n;
	kw_rv rv = KW_ERR_NOT_SUPPORTED;

	if (k == NULL || !EVP_PKEY_get_bn_param(k, name, &bn))
		goto out;
	if ((n = BN_num_bytes(bn)) > (int)sizeof(tmp) || BN_bn2bin(bn, tmp) != n)
		goto out;
	rv = kw_buf_put(b, tmp, (size_t)n);
out:
	BN_free(bn);
	return rv;
}

static kw_rv
put_ec_params(kw_buf *b, const EVP_PKEY *k)
{
	char name[64];
	ASN1_OBJECT *obj;
	uint8_t der[64], *p = der;
	int nid, n;

	if (k == NULL || !EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME,
	    name, sizeof(name), NULL))
		return KW_ERR_NOT_SUPPORTED;
	if ((nid = OBJ_sn2nid(name)) == NID_undef && (nid = OBJ_ln2nid(name)) == NID_undef)
		nid = EC_curve_nist2nid(name);
	if (nid == NID_undef || (obj = OBJ_nid2obj(nid)) == NULL)
		return KW_ERR_NOT_SUPPORTED;
	if ((n = i2d_ASN1_OBJECT(obj, NULL)) <= 0 || n > (int)sizeof(der))
		return KW_ERR_NOT_SUPPORTED;
	n = i2d_ASN1_OBJECT(obj, &p);
	return kw_buf_put(b, der, (size_t)n);
}

static kw_rv
put_ec_point(kw_buf *b, const EVP_PKEY *k)
{
	uint8_t pt[256];
	size_t n = 0;
	kw_rv rv;

	if (k == NULL || !EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY,
	    pt, sizeof(pt), &n) || n > 127)
		return KW_ERR_NOT_SUPPORTED;
	if ((rv = kw_buf_put_u8(b, 0x04)) != KW_OK || (rv = kw_buf_put_u8(b, (uint8_t)n)) != KW_OK)
		return rv;
	return kw_buf_put(b, pt, n);
}

static kw_rv
put_spki(kw_buf *b, const EVP_PKEY *k)
{
	uint8_t *der = NULL;
	int n;
	kw_rv rv;

	if (k == NULL || (n = i2d_PUBKEY(k, &der)) <= 0)
		return KW_ERR_NOT_SUPPORTED;
	rv = kw_buf_put(b, der, (size_t)n);
	OPENSSL_free(der);
	return rv;
}

enum { X_SUBJECT, X_ISSUER, X_SERIAL };

static kw_rv
put_cert_field(kw_buf *b, const kw_buf *cert, int which)
{
	const unsigned char *p = cert->data;
	uint8_t *der = NULL;
	X509 *x;
	int n = -1;
	kw_rv rv = KW_ERR_FORMAT;

	if (cert->len == 0 || (x = d2i_X509(NULL, &p, (long)cert->len)) == NULL)
		return KW_ERR_FORMAT;
	if (which == X_SUBJECT)
		n = i2d_X509_NAME(X509_get_subject_name(x), &der);
	else if (which == X_ISSUER)
		n = i2d_X509_NAME(X509_get_issuer_name(x), &der);
	else
		n = i2d_ASN1_INTEGER(X509_get_serialNumber(x), &der);
	if (n > 0)
		rv = kw_buf_put(b, der, (size_t)n);
	OPENSSL_free(der);
	X509_free(x);
	return rv;
}

static kw_rv
key_value(kwp11_token *tok, const kwp11_obj *o, CK_ATTRIBUTE_TYPE type, kw_buf *out)
{
	const kwp11_obj *c;
	char label[32];

	switch (type) {
	case CKA_KEY_TYPE:
		if (o->cls == CKO_SECRET_KEY)
			return put_ulong(out, CKK_GENERIC_SECRET);
		return put_ulong(out, is_rsa(o) ? CKK_RSA : CKK_EC);
	case CKA_ID:
		if (o->owner != 0)
			return KW_OK;
		return kw_buf_put_u8(out, kwp11_slot_to_id(o->slot));
	case CKA_LABEL:
		if (o->owner != 0)
			return kw_buf_put(out, "ECDH derived", 12);
		kwp11_slot_label(o->slot, label, sizeof(label));
		return kw_buf_put(out, label, strlen(label));
	case CKA_DERIVE:
		/* EC keys; not a PIN-always key, whose context login cannot
		 * precede the single C_DeriveKey call */
		return put_bool(out, o->cls != CKO_SECRET_KEY && !is_rsa(o) &&
		    !kwp11_obj_always_auth(o) && !(o->cls == CKO_PUBLIC_KEY &&
		    kwp11_obj_always_auth(kwp11_obj_find_slot(tok, o->slot, CKO_PRIVATE_KEY))));
	case CKA_LOCAL:
		return put_bool(out, o->origin == KW_PIV_ORIGIN_GENERATED);
	case CKA_KEY_GEN_MECHANISM:
		if (o->origin != KW_PIV_ORIGIN_GENERATED)
			return put_ulong(out, CK_UNAVAILABLE_INFORMATION);
		return put_ulong(out, is_rsa(o) ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN);
	case CKA_SUBJECT:
		c = kwp11_obj_find_slot(tok, o->slot, CKO_CERTIFICATE);
		return c != NULL ? put_cert_field(out, &c->cert, X_SUBJECT) : KW_OK;
	case CKA_DECRYPT:
	case CKA_ENCRYPT:
		return put_bool(out, is_rsa(o));
	case CKA_ALWAYS_SENSITIVE:
	case CKA_NEVER_EXTRACTABLE:
		return put_bool(out, o->origin != KW_PIV_ORIGIN_IMPORTED);
	case CKA_ALWAYS_AUTHENTICATE:
		return put_bool(out, kwp11_obj_always_auth(o));
	case CKA_MODULUS_BITS:
		if (!is_rsa(o) || o->pub == NULL)
			return KW_ERR_NOT_SUPPORTED;
		return put_ulong(out, (CK_ULONG)EVP_PKEY_get_bits(o->pub));
	case CKA_MODULUS:
		return is_rsa(o) ? put_bn(out, o->pub, OSSL_PKEY_PARAM_RSA_N) : KW_ERR_NOT_SUPPORTED;
	case CKA_PUBLIC_EXPONENT:
		return is_rsa(o) ? put_bn(out, o->pub, OSSL_PKEY_PARAM_RSA_E) : KW_ERR_NOT_SUPPORTED;
	case CKA_EC_PARAMS:
		return !is_rsa(o) ? put_ec_params(out, o->pub) : KW_ERR_NOT_SUPPORTED;
	case CKA_EC_POINT:
		return !is_rsa(o) ? put_ec_point(out, o->pub) : KW_ERR_NOT_SUPPORTED;
	case CKA_PUBLIC_KEY_INFO:
		return o->pub != NULL ? put_spki(out, o->pub) : KW_OK;
	default:
		return KW_ERR_NOT_SUPPORTED;
	}
}

static kw_rv
cert_value(const kwp11_obj *o, CK_ATTRIBUTE_TYPE type, kw_buf *out)
{
	uint8_t md[SHA_DIGEST_LENGTH];
	char label[32];

	switch (type) {
	case CKA_ID:
		return kw_buf_put_u8(out, kwp11_slot_to_id(o->slot));
	case CKA_LABEL:
		kwp11_slot_label(o->slot, label, sizeof(label));
		return kw_buf_put(out, label, strlen(label));
	case CKA_VALUE:
		return kw_buf_put(out, o->cert.data, o->cert.len);
	case CKA_CHECK_VALUE:
		SHA1(o->cert.data, o->cert.len, md);
		return kw_buf_put(out, md, 3);
	case CKA_SUBJECT:
		return put_cert_field(out, &o->cert, X_SUBJECT);
	case CKA_ISSUER:
		return put_cert_field(out, &o->cert, X_ISSUER);
	case CKA_SERIAL_NUMBER:
		return put_cert_field(out, &o->cert, X_SERIAL);
	case CKA_PUBLIC_KEY_INFO:
		return o->pub != NULL ? put_spki(out, o->pub) : KW_OK;
	default:
		return KW_ERR_NOT_SUPPORTED;
	}
}

static kw_rv
common_value(const kwp11_obj *o, CK_ATTRIBUTE_TYPE type, kw_buf *out)
{
	switch (type) {
	case CKA_CLASS:
		return put_ulong(out, o->cls);
	case CKA_TOKEN:
		return put_bool(out, o->owner == 0);
	case CKA_PRIVATE:
		return put_bool(out, kwp11_obj_needs_pin(o));
	case CKA_DESTROYABLE:
		return put_bool(out, o->cls == CKO_CERTIFICATE || o->owner != 0);
	case CKA_SENSITIVE:
		return put_bool(out, o->sensitive);
	case CKA_EXTRACTABLE:
		return put_bool(out, o->extractable);
	case CKA_VALUE_LEN:
		return put_ulong(out, o->value.len);
	default:
		return KW_ERR_NOT_SUPPORTED;
	}
}

CK_RV
kwp11_attr_value(kwp11_token *tok, const kwp11_obj *o, CK_ATTRIBUTE_TYPE type, kw_buf *out)
{
	const attr_def *d = attr_def_of(o, type);
	kw_rv rv;

	if (d == NULL)
		return CKR_ATTRIBUTE_TYPE_INVALID;
	switch (d->kind) {
	case A_BOOL:
		rv = put_bool(out, d->val != 0);
		break;
	case A_ULONG:
		rv = put_ulong(out, d->val);
		break;
	case A_EMPTY:
		rv = KW_OK;
		break;
	case A_SENSITIVE:
		return CKR_ATTRIBUTE_SENSITIVE;
	default:
		if (o->cls == CKO_SECRET_KEY && type == CKA_VALUE) {
			if (o->sensitive || !o->extractable)
				return CKR_ATTRIBUTE_SENSITIVE;
			rv = kw_buf_put(out, o->value.ptr, o->value.len);
		} else if (o->cls == CKO_SECRET_KEY &&
		    (rv = kwp11_secret_attr(o, type, out)) != KW_ERR_NOT_SUPPORTED) {
			/* p11_secret_key.c */
		} else if ((rv = common_value(o, type, out)) == KW_ERR_NOT_SUPPORTED) {
			rv = o->cls == CKO_CERTIFICATE ? cert_value(o, type, out) :
			    key_value(tok, o, type, out);
		}
		break;
	}
	if (rv == KW_ERR_NOT_SUPPORTED)
		return CKR_ATTRIBUTE_TYPE_INVALID;
	return rv == KW_OK ? CKR_OK : CKR_GENERAL_ERROR;
}

/* C_GetAttributeValue: every entry is processed; the result is the last
 * of SENSITIVE / TYPE_INVALID / BUFFER_TOO_SMALL met (all are allowed). */
CK_RV
kwp11_attr_get(kwp11_token *tok, CK_OBJECT_HANDLE h, CK_ATTRIBUTE *t, CK_ULONG n)
{
	kwp11_obj *o;
	kw_buf v;
	CK_ULONG i;
	CK_RV rv, r;

	if ((rv = kwp11_obj_lookup(tok, h, &o)) != CKR_OK)
		return rv;
	/* a key's CKA_SUBJECT comes from its certificate: load it first (the
	 * object table may move) */
	if (o->owner == 0 && o->cls != CKO_CERTIFICATE &&
	    kwp11_tmpl_find(t, n, CKA_SUBJECT) != NULL) {
		if ((rv = kwp11_token_load(tok, o->slot, true)) != CKR_OK ||
		    (rv = kwp11_obj_lookup(tok, h, &o)) != CKR_OK)
			return rv;
	}

	kw_buf_init(&v, KW_BUF_DEFAULT_MAX);
	for (i = 0; i < n; i++) {
		kw_buf_reset(&v);
		r = kwp11_attr_value(tok, o, t[i].type, &v);
		if (r == CKR_ATTRIBUTE_SENSITIVE || r == CKR_ATTRIBUTE_TYPE_INVALID) {
			t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = r;
			continue;
		}
		if (r != CKR_OK) {
			rv = r;
			break;
		}
		if (t[i].pValue == NULL) {
			t[i].ulValueLen = v.len;
		} else if (t[i].ulValueLen < v.len) {
			t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_BUFFER_TOO_SMALL;
		} else {
			if (v.len > 0)
				memcpy(t[i].pValue, v.data, v.len);
			t[i].ulValueLen = v.len;
		}
	}
	kw_buf_free(&v);
	return rv;
}

CK_RV
kwp11_obj_size(kwp11_token *tok, kwp11_obj *o, CK_ULONG *size)
{
	*size = o->cert.len + o->value.len + 64;
	return CKR_OK;
}

const CK_ATTRIBUTE *
kwp11_tmpl_find(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type)
{
	CK_ULONG i;

	for (i = 0; t != NULL && i < n; i++)
		if (t[i].type == type)
			return &t[i];
	return NULL;
}

CK_RV
kwp11_tmpl_ulong(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type, CK_ULONG *v)
{
	const CK_ATTRIBUTE *a = kwp11_tmpl_find(t, n, type);

	if (a == NULL)
		return CKR_TEMPLATE_INCOMPLETE;
	if (a->pValue == NULL || a->ulValueLen != sizeof(CK_ULONG))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	memcpy(v, a->pValue, sizeof(*v));
	return CKR_OK;
}

CK_RV
kwp11_tmpl_bool(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type, CK_BBOOL *v)
{
	const CK_ATTRIBUTE *a = kwp11_tmpl_find(t, n, type);

	if (a == NULL)
		return CKR_TEMPLATE_INCOMPLETE;
	if (a->pValue == NULL || a->ulValueLen != sizeof(CK_BBOOL))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	*v = *(const CK_BBOOL *)a->pValue;
	return CKR_OK;
}
