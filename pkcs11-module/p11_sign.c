/* Signing: C_SignInit/C_Sign/C_SignUpdate/C_SignFinal. The host hashes and
 * pads; the card does one raw private-key operation (GENERAL AUTHENTICATE)
 * in one transaction. Length queries never touch the card. */
#include <string.h>

#include "kw_log.h"
#include "p11_int.h"

#define MAX_RAW_INPUT 65536

static size_t
key_bytes(const kwp11_obj *o)
{
	if (o->pub != NULL)
		return kwp11_pkey_size(o->pub);
	return ((size_t)kw_piv_alg_bits(o->alg) + 7) / 8;
}

static size_t
key_bits(const kwp11_obj *o)
{
	if (o->pub != NULL)
		return (size_t)EVP_PKEY_get_bits(o->pub);
	return (size_t)kw_piv_alg_bits(o->alg);
}

static CK_MECHANISM_TYPE
mech_hash(CK_MECHANISM_TYPE m)
{
	switch (m) {
	case CKM_SHA1_RSA_PKCS: case CKM_ECDSA_SHA1: return CKM_SHA_1;
	case CKM_SHA256_RSA_PKCS: case CKM_SHA256_RSA_PKCS_PSS: case CKM_ECDSA_SHA256:
		return CKM_SHA256;
	case CKM_SHA384_RSA_PKCS: case CKM_SHA384_RSA_PKCS_PSS: case CKM_ECDSA_SHA384:
		return CKM_SHA384;
	case CKM_SHA512_RSA_PKCS: case CKM_SHA512_RSA_PKCS_PSS: case CKM_ECDSA_SHA512:
		return CKM_SHA512;
	default: return CKM_VENDOR_DEFINED;
	}
}

static bool
is_pss(CK_MECHANISM_TYPE m)
{
	return m == CKM_RSA_PKCS_PSS || m == CKM_SHA256_RSA_PKCS_PSS ||
	    m == CKM_SHA384_RSA_PKCS_PSS || m == CKM_SHA512_RSA_PKCS_PSS;
}

static bool
is_ecdsa(CK_MECHANISM_TYPE m)
{
	return m == CKM_ECDSA || m == CKM_ECDSA_SHA1 || m == CKM_ECDSA_SHA256 ||
	    m == CKM_ECDSA_SHA384 || m == CKM_ECDSA_SHA512;
}

static CK_RV
pss_params(kwp11_op *op, const CK_MECHANISM *mech)
{
	const CK_RSA_PKCS_PSS_PARAMS *p = mech->pParameter;
	CK_MECHANISM_TYPE h = mech_hash(mech->mechanism);

	if (p == NULL || mech->ulParameterLen != sizeof(*p))
		return CKR_MECHANISM_PARAM_INVALID;
	if (h != CKM_VENDOR_DEFINED && p->hashAlg != h)
		return CKR_MECHANISM_PARAM_INVALID;
	if ((op->md = kwp11_mech_md(p->hashAlg)) == NULL ||
	    (op->mgf_md = kwp11_mgf_md(p->mgf)) == NULL)
		return CKR_MECHANISM_PARAM_INVALID;
	op->salt_len = p->sLen;
	return CKR_OK;
}

/* Shared by sign, decrypt and derive init: key, mechanism, login state. */
CK_RV
kwp11_op_key(kwp11_session *s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key, CK_FLAGS use,
    kwp11_obj **out)
{
	kwp11_obj *o;
	CK_RV rv;

	if (mech == NULL)
		return CKR_ARGUMENTS_BAD;
	if (s->op.kind != KWP11_OP_NONE)
		return CKR_OPERATION_ACTIVE;
	if (!s->tok->present)
		return CKR_DEVICE_REMOVED;
	if ((rv = kwp11_obj_lookup(s->tok, key, &o)) != CKR_OK)
		return rv == CKR_OBJECT_HANDLE_INVALID ? CKR_KEY_HANDLE_INVALID : rv;
	if (o->cls != CKO_PRIVATE_KEY || o->owner != 0)
		return CKR_KEY_TYPE_INCONSISTENT;
	if ((rv = kwp11_mech_check(mech->mechanism, use, o)) != CKR_OK)
		return rv;
	if (kwp11_obj_needs_pin(o) && s->tok->login != KWP11_LOGIN_USER)
		return CKR_USER_NOT_LOGGED_IN;
	s->op.need_ctx_login = kwp11_obj_always_auth(o);
	s->op.mech = mech->mechanism;
	s->op.obj = (size_t)(o - s->tok->objs);
	*out = o;
	return CKR_OK;
}

