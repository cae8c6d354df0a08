/* Enrollment step: the signing key in 9C. Generated on the token (the old
 * certificate object is emptied first, so a key never sits next to a
 * certificate of another key), attested where the token can, certified by
 * the KMS from a CSR the token signs, and the certificate written last.
 * The journal remembers the generated key's fingerprint and the issued
 * certificate (public data), so a rerun reuses both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "kw_log.h"
#include "kwenroll.h"

#define SLOT KW_PIV_SLOT_SIGN

/* Management-key authentication for a write, in the caller's transaction. */
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

/* The 9C public key by metadata; NULL when the slot is empty. */
static kw_rv
slot_pubkey(kwcli_enroll_ctx *c, EVP_PKEY **pub, uint8_t *origin)
{
	kw_piv_metadata md = { 0 };
	kw_rv rv = kw_piv_get_metadata(c->tok.piv, SLOT, &md);

	*pub = NULL;
	c->md_supported = rv == KW_OK || rv == KW_ERR_NOT_FOUND;
	if (rv == KW_ERR_NOT_FOUND || rv == KW_ERR_INS_UNKNOWN || rv == KW_ERR_NOT_SUPPORTED)
		rv = KW_OK;     /* empty, or no metadata */
	else if (rv == KW_OK) {
		*pub = md.pubkey;
		md.pubkey = NULL;
		if (origin != NULL)
			*origin = md.origin;
	}
	kw_piv_metadata_clear(&md);
	return rv;
}

static EVP_PKEY *
cert_key(const kw_buf *der)
{
	const unsigned char *p = der->data;
	X509 *x = d2i_X509(NULL, &p, (long)der->len);
	EVP_PKEY *k = x != NULL ? X509_get_pubkey(x) : NULL;

	X509_free(x);
	return k;
}

static kw_rv
generate(kwcli_enroll_ctx *c, EVP_PKEY **pub)
{
	char id[65];
	kw_rv rv;

	kwcli_progress(c, "generating the signing key in slot 9C on the token");
	if ((rv = auth_begin(c)) != KW_OK)
		return rv;
	rv = kw_piv_delete_cert(c->tok.piv, SLOT);
	if (rv == KW_OK || rv == KW_ERR_NOT_FOUND)
		rv = kw_piv_generate(c->tok.piv, SLOT, c->o->sign_alg, c->o->sign_pin_policy,
		    KW_PIV_TOUCH_POLICY_DEFAULT, pub);
	(void)kw_transport_end(c->tok.t);
	if (rv != KW_OK) {
		fprintf(stderr, "keyward: generating the key failed: %s\n", kw_strerror(rv));
		return rv;
	}
	json_object_del(c->jr.j, "sign_cert");
	if ((rv = kwcli_pubkey_id(*pub, id)) == KW_OK &&
	    (rv = kwcli_journal_set_str(&c->jr, "sign_key", id)) == KW_OK)
		rv = kwcli_journal_save(&c->jr);
	return rv;
}

/* Answers that mean "this token has no attestation for this key" (no
 * YubiKey extension, no F9 key or certificate, an imported key): the
 * enrollment goes on without one. Anything else (the token stopped
 * answering, an answer that is not a certificate) stops it. */
static bool
no_attestation(kw_rv rv)
{
	switch (rv) {
	case KW_ERR_INS_UNKNOWN: case KW_ERR_NOT_SUPPORTED: case KW_ERR_NOT_FOUND:
	case KW_ERR_CONDITIONS: case KW_ERR_WRONG_PARAMS: case KW_ERR_WRONG_DATA:
		return true;
	default:
		return false;
	}
}

/* Attestation of 9C and the F9 certificate, as PEM (both NULL when the
 * token has none). */
