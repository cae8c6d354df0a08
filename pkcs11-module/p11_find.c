/* C_FindObjects*: enumerate the token on first use, then match every
 * attribute of the template against the same values C_GetAttributeValue
 * gives. Private objects (keys needing the PIN) are listed after login
 * only; session objects only to their session. */
#include <stdlib.h>
#include <string.h>

#include "p11_int.h"

static bool
obj_matches(kwp11_token *tok, const kwp11_obj *o, const CK_ATTRIBUTE *t, CK_ULONG n,
    kw_buf *v)
{
	CK_ULONG i;

	for (i = 0; i < n; i++) {
		kw_buf_reset(v);
		if (kwp11_attr_value(tok, o, t[i].type, v) != CKR_OK)
			return false;
		if (v->len != t[i].ulValueLen)
			return false;
		if (v->len > 0 && (t[i].pValue == NULL || memcmp(v->data, t[i].pValue, v->len) != 0))
			return false;
	}
	return true;
}

static bool
obj_visible(const kwp11_session *s, const kwp11_obj *o)
{
	/* session objects are seen by every session of the process (PKCS#11
	 * 4.4.1; NSS derives in one session and decrypts in another) */
	if (!o->live)
		return false;
	/* private objects only after the user's login (PKCS#11 4.1.2) */
	return !kwp11_obj_needs_pin(o) || s->tok->login == KWP11_LOGIN_USER;
}

/* Load from the card only what the template can match: one slot when
 * CKA_ID names one; certificates alone for a certificate search, keys
 * alone for a key search (certificates too when a key's CKA_SUBJECT can
 * match); both without a class. */
static CK_RV
find_load(kwp11_token *tok, const CK_ATTRIBUTE *t, CK_ULONG n)
{
	const CK_ATTRIBUTE *id = kwp11_tmpl_find(t, n, CKA_ID);
	CK_ULONG cls = (CK_ULONG)-1;
	uint8_t slot = 0;
	unsigned what = KWP11_LOAD_KEYS | KWP11_LOAD_CERTS;

	if (kwp11_tmpl_ulong(t, n, CKA_CLASS, &cls) == CKR_OK) {
		if (cls != CKO_CERTIFICATE && cls != CKO_PRIVATE_KEY && cls != CKO_PUBLIC_KEY)
			return CKR_OK;   /* nothing on the card can match */
		if (cls == CKO_CERTIFICATE)
			what = KWP11_LOAD_CERTS;
		else if (kwp11_tmpl_find(t, n, CKA_SUBJECT) == NULL)
			what = KWP11_LOAD_KEYS;
	}
	if (id != NULL) {
		if (id->pValue == NULL || id->ulValueLen != 1 ||
		    (slot = kwp11_id_to_slot(*(const uint8_t *)id->pValue)) == 0)
			return CKR_OK;   /* no PIV slot has this CKA_ID */
	}
	return kwp11_token_load_what(tok, slot, what);
}

CK_RV
kwp11_find_init(kwp11_session *s, CK_ATTRIBUTE *t, CK_ULONG n)
{
	kwp11_token *tok = s->tok;
	kw_buf v;
	size_t i;
	CK_RV rv;

	if (s->find_active)
		return CKR_OPERATION_ACTIVE;
	if (n > 0 && t == NULL)
		return CKR_ARGUMENTS_BAD;
	if ((rv = find_load(tok, t, n)) != CKR_OK)
		return rv;
	free(s->found);
	s->found = NULL;
	s->nfound = s->findpos = 0;
	if (tok->nobjs > 0 && (s->found = calloc(tok->nobjs, sizeof(*s->found))) == NULL)
		return CKR_HOST_MEMORY;
	kw_buf_init(&v, KW_BUF_DEFAULT_MAX);
	for (i = 0; i < tok->nobjs; i++) {
		if (obj_visible(s, &tok->objs[i]) && obj_matches(tok, &tok->objs[i], t, n, &v))
			s->found[s->nfound++] = kwp11_obj_handle(tok, i);
	}
	kw_buf_free(&v);
	s->find_active = true;
	return CKR_OK;
}

CK_RV
kwp11_find(kwp11_session *s, CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *count)
{
	CK_ULONG n = 0;

	if (!s->find_active)
		return CKR_OPERATION_NOT_INITIALIZED;
	while (n < max && s->findpos < s->nfound)
		out[n++] = s->found[s->findpos++];
	*count = n;
	return CKR_OK;
}

CK_RV
kwp11_find_final(kwp11_session *s)
{
	if (!s->find_active)
		return CKR_OPERATION_NOT_INITIALIZED;
	free(s->found);
	s->found = NULL;
	s->nfound = s->findpos = 0;
	s->find_active = false;
	return CKR_OK;
}
