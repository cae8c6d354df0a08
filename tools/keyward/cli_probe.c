/* Reading a token's state for list/status: keys (GET METADATA where the
 * card has it, else certificate presence), certificates, PIN/PUK counters,
 * management key, key history. Read-only: never spends a PIN try. */
#include <string.h>

#include "kw_log.h"
#include "kwcli.h"

static const uint8_t probe_slots[KWCLI_NSLOTS] = {
	0x9a, 0x9c, 0x9d, 0x9e,
	0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b,
	0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95,
	0xf9,
};

uint8_t
kwcli_slot_at(size_t i)
{
	return i < KWCLI_NSLOTS ? probe_slots[i] : 0;
}

/* The card does not know GET METADATA (older firmware, plain PIV). */
static bool
md_unsupported(kw_rv rv)
{
	return rv == KW_ERR_INS_UNKNOWN || rv == KW_ERR_NOT_SUPPORTED ||
	    rv == KW_ERR_WRONG_PARAMS || rv == KW_ERR_CARD;
}

/* A card-level "no": the item is absent or not readable, not a failure. */
static bool
card_said_no(kw_rv rv)
{
	return rv == KW_ERR_NOT_FOUND || rv == KW_ERR_SECURITY ||
	    rv == KW_ERR_CONDITIONS || rv == KW_ERR_FORMAT || rv == KW_ERR_TRUNCATED ||
	    rv == KW_ERR_TRAILING || md_unsupported(rv);
}

static kw_rv
probe_keys(kwcli_token *tok, kwcli_probe *pr)
{
	kwcli_slot *s;
	size_t i;
	kw_rv rv;

	pr->metadata = true;
	for (i = 0; i < KWCLI_NSLOTS && pr->metadata; i++) {
		s = &pr->slots[i];
		rv = kw_piv_get_metadata(tok->piv, s->slot, &s->md);
		if (rv == KW_OK) {
			s->has_md = s->has_key = true;
			s->key_src = KWCLI_SRC_METADATA;
		} else if (rv == KW_ERR_NOT_FOUND) {
			s->key_src = KWCLI_SRC_METADATA;
		} else if (md_unsupported(rv)) {
			kw_debug("GET METADATA not supported: %s", kw_strerror(rv));
			pr->metadata = false;
		} else if (card_said_no(rv)) {
			kw_warn("slot %02X: metadata unreadable: %s", s->slot, kw_strerror(rv));
		} else {
			return rv;
		}
	}
	if (!pr->metadata)
		for (i = 0; i < KWCLI_NSLOTS; i++) {
			kw_piv_metadata_clear(&pr->slots[i].md);
			pr->slots[i].has_md = pr->slots[i].has_key = false;
			pr->slots[i].key_src = KWCLI_SRC_NONE;
		}
	return KW_OK;
}

static kw_rv
probe_certs(kwcli_token *tok, kwcli_probe *pr)
{
	kwcli_slot *s;
	size_t i;
	kw_rv rv;

	for (i = 0; i < KWCLI_NSLOTS; i++) {
		s = &pr->slots[i];
		rv = kw_piv_read_cert(tok->piv, s->slot, &s->cert);
		if (rv == KW_OK) {
			s->has_cert = true;
		} else if (card_said_no(rv)) {
			if (rv != KW_ERR_NOT_FOUND)
				kw_warn("slot %02X: certificate unreadable: %s", s->slot,
				    kw_strerror(rv));
			kw_buf_free(&s->cert);
		} else {
			return rv;
		}
		/* Without metadata a certificate is our only sign of a key. */
		if (!pr->metadata && s->has_cert) {
			s->has_key = true;
			s->key_src = KWCLI_SRC_CERT;
		}
	}
	return KW_OK;
}

