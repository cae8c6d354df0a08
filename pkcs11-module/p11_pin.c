/* C_Login / C_Logout / C_InitPIN / C_SetPIN for PIV.
 *
 * - CKU_USER: VERIFY the PIN (key reference 80), preceded by SELECT in the
 *   same transaction so the PIN can only reach the PIV applet. The PIN is
 *   sent exactly once per call and never kept.
 * - CKU_CONTEXT_SPECIFIC: for a key with CKA_ALWAYS_AUTHENTICATE (PIN
 *   policy "always", 9C by default): the PIN is held with the active
 *   operation and sent once, by VERIFY right before the card operation in
 *   the same transaction (a wrong PIN is then reported by that C_Sign or
 *   C_Decrypt as CKR_PIN_INCORRECT).
 * - CKU_SO: the PUK (kept in locked memory until logout, as PIV has no way
 *   to check a PUK without using it), so that C_InitPIN unblocks the PIN
 *   (RESET RETRY COUNTER) and C_SetPIN changes the PUK. Also, as OpenSC
 *   does, C_SetPIN in a public session while the PIN is blocked takes the
 *   PUK as the old PIN and unblocks. Or, when longer
 *   than 8 characters, a management key in hex, checked at once by mutual
 *   authentication (used for key generation and writes).
 * A card that forgot the PIN (reset, another applet) makes the next
 * operation fail with CKR_USER_NOT_LOGGED_IN: the PIN is never resent. */
#include <string.h>

#include "kw_log.h"
#include "p11_int.h"

void
kwp11_login_clear(kwp11_token *tok)
{
	tok->login = KWP11_LOGIN_NONE;
	kw_secret_free(&tok->so_puk);
	kw_secret_free(&tok->so_mgmt);
	tok->so_mgmt_alg = 0;
}

static CK_RV
pin_rv(kwp11_token *tok, kw_rv rv, int tries)
{
	if (tries >= 0)
		tok->pin_tries = tries;
	if (rv == KW_OK) {
		if (tries < 0)
			tok->pin_tries = -1;
		return CKR_OK;
	}
	if (rv == KW_ERR_PIN_BLOCKED)
		tok->pin_tries = 0;
	if (rv == KW_ERR_PIN_INCORRECT && tries == 0)
		return CKR_PIN_LOCKED;   /* that was the last try (63C0) */
	if (rv == KW_ERR_WRONG_DATA || rv == KW_ERR_WRONG_LENGTH || rv == KW_ERR_ARG)
		return CKR_PIN_LEN_RANGE;
	return kwp11_token_fail(tok, rv);
}

static CK_RV
verify_pin(kwp11_token *tok, const uint8_t *pin, CK_ULONG len)
{
	int tries = -1;
	kw_rv rv;

	if (pin == NULL)
		return CKR_ARGUMENTS_BAD;   /* no protected authentication path */
	if (len < 6 || len > 8)
		return CKR_PIN_LEN_RANGE;
	if ((rv = kwp11_token_begin(tok)) != KW_OK)
		return kwp11_token_fail(tok, rv);
	if ((rv = kw_piv_select(tok->piv)) == KW_OK)
		rv = kw_piv_verify(tok->piv, KW_PIV_REF_PIN, pin, len, &tries);
	kwp11_token_end(tok);
	return pin_rv(tok, rv, tries);
}

