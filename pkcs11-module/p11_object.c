/* Token objects: one private key per occupied PIV key slot (exposed even
 * without a certificate), its public key (from GET METADATA or the
 * certificate) and its certificate. Enumeration is lazy (first
 * C_FindObjectsInit) and probes every key slot with GET METADATA where the
 * card has it, retired slots 82-95 included; certificates come from the
 * verified on-disk cache or are read once. Without GET METADATA, the
 * certificate objects of all slots are read instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "kw_apdu.h"
#include "kw_log.h"
#include "p11_int.h"

const uint8_t kwp11_key_slots[] = {
	0x9A, 0x9C, 0x9D, 0x9E,
	0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8B,
	0x8C, 0x8D, 0x8E, 0x8F, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0
};

#define H_IDX_BITS 16
#define H_SLOT_BITS 6
#define H_GEN_BITS 10

uint8_t
kwp11_slot_to_id(uint8_t slot)
{
	switch (slot) {
	case 0x9A: return 1;
	case 0x9C: return 2;
	case 0x9D: return 3;
	case 0x9E: return 4;
	default:
		if (slot >= 0x82 && slot <= 0x95)
			return (uint8_t)(slot - 0x82 + 5);
		return 0;
	}
}

uint8_t
kwp11_id_to_slot(uint8_t id)
{
	size_t i;

	for (i = 0; kwp11_key_slots[i] != 0; i++)
		if (kwp11_slot_to_id(kwp11_key_slots[i]) == id)
			return kwp11_key_slots[i];
	return 0;
}

const char *
kwp11_slot_label(uint8_t slot, char *buf, size_t len)
{
	switch (slot) {
	case 0x9A: snprintf(buf, len, "PIV Authentication"); break;
	case 0x9C: snprintf(buf, len, "Digital Signature"); break;
	case 0x9D: snprintf(buf, len, "Key Management"); break;
	case 0x9E: snprintf(buf, len, "Card Authentication"); break;
	default: snprintf(buf, len, "Retired Key %u", (unsigned)(slot - 0x81)); break;
	}
	return buf;
}

bool
kwp11_obj_needs_pin(const kwp11_obj *o)
{
	if (o->cls != CKO_PRIVATE_KEY)
		return o->cls == CKO_SECRET_KEY;
	if (o->pin_policy == KW_PIV_PIN_POLICY_NEVER)
		return false;
	return !(o->pin_policy == KW_PIV_PIN_POLICY_DEFAULT && o->slot == KW_PIV_SLOT_CARDAUTH);
}

bool
kwp11_obj_always_auth(const kwp11_obj *o)
{
	if (o == NULL || o->cls != CKO_PRIVATE_KEY)
		return false;
	if (o->pin_policy == KW_PIV_PIN_POLICY_ALWAYS)
		return true;
	return o->pin_policy == KW_PIV_PIN_POLICY_DEFAULT && o->slot == KW_PIV_SLOT_SIGN;
}

void
kwp11_obj_clear(kwp11_obj *o)
{
	EVP_PKEY_free(o->pub);
	kw_buf_free(&o->cert);
	kw_buf_free(&o->value);
	memset(o, 0, sizeof(*o));
}

CK_OBJECT_HANDLE
kwp11_obj_handle(const kwp11_token *tok, size_t idx)
{
	CK_ULONG gen = tok->gen & ((1u << H_GEN_BITS) - 1);
	CK_ULONG sl = tok->id & ((1u << H_SLOT_BITS) - 1);

	return (gen << (H_IDX_BITS + H_SLOT_BITS)) | (sl << H_IDX_BITS) | (CK_ULONG)(idx + 1);
}

CK_RV
kwp11_obj_lookup(kwp11_token *tok, CK_OBJECT_HANDLE h, kwp11_obj **o)
{
	size_t idx = (size_t)(h & ((1u << H_IDX_BITS) - 1));

	*o = NULL;
	if (idx == 0 || idx > tok->nobjs || kwp11_obj_handle(tok, idx - 1) != h)
		return CKR_OBJECT_HANDLE_INVALID;
	if (!tok->objs[idx - 1].live)
		return CKR_OBJECT_HANDLE_INVALID;
	*o = &tok->objs[idx - 1];
	return CKR_OK;
}

CK_RV
kwp11_obj_add(kwp11_token *tok, kwp11_obj *o, size_t *idx)
{
	kwp11_obj *n;

	if (tok->nobjs + 1 >= (1u << H_IDX_BITS))
		return CKR_DEVICE_MEMORY;
	if ((n = realloc(tok->objs, (tok->nobjs + 1) * sizeof(*n))) == NULL)
		return CKR_HOST_MEMORY;
	tok->objs = n;
	n[tok->nobjs] = *o;
	n[tok->nobjs].live = true;
	memset(o, 0, sizeof(*o));
	if (idx != NULL)
		*idx = tok->nobjs;
	tok->nobjs++;
	return CKR_OK;
}

kwp11_obj *
kwp11_obj_find_slot(kwp11_token *tok, uint8_t slot, CK_OBJECT_CLASS cls)
{
	size_t i;

	for (i = 0; i < tok->nobjs; i++) {
		kwp11_obj *o = &tok->objs[i];
		if (o->live && o->owner == 0 && o->slot == slot && o->cls == cls)
			return o;
	}
	return NULL;
}

static void
slot_drop(kwp11_token *tok, uint8_t slot, bool keep_key)
{
	size_t i;

	for (i = 0; i < tok->nobjs; i++) {
		kwp11_obj *o = &tok->objs[i];
		if (!o->live || o->owner != 0 || o->slot != slot)
			continue;
		if (keep_key && o->cls != CKO_CERTIFICATE)
			continue;
		kwp11_obj_clear(o);   /* leaves live false: the handle dies */
	}
}

