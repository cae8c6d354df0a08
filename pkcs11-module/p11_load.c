/* Loading a token's objects from the card, lazily and per PIV slot:
 * C_FindObjectsInit asks only for what its template can match (one slot
 * when CKA_ID is given; keys, certificates or both). A slot's key comes
 * from GET METADATA (private keys are exposed without a certificate); its
 * certificate from the verified on-disk cache or the card. A search for
 * certificates alone reads certificate objects only (one extended APDU
 * each), without metadata: the keys of those slots are resolved when keys
 * are asked for, keeping the certificate objects and their handles.
 * Retired slots 82-95 are probed in order: all twenty when the Key History
 * object (5FC10C) is absent, else at least as many as it counts and then
 * up to the first empty slot (enrollment fills them in order;
 * KEYWARD_PROBE_ALL_RETIRED=1 probes all twenty anyway).
 * A slot is always found by its CKA_ID. Cards without GET METADATA are
 * read through their certificate objects instead. */
#include <stdlib.h>
#include <string.h>

#include "kw_log.h"
#include "kw_tlv.h"
#include "p11_int.h"

/* slot_state bits: key looked at (and found), certificate looked at */
enum { ST_KEY = 1u << 0, ST_HASKEY = 1u << 1, ST_CERT = 1u << 2 };

static int
slot_index(uint8_t slot)
{
	int i;

	for (i = 0; kwp11_key_slots[i] != 0; i++)
		if (kwp11_key_slots[i] == slot)
			return i;
	return -1;
}

/* A certificate object's DER when stored uncompressed (70, 71 = 00). */
static kw_rv
plain_cert(kw_view contents, kw_buf *der)
{
	kw_view cert, info;

	if (kw_tlv_find(contents, 0x70, &cert) != KW_OK || cert.len == 0)
		return KW_ERR_FORMAT;
	if (kw_tlv_find(contents, 0x71, &info) == KW_OK && (info.len != 1 || info.ptr[0] != 0))
		return KW_ERR_NOT_SUPPORTED;   /* compressed: kw_piv_read_cert knows how */
	return kw_buf_put_view(der, cert);
}

/* Read a certificate from the card; when cache is set, record it with the
 * probe answer its object will give. */
static kw_rv
read_cert(kwp11_token *tok, uint8_t slot, bool cache, kw_buf *der)
{
	kw_buf obj, probe;
	kw_rv rv;

	kw_buf_init(&obj, KW_BUF_DEFAULT_MAX);
	kw_buf_init(&probe, 512);
	kw_buf_reset(der);
	if ((rv = kw_piv_get_data(tok->piv, kw_piv_slot_cert_tag(slot), &obj)) != KW_OK)
		goto out;
	if (plain_cert(kw_buf_view(&obj), der) != KW_OK) {
		kw_buf_reset(der);
		if ((rv = kw_piv_read_cert(tok->piv, slot, der)) != KW_OK)
			goto out;
	}
	if (cache && kw_piv_cert_probe_expect(kw_buf_view(&obj), &probe) == KW_OK)
		(void)kwp11_cache_put(tok->serial, slot, kw_buf_view(&probe), der->data, der->len);
out:
	kw_buf_free(&obj);
	kw_buf_free(&probe);
	return rv;
}

/* The certificate of a slot whose key we know: the verified cache (one
 * probe APDU), else the card. Without a cache entry no probe is sent. */
static kw_rv
slot_cert(kwp11_token *tok, uint8_t slot, const EVP_PKEY *pub, kw_buf *der)
{
	bool cache = pub != NULL && tok->have_serial && kwp11_cache_enabled();
	kw_buf probe;
	kw_rv rv;

	kw_buf_init(&probe, 512);
	if (cache && kwp11_cache_has(tok->serial, slot)) {
		rv = kw_piv_cert_probe(tok->piv, slot, &probe);
		if (rv == KW_ERR_NOT_FOUND)
			goto out;
		if (rv == KW_OK && kwp11_cache_get(tok->serial, slot, pub, kw_buf_view(&probe),
		    der) == KW_OK)
			goto out;
	}
	rv = read_cert(tok, slot, cache, der);
out:
	kw_buf_free(&probe);
	return rv;
}

static kw_rv
obj_rv(CK_RV rv)
{
	return rv == CKR_OK ? KW_OK : KW_ERR_NOMEM;
}