CK_RV
kwp11_sign_init(kwp11_session *s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key)
{
	kwp11_obj *o;
	CK_MECHANISM_TYPE h;
	CK_RV rv;

	if (s->op.kind != KWP11_OP_NONE)
		return CKR_OPERATION_ACTIVE;
	if ((rv = kwp11_op_key(s, mech, key, CKF_SIGN, &o)) != CKR_OK)
		goto fail;
	h = mech_hash(mech->mechanism);
	if (is_pss(mech->mechanism) && (rv = pss_params(&s->op, mech)) != CKR_OK)
		goto fail;
	if (h != CKM_VENDOR_DEFINED) {
		s->op.md = kwp11_mech_md(h);
		if ((s->op.mdctx = EVP_MD_CTX_new()) == NULL) {
			rv = CKR_HOST_MEMORY;
			goto fail;
		}
		if (!EVP_DigestInit_ex(s->op.mdctx, s->op.md, NULL)) {
			rv = CKR_GENERAL_ERROR;
			goto fail;
		}
	}
	kw_buf_init(&s->op.data, MAX_RAW_INPUT);
	s->op.kind = KWP11_OP_SIGN;
	return CKR_OK;
fail:
	kwp11_op_reset(&s->op);
	return rv;
}

static size_t
sig_len(const kwp11_obj *o, CK_MECHANISM_TYPE m)
{
	return is_ecdsa(m) ? 2 * key_bytes(o) : key_bytes(o);
}

/* Build the card's input block from the message representative `in`
 * (data for raw mechanisms, the hash for hashed ones). */
static CK_RV
sign_block(kwp11_op *op, const kwp11_obj *o, const uint8_t *in, size_t len, kw_buf *blk)
{
	size_t k = key_bytes(o);
	kw_buf di;
	kw_rv rv;

	kw_buf_init(&di, 1024);
	switch (op->mech) {
	case CKM_RSA_PKCS:
		rv = kwp11_pad_pkcs1_type1(in, len, k, blk);
		break;
	case CKM_RSA_X_509:
		if (len > k) {
			rv = KW_ERR_RANGE;
			break;
		}
		if ((rv = kw_buf_reserve(blk, k)) != KW_OK)
			break;
		memset(blk->data, 0, k - len);
		memcpy(blk->data + k - len, in, len);
		blk->len = k;
		break;
	case CKM_SHA1_RSA_PKCS: case CKM_SHA256_RSA_PKCS:
	case CKM_SHA384_RSA_PKCS: case CKM_SHA512_RSA_PKCS:
		if ((rv = kwp11_digest_info(op->md, in, len, &di)) == KW_OK)
			rv = kwp11_pad_pkcs1_type1(di.data, di.len, k, blk);
		break;
	case CKM_RSA_PKCS_PSS: case CKM_SHA256_RSA_PKCS_PSS:
	case CKM_SHA384_RSA_PKCS_PSS: case CKM_SHA512_RSA_PKCS_PSS:
		rv = kwp11_pad_pss(in, len, op->md, op->mgf_md, op->salt_len, key_bits(o), blk);
		break;
	default:   /* ECDSA: the hash itself */
		rv = len > 0 ? kw_buf_put(blk, in, len) : KW_ERR_RANGE;
		break;
	}
	kw_buf_free(&di);
	if (rv == KW_ERR_RANGE)
		return CKR_DATA_LEN_RANGE;
	return rv == KW_OK ? CKR_OK : kwp11_rv(rv);
}

static CK_RV
sign_card(kwp11_session *s, const kwp11_obj *o, const uint8_t *in, size_t len, uint8_t *sig,
    CK_ULONG *siglen)
{
	kwp11_op *op = &s->op;
	size_t need = sig_len(o, op->mech);
	kw_buf blk, out;
	kw_rv krv;
	CK_RV rv;

	kw_buf_init(&blk, KW_BUF_DEFAULT_MAX);
	kw_buf_init(&out, KW_BUF_DEFAULT_MAX);
	if ((rv = sign_block(op, o, in, len, &blk)) != CKR_OK)
		goto out;
	if ((rv = kwp11_op_card(s, o, blk.data, blk.len, &out)) != CKR_OK)
		goto out;
	if (is_ecdsa(op->mech)) {
		krv = kwp11_ecdsa_der_to_raw(kw_buf_view(&out), need / 2, sig);
		rv = krv == KW_OK ? CKR_OK : CKR_DEVICE_ERROR;
	} else if (out.len > need) {
		rv = CKR_DEVICE_ERROR;
	} else {
		memset(sig, 0, need - out.len);
		memcpy(sig + need - out.len, out.data, out.len);
	}
	if (rv == CKR_OK)
		*siglen = need;
out:
	kw_buf_free(&blk);
	kw_buf_free(&out);
	return rv;
}

/* The card operation of a sign or decrypt. For a PIN-always key the PIN
 * of the context-specific login is verified right before, in the same
 * transaction and under the token lock, so that no other thread or
 * process can use up the card's one-operation authorisation in between;
 * it is sent once and wiped with the operation. */
