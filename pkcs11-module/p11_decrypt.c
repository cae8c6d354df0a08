/* Decryption: RSA PKCS#1 v1.5, OAEP (with or without a label) and raw;
 * and AES key unwrapping with a session secret key (p11_keywrap.c, run on
 * the host: the card's part was the ECDH of C_DeriveKey). The card does the raw RSA operation; the padding is removed here with
 * OpenSSL's constant-time checks (the result of the check is the only
 * secret-dependent branch, as PKCS#11 must report it). The plaintext is
 * kept (wiped on reset) so that a retry with a bigger buffer does not
 * repeat the card operation. */
#define OPENSSL_API_COMPAT 0x10100000L
#include <string.h>

#include <openssl/rsa.h>

#include "p11_int.h"

static CK_RV
oaep_params(kwp11_op *op, const CK_MECHANISM *mech)
{
	const CK_RSA_PKCS_OAEP_PARAMS *p = mech->pParameter;

	if (p == NULL || mech->ulParameterLen != sizeof(*p))
		return CKR_MECHANISM_PARAM_INVALID;
	if ((op->md = kwp11_mech_md(p->hashAlg)) == NULL ||
	    (op->mgf_md = kwp11_mgf_md(p->mgf)) == NULL)
		return CKR_MECHANISM_PARAM_INVALID;
	kw_buf_init(&op->label, 65536);
	if (p->source != 0 && p->source != CKZ_DATA_SPECIFIED)
		return CKR_MECHANISM_PARAM_INVALID;
	if (p->ulSourceDataLen > 0) {
		if (p->pSourceData == NULL)
			return CKR_MECHANISM_PARAM_INVALID;
		if (kw_buf_put(&op->label, p->pSourceData, p->ulSourceDataLen) != KW_OK)
			return CKR_MECHANISM_PARAM_INVALID;
	}
	return CKR_OK;
}

CK_RV
kwp11_decrypt_init(kwp11_session *s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key)
{
	kwp11_obj *o;
	CK_RV rv;

	if (s->op.kind != KWP11_OP_NONE)
		return CKR_OPERATION_ACTIVE;
	if (mech != NULL && kwp11_keywrap_mech(mech->mechanism))
		return kwp11_keywrap_decrypt_init(s, mech, key);
	if ((rv = kwp11_op_key(s, mech, key, CKF_DECRYPT, &o)) != CKR_OK)
		goto fail;
	if (mech->mechanism == CKM_RSA_PKCS_OAEP && (rv = oaep_params(&s->op, mech)) != CKR_OK)
		goto fail;
	kw_buf_init(&s->op.data, 65536);
	kw_buf_init(&s->op.result, 65536);
	s->op.kind = KWP11_OP_DECRYPT;
	return CKR_OK;
fail:
	kwp11_op_reset(&s->op);
	return rv;
}

static CK_RV
unpad(kwp11_op *op, const uint8_t *blk, size_t k)
{
	int n = -1;
	kw_rv rv;

	if ((rv = kw_buf_reserve(&op->result, k)) != KW_OK)
		return kwp11_rv(rv);
	switch (op->mech) {
	case CKM_RSA_X_509:
		memcpy(op->result.data, blk, k);
		n = (int)k;
		break;
	case CKM_RSA_PKCS:
		n = RSA_padding_check_PKCS1_type_2(op->result.data, (int)k, blk, (int)k, (int)k);
		break;
	case CKM_RSA_PKCS_OAEP:
		n = RSA_padding_check_PKCS1_OAEP_mgf1(op->result.data, (int)k, blk, (int)k,
		    (int)k, op->label.data, (int)op->label.len, op->md, op->mgf_md);
		break;
	default:
		break;
	}
	if (n < 0)
		return CKR_ENCRYPTED_DATA_INVALID;
	op->result.len = (size_t)n;
	op->have_result = true;
	return CKR_OK;
}