static kw_rv
probe_pin(kwcli_token *tok, uint8_t ref, kwcli_pin_info *pi)
{
	kw_piv_metadata md;
	int left = -1;
	kw_rv rv;

	memset(&md, 0, sizeof(md));
	pi->left = pi->total = pi->is_default = -1;
	rv = kw_piv_get_metadata(tok->piv, ref, &md);
	if (rv == KW_OK) {
		pi->known = md.retries_left >= 0;
		pi->left = md.retries_left;
		pi->total = md.retries_total;
		pi->is_default = md.is_default ? 1 : 0;
		kw_piv_metadata_clear(&md);
		return KW_OK;
	}
	if (!card_said_no(rv))
		return rv;
	if (ref != KW_PIV_REF_PIN)
		return KW_OK;     /* no way to read the PUK counter without a try */
	/* VERIFY without data reports the counter without spending a try. */
	rv = kw_piv_pin_status(tok->piv, ref, &left);
	if (rv == KW_ERR_PIN_INCORRECT || rv == KW_OK) {
		pi->known = left >= 0;
		pi->left = left;
	} else if (rv == KW_ERR_PIN_BLOCKED) {
		pi->known = true;
		pi->left = 0;
	} else if (!card_said_no(rv)) {
		return rv;
	}
	return KW_OK;
}

static kw_rv
probe_auth(kwcli_token *tok, kwcli_probe *pr)
{
	kw_piv_metadata md;
	kw_rv rv;

	if ((rv = probe_pin(tok, KW_PIV_REF_PIN, &pr->pin)) != KW_OK ||
	    (rv = probe_pin(tok, KW_PIV_REF_PUK, &pr->puk)) != KW_OK)
		return rv;
	memset(&md, 0, sizeof(md));
	pr->mgmt.is_default = -1;
	/* Without metadata we do not try the default key: some PIV cards
	 * count failed management-key authentications. */
	rv = kw_piv_get_metadata(tok->piv, KW_PIV_SLOT_MGMT, &md);
	if (rv == KW_OK) {
		pr->mgmt.alg = md.alg;
		pr->mgmt.is_default = md.is_default ? 1 : 0;
		pr->mgmt.touch_policy = md.touch_policy;
		kw_piv_metadata_clear(&md);
	} else if (!card_said_no(rv)) {
		return rv;
	}
	return KW_OK;
}

static kw_rv
probe_history(kwcli_token *tok, kwcli_probe *pr)
{
	kw_rv rv = kw_piv_read_key_history(tok->piv, &pr->history);

	pr->has_history = rv == KW_OK;
	if (rv == KW_OK || rv == KW_ERR_NOT_FOUND)
		return KW_OK;
	if (card_said_no(rv)) {
		kw_warn("key history object unreadable: %s", kw_strerror(rv));
		return KW_OK;
	}
	return rv;
}

static kw_rv
probe_locked(kwcli_token *tok, unsigned what, kwcli_probe *pr)
{
	kw_rv rv;

	pr->atr_len = sizeof(pr->atr);
	if (kw_transport_get_atr(tok->t, pr->atr, &pr->atr_len) != KW_OK)
		pr->atr_len = 0;
	/* A reset or another process may have deselected PIV since open. */
	if ((rv = kw_piv_select(tok->piv)) != KW_OK)
		return rv;
	if ((what & KWCLI_PROBE_SLOTS) && (rv = probe_keys(tok, pr)) != KW_OK)
		return rv;
	if ((what & (KWCLI_PROBE_CERTS | KWCLI_PROBE_SLOTS)) &&
	    (rv = probe_certs(tok, pr)) != KW_OK)
		return rv;
	if ((what & KWCLI_PROBE_AUTH) && (rv = probe_auth(tok, pr)) != KW_OK)
		return rv;
	if ((what & KWCLI_PROBE_HISTORY) && (rv = probe_history(tok, pr)) != KW_OK)
		return rv;
	return KW_OK;
}

kw_rv
kwcli_probe_token(kwcli_token *tok, unsigned what, kwcli_probe *pr)
{
	size_t i;
	kw_rv rv;

	memset(pr, 0, sizeof(*pr));
	for (i = 0; i < KWCLI_NSLOTS; i++) {
		pr->slots[i].slot = probe_slots[i];
		kw_buf_init(&pr->slots[i].cert, KW_BUF_DEFAULT_MAX);
	}
	if ((rv = kw_transport_begin(tok->t)) != KW_OK)
		return rv;
	rv = probe_locked(tok, what, pr);
	(void)kw_transport_end(tok->t);
	return rv;
}

void
kwcli_probe_free(kwcli_probe *pr)
{
	size_t i;

	for (i = 0; i < KWCLI_NSLOTS; i++) {
		kw_piv_metadata_clear(&pr->slots[i].md);
		kw_buf_free(&pr->slots[i].cert);
	}
	memset(pr, 0, sizeof(*pr));
}
