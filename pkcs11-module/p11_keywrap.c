/* AES key unwrapping with a session secret key (the one C_DeriveKey made
 * from the card's ECDH): C_Decrypt and C_UnwrapKey with
 *   CKM_AES_KEY_WRAP      RFC 3394 (optional 8-byte IV parameter)
 *   CKM_AES_KEY_WRAP_PAD  RFC 3394 over PKCS#7-padded data (PKCS#11 3.0;
 *                         SoftHSMv2 puts RFC 5649 under this number)
 *   CKM_AES_KEY_WRAP_KWP  RFC 5649 (optional 4-byte IV parameter)
 * with OpenSSL's "AES-nnn-WRAP" / "AES-nnn-WRAP-PAD" ciphers. This is how
 * S/MIME's ECDH recipients get the content key (RFC 5753: id-aesN-wrap):
 * NSS asks for CKM_AES_KEY_WRAP on the derived key's token. No wrapping
 * (encryption) is offered: the token has nothing to wrap. */
#include <string.h>

#include <openssl/evp.h>

#include "p11_int.h"

bool
kwp11_keywrap_mech(CK_MECHANISM_TYPE m)
{
	return m == CKM_AES_KEY_WRAP || m == CKM_AES_KEY_WRAP_PAD || m == CKM_AES_KEY_WRAP_KWP;
}

static EVP_CIPHER *
wrap_cipher(CK_MECHANISM_TYPE m, size_t keylen)
{
	char name[32];
	const char *suffix = m == CKM_AES_KEY_WRAP_KWP ? "-PAD" : "";

	if (keylen != 16 && keylen != 24 && keylen != 32)
		return NULL;
	(void)snprintf(name, sizeof(name), "AES-%zu-WRAP%s", keylen * 8, suffix);
	return EVP_CIPHER_fetch(NULL, name, NULL);
}

static CK_RV
check_param(const CK_MECHANISM *m)
{
	size_t ivlen = m->mechanism == CKM_AES_KEY_WRAP_KWP ? 4 : 8;

	if (m->ulParameterLen == 0)
		return CKR_OK;
	if (m->pParameter == NULL || m->ulParameterLen != ivlen)
		return CKR_MECHANISM_PARAM_INVALID;
	return CKR_OK;
}

/* Remove PKCS#7 padding (1..8 bytes of value n) from out; the check does
 * not branch on the bytes. */
static CK_RV
unpad_pkcs7(kw_buf *out)
{
	uint8_t n, bad;
	size_t i;

	if (out->len < 8 || out->len % 8 != 0)
		return CKR_ENCRYPTED_DATA_INVALID;
	n = out->data[out->len - 1];
	bad = (uint8_t)((n == 0) | (n > 8));
	for (i = 1; i <= 8; i++) {
		uint8_t in_pad = (uint8_t)(0 - (uint8_t)(i <= n));   /* 0xff if inside */
		bad |= (uint8_t)(in_pad & (out->data[out->len - i] ^ n));
	}
	if (bad != 0)
		return CKR_ENCRYPTED_DATA_INVALID;
	kw_memzero(out->data + out->len - n, n);
	out->len -= n;
	return CKR_OK;
}

CK_RV
kwp11_aes_unwrap(const CK_MECHANISM *m, const kw_secret *kek, const uint8_t *in,
    size_t len, kw_buf *out)
{
	EVP_CIPHER *c = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	int n1 = 0, n2 = 0;
	kw_rv krv;
	CK_RV rv;

	kw_buf_reset(out);
	if (!kwp11_keywrap_mech(m->mechanism))
		return CKR_MECHANISM_INVALID;
	if ((rv = check_param(m)) != CKR_OK)
		return rv;
	/* RFC 3394: n >= 2 semiblocks of output; RFC 5649: at least 16 in */
	if (in == NULL || len < 16 || len % 8 != 0 || len > 65536)
		return CKR_ENCRYPTED_DATA_LEN_RANGE;
	if ((c = wrap_cipher(m->mechanism, kek->len)) == NULL)
		return CKR_KEY_TYPE_INCONSISTENT;
	if ((krv = kw_buf_reserve(out, len + 16)) != KW_OK) {
		rv = kwp11_rv(krv);
		goto out;
	}
	rv = CKR_FUNCTION_FAILED;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (EVP_DecryptInit_ex2(ctx, c, kek->ptr, m->ulParameterLen > 0 ? m->pParameter : NULL,
	    NULL) != 1)
		goto out;
	/* the integrity check fails in Update (the whole input at once) */
	if (EVP_DecryptUpdate(ctx, out->data, &n1, in, (int)len) != 1 || n1 < 0 ||
	    EVP_DecryptFinal_ex(ctx, out->data + n1, &n2) != 1 || n2 < 0) {
		kw_memzero(out->data, len + 16);
		rv = CKR_ENCRYPTED_DATA_INVALID;
		goto out;
	}
	out->len = (size_t)n1 + (size_t)n2;
	rv = m->mechanism == CKM_AES_KEY_WRAP_PAD ? unpad_pkcs7(out) : CKR_OK;
out:
	if (rv != CKR_OK)
		kw_buf_reset(out);
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(c);
	return rv;
}