static kw_rv
attest(kwcli_enroll_ctx *c, char **leaf, char **f9)
{
	kw_buf a, b;
	kw_rv rv;

	*leaf = *f9 = NULL;
	kw_buf_init(&a, 1 << 16);
	kw_buf_init(&b, 1 << 16);
	rv = kw_piv_attest(c->tok.piv, SLOT, &a);
	if (rv == KW_OK)
		rv = kw_piv_read_cert(c->tok.piv, KW_PIV_SLOT_ATTEST, &b);
	if (rv == KW_OK) {
		*leaf = kwcli_der_to_pem("CERTIFICATE", a.data, a.len);
		*f9 = kwcli_der_to_pem("CERTIFICATE", b.data, b.len);
		if (*leaf == NULL || *f9 == NULL)
			rv = KW_ERR_NOMEM;
	}
	if (rv == KW_OK)
		json_object_set_new(c->res, "attestation", json_pack("[s,s]", *leaf, *f9));
	else {
		free(*leaf);
		free(*f9);
		*leaf = *f9 = NULL;
		if (no_attestation(rv)) {
			kwcli_progress(c, "the token gives no attestation (%s)", kw_strerror(rv));
			rv = KW_OK;
		} else
			fprintf(stderr, "keyward: the token failed at the attestation of the "
			    "signing key: %s\n", kw_strerror(rv));
	}
	kw_buf_free(&a);
	kw_buf_free(&b);
	return rv;
}

/* The signing certificate: from the journal if it was issued for this key
 * already, else from the KMS. */
static kw_rv
certify(kwcli_enroll_ctx *c, EVP_PKEY *pub, kw_buf *der)
{
	const char *jpem = kwcli_journal_str(&c->jr, "sign_cert");
	char *csr = NULL, *pem = NULL, *serial = NULL, *leaf = NULL, *f9 = NULL;
	const char *att[2];
	bool attested = false;
	kw_rv rv;

	if (jpem != NULL && kwcli_pem_to_der(jpem, der) == KW_OK &&
	    kwcli_cert_matches_key(der->data, der->len, pub))
		return KW_OK;
	if ((rv = attest(c, &leaf, &f9)) != KW_OK ||
	    (rv = kwcli_enroll_kms_session(c)) != KW_OK)
		goto fail;
	kwcli_progress(c, "the token signs the certificate request (PIN)");
	if ((rv = kwcli_csr_make(&c->tok, SLOT, pub, c->o->email, &c->pin, &csr)) != KW_OK) {
		fprintf(stderr, "keyward: the token could not sign the request: %s\n",
		    kw_strerror(rv));
		goto fail;
	}
	kwcli_progress(c, "asking the KMS for the signing certificate%s",
	    leaf != NULL ? " (with the token's attestation)" : "");
	att[0] = leaf;
	att[1] = f9;
	if ((rv = kwkms_sign_csr_attested(c->kms, csr, att, leaf != NULL ? 2 : 0, &pem,
	    &serial, &attested)) != KW_OK) {
		kwcli_kms_report(c->kms, "the KMS did not issue the signing certificate", rv);
		goto fail;
	}
	json_object_set_new(c->res, "attested_by_kms", json_boolean(attested));
	rv = KW_ERR_PROTOCOL;
	if (kwcli_pem_to_der(pem, der) != KW_OK ||
	    !kwcli_cert_matches_key(der->data, der->len, pub)) {
		fprintf(stderr, "keyward: the KMS sent a certificate for another key\n");
		goto fail;
	}
	if ((rv = kwcli_enroll_check_cert(c, der, X509_PURPOSE_SMIME_SIGN)) != KW_OK)
		goto fail;
	if ((rv = kwcli_journal_set_str(&c->jr, "sign_cert", pem)) == KW_OK)
		rv = kwcli_journal_save(&c->jr);
fail:
	free(csr);
	free(pem);
	free(serial);
	free(leaf);
	free(f9);
	return rv;
}

static kw_rv
write_cert(kwcli_enroll_ctx *c, const kw_buf *der, const char *id)
{
	kw_rv rv;

	kwcli_progress(c, "writing the signing certificate to slot 9C");
	if ((rv = auth_begin(c)) != KW_OK)
		return rv;
	rv = kw_piv_write_cert(c->tok.piv, SLOT, der->data, der->len);
	(void)kw_transport_end(c->tok.t);
	if (rv != KW_OK) {
		fprintf(stderr, "keyward: writing the certificate failed: %s\n", kw_strerror(rv));
		return rv;
	}
	if ((rv = kwcli_journal_set_str(&c->jr, "sign_complete", id)) == KW_OK)
		rv = kwcli_journal_save(&c->jr);
	return rv;
}

