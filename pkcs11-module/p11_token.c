/* A token (the card in one slot): lazy identification, the transaction
 * around each operation, removal handling. Start-up costs at most SELECT,
 * GET VERSION and GET SERIAL once per insertion; objects are enumerated on
 * first use (p11_object.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw_log.h"
#include "kw_tlv.h"
#include "p11_int.h"

static kwp11_open_hook g_open_hook;
static void *g_open_hook_arg;

void
kwp11_test_set_open_hook(kwp11_open_hook fn, void *arg)
{
	g_open_hook = fn;
	g_open_hook_arg = arg;
}

kw_rv
kwp11_token_new(const char *uri, CK_SLOT_ID id, const kwp11_lockops *lo, kwp11_token **out)
{
	kwp11_token *tok;

	*out = NULL;
	if ((tok = calloc(1, sizeof(*tok))) == NULL)
		return KW_ERR_NOMEM;
	if ((tok->uri = strdup(uri)) == NULL || kwp11_mutex_new(lo, &tok->lock) != CKR_OK) {
		free(tok->uri);
		free(tok);
		return KW_ERR_NOMEM;
	}
	tok->id = id;
	tok->reader_present = true;
	tok->has_metadata = -1;
	tok->pin_tries = -1;
	tok->retired_floor = -1;
	tok->gen = 1;
	*out = tok;
	return KW_OK;
}

static void
objects_free(kwp11_token *tok)
{
	size_t i;

	for (i = 0; i < tok->nobjs; i++)
		kwp11_obj_clear(&tok->objs[i]);
	free(tok->objs);
	tok->objs = NULL;
	tok->nobjs = 0;
	memset(tok->slot_state, 0, sizeof(tok->slot_state));
	tok->retired_floor = -1;
}

void
kwp11_token_lost(kwp11_token *tok)
{
	kwp11_login_clear(tok);
	objects_free(tok);
	kw_piv_free(&tok->piv);
	kw_transport_free(&tok->t);
	tok->present = false;
	tok->not_piv = false;
	tok->have_serial = tok->have_version = false;
	tok->has_metadata = -1;
	tok->pin_tries = -1;
	__atomic_store_n(&tok->gen, (uint16_t)(tok->gen + 1), __ATOMIC_RELAXED);
}

void
kwp11_token_free(const kwp11_lockops *lo, kwp11_token **ptok)
{
	kwp11_token *tok = *ptok;

	if (tok == NULL)
		return;
	kwp11_token_lost(tok);
	kwp11_mutex_free(lo, &tok->lock);
	free(tok->uri);
	free(tok);
	*ptok = NULL;
}

/* A card without the YubiKey serial: its CHUID's GUID (tag 34), or a
 * digest of the CHUID when the GUID is zero, as 16 hex digits. */
static bool
chuid_id(kwp11_token *tok)
{
	static const uint8_t zero[16];
	uint8_t md[32];
	kw_buf chuid;
	kw_view guid;
	bool ok = false;

	kw_buf_init(&chuid, 4096);
	if (kw_piv_get_data(tok->piv, KW_PIV_OBJ_CHUID, &chuid) != KW_OK || chuid.len == 0)
		goto out;
	if (kw_tlv_find(kw_buf_view(&chuid), 0x34, &guid) == KW_OK && guid.len == 16 &&
	    memcmp(guid.ptr, zero, 16) != 0)
		ok = kw_hex_encode(guid.ptr, 8, tok->serial, sizeof(tok->serial)) == KW_OK;
	else if (EVP_Digest(chuid.data, chuid.len, md, NULL, EVP_sha256(), NULL) == 1)
		ok = kw_hex_encode(md, 8, tok->serial, sizeof(tok->serial)) == KW_OK;
out:
	kw_buf_free(&chuid);
	return ok;
}

/* Extended APDUs (one exchange per certificate or RSA operation) unless
 * KEYWARD_SHORT_APDU=1; the PIV client falls back to short APDUs by itself
 * at the first refusal, for as long as this token stays inserted. */
static bool
extended_wanted(void)
{
	const char *s = getenv("KEYWARD_SHORT_APDU");

	return s == NULL || strcmp(s, "1") != 0;
}

/* SELECT + version + serial, in one transaction. */
static kw_rv
token_identify(kwp11_token *tok)
{
	uint32_t serial;
	kw_rv rv;

	if ((rv = kw_transport_begin(tok->t)) != KW_OK)
		return rv;
	if ((rv = kw_piv_select(tok->piv)) != KW_OK)
		goto out;
	tok->have_version = kw_piv_get_version(tok->piv, tok->version) == KW_OK;
	tok->have_serial = kw_piv_get_serial(tok->piv, &serial) == KW_OK;
	if (tok->have_serial)
		snprintf(tok->serial, sizeof(tok->serial), "%u", serial);
	else
		tok->have_serial = chuid_id(tok);
out:
	(void)kw_transport_end(tok->t);
	return rv;
}