static CK_RV
decrypt_card(kwp11_session *s, const kwp11_obj *o, const uint8_t *in, size_t len)
{
	size_t k = kwp11_pkey_size(o->pub);
	uint8_t *blk = NULL;
	kw_buf out;
	kw_rv krv;
	CK_RV rv;

	kw_buf_init(&out, KW_BUF_DEFAULT_MAX);
	if ((rv = kwp11_op_card(s, o, in, len, &out)) != CKR_OK)
		goto out;
	if (out.len > k) {
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	if ((krv = kw_buf_reserve(&out, k - out.len)) != KW_OK) {
		rv = kwp11_rv(krv);
		goto out;
	}
	blk = out.data;
	memmove(blk + k - out.len, blk, out.len);
	memset(blk, 0, k - out.len);
	out.len = k;
	rv = unpad(&s->op, blk, k);
out:
	kw_buf_free(&out);
	return rv;
}

static CK_RV
give_result(kwp11_op *op, uint8_t *out, CK_ULONG *outlen)
{
	if (out == NULL) {
		*outlen = op->result.len;
		return CKR_OK;
	}
	if (*outlen < op->result.len) {
		*outlen = op->result.len;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (op->result.len > 0)
		memcpy(out, op->result.data, op->result.len);
	*outlen = op->result.len;
	return CKR_OK;
}

/* AES key unwrap: a length query without output gives an upper bound
 * (the input less its 8-byte integrity block) and does no work. */
static CK_RV
keywrap_run(kwp11_session *s, const uint8_t *in, size_t len, uint8_t *out, CK_ULONG *outlen)
{
	CK_RV rv;

	if (!s->op.have_result) {
		if (out == NULL) {
			if (len < 16 || len % 8 != 0)
				return CKR_ENCRYPTED_DATA_LEN_RANGE;
			*outlen = len - 8;
			return CKR_OK;
		}
		if ((rv = kwp11_keywrap_run(s, in, len)) != CKR_OK)
			return rv;
	}
	return give_result(&s->op, out, outlen);
}

static CK_RV
decrypt_run(kwp11_session *s, const uint8_t *in, size_t len, uint8_t *out, CK_ULONG *outlen)
{
	kwp11_obj *o;
	size_t k;
	CK_RV rv;

	if (outlen == NULL)
		return CKR_ARGUMENTS_BAD;
	if (kwp11_keywrap_mech(s->op.mech))
		return keywrap_run(s, in, len, out, outlen);
	if (kwp11_obj_lookup(s->tok, kwp11_obj_handle(s->tok, s->op.obj), &o) != CKR_OK ||
	    o->pub == NULL)
		return CKR_KEY_HANDLE_INVALID;
	k = kwp11_pkey_size(o->pub);
	if (!s->op.have_result) {
		if (len != k)
			return CKR_ENCRYPTED_DATA_LEN_RANGE;
		if (out == NULL) {
			*outlen = k;   /* an upper bound; the card is not asked */
			return CKR_OK;
		}
		if (s->op.need_ctx_login && !s->op.ctx_login_done)
			return CKR_USER_NOT_LOGGED_IN;
		if ((rv = decrypt_card(s, o, in, len)) != CKR_OK)
			return rv;
	}
	return give_result(&s->op, out, outlen);
}

static void
decrypt_done(kwp11_session *s, CK_RV rv, const uint8_t *out)
{
	if (rv == CKR_BUFFER_TOO_SMALL || (rv == CKR_OK && out == NULL))
		return;
	kwp11_op_reset(&s->op);
}

CK_RV
kwp11_decrypt(kwp11_session *s, const uint8_t *in, CK_ULONG len, uint8_t *out, CK_ULONG *outlen)
{
	CK_RV rv;

	if (s->op.kind != KWP11_OP_DECRYPT)
		return CKR_OPERATION_NOT_INITIALIZED;
	if ((in == NULL && len > 0) || s->op.multipart)
		rv = CKR_ARGUMENTS_BAD;
	else
		rv = decrypt_run(s, in, len, out, outlen);
	decrypt_done(s, rv, out);
	return rv;
}

CK_RV
kwp11_decrypt_update(kwp11_session *s, const uint8_t *in, CK_ULONG len, uint8_t *out,
    CK_ULONG *outlen)
{
	if (s->op.kind != KWP11_OP_DECRYPT)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (outlen == NULL || (in == NULL && len > 0) ||
	    kw_buf_put(&s->op.data, in, len) != KW_OK) {
		kwp11_op_reset(&s->op);
		return CKR_ARGUMENTS_BAD;
	}
	(void)out;
	s->op.multipart = true;
	*outlen = 0;
	return CKR_OK;
}

CK_RV
kwp11_decrypt_final(kwp11_session *s, uint8_t *out, CK_ULONG *outlen)
{
	CK_RV rv;

	if (s->op.kind != KWP11_OP_DECRYPT)
		return CKR_OPERATION_NOT_INITIALIZED;
	rv = decrypt_run(s, s->op.data.data, s->op.data.len, out, outlen);
	decrypt_done(s, rv, out);
	return rv;
}

/* The unpadding alone, for fuzz/fuzz_p11_input.c. */
CK_RV
kwp11_rsa_unpad(kwp11_op *op, const uint8_t *blk, size_t k)
{
	return unpad(op, blk, k);
}