/* Without GET METADATA: the certificate tells key and certificate. */
static kw_rv
load_by_cert(kwp11_token *tok, uint8_t slot, kw_buf *der, unsigned *st)
{
	kw_rv rv;

	kw_buf_reset(der);
	rv = kw_piv_read_cert(tok->piv, slot, der);
	*st |= ST_KEY | ST_CERT;
	if (rv == KW_ERR_NOT_FOUND)
		return KW_OK;
	if (rv != KW_OK) {
		*st &= ~(unsigned)(ST_KEY | ST_CERT);
		return rv;
	}
	if ((rv = obj_rv(kwp11_obj_set_slot(tok, slot, NULL, der->data, der->len, false))) == KW_OK &&
	    kwp11_obj_find_slot(tok, slot, CKO_PRIVATE_KEY) != NULL)
		*st |= ST_HASKEY;
	return rv;
}

/* The key of a slot whose certificate was already looked at: from its
 * certificate object (cards without usable metadata). */
static kw_rv
key_from_cert(kwp11_token *tok, uint8_t slot, unsigned *st)
{
	kwp11_obj *c = kwp11_obj_find_slot(tok, slot, CKO_CERTIFICATE);
	kw_rv rv = KW_OK;

	*st |= ST_KEY;
	if (c != NULL && c->pub != NULL)
		rv = obj_rv(kwp11_obj_set_key(tok, slot, NULL, c->pub));
	if (rv == KW_OK && kwp11_obj_find_slot(tok, slot, CKO_PRIVATE_KEY) != NULL)
		*st |= ST_HASKEY;
	return rv;
}

static kw_rv
key_without_metadata(kwp11_token *tok, uint8_t slot, kw_buf *der, unsigned *st)
{
	if ((*st & ST_CERT) != 0)
		return key_from_cert(tok, slot, st);
	return load_by_cert(tok, slot, der, st);
}

static bool
metadata_unsupported(kw_rv rv)
{
	return rv == KW_ERR_INS_UNKNOWN || rv == KW_ERR_WRONG_PARAMS ||
	    rv == KW_ERR_NOT_SUPPORTED || rv == KW_ERR_CARD;
}

/* The key of a slot by GET METADATA (or, without it, by the certificate). */
static kw_rv
load_key(kwp11_token *tok, uint8_t slot, kw_buf *der, unsigned *st)
{
	kw_piv_metadata md;
	kw_rv rv;

	if (tok->has_metadata == 0)
		return key_without_metadata(tok, slot, der, st);
	memset(&md, 0, sizeof(md));
	rv = kw_piv_get_metadata(tok->piv, slot, &md);
	if (rv == KW_ERR_NOT_FOUND) {
		tok->has_metadata = 1;
		*st |= ST_KEY;
		return KW_OK;
	}
	if (rv != KW_OK && tok->has_metadata == -1 && metadata_unsupported(rv)) {
		tok->has_metadata = 0;
		return key_without_metadata(tok, slot, der, st);
	}
	if (rv == KW_ERR_CRYPTO || rv == KW_ERR_FORMAT) {
		/* metadata unusable here (e.g. an OpenSSL engine in the host
		 * application refuses key import): the certificate instead */
		kw_debug("slot %02x: metadata unusable, reading the certificate", slot);
		return key_without_metadata(tok, slot, der, st);
	}
	if (rv == KW_OK) {
		tok->has_metadata = 1;
		*st |= ST_KEY | ST_HASKEY;
		rv = obj_rv((*st & ST_CERT) != 0 ? kwp11_obj_set_key(tok, slot, &md, NULL) :
		    kwp11_obj_set_slot(tok, slot, &md, NULL, 0, false));
	}
	kw_piv_metadata_clear(&md);
	return rv;
}

/* The certificate of a slot (after its key when that is known: a slot
 * known to have no key shows no certificate either). */
static kw_rv
load_cert(kwp11_token *tok, uint8_t slot, kw_buf *der, unsigned *st)
{
	kwp11_obj *key = NULL;
	kw_rv rv;

	if ((*st & ST_KEY) != 0 && (*st & ST_HASKEY) == 0) {
		*st |= ST_CERT;
		return KW_OK;
	}
	if ((*st & ST_HASKEY) != 0)
		key = kwp11_obj_find_slot(tok, slot, CKO_PRIVATE_KEY);
	kw_buf_reset(der);
	rv = slot_cert(tok, slot, key != NULL ? key->pub : NULL, der);
	if (rv == KW_OK)
		rv = obj_rv(kwp11_obj_set_slot(tok, slot, NULL, der->data, der->len, true));
	else if (rv == KW_ERR_NOT_FOUND)
		rv = KW_OK;
	if (rv == KW_OK)
		*st |= ST_CERT;
	return rv;
}

