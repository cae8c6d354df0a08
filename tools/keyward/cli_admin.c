/* Token administration shared by the verbs: which credentials are still the
 * factory defaults, PIN verification, management-key authentication (the
 * default key or the PIN-protected one, stored the YubiKey way: admin data
 * 5FFF00 + 5FC109), and first-use initialization. */
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "kw_log.h"
#include "kwenroll.h"

static const uint8_t default_mgmt[24] = {
	1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
};
static const uint8_t default_pin[6] = { '1', '2', '3', '4', '5', '6' };
static const uint8_t default_puk[8] = { '1', '2', '3', '4', '5', '6', '7', '8' };

static int
md_default(kw_piv *piv, uint8_t ref, uint8_t *alg)
{
	kw_piv_metadata md = { 0 };
	int d = -1;

	if (kw_piv_get_metadata(piv, ref, &md) == KW_OK) {
		d = md.is_default ? 1 : 0;
		if (alg != NULL)
			*alg = md.alg;
	}
	kw_piv_metadata_clear(&md);
	return d;
}

kw_rv
kwcli_admin_defaults(kwcli_token *tok, kwcli_defaults *d)
{
	memset(d, 0, sizeof(*d));
	d->pin = md_default(tok->piv, KW_PIV_REF_PIN, NULL);
	d->puk = md_default(tok->piv, KW_PIV_REF_PUK, NULL);
	d->mgmt = md_default(tok->piv, KW_PIV_SLOT_MGMT, &d->mgmt_alg);
	return KW_OK;
}

kw_rv
kwcli_admin_verify_pin(kwcli_token *tok, const kw_secret *pin)
{
	int left = -1;
	kw_rv rv = kw_piv_verify(tok->piv, KW_PIV_REF_PIN, pin->ptr, pin->len, &left);

	if (rv == KW_ERR_PIN_INCORRECT)
		fprintf(stderr, "keyward: wrong PIN (%d tries left; not retried)\n", left);
	else if (rv == KW_ERR_PIN_BLOCKED)
		fprintf(stderr, "keyward: the PIN is blocked: unblock it with "
		    "`keyward pin unblock`\n");
	else if (rv != KW_OK)
		fprintf(stderr, "keyward: PIN verification failed: %s\n", kw_strerror(rv));
	return rv;
}

static uint8_t
mgmt_alg_guess(const kwcli_token *tok, uint8_t md_alg, size_t key_len)
{
	if (md_alg != 0)
		return md_alg;
	if (key_len == 32)
		return KW_PIV_ALG_AES256;
	if (key_len == 16)
		return KW_PIV_ALG_AES128;
	return KW_PIV_ALG_3DES;
}

kw_rv
kwcli_admin_mgmt_auth(kwcli_token *tok)
{
	kwcli_defaults d;
	kw_piv_admin adm;
	kw_secret key = { 0 };
	kw_rv rv;

	kwcli_admin_defaults(tok, &d);
	if (d.mgmt == 1) {
		return kw_piv_authenticate(tok->piv, mgmt_alg_guess(tok, d.mgmt_alg, 24),
		    default_mgmt, sizeof(default_mgmt));
	}
	rv = kw_piv_read_admin(tok->piv, &adm);
	if (rv != KW_OK || (adm.flags & KW_PIV_ADMIN_MGMT_PROTECTED) == 0) {
		fprintf(stderr, "keyward: the management key is not the default and not "
		    "stored PIN-protected on the token: keyward cannot administer it "
		    "(`keyward reset` starts over)\n");
		return KW_ERR_NOT_SUPPORTED;
	}
	if ((rv = kw_piv_read_protected_mgmt_key(tok->piv, &key)) == KW_OK)
		rv = kw_piv_authenticate(tok->piv, mgmt_alg_guess(tok, d.mgmt_alg, key.len),
		    key.ptr, key.len);
	if (rv != KW_OK)
		fprintf(stderr, "keyward: management-key authentication failed: %s\n",
		    kw_strerror(rv));
	kw_secret_free(&key);
	return rv;
}