static bool
token_open(kwp11_token *tok)
{
	kw_rv rv;

	if (g_open_hook != NULL)
		rv = g_open_hook(tok->uri, &tok->t, g_open_hook_arg);
	else
		rv = kw_transport_open(tok->uri, &tok->t);
	if (rv != KW_OK)
		return false;
	if (kw_piv_new(tok->t, &tok->piv) != KW_OK)
		goto fail;
	kw_piv_set_extended(tok->piv, extended_wanted());
	if ((rv = token_identify(tok)) != KW_OK) {
		kw_debug("%.64s: no PIV token: %s", tok->uri, kw_strerror(rv));
		if (rv == KW_ERR_NOT_FOUND || rv == KW_ERR_INS_UNKNOWN || rv == KW_ERR_WRONG_PARAMS) {
			/* a card without PIV: not asked again while it stays */
			tok->not_piv = true;
			return false;
		}
		goto fail;
	}
	tok->present = true;
	return true;
fail:
	kw_piv_free(&tok->piv);
	kw_transport_free(&tok->t);
	return false;
}

/* The transport reported a reset (KW_ERR_CARD_RESET: the card is still
 * there, e.g. reset by another process). Re-open at once: the same token
 * (same serial) back keeps its sessions and objects, but its logins are gone
 * (the card forgot the PIN and we never resend it). Otherwise, and after a
 * removal or a lost link (KW_ERR_CARD_REMOVED, even if the same token comes
 * straight back, as a BLE key does), the token is lost: objects, sessions,
 * logins. */
static bool
token_recover(kwp11_token *tok)
{
	char serial[sizeof(tok->serial)];
	bool had = tok->have_serial && tok->present;

	memcpy(serial, tok->serial, sizeof(serial));
	kw_piv_free(&tok->piv);
	kw_transport_free(&tok->t);
	tok->present = false;
	if (had && token_open(tok) && tok->have_serial && strcmp(serial, tok->serial) == 0) {
		kw_debug("%.64s: token reset, logins forgotten", tok->uri);
		kwp11_login_clear(tok);
		return true;
	}
	kwp11_token_lost(tok);
	return false;
}

bool
kwp11_token_probe(kwp11_token *tok)
{
	kw_rv rv;

	if (!tok->reader_present)
		return false;
	if (tok->t != NULL && tok->not_piv) {
		if (kw_transport_present(tok->t) == KW_OK)
			return false;
		kwp11_token_lost(tok);
	}
	if (tok->t != NULL && tok->present) {
		rv = kw_transport_present(tok->t);
		if (rv == KW_OK)
			return true;
		if (rv == KW_ERR_CARD_RESET && token_recover(tok))
			return true;
	}
	if (tok->t != NULL)
		kwp11_token_lost(tok);
	return token_open(tok);
}

CK_RV
kwp11_token_info(kwp11_token *tok, CK_TOKEN_INFO *info)
{
	char label[40], serial[24];

	if (!kwp11_token_probe(tok))
		return CKR_TOKEN_NOT_PRESENT;
	memset(info, 0, sizeof(*info));
	if (tok->have_serial) {
		snprintf(label, sizeof(label), "keyward PIV #%.16s", tok->serial);
		snprintf(serial, sizeof(serial), "%.16s", tok->serial);
	} else {
		snprintf(label, sizeof(label), "keyward PIV (slot %lu)", (unsigned long)tok->id);
		snprintf(serial, sizeof(serial), "0");
	}
	kwp11_pad_copy(info->label, sizeof(info->label), label);
	kwp11_pad_copy(info->manufacturerID, sizeof(info->manufacturerID), "keyward");
	kwp11_pad_copy(info->model, sizeof(info->model), "PIV");
	kwp11_pad_copy(info->serialNumber, sizeof(info->serialNumber), serial);
	info->flags = CKF_RNG | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED |
	    CKF_TOKEN_INITIALIZED;
	if (tok->pin_tries == 1)
		info->flags |= CKF_USER_PIN_FINAL_TRY;
	else if (tok->pin_tries == 0)
		info->flags |= CKF_USER_PIN_LOCKED;
	else if (tok->pin_tries > 1 && tok->pin_tries < 3)
		info->flags |= CKF_USER_PIN_COUNT_LOW;
	info->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
	info->ulSessionCount = tok->nsessions;
	info->ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
	info->ulRwSessionCount = tok->nrw;
	info->ulMaxPinLen = 8;
	info->ulMinPinLen = 6;
	info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
	if (tok->have_version) {
		info->hardwareVersion.major = tok->version[0];
		info->hardwareVersion.minor = tok->version[1];
		info->firmwareVersion.major = tok->version[0];
		info->firmwareVersion.minor = tok->version[1];
	}
	return CKR_OK;
}

