/* C_DeriveKey with CKM_ECDH1_DERIVE (KDF CKD_NULL): the card computes the
 * shared secret; the result is a session object (CKO_SECRET_KEY,
 * CKK_GENERIC_SECRET) owned by the session, wiped when destroyed. */
#include <string.h>

#include "p11_int.h"

/* The peer's point: raw uncompressed, or wrapped in a DER OCTET STRING. */
static CK_RV
peer_point(const CK_ECDH1_DERIVE_PARAMS *p, kw_view *pt)
{
	kw_view v = kw_view_make(p->pPublicData, p->ulPublicDataLen);
	uint8_t len;

	if (p->pPublicData == NULL || p->ulPublicDataLen < 3)
		return CKR_MECHANISM_PARAM_INVALID;
	if (v.ptr[0] == 0x04 && (v.len % 2) == 1) {
		*pt = v;
		return CKR_OK;
	}
	/* 04 len 04 X Y (short form suffices up to P-384's 97 bytes) */
	if (v.ptr[0] != 0x04 || (len = v.ptr[1]) >= 0x80 || (size_t)len + 2 != v.len)
		return CKR_MECHANISM_PARAM_INVALID;
	*pt = kw_view_make(v.ptr + 2, len);
	return CKR_OK;
}

static CK_RV
derive_template(const CK_ATTRIBUTE *t, CK_ULONG n, kwp11_obj *o, CK_ULONG *vlen)
{
	CK_BBOOL b;
	CK_ULONG u;

	o->sensitive = false;
	o->extractable = true;
	*vlen = 0;
	if (kwp11_tmpl_bool(t, n, CKA_TOKEN, &b) == CKR_OK && b)
		return CKR_TEMPLATE_INCONSISTENT;
	if (kwp11_tmpl_ulong(t, n, CKA_CLASS, &u) == CKR_OK && u != CKO_SECRET_KEY)
		return CKR_TEMPLATE_INCONSISTENT;
	if (kwp11_tmpl_bool(t, n, CKA_SENSITIVE, &b) == CKR_OK)
		o->sensitive = b != CK_FALSE;
	if (kwp11_tmpl_bool(t, n, CKA_EXTRACTABLE, &b) == CKR_OK)
		o->extractable = b != CK_FALSE;
	if (kwp11_tmpl_ulong(t, n, CKA_VALUE_LEN, &u) == CKR_OK)
		*vlen = u;
	return CKR_OK;
}

CK_RV
kwp11_derive(kwp11_session *s, CK_MECHANISM *mech, CK_OBJECT_HANDLE base,
    CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_HANDLE *out)
{
	const CK_ECDH1_DERIVE_PARAMS *p;
	kwp11_obj *key, o;
	kw_view pt;
	CK_ULONG vlen;
	size_t idx;
	uint8_t slot, alg;
	bool always;
	kw_rv krv;
	CK_RV rv;

	memset(&o, 0, sizeof(o));
	if (mech == NULL || out == NULL || (t == NULL && n > 0))
		return CKR_ARGUMENTS_BAD;
	if ((rv = kwp11_op_key(s, mech, base, CKF_DERIVE, &key)) != CKR_OK)
		return rv;
	slot = key->slot;
	alg = key->alg;
	always = s->op.need_ctx_login;
	kwp11_op_reset(&s->op);
	if (always)
		return CKR_KEY_FUNCTION_NOT_PERMITTED;   /* CKA_DERIVE is false */
	p = mech->pParameter;
	if (p == NULL || mech->ulParameterLen != sizeof(*p) || p->kdf != CKD_NULL ||
	    p->ulSharedDataLen != 0)
		return CKR_MECHANISM_PARAM_INVALID;
	if ((rv = peer_point(p, &pt)) != CKR_OK)
		return rv;
	if ((rv = derive_template(t, n, &o, &vlen)) != CKR_OK)
		return rv;
	kw_buf_init(&o.value, 1024);
	krv = kwp11_token_ecdh(s->tok, slot, alg, pt.ptr, pt.len, &o.value);
	if (krv != KW_OK) {
		rv = krv == KW_ERR_ARG ? CKR_MECHANISM_PARAM_INVALID : kwp11_token_fail(s->tok, krv);
		goto fail;
	}
	if (vlen > o.value.len) {
		rv = CKR_TEMPLATE_INCONSISTENT;
		goto fail;
	}
	if (vlen > 0)
		o.value.len = vlen;   /* leftmost bytes */
	o.cls = CKO_SECRET_KEY;
	o.owner = s->handle;
	if ((rv = kwp11_obj_add(s->tok, &o, &idx)) != CKR_OK)
		goto fail;
	*out = kwp11_obj_handle(s->tok, idx);
	return CKR_OK;
fail:
	kwp11_obj_clear(&o);
	return rv;
}
