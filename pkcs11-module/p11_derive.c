/* C_DeriveKey with CKM_ECDH1_DERIVE: the card computes the raw shared
 * secret Z with the private key; the KDF (CKD_NULL, or the X9.63 KDF of
 * CKD_SHA1/224/256/384/512_KDF with the caller's shared data) runs on the
 * host (p11_kdf.c). The result is a session secret key (CKK_GENERIC_SECRET
 * or CKK_AES, p11_secret_key.c). This is the path of S/MIME's
 * dhSinglePass-stdDH-sha*kdf key agreement (RFC 5753) as NSS (Thunderbird)
 * and OpenSSL's pkcs11-provider drive it: KDF with the ECC-CMS-SharedInfo
 * as shared data, then an AES key wrap with the derived key. */
#include <string.h>

#include "p11_int.h"

/* The DER length octets of n (n < 65536). */
static size_t
der_len_octets(size_t n, uint8_t out[3])
{
	if (n < 0x80) {
		out[0] = (uint8_t)n;
		return 1;
	}
	if (n < 0x100) {
		out[0] = 0x81;
		out[1] = (uint8_t)n;
		return 2;
	}
	out[0] = 0x82;
	out[1] = (uint8_t)(n >> 8);
	out[2] = (uint8_t)n;
	return 3;
}

CK_RV
kwp11_ecdh_peer_point(const uint8_t *p, size_t len, size_t field_len, kw_view *pt)
{
	size_t plen = 2 * field_len + 1, hl;
	uint8_t hdr[4];

	*pt = kw_view_make(NULL, 0);
	if (p == NULL || field_len == 0 || field_len > 66)
		return CKR_MECHANISM_PARAM_INVALID;
	/* raw: exactly the point's length (an odd number of bytes, 04 first) */
	if (len == plen) {
		if (p[0] != 0x04)
			return CKR_MECHANISM_PARAM_INVALID;
		*pt = kw_view_make(p, len);
		return CKR_OK;
	}
	/* DER: OCTET STRING header + the point; never guessed from the first
	 * byte (a raw point starts with 04 too) */
	hdr[0] = 0x04;
	hl = 1 + der_len_octets(plen, hdr + 1);
	if (len != hl + plen || memcmp(p, hdr, hl) != 0 || p[hl] != 0x04)
		return CKR_MECHANISM_PARAM_INVALID;
	*pt = kw_view_make(p + hl, plen);
	return CKR_OK;
}

static size_t
field_len_of(const kwp11_obj *key)
{
	if (key->pub != NULL)
		return kwp11_pkey_size(key->pub);
	switch (key->alg) {
	case KW_PIV_ALG_ECCP256: return 32;
	case KW_PIV_ALG_ECCP384: return 48;
	default: return 0;
	}
}

typedef struct derive_req {
	const EVP_MD *md;          /* NULL: CKD_NULL */
	kw_view info;              /* shared data */
	kw_view pt;                /* peer point, raw */
} derive_req;

static CK_RV
derive_params(const CK_MECHANISM *mech, const kwp11_obj *key, derive_req *r)
{
	const CK_ECDH1_DERIVE_PARAMS *p = mech->pParameter;
	CK_RV rv;

	if (p == NULL || mech->ulParameterLen != sizeof(*p))
		return CKR_MECHANISM_PARAM_INVALID;
	if ((rv = kwp11_kdf_md(p->kdf, &r->md)) != CKR_OK)
		return rv;
	if (p->ulSharedDataLen > KWP11_SHARED_DATA_MAX ||
	    (p->ulSharedDataLen > 0 && p->pSharedData == NULL))
		return CKR_MECHANISM_PARAM_INVALID;
	/* CKD_NULL takes no shared data (PKCS#11 3.0, 2.3.7) */
	if (r->md == NULL && p->ulSharedDataLen > 0)
		return CKR_MECHANISM_PARAM_INVALID;
	r->info = kw_view_make(p->pSharedData, p->ulSharedDataLen);
	return kwp11_ecdh_peer_point(p->pPublicData, p->ulPublicDataLen, field_len_of(key),
	    &r->pt);
}

/* The key value from Z: the KDF's output of vlen bytes, or for CKD_NULL Z
 * itself (its leftmost vlen bytes when a length is asked). */
static CK_RV
derive_value(const derive_req *r, const kw_buf *z, const kwp11_obj *o, CK_ULONG vlen,
    kw_buf *val)
{
	kw_rv krv;

	if (vlen == 0) {
		/* an AES key's length must be given; a KDF needs a length too */
		if (o->key_type == CKK_AES || r->md != NULL)
			return CKR_TEMPLATE_INCOMPLETE;
		vlen = z->len;
	}
	if (!kwp11_secret_len_ok(o, vlen))
		return CKR_TEMPLATE_INCONSISTENT;
	if ((krv = kw_buf_reserve(val, vlen)) != KW_OK)
		return kwp11_rv(krv);
	if (r->md == NULL) {
		if (vlen > z->len)
			return CKR_TEMPLATE_INCONSISTENT;
		memcpy(val->data, z->data, vlen);
	} else if (kwp11_x963_kdf(r->md, z->data, z->len, r->info.ptr, r->info.len,
	    val->data, vlen) != KW_OK) {
		return CKR_FUNCTION_FAILED;
	}
	val->len = vlen;
	return CKR_OK;
}

CK_RV
kwp11_derive(kwp11_session *s, CK_MECHANISM *mech, CK_OBJECT_HANDLE base,
    CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_HANDLE *out)
{
	kwp11_obj *key, o;
	derive_req r;
	kw_buf z, val;
	CK_ULONG vlen;
	uint8_t slot, alg;
	bool always, have_type;
	kw_rv krv;
	CK_RV rv;

	memset(&o, 0, sizeof(o));
	kw_buf_init(&z, 1024);
	kw_buf_init(&val, KWP11_SECRET_MAX);
	if (mech == NULL || out == NULL || (t == NULL && n > 0))
		return CKR_ARGUMENTS_BAD;
	*out = CK_INVALID_HANDLE;
	if ((rv = kwp11_op_key(s, mech, base, CKF_DERIVE, &key)) != CKR_OK)
		return rv;
	slot = key->slot;
	alg = key->alg;
	always = s->op.need_ctx_login;
	rv = derive_params(mech, key, &r);
	kwp11_op_reset(&s->op);
	if (rv != CKR_OK)
		return rv;
	if (always)
		return CKR_KEY_FUNCTION_NOT_PERMITTED;   /* CKA_DERIVE is false */
	if ((rv = kwp11_secret_template(t, n, &o, &vlen, &have_type)) != CKR_OK)
		goto fail;
	krv = kwp11_token_ecdh(s->tok, slot, alg, r.pt.ptr, r.pt.len, &z);
	if (krv != KW_OK) {
		rv = krv == KW_ERR_ARG ? CKR_MECHANISM_PARAM_INVALID : kwp11_token_fail(s->tok, krv);
		goto fail;
	}
	if ((rv = derive_value(&r, &z, &o, vlen, &val)) != CKR_OK)
		goto fail;
	rv = kwp11_secret_add(s, &o, val.data, val.len, out);
fail:
	kwp11_obj_clear(&o);
	kw_buf_free(&z);
	kw_buf_free(&val);
	return rv;
}
