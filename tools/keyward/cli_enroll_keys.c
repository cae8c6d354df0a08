/* Enrollment step: the escrowed encryption keys. The current key goes to
 * 9D, older ones to 82..95 newest first (YubiKey IMPORT), each certificate
 * after its key, then the Key History object. A slot already holding the
 * right key (metadata public key == certificate key) and certificate is
 * left alone; a slot about to change has its certificate emptied first.
 * Plaintext private keys exist only in the kw_secret libkwkms returns and,
 * for the IMPORT call, in an OpenSSL key freed right after it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "kw_log.h"
#include "kwenroll.h"

#define MAX_KEYS 21   /* 9D + 20 retired slots */

static uint8_t
slot_of(size_t i)
{
	return i == 0 ? KW_PIV_SLOT_KEYMGMT : (uint8_t)(KW_PIV_SLOT_RETIRED1 + i - 1);
}

static EVP_PKEY *
cert_pubkey(const kw_buf *der)
{
	const unsigned char *p = der->data;
	X509 *x = d2i_X509(NULL, &p, (long)der->len);
	EVP_PKEY *k = x != NULL ? X509_get_pubkey(x) : NULL;

	X509_free(x);
	return k;
}

/* 1: key and certificate in place; 2: key in place, certificate not;
 * 0: the key is not there. */
static int
slot_state(kwcli_enroll_ctx *c, uint8_t slot, const kw_buf *want)
{
	kw_piv_metadata md = { 0 };
	EVP_PKEY *pub = cert_pubkey(want);
	kw_buf cur;
	int st = 0;

	kw_rv rv;

	kw_buf_init(&cur, 1 << 16);
	rv = pub != NULL ? kw_piv_get_metadata(c->tok.piv, slot, &md) : KW_ERR_FORMAT;
	if (rv == KW_OK && md.pubkey != NULL && EVP_PKEY_eq(md.pubkey, pub) == 1)
		st = 2;
	/* Without GET METADATA only the certificate can tell; keyward writes
	 * it after the key, so the right certificate means the right key. */
	if ((st == 2 || rv == KW_ERR_INS_UNKNOWN || rv == KW_ERR_NOT_SUPPORTED) &&
	    kw_piv_read_cert(c->tok.piv, slot, &cur) == KW_OK &&
	    kw_view_equal(kw_buf_view(&cur), kw_buf_view(want)))
		st = 1;
	kw_piv_metadata_clear(&md);
	EVP_PKEY_free(pub);
	kw_buf_free(&cur);
	return st;
}

static kw_rv
auth_begin(kwcli_enroll_ctx *c)
{
	kw_rv rv;

	if ((rv = kw_transport_begin(c->tok.t)) != KW_OK)
		return rv;
	if ((rv = kwcli_admin_verify_pin(&c->tok, &c->pin)) != KW_OK ||
	    (rv = kwcli_admin_mgmt_auth(&c->tok)) != KW_OK)
		(void)kw_transport_end(c->tok.t);
	return rv;
}

static kw_rv
import_one(kwcli_enroll_ctx *c, uint8_t slot, const kwkms_key *k)
{
	const unsigned char *p = k->pkcs8.ptr;
	EVP_PKEY *pk = d2i_AutoPrivateKey(NULL, &p, (long)k->pkcs8.len);
	kw_rv rv;

	if (pk == NULL)
		return KW_ERR_FORMAT;
	rv = kw_piv_delete_cert(c->tok.piv, slot);
	if (rv == KW_OK || rv == KW_ERR_NOT_FOUND)
		rv = kw_piv_import_key(c->tok.piv, slot, pk, KW_PIV_PIN_POLICY_DEFAULT,
		    KW_PIV_TOUCH_POLICY_DEFAULT);
	EVP_PKEY_free(pk);
	return rv;
}

static kw_rv
place_key(kwcli_enroll_ctx *c, size_t i, const kwkms_key *k, json_t *arr)
{
	uint8_t slot = slot_of(i);
	kw_buf der;
	kwcli_cert_info ci;
	int st;
	kw_rv rv;

	kw_buf_init(&der, 1 << 16);
	if ((rv = kwcli_pem_to_der(k->cert_pem, &der)) != KW_OK ||
	    (rv = kwcli_enroll_check_cert(c, &der, X509_PURPOSE_SMIME_ENCRYPT)) != KW_OK)
		goto fail;
	st = slot_state(c, slot, &der);
	if (st != 1) {
		kwcli_progress(c, "slot %02X: %s encryption key %ld%s", slot,
		    st == 2 ? "certificate for" : "importing", k->seq,
		    k->current ? " (current)" : "");
		if ((rv = auth_begin(c)) != KW_OK)
			goto fail;
		rv = st == 2 ? KW_OK : import_one(c, slot, k);
		if (rv == KW_OK)
			rv = kw_piv_write_cert(c->tok.piv, slot, der.data, der.len);
		(void)kw_transport_end(c->tok.t);
		if (rv != KW_OK) {
			fprintf(stderr, "keyward: slot %02X: %s\n", slot, kw_strerror(rv));
			goto fail;
		}
	} else
		kwcli_progress(c, "slot %02X: encryption key %ld already in place", slot, k->seq);
	kwcli_cert_parse(&der, &ci);
	json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:b,s:s,s:s}",
	    "slot", (char[3]){ "0123456789abcdef"[slot >> 4], "0123456789abcdef"[slot & 15], 0 },
	    "key_id", k->key_id, "seq", (json_int_t)k->seq, "current", k->current,
	    "serial", ci.ok ? ci.serial : "", "cert", k->cert_pem));