static kw_rv
change_default(kwcli_token *tok, uint8_t ref, const uint8_t *old, size_t old_len,
    const kw_secret *new_)
{
	int left = -1;
	kw_rv rv = kw_piv_change_reference(tok->piv, ref, old, old_len, new_->ptr,
	    new_->len, &left);

	if (rv != KW_OK)
		fprintf(stderr, "keyward: setting the %s failed: %s\n",
		    ref == KW_PIV_REF_PIN ? "PIN" : "PUK", kw_strerror(rv));
	return rv;
}

/* Replace the default management key with a random one kept PIN-protected:
 * store it first, then set it, so an interruption in between leaves the
 * default key (a rerun starts this step again). */
static kw_rv
init_mgmt(kwcli_token *tok, uint8_t cur_alg)
{
	bool aes = !tok->has_version || tok->version[0] > 5 ||
	    (tok->version[0] == 5 && tok->version[1] >= 4);
	uint8_t alg = aes ? KW_PIV_ALG_AES256 : KW_PIV_ALG_3DES;
	kw_secret key = { 0 };
	kw_rv rv;

	if ((rv = kw_secret_alloc(&key, aes ? 32 : 24)) != KW_OK)
		return rv;
	if (RAND_priv_bytes(key.ptr, (int)key.len) != 1) {
		rv = KW_ERR_CRYPTO;
		goto fail;
	}
	if ((rv = kw_piv_authenticate(tok->piv, mgmt_alg_guess(tok, cur_alg, 24),
	    default_mgmt, sizeof(default_mgmt))) != KW_OK ||
	    (rv = kw_piv_write_protected_mgmt_key(tok->piv, key.ptr, key.len)) != KW_OK ||
	    (rv = kw_piv_set_mgmt_key(tok->piv, alg, key.ptr, key.len, false)) != KW_OK)
		goto fail;
	rv = kw_piv_authenticate(tok->piv, alg, key.ptr, key.len);
fail:
	if (rv != KW_OK)
		fprintf(stderr, "keyward: setting a new management key failed: %s\n",
		    kw_strerror(rv));
	kw_secret_free(&key);
	return rv;
}

static bool
protected_key(kwcli_token *tok)
{
	kw_piv_admin adm;

	return kw_piv_read_admin(tok->piv, &adm) == KW_OK &&
	    (adm.flags & KW_PIV_ADMIN_MGMT_PROTECTED) != 0;
}

kw_rv
kwcli_admin_init(kwcli_token *tok, const kw_secret *pin, const kw_secret *puk,
    bool *changed)
{
	kwcli_defaults d;
	kw_rv rv;

	*changed = false;
	kwcli_admin_defaults(tok, &d);
	if (d.pin == 1) {
		if ((rv = change_default(tok, KW_PIV_REF_PIN, default_pin, sizeof(default_pin),
		    pin)) != KW_OK)
			return rv;
		*changed = true;
	}
	if (d.puk == 1) {
		if (puk == NULL || puk->len == 0) {
			fprintf(stderr, "keyward: the PUK is still the default: give a new one "
			    "(--puk-file or $KEYWARD_PUK)\n");
			return KW_ERR_ARG;
		}
		if ((rv = change_default(tok, KW_PIV_REF_PUK, default_puk, sizeof(default_puk),
		    puk)) != KW_OK)
			return rv;
		*changed = true;
	}
	if ((rv = kwcli_admin_verify_pin(tok, pin)) != KW_OK)
		return rv;
	/* Without GET METADATA (firmware < 5.3): is it still the default key?
	 * A failed management-key authentication costs no retry counter. */
	if (d.mgmt == -1 && !protected_key(tok) &&
	    kw_piv_authenticate(tok->piv, KW_PIV_ALG_3DES, default_mgmt,
	    sizeof(default_mgmt)) == KW_OK)
		d.mgmt = 1;
	if (d.mgmt == 1) {
		if ((rv = init_mgmt(tok, d.mgmt_alg)) != KW_OK)
			return rv;
		*changed = true;
		return KW_OK;
	}
	return kwcli_admin_mgmt_auth(tok);
}
