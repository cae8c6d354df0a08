/* On-token key generation (C_GenerateKeyPair) and the management-key
 * authentication every write needs. The management key comes from, in
 * order: the SO login (a management key given as SO PIN), KEYWARD_MGMT_KEY
 * (hex), the PIN-protected copy on the token (YubiKey-style object 5FC109,
 * tag 88 / 89, readable after C_Login), or the factory default. It is
 * never logged. */
#include <stdlib.h>
#include <string.h>

#include "kw_log.h"
#include "kw_tlv.h"
#include "p11_int.h"

static const uint8_t default_mgmt[24] = {
	1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8
};

/* The PIN-protected management key: 53 { 88 { 89 key } } (53 stripped by
 * kw_piv_get_data). */
static kw_rv
printed_key(kwp11_token *tok, kw_buf *key)
{
	kw_buf obj;
	kw_view v, inner, k;
	kw_rv rv;

	kw_buf_init(&obj, 4096);
	if ((rv = kw_piv_get_data(tok->piv, KW_PIV_OBJ_YK_PRINTED, &obj)) != KW_OK)
		goto out;
	v = kw_buf_view(&obj);
	if ((rv = kw_tlv_find(v, 0x88, &inner)) != KW_OK ||
	    (rv = kw_tlv_find(inner, 0x89, &k)) != KW_OK)
		goto out;
	rv = kw_buf_put_view(key, k);
out:
	kw_buf_free(&obj);
	return rv;
}

static uint8_t
mgmt_alg(kwp11_token *tok, size_t key_len)
{
	kw_piv_metadata md;
	uint8_t alg = 0;

	memset(&md, 0, sizeof(md));
	if (tok->has_metadata != 0 && kw_piv_get_metadata(tok->piv, KW_PIV_SLOT_MGMT, &md) == KW_OK)
		alg = md.alg;
	kw_piv_metadata_clear(&md);
	if (alg != 0 && kw_piv_mgmt_key_len(alg) == key_len)
		return alg;
	switch (key_len) {
	case 16: return KW_PIV_ALG_AES128;
	case 32: return KW_PIV_ALG_AES256;
	default: return KW_PIV_ALG_3DES;
	}
}

kw_rv
kwp11_mgmt_auth(kwp11_token *tok)
{
	const char *env = getenv("KEYWARD_MGMT_KEY");
	kw_buf key;
	kw_rv rv;

	kw_buf_init(&key, 64);
	if (tok->so_mgmt.len > 0)
		rv = kw_buf_put(&key, tok->so_mgmt.ptr, tok->so_mgmt.len);
	else if (env != NULL && *env != '\0')
		rv = kw_hex_decode(env, &key);
	else if (tok->login == KWP11_LOGIN_USER && printed_key(tok, &key) == KW_OK)
		rv = KW_OK;
	else {
		kw_buf_reset(&key);
		rv = kw_buf_put(&key, default_mgmt, sizeof(default_mgmt));
	}
	if (rv == KW_OK)
		rv = kw_piv_authenticate(tok->piv, mgmt_alg(tok, key.len), key.data, key.len);
	if (rv != KW_OK)
		kw_debug("management key authentication failed: %s", kw_strerror(rv));
	kw_buf_free(&key);
	return rv;
}

/* The PIV slot for a template's CKA_ID; 0 if none given. */
static CK_RV
tmpl_slot(const CK_ATTRIBUTE *t, CK_ULONG n, uint8_t *slot)
{
	const CK_ATTRIBUTE *a = kwp11_tmpl_find(t, n, CKA_ID);

	*slot = 0;
	if (a == NULL)
		return CKR_OK;
	if (a->pValue == NULL || a->ulValueLen != 1 ||
	    (*slot = kwp11_id_to_slot(*(const uint8_t *)a->pValue)) == 0)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	return CKR_OK;
}

