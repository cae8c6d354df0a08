/* Session secret keys: the results of C_DeriveKey (ECDH on the card, a
 * KDF on the host) and C_UnwrapKey. They live only in the module's memory
 * (kw_secret: locked, wiped), belong to the session that made them, and
 * die with it, with C_DestroyObject, a token removal or C_Finalize. They
 * are never token objects and never reach the disk cache (p11_cache.c
 * stores certificates only). */
#include <string.h>

#include "p11_int.h"

typedef struct use_attr {
	CK_ATTRIBUTE_TYPE type;
	CK_FLAGS use;
	bool dflt;
} use_attr;

/* Defaults as NSS's softoken gives its session keys: cipher uses on, MACs
 * and derivation off. Only decrypt/unwrap with AES key wrap is offered. */
static const use_attr uses[] = {
	{ CKA_ENCRYPT, KWP11_USE_ENCRYPT, true }, { CKA_DECRYPT, KWP11_USE_DECRYPT, true },
	{ CKA_WRAP, KWP11_USE_WRAP, true }, { CKA_UNWRAP, KWP11_USE_UNWRAP, true },
	{ CKA_SIGN, KWP11_USE_SIGN, false }, { CKA_VERIFY, KWP11_USE_VERIFY, false },
	{ CKA_DERIVE, KWP11_USE_DERIVE, false },
};
#define NUSES (sizeof(uses) / sizeof(uses[0]))

/* Attributes a template may carry and that are ignored (no effect here). */
static bool
ignored_attr(CK_ATTRIBUTE_TYPE type)
{
	switch (type) {
	case CKA_LABEL: case CKA_ID: case CKA_PRIVATE: case CKA_MODIFIABLE:
	case CKA_COPYABLE: case CKA_DESTROYABLE: case CKA_START_DATE: case CKA_END_DATE:
	case CKA_SIGN_RECOVER: case CKA_VERIFY_RECOVER: case CKA_WRAP_WITH_TRUSTED:
	case CKA_TRUSTED:
		return true;
	default:
		return false;
	}
}

static CK_RV
tmpl_bool(const CK_ATTRIBUTE *a, bool *out)
{
	if (a->pValue == NULL || a->ulValueLen != sizeof(CK_BBOOL))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	*out = *(const CK_BBOOL *)a->pValue != CK_FALSE;
	return CKR_OK;
}

static CK_RV
tmpl_ulong(const CK_ATTRIBUTE *a, CK_ULONG *out)
{
	if (a->pValue == NULL || a->ulValueLen != sizeof(CK_ULONG))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	memcpy(out, a->pValue, sizeof(*out));
	return CKR_OK;
}

static CK_RV
one_attr(const CK_ATTRIBUTE *a, kwp11_obj *o, CK_ULONG *vlen, bool *have_type)
{
	CK_ULONG u;
	bool b;
	size_t i;
	CK_RV rv;

	for (i = 0; i < NUSES; i++) {
		if (a->type != uses[i].type)
			continue;
		if ((rv = tmpl_bool(a, &b)) != CKR_OK)
			return rv;
		o->uses = b ? (o->uses | uses[i].use) : (o->uses & ~uses[i].use);
		return CKR_OK;
	}
	switch (a->type) {
	case CKA_CLASS:
		if ((rv = tmpl_ulong(a, &u)) != CKR_OK)
			return rv;
		return u == CKO_SECRET_KEY ? CKR_OK : CKR_TEMPLATE_INCONSISTENT;
	case CKA_KEY_TYPE:
		if ((rv = tmpl_ulong(a, &u)) != CKR_OK)
			return rv;
		if (u != CKK_GENERIC_SECRET && u != CKK_AES)
			return CKR_TEMPLATE_INCONSISTENT;
		o->key_type = u;
		*have_type = true;
		return CKR_OK;
	case CKA_VALUE_LEN:
		if ((rv = tmpl_ulong(a, &u)) != CKR_OK)
			return rv;
		if (u == 0 || u > KWP11_SECRET_MAX)
			return CKR_ATTRIBUTE_VALUE_INVALID;
		*vlen = u;
		return CKR_OK;
	case CKA_TOKEN:
		if ((rv = tmpl_bool(a, &b)) != CKR_OK)
			return rv;
		return b ? CKR_TEMPLATE_INCONSISTENT : CKR_OK;   /* never stored */
	case CKA_SENSITIVE:
		return tmpl_bool(a, &o->sensitive);
	case CKA_EXTRACTABLE:
		return tmpl_bool(a, &o->extractable);
	case CKA_VALUE:
		return CKR_TEMPLATE_INCONSISTENT;   /* the mechanism gives the value */
	default:
		return ignored_attr(a->type) ? CKR_OK : CKR_ATTRIBUTE_TYPE_INVALID;
	}
}