static kw_rv
load_slot(kwp11_token *tok, uint8_t slot, unsigned what, kw_buf *der)
{
	int i = slot_index(slot);
	unsigned st;
	kw_rv rv = KW_OK;

	if (i < 0)
		return KW_OK;
	st = tok->slot_state[i];
	if ((what & KWP11_LOAD_KEYS) != 0 && (st & ST_KEY) == 0)
		rv = load_key(tok, slot, der, &st);
	if (rv == KW_OK && (what & KWP11_LOAD_CERTS) != 0 && (st & ST_CERT) == 0)
		rv = load_cert(tok, slot, der, &st);
	tok->slot_state[i] = (uint8_t)st;
	return rv;
}

/* Nothing in this slot, as far as `what` needs to know: for keys, the
 * key was looked at and is absent; for certificates alone, no key is known
 * and there is no certificate. */
static bool
slot_empty(kwp11_token *tok, int i, unsigned what)
{
	unsigned st = tok->slot_state[i];

	if ((st & ST_HASKEY) != 0)
		return false;
	if ((st & ST_KEY) != 0)
		return true;
	if ((what & KWP11_LOAD_KEYS) != 0)
		return false;
	return (st & ST_CERT) != 0 &&
	    kwp11_obj_find_slot(tok, kwp11_key_slots[i], CKO_CERTIFICATE) == NULL;
}

/* How far retired slots must be probed at least. */
static int
retired_floor(kwp11_token *tok)
{
	kw_piv_key_history kh;
	const char *all = getenv("KEYWARD_PROBE_ALL_RETIRED");

	if (all != NULL && strcmp(all, "1") == 0)
		return 20;
	if (tok->retired_floor >= 0)
		return tok->retired_floor;
	memset(&kh, 0, sizeof(kh));
	tok->retired_floor = 20;   /* no (usable) key history: probe them all */
	if (kw_piv_read_key_history(tok->piv, &kh) == KW_OK && kh.on_card_certs >= 0 &&
	    kh.off_card_certs >= 0)
		tok->retired_floor = kh.on_card_certs + kh.off_card_certs > 20 ? 20 :
		    kh.on_card_certs + kh.off_card_certs;
	return tok->retired_floor;
}

static kw_rv
load_all(kwp11_token *tok, unsigned what, kw_buf *der)
{
	int i, floor = -1;
	kw_rv rv;

	for (i = 0; kwp11_key_slots[i] != 0; i++) {
		uint8_t slot = kwp11_key_slots[i];
		bool retired = slot >= KW_PIV_SLOT_RETIRED1 && slot <= KW_PIV_SLOT_RETIRED20;

		if (retired && (tok->has_metadata != 0 || (what & KWP11_LOAD_KEYS) == 0)) {
			if (floor < 0)
				floor = retired_floor(tok);
			/* past the key history's count: stop at the first empty slot */
			if (slot > KW_PIV_SLOT_RETIRED1 && slot - KW_PIV_SLOT_RETIRED1 >= floor &&
			    slot_empty(tok, i - 1, what))
				break;
		}
		if ((rv = load_slot(tok, slot, what, der)) != KW_OK)
			return rv;
	}
	return KW_OK;
}

CK_RV
kwp11_token_load_what(kwp11_token *tok, uint8_t slot, unsigned what)
{
	kw_buf der;
	kw_rv rv;

	if (!tok->present)
		return CKR_DEVICE_REMOVED;
	if ((rv = kwp11_token_begin(tok)) != KW_OK)
		return kwp11_token_fail(tok, rv);
	kw_buf_init(&der, KW_BUF_DEFAULT_MAX);
	rv = slot != 0 ? load_slot(tok, slot, what, &der) : load_all(tok, what, &der);
	if (rv == KW_ERR_INS_UNKNOWN && kw_piv_select(tok->piv) == KW_OK)
		rv = slot != 0 ? load_slot(tok, slot, what, &der) : load_all(tok, what, &der);
	kw_buf_free(&der);
	kwp11_token_end(tok);
	if (rv != KW_OK) {
		kw_warn("reading objects of %.64s: %s", tok->uri, kw_strerror(rv));
		return kwp11_token_fail(tok, rv);
	}
	return CKR_OK;
}

CK_RV
kwp11_token_load(kwp11_token *tok, uint8_t slot, bool certs)
{
	return kwp11_token_load_what(tok, slot,
	    KWP11_LOAD_KEYS | (certs ? KWP11_LOAD_CERTS : 0u));
}

void
kwp11_token_key_changed(kwp11_token *tok, uint8_t slot)
{
	int i = slot_index(slot);

	if (i >= 0)
		tok->slot_state[i] = ST_KEY | ST_HASKEY;
}

CK_RV
kwp11_token_enumerate(kwp11_token *tok)
{
	return kwp11_token_load(tok, 0, true);
}