static CK_RV
so_login(kwp11_token *tok, const uint8_t *pin, CK_ULONG len)
{
	kw_buf key;
	kw_rv rv;
	char hex[200];

	if (pin == NULL)
		return CKR_ARGUMENTS_BAD;
	if (tok->nsessions > tok->nrw)
		return CKR_SESSION_READ_ONLY_EXISTS;
	if (len >= 6 && len <= 8) {
		if (kw_secret_set(&tok->so_puk, pin, len) != KW_OK)
			return CKR_HOST_MEMORY;
		tok->login = KWP11_LOGIN_SO;
		return CKR_OK;
	}
	if (len >= sizeof(hex))
		return CKR_PIN_LEN_RANGE;
	memcpy(hex, pin, len);
	hex[len] = '\0';
	kw_buf_init(&key, 64);
	rv = kw_hex_decode(hex, &key);
	kw_memzero(hex, sizeof(hex));
	if (rv != KW_OK || kw_secret_set(&tok->so_mgmt, key.data, key.len) != KW_OK) {
		kw_buf_free(&key);
		return rv != KW_OK ? CKR_PIN_INCORRECT : CKR_HOST_MEMORY;
	}
	kw_buf_free(&key);
	if ((rv = kwp11_token_begin(tok)) != KW_OK)
		return kwp11_token_fail(tok, rv);
	rv = kwp11_mgmt_auth(tok);
	kwp11_token_end(tok);
	if (rv != KW_OK) {
		kw_secret_free(&tok->so_mgmt);
		return rv == KW_ERR_SECURITY || rv == KW_ERR_WRONG_DATA || rv == KW_ERR_CRYPTO ?
		    CKR_PIN_INCORRECT : kwp11_token_fail(tok, rv);
	}
	tok->login = KWP11_LOGIN_SO;
	return CKR_OK;
}

/* The PIN is kept (locked memory) with the active operation and sent
 * with it, once: see kwp11_op_card(). */
static CK_RV
context_login(kwp11_session *s, const uint8_t *pin, CK_ULONG len)
{
	if (s->op.kind == KWP11_OP_NONE)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (pin == NULL)
		return CKR_ARGUMENTS_BAD;
	if (len < 6 || len > 8)
		return CKR_PIN_LEN_RANGE;
	if (s->tok->pin_tries == 0)
		return CKR_PIN_LOCKED;
	if (!s->op.need_ctx_login)
		return CKR_OK;   /* nothing to authorise: the key needs no context login */
	if (kw_secret_set(&s->op.ctx_pin, pin, len) != KW_OK)
		return CKR_HOST_MEMORY;
	s->op.ctx_login_done = true;
	return CKR_OK;
}

CK_RV
kwp11_login(kwp11_module *m, kwp11_session *s, CK_USER_TYPE user, const uint8_t *pin,
    CK_ULONG len)
{
	kwp11_token *tok = s->tok;
	CK_RV rv;

	(void)m;
	if (!tok->present)
		return CKR_DEVICE_REMOVED;
	switch (user) {
	case CKU_USER:
		if (tok->login == KWP11_LOGIN_USER)
			return CKR_USER_ALREADY_LOGGED_IN;
		if (tok->login == KWP11_LOGIN_SO)
			return CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
		if ((rv = verify_pin(tok, pin, len)) == CKR_OK)
			tok->login = KWP11_LOGIN_USER;
		return rv;
	case CKU_SO:
		if (tok->login == KWP11_LOGIN_SO)
			return CKR_USER_ALREADY_LOGGED_IN;
		if (tok->login == KWP11_LOGIN_USER)
			return CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
		return so_login(tok, pin, len);
	case CKU_CONTEXT_SPECIFIC:
		return context_login(s, pin, len);
	default:
		return CKR_USER_TYPE_INVALID;
	}
}

/* Make the card forget the PIN too (VERIFY with P1 = FF, SP 800-73-4
 * 3.2.1), so that nothing can use the keys after the user logged out. */
void
kwp11_card_logout(kwp11_token *tok)
{
	if (tok->login != KWP11_LOGIN_USER || !tok->present ||
	    kwp11_token_begin(tok) != KW_OK)
		return;
	(void)kw_piv_logout(tok->piv);
	kwp11_token_end(tok);
}

CK_RV
kwp11_logout(kwp11_session *s)
{
	if (s->tok->login == KWP11_LOGIN_NONE)
		return CKR_USER_NOT_LOGGED_IN;
	kwp11_card_logout(s->tok);
	kwp11_login_clear(s->tok);
	return CKR_OK;
}