CK_RV
kwp11_secret_template(const CK_ATTRIBUTE *t, CK_ULONG n, kwp11_obj *o, CK_ULONG *vlen,
    bool *have_type)
{
	CK_ULONG i;
	size_t j;
	CK_RV rv;

	memset(o, 0, sizeof(*o));
	o->cls = CKO_SECRET_KEY;
	o->key_type = CKK_GENERIC_SECRET;
	o->extractable = true;
	for (j = 0; j < NUSES; j++)
		if (uses[j].dflt)
			o->uses |= uses[j].use;
	*vlen = 0;
	*have_type = false;
	if (t == NULL && n > 0)
		return CKR_ARGUMENTS_BAD;
	for (i = 0; i < n; i++)
		if ((rv = one_attr(&t[i], o, vlen, have_type)) != CKR_OK)
			return rv;
	o->always_sensitive = o->sensitive;
	o->never_extractable = !o->extractable;
	return CKR_OK;
}

bool
kwp11_secret_len_ok(const kwp11_obj *o, size_t len)
{
	if (o->key_type == CKK_AES)
		return len == 16 || len == 24 || len == 32;
	return len > 0 && len <= KWP11_SECRET_MAX;
}

CK_RV
kwp11_secret_add(kwp11_session *s, kwp11_obj *o, const uint8_t *val, size_t len,
    CK_OBJECT_HANDLE *out)
{
	size_t idx;
	CK_RV rv;

	if (!kwp11_secret_len_ok(o, len)) {
		rv = CKR_TEMPLATE_INCONSISTENT;
		goto fail;
	}
	if (kw_secret_set(&o->value, val, len) != KW_OK) {
		rv = CKR_HOST_MEMORY;
		goto fail;
	}
	o->cls = CKO_SECRET_KEY;
	o->owner = s->handle;
	if ((rv = kwp11_obj_add(s->tok, o, &idx)) != CKR_OK)
		goto fail;
	*out = kwp11_obj_handle(s->tok, idx);
	return CKR_OK;
fail:
	kwp11_obj_clear(o);
	return rv;
}

static kw_rv
put_bool(kw_buf *b, bool v)
{
	CK_BBOOL x = v ? CK_TRUE : CK_FALSE;

	return kw_buf_put(b, &x, 1);
}

kw_rv
kwp11_secret_attr(const kwp11_obj *o, CK_ATTRIBUTE_TYPE type, kw_buf *out)
{
	size_t i;

	for (i = 0; i < NUSES; i++)
		if (uses[i].type == type)
			return put_bool(out, (o->uses & uses[i].use) != 0);
	switch (type) {
	case CKA_KEY_TYPE:
		return kw_buf_put(out, &o->key_type, sizeof(o->key_type));
	case CKA_LABEL:
		return KW_OK;
	case CKA_ALWAYS_SENSITIVE:
		return put_bool(out, o->always_sensitive);
	case CKA_NEVER_EXTRACTABLE:
		return put_bool(out, o->never_extractable);
	default:
		return KW_ERR_NOT_SUPPORTED;
	}
}

CK_RV
kwp11_secret_key(kwp11_session *s, CK_OBJECT_HANDLE h, CK_FLAGS use, kwp11_obj **out)
{
	kwp11_obj *o;
	CK_RV rv;

	*out = NULL;
	if ((rv = kwp11_obj_lookup(s->tok, h, &o)) != CKR_OK)
		return rv == CKR_OBJECT_HANDLE_INVALID ? CKR_KEY_HANDLE_INVALID : rv;
	/* any session of the process may use it (PKCS#11 4.4.1: session
	 * objects belong to the application; NSS derives the key in one session
	 * and unwraps with it in another); it dies with its own session */
	if (o->cls != CKO_SECRET_KEY || o->owner == 0)
		return CKR_KEY_TYPE_INCONSISTENT;
	if (s->tok->login != KWP11_LOGIN_USER)
		return CKR_USER_NOT_LOGGED_IN;   /* CKA_PRIVATE: made after login */
	if (o->key_type != CKK_AES)
		return CKR_KEY_TYPE_INCONSISTENT;
	if ((o->uses & use) == 0)
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	*out = o;
	return CKR_OK;
}