fail:
	kw_buf_free(&der);
	return rv;
}

/* Retired slots past the history: no certificate may stay there (keys are
 * deleted where the token can, firmware 5.7+). */
static kw_rv
clear_rest(kwcli_enroll_ctx *c, size_t n)
{
	kw_piv_metadata md = { 0 };
	kw_buf cur;
	size_t i;
	uint8_t slot;
	bool has_cert, has_key;
	kw_rv rv = KW_OK;

	bool can_delete = c->tok.has_version && (c->tok.version[0] > 5 ||
	    (c->tok.version[0] == 5 && c->tok.version[1] >= 7));

	kw_buf_init(&cur, 1 << 16);
	for (i = n; i < MAX_KEYS && rv == KW_OK; i++) {
		slot = slot_of(i);
		has_cert = kw_piv_read_cert(c->tok.piv, slot, &cur) == KW_OK;
		has_key = can_delete && kw_piv_get_metadata(c->tok.piv, slot, &md) == KW_OK;
		kw_piv_metadata_clear(&md);
		if (!has_cert && !has_key)
			continue;
		kwcli_progress(c, "slot %02X: removing a key/certificate not in the history", slot);
		if ((rv = auth_begin(c)) != KW_OK)
			break;
		if (has_cert)
			rv = kw_piv_delete_cert(c->tok.piv, slot);
		if (rv == KW_OK && has_key)
			rv = kw_piv_delete_key(c->tok.piv, slot);
		(void)kw_transport_end(c->tok.t);
	}
	kw_buf_free(&cur);
	return rv;
}

static kw_rv
write_history(kwcli_enroll_ctx *c, size_t n)
{
	kw_piv_key_history want = { (int)n - 1, 0, "" }, cur;
	kw_rv rv;

	if (kw_piv_read_key_history(c->tok.piv, &cur) == KW_OK &&
	    cur.on_card_certs == want.on_card_certs && cur.off_card_certs == 0)
		return KW_OK;
	kwcli_progress(c, "writing the Key History object (%d retired keys)", want.on_card_certs);
	if ((rv = auth_begin(c)) != KW_OK)
		return rv;
	rv = kw_piv_write_key_history(c->tok.piv, &want);
	(void)kw_transport_end(c->tok.t);
	return rv;
}

/* Everything already done for the certificates the journal remembers? */
static bool
already_done(kwcli_enroll_ctx *c)
{
	json_t *certs = json_object_get(c->jr.j, "enc_certs"), *v;
	kw_buf der;
	size_t i;
	bool ok = json_is_array(certs) && json_array_size(certs) > 0 &&
	    json_is_true(json_object_get(c->jr.j, "enc_complete")) &&
	    c->o->mode != KWCLI_RENEW;

	kw_buf_init(&der, 1 << 16);
	json_array_foreach(certs, i, v) {
		if (!ok)
			break;
		ok = json_is_string(v) && kwcli_pem_to_der(json_string_value(v), &der) == KW_OK &&
		    slot_state(c, slot_of(i), &der) == 1;
	}
	kw_buf_free(&der);
	if (ok)
		json_object_set_new(c->res, "encryption", json_pack("{s:b,s:I}",
		    "already_done", 1, "keys", (json_int_t)json_array_size(certs)));
	return ok;
}

static kw_rv
journal_certs(kwcli_enroll_ctx *c, const kwkms_key *keys, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, json_string(keys[i].cert_pem));
	if (arr == NULL || json_object_set_new(c->jr.j, "enc_certs", arr) != 0)
		return KW_ERR_NOMEM;
	json_object_del(c->jr.j, "enc_complete");
	return kwcli_journal_save(&c->jr);
}

kw_rv
kwcli_enroll_enc_slots(kwcli_enroll_ctx *c)
{
	kwkms_key *keys = NULL;
	json_t *arr = json_array();
	size_t n = 0, total = 0, i;
	kw_rv rv = KW_ERR_NOMEM;

	if (already_done(c)) {
		kwcli_progress(c, "encryption keys already in place");
		json_decref(arr);
		return KW_OK;
	}
	if (arr == NULL || (rv = kwcli_enroll_kms_session(c)) != KW_OK)
		goto fail;
	kwcli_progress(c, "fetching the encryption keys (wrapped to this session's key)");
	rv = kwkms_fetch_keys(c->kms, c->have_password ? (const char *)c->password.ptr : NULL,
	    &keys, &total);
	n = total;
	if (rv != KW_OK) {
		kwcli_kms_report(c->kms, "the KMS did not deliver the encryption keys", rv);
		goto fail;
	}
	if (n > MAX_KEYS) {
		kwcli_progress(c, "%zu keys delivered; the token holds the newest %d", n, MAX_KEYS);
		n = MAX_KEYS;
	}
	if ((rv = journal_certs(c, keys, n)) != KW_OK)
		goto fail;
	for (i = 0; i < n && rv == KW_OK; i++) {
		rv = place_key(c, i, &keys[i], arr);
		kw_secret_free(&keys[i].pkcs8);   /* in the token now (or failed): wipe */
	}
	if (rv == KW_OK && (rv = clear_rest(c, n)) == KW_OK && (rv = write_history(c, n)) == KW_OK) {
		json_object_set_new(c->jr.j, "enc_complete", json_true());
		rv = kwcli_journal_save(&c->jr);
	}
	if (rv == KW_OK)
		json_object_set_new(c->res, "encryption", json_pack("{s:b,s:I,s:O}",
		    "already_done", 0, "keys", (json_int_t)n, "slots", arr));
fail:
	kwkms_keys_free(&keys, total);
	json_decref(arr);
	return rv;
}