static CK_RV
gen_alg(CK_MECHANISM_TYPE mech, const CK_ATTRIBUTE *t, CK_ULONG n, uint8_t *alg)
{
	static const uint8_t p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
	static const uint8_t p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
	const CK_ATTRIBUTE *a;
	CK_ULONG bits;
	CK_RV rv;

	if (mech == CKM_RSA_PKCS_KEY_PAIR_GEN) {
		if ((rv = kwp11_tmpl_ulong(t, n, CKA_MODULUS_BITS, &bits)) != CKR_OK)
			return rv;
		switch (bits) {
		case 1024: *alg = KW_PIV_ALG_RSA1024; return CKR_OK;
		case 2048: *alg = KW_PIV_ALG_RSA2048; return CKR_OK;
		case 3072: *alg = KW_PIV_ALG_RSA3072; return CKR_OK;
		case 4096: *alg = KW_PIV_ALG_RSA4096; return CKR_OK;
		default: return CKR_ATTRIBUTE_VALUE_INVALID;
		}
	}
	if (mech != CKM_EC_KEY_PAIR_GEN)
		return CKR_MECHANISM_INVALID;
	if ((a = kwp11_tmpl_find(t, n, CKA_EC_PARAMS)) == NULL)
		return CKR_TEMPLATE_INCOMPLETE;
	if (a->pValue != NULL && a->ulValueLen == sizeof(p256) &&
	    memcmp(a->pValue, p256, sizeof(p256)) == 0)
		*alg = KW_PIV_ALG_ECCP256;
	else if (a->pValue != NULL && a->ulValueLen == sizeof(p384) &&
	    memcmp(a->pValue, p384, sizeof(p384)) == 0)
		*alg = KW_PIV_ALG_ECCP384;
	else
		return CKR_CURVE_NOT_SUPPORTED;
	return CKR_OK;
}

static uint8_t
free_slot(kwp11_token *tok)
{
	static const uint8_t order[] = { 0x9A, 0x9C, 0x9D, 0x9E, 0 };
	size_t i;

	for (i = 0; order[i] != 0; i++)
		if (kwp11_obj_find_slot(tok, order[i], CKO_PRIVATE_KEY) == NULL)
			return order[i];
	return 0;
}

static CK_RV
gen_on_card(kwp11_token *tok, uint8_t slot, uint8_t alg, EVP_PKEY **pub)
{
	kw_rv rv;

	if ((rv = kwp11_token_begin(tok)) != KW_OK)
		return kwp11_token_fail(tok, rv);
	if ((rv = kw_piv_select(tok->piv)) == KW_OK && (rv = kwp11_mgmt_auth(tok)) == KW_OK)
		rv = kw_piv_generate(tok->piv, slot, alg, KW_PIV_PIN_POLICY_DEFAULT,
		    KW_PIV_TOUCH_POLICY_DEFAULT, pub);
	kwp11_token_end(tok);
	if (rv == KW_ERR_SECURITY || rv == KW_ERR_WRONG_DATA)
		return CKR_USER_NOT_LOGGED_IN;   /* management key refused */
	return rv == KW_OK ? CKR_OK : kwp11_token_fail(tok, rv);
}

CK_RV
kwp11_generate_key_pair(kwp11_session *s, CK_MECHANISM *mech,
    CK_ATTRIBUTE *pub_t, CK_ULONG npub, CK_ATTRIBUTE *priv_t, CK_ULONG npriv,
    CK_OBJECT_HANDLE *hpub, CK_OBJECT_HANDLE *hpriv)
{
	kwp11_token *tok = s->tok;
	kw_piv_metadata md;
	kwp11_obj *o;
	uint8_t slot, slot2, alg = 0;
	CK_RV rv;

	memset(&md, 0, sizeof(md));
	if (mech == NULL || hpub == NULL || hpriv == NULL)
		return CKR_ARGUMENTS_BAD;
	if ((s->flags & CKF_RW_SESSION) == 0)
		return CKR_SESSION_READ_ONLY;
	if ((rv = gen_alg(mech->mechanism, pub_t, npub, &alg)) != CKR_OK)
		return rv;
	if ((rv = tmpl_slot(priv_t, npriv, &slot)) != CKR_OK ||
	    (rv = tmpl_slot(pub_t, npub, &slot2)) != CKR_OK)
		return rv;
	if (slot == 0)
		slot = slot2;
	if ((rv = kwp11_token_load(tok, slot, false)) != CKR_OK)
		return rv;
	if (slot == 0 && (slot = free_slot(tok)) == 0)
		return CKR_TEMPLATE_INCOMPLETE;
	if ((rv = gen_on_card(tok, slot, alg, &md.pubkey)) != CKR_OK)
		return rv;
	md.alg = alg;
	md.origin = KW_PIV_ORIGIN_GENERATED;
	if (tok->have_serial)
		(void)kwp11_cache_drop(tok->serial, slot);
	rv = kwp11_obj_set_slot(tok, slot, &md, NULL, 0, false);
	kw_piv_metadata_clear(&md);
	if (rv != CKR_OK)
		return rv;
	kwp11_token_key_changed(tok, slot);
	o = kwp11_obj_find_slot(tok, slot, CKO_PRIVATE_KEY);
	*hpriv = kwp11_obj_handle(tok, (size_t)(o - tok->objs));
	o = kwp11_obj_find_slot(tok, slot, CKO_PUBLIC_KEY);
	*hpub = o != NULL ? kwp11_obj_handle(tok, (size_t)(o - tok->objs)) : CK_INVALID_HANDLE;
	return CKR_OK;
}