static EVP_PKEY *
cert_pubkey(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	EVP_PKEY *k = NULL;

	if (x != NULL && p == der + len)
		k = X509_get_pubkey(x);
	X509_free(x);
	return k;
}

CK_RV
kwp11_obj_set_slot(kwp11_token *tok, uint8_t slot, const kw_piv_metadata *md,
    const uint8_t *cert, size_t cert_len, bool keep_key)
{
	kwp11_obj o;
	EVP_PKEY *pub = NULL;
	CK_RV rv = CKR_OK;

	slot_drop(tok, slot, keep_key);
	if (cert != NULL)
		pub = cert_pubkey(cert, cert_len);
	if (md != NULL && md->pubkey != NULL) {
		EVP_PKEY_free(pub);
		pub = md->pubkey;
		EVP_PKEY_up_ref(pub);
	}
	if (!keep_key) {
		memset(&o, 0, sizeof(o));
		o.slot = slot;
		o.alg = md != NULL ? md->alg : (pub != NULL ? kw_piv_alg_of_pkey(pub) : 0);
		o.pin_policy = md != NULL ? md->pin_policy : 0;
		o.touch_policy = md != NULL ? md->touch_policy : 0;
		o.origin = md != NULL ? md->origin : 0;
		if (o.alg == 0)
			goto out;   /* unknown algorithm: not usable */
		o.cls = CKO_PRIVATE_KEY;
		if (pub != NULL) {
			o.pub = pub;
			EVP_PKEY_up_ref(pub);
		}
		if ((rv = kwp11_obj_add(tok, &o, NULL)) != CKR_OK)
			goto out;
		if (pub != NULL) {
			memset(&o, 0, sizeof(o));
			o.cls = CKO_PUBLIC_KEY;
			o.slot = slot;
			o.alg = tok->objs[tok->nobjs - 1].alg;
			o.origin = tok->objs[tok->nobjs - 1].origin;
			o.pub = pub;
			EVP_PKEY_up_ref(pub);
			if ((rv = kwp11_obj_add(tok, &o, NULL)) != CKR_OK)
				goto out;
		}
	}
	if (cert != NULL) {
		memset(&o, 0, sizeof(o));
		o.cls = CKO_CERTIFICATE;
		o.slot = slot;
		kw_buf_init(&o.cert, KW_BUF_DEFAULT_MAX);
		if (kw_buf_put(&o.cert, cert, cert_len) != KW_OK) {
			kw_buf_free(&o.cert);
			rv = CKR_HOST_MEMORY;
			goto out;
		}
		o.pub = cert_pubkey(cert, cert_len);
		rv = kwp11_obj_add(tok, &o, NULL);
		if (rv != CKR_OK)
			kwp11_obj_clear(&o);
	}
out:
	EVP_PKEY_free(pub);
	return rv;
}

/* One short GET DATA of the certificate object without collecting the
 * rest (no GET RESPONSE): its first chunk and status word identify the
 * object's current contents. KW_ERR_NOT_FOUND when there is none. */
static kw_rv
cert_probe(kwp11_token *tok, uint8_t slot, kw_buf *probe)
{
	uint32_t tag = kw_piv_slot_cert_tag(slot);
	uint8_t cmd[11] = { 0x00, 0xCB, 0x3F, 0xFF, 0x05, 0x5C, 0x03, 0, 0, 0, 0x00 };
	uint8_t resp[258];
	size_t rlen = sizeof(resp);
	kw_rv rv;

	cmd[7] = (uint8_t)(tag >> 16);
	cmd[8] = (uint8_t)(tag >> 8);
	cmd[9] = (uint8_t)tag;
	if ((rv = kw_apdu_cla_for_channel(0x00, kw_transport_channel(tok->t), &cmd[0])) != KW_OK ||
	    (rv = kw_transport_transmit(tok->t, cmd, sizeof(cmd), resp, &rlen)) != KW_OK)
		return rv;
	if (rlen < 2)
		return KW_ERR_PROTOCOL;
	if (resp[rlen - 2] == 0x6A && resp[rlen - 1] == 0x82)
		return KW_ERR_NOT_FOUND;
	if (resp[rlen - 2] != 0x61 && !(resp[rlen - 2] == 0x90 && resp[rlen - 1] == 0x00))
		return KW_ERR_CARD;
	return kw_buf_put(probe, resp, rlen);
}