CK_RV
kwp11_init_pin(kwp11_session *s, const uint8_t *pin, CK_ULONG len)
{
	kwp11_token *tok = s->tok;
	int tries = -1;
	kw_rv rv;

	if ((s->flags & CKF_RW_SESSION) == 0)
		return CKR_SESSION_READ_ONLY;
	if (tok->login != KWP11_LOGIN_SO)
		return CKR_USER_NOT_LOGGED_IN;
	if (tok->so_puk.len == 0)
		return CKR_FUNCTION_NOT_SUPPORTED;   /* SO logged in with a management key */
	if (pin == NULL)
		return CKR_ARGUMENTS_BAD;
	if (len < 6 || len > 8)
		return CKR_PIN_LEN_RANGE;
	if ((rv = kwp11_token_begin(tok)) != KW_OK)
		return kwp11_token_fail(tok, rv);
	if ((rv = kw_piv_select(tok->piv)) == KW_OK)
		rv = kw_piv_unblock_pin(tok->piv, tok->so_puk.ptr, tok->so_puk.len, pin, len, &tries);
	kwp11_token_end(tok);
	if (rv == KW_OK)
		tok->pin_tries = -1;
	if (rv == KW_ERR_PIN_INCORRECT || rv == KW_ERR_PIN_BLOCKED)
		kwp11_login_clear(tok);   /* the PUK was wrong: do not use it again */
	return rv == KW_OK ? CKR_OK : pin_rv(tok, rv, -1);
}

/* Is the PIN blocked? VERIFY without data asks without trying one. */
static bool
pin_blocked(kwp11_token *tok)
{
	int tries = -1;
	kw_rv rv = kw_piv_pin_status(tok->piv, KW_PIV_REF_PIN, &tries);

	return rv == KW_ERR_PIN_BLOCKED || (rv == KW_ERR_PIN_INCORRECT && tries == 0);
}

/* OpenSC's convention: C_SetPIN in a public session while the PIN is
 * blocked takes the PUK as old PIN and unblocks (RESET RETRY COUNTER).
 * Called inside the transaction, which it ends. */
static CK_RV
unblock_with_puk(kwp11_token *tok, const uint8_t *puk, CK_ULONG puk_len,
    const uint8_t *new_, CK_ULONG new_len)
{
	int tries = -1;
	kw_rv rv;

	rv = kw_piv_unblock_pin(tok->piv, puk, puk_len, new_, new_len, &tries);
	kwp11_token_end(tok);
	if (rv == KW_OK) {
		tok->pin_tries = -1;
		return CKR_OK;
	}
	if (rv == KW_ERR_PIN_INCORRECT || rv == KW_ERR_PIN_BLOCKED)
		return rv == KW_ERR_PIN_BLOCKED || tries == 0 ? CKR_PIN_LOCKED : CKR_PIN_INCORRECT;
	return kwp11_token_fail(tok, rv);
}

CK_RV
kwp11_set_pin(kwp11_session *s, const uint8_t *old, CK_ULONG old_len,
    const uint8_t *new_, CK_ULONG new_len)
{
	kwp11_token *tok = s->tok;
	uint8_t ref = tok->login == KWP11_LOGIN_SO ? KW_PIV_REF_PUK : KW_PIV_REF_PIN;
	int tries = -1;
	kw_rv rv;
	CK_RV crv;

	if ((s->flags & CKF_RW_SESSION) == 0)
		return CKR_SESSION_READ_ONLY;
	if (old == NULL || new_ == NULL)
		return CKR_ARGUMENTS_BAD;
	if (old_len < 6 || old_len > 8 || new_len < 6 || new_len > 8)
		return CKR_PIN_LEN_RANGE;
	if ((rv = kwp11_token_begin(tok)) != KW_OK)
		return kwp11_token_fail(tok, rv);
	if ((rv = kw_piv_select(tok->piv)) == KW_OK) {
		if (ref == KW_PIV_REF_PIN && tok->login == KWP11_LOGIN_NONE && pin_blocked(tok))
			return unblock_with_puk(tok, old, old_len, new_, new_len);
		rv = kw_piv_change_reference(tok->piv, ref, old, old_len, new_, new_len, &tries);
	}
	kwp11_token_end(tok);
	if (ref == KW_PIV_REF_PUK) {
		if (rv == KW_OK && kw_secret_set(&tok->so_puk, new_, new_len) != KW_OK)
			kwp11_login_clear(tok);
		return rv == KW_OK ? CKR_OK : kwp11_token_fail(tok, rv);
	}
	crv = pin_rv(tok, rv, tries);
	return crv;
}