CK_RV
kwp11_op_card(kwp11_session *s, const kwp11_obj *o, const uint8_t *in, size_t len, kw_buf *out)
{
	kwp11_token *tok = s->tok;
	int tries = -1;
	kw_rv krv;

	if (!s->op.need_ctx_login) {
		krv = kwp11_token_private_op(tok, o->slot, o->alg, in, len, out);
		return krv == KW_OK ? CKR_OK : kwp11_token_fail(tok, krv);
	}
	krv = kwp11_token_private_op_pin(tok, &s->op.ctx_pin, o->slot, o->alg, in, len, out,
	    &tries);
	kw_secret_free(&s->op.ctx_pin);
	s->op.ctx_login_done = false;
	if (tries >= 0)
		tok->pin_tries = tries;
	switch (krv) {
	case KW_OK:
		return CKR_OK;
	case KW_ERR_PIN_INCORRECT:
		kwp11_login_clear(tok);   /* a failed VERIFY resets the card's PIN status */
		return tries == 0 ? CKR_PIN_LOCKED : CKR_PIN_INCORRECT;
	case KW_ERR_PIN_BLOCKED:
		kwp11_login_clear(tok);
		tok->pin_tries = 0;
		return CKR_PIN_LOCKED;
	case KW_ERR_SECURITY:
		return CKR_USER_NOT_LOGGED_IN;   /* the user's login stays */
	default:
		return kwp11_token_fail(tok, krv);
	}
}

/* Length query / buffer check / always-authenticate check. Returns
 * CKR_OK with *done false when the card operation should run. */
static CK_RV
sign_precheck(kwp11_session *s, kwp11_obj **o, uint8_t *sig, CK_ULONG *siglen, bool *done)
{
	size_t need;

	*done = true;
	if (s->op.kind != KWP11_OP_SIGN)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (siglen == NULL)
		return CKR_ARGUMENTS_BAD;
	if (kwp11_obj_lookup(s->tok, kwp11_obj_handle(s->tok, s->op.obj), o) != CKR_OK)
		return CKR_KEY_HANDLE_INVALID;
	need = sig_len(*o, s->op.mech);
	if (sig == NULL) {
		*siglen = need;
		return CKR_OK;
	}
	if (*siglen < need) {
		*siglen = need;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (s->op.need_ctx_login && !s->op.ctx_login_done)
		return CKR_USER_NOT_LOGGED_IN;
	*done = false;
	return CKR_OK;
}

static bool
keeps_op(CK_RV rv, const uint8_t *sig)
{
	return rv == CKR_BUFFER_TOO_SMALL || (rv == CKR_OK && sig == NULL);
}

CK_RV
kwp11_sign(kwp11_session *s, const uint8_t *data, CK_ULONG len, uint8_t *sig, CK_ULONG *siglen)
{
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	kwp11_obj *o = NULL;
	bool done;
	CK_RV rv;

	if (data == NULL && len > 0) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if (s->op.kind == KWP11_OP_SIGN && s->op.multipart) {
		rv = CKR_OPERATION_ACTIVE;   /* multi-part already started */
		goto out;
	}
	if ((rv = sign_precheck(s, &o, sig, siglen, &done)) != CKR_OK || done)
		goto out;
	if (s->op.mdctx != NULL) {
		if (!EVP_DigestUpdate(s->op.mdctx, data, len) ||
		    !EVP_DigestFinal_ex(s->op.mdctx, h, &hl)) {
			rv = CKR_GENERAL_ERROR;
			goto out;
		}
		rv = sign_card(s, o, h, hl, sig, siglen);
	} else {
		rv = sign_card(s, o, data, len, sig, siglen);
	}
out:
	if (!keeps_op(rv, sig) && s->op.kind == KWP11_OP_SIGN)
		kwp11_op_reset(&s->op);
	return rv;
}

CK_RV
kwp11_sign_update(kwp11_session *s, const uint8_t *data, CK_ULONG len)
{
	CK_RV rv = CKR_OK;

	if (s->op.kind != KWP11_OP_SIGN)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (data == NULL && len > 0)
		rv = CKR_ARGUMENTS_BAD;
	else if (s->op.mdctx == NULL)
		rv = kw_buf_put(&s->op.data, data, len) == KW_OK ? CKR_OK : CKR_DATA_LEN_RANGE;
	else if (!EVP_DigestUpdate(s->op.mdctx, data, len))
		rv = CKR_GENERAL_ERROR;
	if (rv != CKR_OK)
		kwp11_op_reset(&s->op);
	else
		s->op.multipart = true;
	return rv;
}

CK_RV
kwp11_sign_final(kwp11_session *s, uint8_t *sig, CK_ULONG *siglen)
{
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	kwp11_obj *o = NULL;
	bool done;
	CK_RV rv;

	if ((rv = sign_precheck(s, &o, sig, siglen, &done)) != CKR_OK || done)
		goto out;
	if (s->op.mdctx != NULL) {
		if (!EVP_DigestFinal_ex(s->op.mdctx, h, &hl)) {
			rv = CKR_GENERAL_ERROR;
			goto out;
		}
		rv = sign_card(s, o, h, hl, sig, siglen);
	} else {
		rv = sign_card(s, o, s->op.data.data, s->op.data.len, sig, siglen);
	}
out:
	if (!keeps_op(rv, sig) && s->op.kind == KWP11_OP_SIGN)
		kwp11_op_reset(&s->op);
	return rv;
}