/* The certificate of a slot whose key we know: the verified cache, else
 * the card (and the cache records it with its probe). */
static kw_rv
slot_cert(kwp11_token *tok, uint8_t slot, const EVP_PKEY *pub, kw_buf *der)
{
	bool cache = pub != NULL && tok->have_serial && kwp11_cache_enabled();
	kw_buf probe;
	kw_rv rv, prv = KW_ERR_NOT_SUPPORTED;

	kw_buf_init(&probe, 512);
	if (cache) {
		prv = cert_probe(tok, slot, &probe);
		if (prv == KW_ERR_NOT_FOUND) {
			rv = KW_ERR_NOT_FOUND;
			goto out;
		}
		if (prv == KW_OK && kwp11_cache_get(tok->serial, slot, pub, kw_buf_view(&probe),
		    der) == KW_OK) {
			rv = KW_OK;
			goto out;
		}
	}
	kw_buf_reset(der);
	rv = kw_piv_read_cert(tok->piv, slot, der);
	if (rv == KW_OK && cache && prv == KW_OK)
		(void)kwp11_cache_put(tok->serial, slot, kw_buf_view(&probe), der->data, der->len);
out:
	kw_buf_free(&probe);
	return rv;
}

static kw_rv
enum_slot_md(kwp11_token *tok, uint8_t slot, kw_buf *der)
{
	kw_piv_metadata md;
	kw_rv rv;
	CK_RV crv;

	memset(&md, 0, sizeof(md));
	rv = kw_piv_get_metadata(tok->piv, slot, &md);
	if (rv == KW_ERR_NOT_FOUND)
		return KW_OK;   /* empty slot */
	if (rv != KW_OK)
		goto out;
	kw_buf_reset(der);
	rv = slot_cert(tok, slot, md.pubkey, der);
	if (rv != KW_OK && rv != KW_ERR_NOT_FOUND)
		goto out;
	crv = kwp11_obj_set_slot(tok, slot, &md, rv == KW_OK ? der->data : NULL,
	    rv == KW_OK ? der->len : 0, false);
	rv = crv == CKR_OK ? KW_OK : KW_ERR_NOMEM;
out:
	kw_piv_metadata_clear(&md);
	return rv;
}

static kw_rv
enum_slot_cert(kwp11_token *tok, uint8_t slot, kw_buf *der)
{
	kw_rv rv;

	kw_buf_reset(der);
	rv = kw_piv_read_cert(tok->piv, slot, der);
	if (rv == KW_ERR_NOT_FOUND)
		return KW_OK;
	if (rv != KW_OK)
		return rv;
	return kwp11_obj_set_slot(tok, slot, NULL, der->data, der->len, false) == CKR_OK ?
	    KW_OK : KW_ERR_NOMEM;
}

static bool
metadata_unsupported(kw_rv rv)
{
	return rv == KW_ERR_INS_UNKNOWN || rv == KW_ERR_WRONG_PARAMS ||
	    rv == KW_ERR_NOT_SUPPORTED || rv == KW_ERR_CARD;
}

static kw_rv
enumerate_slots(kwp11_token *tok)
{
	kw_buf der;
	size_t i;
	kw_rv rv = KW_OK;

	kw_buf_init(&der, KW_BUF_DEFAULT_MAX);
	for (i = 0; kwp11_key_slots[i] != 0; i++) {
		uint8_t slot = kwp11_key_slots[i];

		if (tok->has_metadata != 0) {
			rv = enum_slot_md(tok, slot, &der);
			if (rv != KW_OK && tok->has_metadata == -1 && metadata_unsupported(rv)) {
				tok->has_metadata = 0;
				rv = KW_OK;
			} else if (rv == KW_OK) {
				tok->has_metadata = 1;
			} else if (rv == KW_ERR_CRYPTO || rv == KW_ERR_FORMAT) {
				/* metadata unusable here (e.g. an OpenSSL engine in the
				 * host application refuses key import): the certificate */
				kw_debug("slot %02x: metadata unusable, reading the certificate", slot);
				rv = enum_slot_cert(tok, slot, &der);
			}
		}
		if (tok->has_metadata == 0)
			rv = enum_slot_cert(tok, slot, &der);
		if (rv != KW_OK)
			break;
	}
	kw_buf_free(&der);
	return rv;
}

CK_RV
kwp11_token_enumerate(kwp11_token *tok)
{
	kw_rv rv;

	if (tok->enumerated)
		return CKR_OK;
	if (!tok->present)
		return CKR_TOKEN_NOT_PRESENT;
	if ((rv = kwp11_token_begin(tok)) != KW_OK)
		return kwp11_token_fail(tok, rv);
	rv = enumerate_slots(tok);
	if (rv == KW_ERR_INS_UNKNOWN && kw_piv_select(tok->piv) == KW_OK)
		rv = enumerate_slots(tok);
	kwp11_token_end(tok);
	if (rv != KW_OK) {
		kw_warn("enumerating %.64s: %s", tok->uri, kw_strerror(rv));
		return kwp11_token_fail(tok, rv);
	}
	tok->enumerated = true;
	return CKR_OK;
}
