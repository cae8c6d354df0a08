/* Token objects: one private key per occupied PIV key slot (exposed even
 * without a certificate), its public key (from GET METADATA or the
 * certificate) and its certificate; CKA_ID mapping, labels, handles with
 * the token's generation. Loading them from the card: p11_load.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

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
	kw_secret_free(&o->value);   /* session secret keys: wiped */
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

enum { DROP_ALL, DROP_CERTS, DROP_KEYS };

static void
slot_drop(kwp11_token *tok, uint8_t slot, int what)
{
	size_t i;

	for (i = 0; i < tok->nobjs; i++) {
		kwp11_obj *o = &tok->objs[i];
		if (!o->live || o->owner != 0 || o->slot != slot)
			continue;
		if (what == DROP_CERTS && o->cls != CKO_CERTIFICATE)
			continue;
		if (what == DROP_KEYS && o->cls == CKO_CERTIFICATE)
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

/* The private and public key objects of a slot (pub: own reference). */
static CK_RV
slot_add_key(kwp11_token *tok, uint8_t slot, const kw_piv_metadata *md, EVP_PKEY *pub)
{
	kwp11_obj o;
	CK_RV rv;

	memset(&o, 0, sizeof(o));
	o.slot = slot;
	o.alg = md != NULL ? md->alg : (pub != NULL ? kw_piv_alg_of_pkey(pub) : 0);
	o.pin_policy = md != NULL ? md->pin_policy : 0;
	o.touch_policy = md != NULL ? md->touch_policy : 0;
	o.origin = md != NULL ? md->origin : 0;
	if (!kw_piv_alg_is_rsa(o.alg) && !kw_piv_alg_is_ec(o.alg))
		return CKR_OK;   /* not RSA or NIST EC (e.g. Ed25519): not offered yet */
	o.cls = CKO_PRIVATE_KEY;
	if (pub != NULL) {
		o.pub = pub;
		EVP_PKEY_up_ref(pub);
	}
	if ((rv = kwp11_obj_add(tok, &o, NULL)) != CKR_OK || pub == NULL)
		return rv;
	memset(&o, 0, sizeof(o));
	o.cls = CKO_PUBLIC_KEY;
	o.slot = slot;
	o.alg = tok->objs[tok->nobjs - 1].alg;
	o.origin = tok->objs[tok->nobjs - 1].origin;
	o.pub = pub;
	EVP_PKEY_up_ref(pub);
	return kwp11_obj_add(tok, &o, NULL);
}

CK_RV
kwp11_obj_set_slot(kwp11_token *tok, uint8_t slot, const kw_piv_metadata *md,
    const uint8_t *cert, size_t cert_len, bool keep_key)
{
	kwp11_obj o;
	EVP_PKEY *pub = NULL;
	CK_RV rv = CKR_OK;

	slot_drop(tok, slot, keep_key ? DROP_CERTS : DROP_ALL);
	if (cert != NULL)
		pub = cert_pubkey(cert, cert_len);
	if (md != NULL && md->pubkey != NULL) {
		EVP_PKEY_free(pub);
		pub = md->pubkey;
		EVP_PKEY_up_ref(pub);
	}
	if (!keep_key && (rv = slot_add_key(tok, slot, md, pub)) != CKR_OK)
		goto out;
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

CK_RV
kwp11_obj_set_key(kwp11_token *tok, uint8_t slot, const kw_piv_metadata *md,
    const EVP_PKEY *cert_pub)
{
	EVP_PKEY *pub = NULL;
	CK_RV rv;

	slot_drop(tok, slot, DROP_KEYS);
	if (md != NULL && md->pubkey != NULL)
		pub = md->pubkey;
	else if (cert_pub != NULL)
		pub = (EVP_PKEY *)cert_pub;
	if (pub != NULL)
		EVP_PKEY_up_ref(pub);
	rv = slot_add_key(tok, slot, md, pub);
	EVP_PKEY_free(pub);
	return rv;
}