CK_RV
kwp11_keywrap_decrypt_init(kwp11_session *s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key)
{
	kwp11_obj *o;
	CK_RV rv;

	if (mech == NULL)
		return CKR_ARGUMENTS_BAD;
	if (s->op.kind != KWP11_OP_NONE)
		return CKR_OPERATION_ACTIVE;
	if ((rv = kwp11_secret_key(s, key, KWP11_USE_DECRYPT, &o)) != CKR_OK)
		goto fail;
	if ((rv = check_param(mech)) != CKR_OK)
		goto fail;
	/* the IV parameter is kept in the op's label buffer */
	kw_buf_init(&s->op.label, 8);
	if (mech->ulParameterLen > 0 &&
	    kw_buf_put(&s->op.label, mech->pParameter, mech->ulParameterLen) != KW_OK) {
		rv = CKR_HOST_MEMORY;
		goto fail;
	}
	s->op.mech = mech->mechanism;
	s->op.obj = (size_t)(o - s->tok->objs);
	kw_buf_init(&s->op.data, 65536);
	kw_buf_init(&s->op.result, 65536 + 16);
	s->op.kind = KWP11_OP_DECRYPT;
	return CKR_OK;
fail:
	kwp11_op_reset(&s->op);
	return rv;
}

CK_RV
kwp11_keywrap_run(kwp11_session *s, const uint8_t *in, size_t len)
{
	CK_MECHANISM m = { s->op.mech, s->op.label.data, s->op.label.len };
	kwp11_obj *o;
	CK_RV rv;

	if (kwp11_obj_lookup(s->tok, kwp11_obj_handle(s->tok, s->op.obj), &o) != CKR_OK ||
	    o->cls != CKO_SECRET_KEY)
		return CKR_KEY_HANDLE_INVALID;
	if ((rv = kwp11_aes_unwrap(&m, &o->value, in, len, &s->op.result)) != CKR_OK)
		return rv;
	s->op.have_result = true;
	return CKR_OK;
}

CK_RV
kwp11_unwrap_key(kwp11_session *s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key,
    const uint8_t *in, CK_ULONG len, CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_HANDLE *out)
{
	kwp11_obj *kek, o;
	kw_buf val;
	CK_ULONG vlen;
	bool have_type;
	CK_RV rv;

	memset(&o, 0, sizeof(o));
	kw_buf_init(&val, 65536 + 16);
	if (mech == NULL || out == NULL || (in == NULL && len > 0) || (t == NULL && n > 0))
		return CKR_ARGUMENTS_BAD;
	*out = CK_INVALID_HANDLE;
	if (s->op.kind != KWP11_OP_NONE)
		return CKR_OPERATION_ACTIVE;
	if (!kwp11_keywrap_mech(mech->mechanism))
		return CKR_MECHANISM_INVALID;
	if ((rv = kwp11_secret_key(s, key, KWP11_USE_UNWRAP, &kek)) != CKR_OK)
		return rv == CKR_KEY_HANDLE_INVALID ? CKR_UNWRAPPING_KEY_HANDLE_INVALID :
		    rv == CKR_KEY_TYPE_INCONSISTENT ? CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT : rv;
	if ((rv = kwp11_secret_template(t, n, &o, &vlen, &have_type)) != CKR_OK)
		goto out;
	if (!have_type) {
		rv = CKR_TEMPLATE_INCOMPLETE;   /* C_UnwrapKey needs CKA_KEY_TYPE */
		goto out;
	}
	if ((rv = kwp11_aes_unwrap(mech, &kek->value, in, len, &val)) != CKR_OK) {
		if (rv == CKR_ENCRYPTED_DATA_INVALID)
			rv = CKR_WRAPPED_KEY_INVALID;
		else if (rv == CKR_ENCRYPTED_DATA_LEN_RANGE)
			rv = CKR_WRAPPED_KEY_LEN_RANGE;
		goto out;
	}
	if ((vlen != 0 && vlen != val.len) || !kwp11_secret_len_ok(&o, val.len)) {
		rv = CKR_TEMPLATE_INCONSISTENT;
		goto out;
	}
	rv = kwp11_secret_add(s, &o, val.data, val.len, out);
out:
	kwp11_obj_clear(&o);
	kw_buf_free(&val);
	return rv;
}