kw_rv
kwp11_token_begin(kwp11_token *tok)
{
	if (!tok->present || tok->t == NULL)
		return KW_ERR_NO_CARD;
	return kw_transport_begin(tok->t);
}

void
kwp11_token_end(kwp11_token *tok)
{
	if (tok->t != NULL)
		(void)kw_transport_end(tok->t);
}

CK_RV
kwp11_token_fail(kwp11_token *tok, kw_rv rv)
{
	switch (rv) {
	case KW_ERR_CARD_RESET:
		/* Reset under us (by another process, or the PIV client ending a
		 * broken command chain): the operation is lost and so are the
		 * logins, the sessions are not. CKR_DEVICE_ERROR is allowed for
		 * every function and, unlike CKR_DEVICE_REMOVED, does not tell the
		 * application that its sessions are gone; the next private
		 * operation gives CKR_USER_NOT_LOGGED_IN. If the token did not come
		 * back as itself it is lost. */
		return token_recover(tok) ? CKR_DEVICE_ERROR : CKR_DEVICE_REMOVED;
	case KW_ERR_CARD_REMOVED:
	case KW_ERR_SERVICE_GONE:
	case KW_ERR_NO_CARD:
	case KW_ERR_NO_SERVICE:
	case KW_ERR_NO_READER:
		kwp11_token_lost(tok);
		return CKR_DEVICE_REMOVED;
	case KW_ERR_SECURITY:
		/* The card forgot the PIN (reset or another applet selected by
		 * another process): we do not resend it. */
		if (tok->login == KWP11_LOGIN_USER)
			kwp11_login_clear(tok);
		return CKR_USER_NOT_LOGGED_IN;
	default:
		return kwp11_rv(rv);
	}
}

/* Another process may have selected another applet between our
 * transactions: the card then refuses the instruction; select and retry
 * once (the operation did not run, so retrying is safe). */
static bool
needs_reselect(kw_rv rv)
{
	return rv == KW_ERR_INS_UNKNOWN || rv == KW_ERR_WRONG_PARAMS || rv == KW_ERR_CARD;
}

kw_rv
kwp11_token_private_op(kwp11_token *tok, uint8_t slot, uint8_t alg,
    const uint8_t *in, size_t in_len, kw_buf *out)
{
	kw_rv rv;

	if ((rv = kwp11_token_begin(tok)) != KW_OK)
		return rv;
	rv = kw_piv_private_op(tok->piv, slot, alg, in, in_len, out);
	if (needs_reselect(rv) && kw_piv_select(tok->piv) == KW_OK) {
		kw_buf_reset(out);
		rv = kw_piv_private_op(tok->piv, slot, alg, in, in_len, out);
	}
	kwp11_token_end(tok);
	return rv;
}

kw_rv
kwp11_token_private_op_pin(kwp11_token *tok, const kw_secret *pin, uint8_t slot,
    uint8_t alg, const uint8_t *in, size_t in_len, kw_buf *out, int *tries)
{
	kw_rv rv;

	*tries = -1;
	if ((rv = kwp11_token_begin(tok)) != KW_OK)
		return rv;
	if ((rv = kw_piv_select(tok->piv)) == KW_OK &&
	    (rv = kw_piv_verify(tok->piv, KW_PIV_REF_PIN, pin->ptr, pin->len, tries)) == KW_OK)
		rv = kw_piv_private_op(tok->piv, slot, alg, in, in_len, out);
	kwp11_token_end(tok);
	return rv;
}

kw_rv
kwp11_token_ecdh(kwp11_token *tok, uint8_t slot, uint8_t alg,
    const uint8_t *pt, size_t pt_len, kw_buf *out)
{
	kw_rv rv;

	if ((rv = kwp11_token_begin(tok)) != KW_OK)
		return rv;
	rv = kw_piv_ecdh(tok->piv, slot, alg, pt, pt_len, out);
	if (needs_reselect(rv) && kw_piv_select(tok->piv) == KW_OK) {
		kw_buf_reset(out);
		rv = kw_piv_ecdh(tok->piv, slot, alg, pt, pt_len, out);
	}
	kwp11_token_end(tok);
	return rv;
}