/* renew: remember the certificate being replaced (public data) ... */
static kw_rv
note_superseded(kwcli_enroll_ctx *c, const kw_buf *cur)
{
	kwcli_cert_info ci;

	if (c->o->mode != KWCLI_RENEW || kwcli_journal_str(&c->jr, "superseded") != NULL)
		return KW_OK;
	kwcli_cert_parse(cur, &ci);
	if (!ci.ok)
		return KW_OK;
	return kwcli_journal_set_str(&c->jr, "superseded", ci.serial);
}

/* ... and revoke it (reason superseded) once its successor is on the token.
 * A failure is reported, kept in the journal and retried by the next run;
 * the token is complete either way. */
static void
revoke_superseded(kwcli_enroll_ctx *c)
{
	const char *serial = kwcli_journal_str(&c->jr, "superseded");
	kw_rv rv;

	if (serial == NULL)
		return;
	kwcli_progress(c, "revoking the replaced signing certificate %s (superseded)", serial);
	rv = kwcli_enroll_kms_session(c);
	if (rv == KW_OK)
		rv = kwkms_revoke(c->kms, serial, 4);
	if (rv == KW_OK || (rv == KW_ERR_PROTOCOL && kwkms_status(c->kms) == 404)) {
		json_object_set_new(c->res, "superseded_revoked", json_string(serial));
		kwcli_journal_set_str(&c->jr, "superseded", NULL);
		(void)kwcli_journal_save(&c->jr);
	} else
		kwcli_kms_report(c->kms, "the replaced signing certificate is still valid", rv);
}

static void
report(kwcli_enroll_ctx *c, const kw_buf *der, bool reused)
{
	kwcli_cert_info ci;
	char *pem = kwcli_der_to_pem("CERTIFICATE", der->data, der->len);

	kwcli_cert_parse(der, &ci);
	json_object_set_new(c->res, "signing", json_pack("{s:s,s:s,s:s,s:s,s:b}",
	    "slot", "9c", "serial", ci.ok ? ci.serial : "", "not_after",
	    ci.ok ? ci.not_after : "", "cert", pem != NULL ? pem : "", "already_done", reused));
	free(pem);
}

kw_rv
kwcli_enroll_sign_slot(kwcli_enroll_ctx *c)
{
	const char *done = kwcli_journal_str(&c->jr, "sign_complete");
	const char *mine = kwcli_journal_str(&c->jr, "sign_key");
	EVP_PKEY *pub = NULL;
	kw_buf der, cur;
	char id[65] = "";
	bool has_cur;
	kw_rv rv;

	kw_buf_init(&der, 1 << 16);
	kw_buf_init(&cur, 1 << 16);
	if ((rv = slot_pubkey(c, &pub, NULL)) != KW_OK)
		goto fail;
	if (pub != NULL && (rv = kwcli_pubkey_id(pub, id)) != KW_OK)
		goto fail;
	has_cur = kw_piv_read_cert(c->tok.piv, SLOT, &cur) == KW_OK;
	if (pub == NULL && has_cur && !c->md_supported &&
	    (pub = cert_key(&cur)) != NULL && (rv = kwcli_pubkey_id(pub, id)) != KW_OK)
		goto fail;      /* no GET METADATA: our certificate stands for the key */
	if (pub != NULL && done != NULL && strcmp(done, id) == 0 && has_cur &&
	    kwcli_cert_matches_key(cur.data, cur.len, pub)) {
		kwcli_progress(c, "slot 9C: signing key and certificate already in place");
		report(c, &cur, true);
		goto fail;
	}
	if (pub == NULL || mine == NULL || strcmp(mine, id) != 0 || !c->md_supported) {
		if (has_cur && (rv = note_superseded(c, &cur)) != KW_OK)
			goto fail;
		EVP_PKEY_free(pub);
		pub = NULL;
		if ((rv = generate(c, &pub)) != KW_OK || (rv = kwcli_pubkey_id(pub, id)) != KW_OK)
			goto fail;
	} else
		kwcli_progress(c, "slot 9C: reusing the key generated by the interrupted run");
	if ((rv = certify(c, pub, &der)) != KW_OK || (rv = write_cert(c, &der, id)) != KW_OK)
		goto fail;
	report(c, &der, false);
	revoke_superseded(c);
fail:
	EVP_PKEY_free(pub);
	kw_buf_free(&der);
	kw_buf_free(&cur);
	return rv;
}
