/* Escrowed encryption keys: creation and delivery.
 *
 * Creation: an intent is recorded first (with the HSM label of the key:
 * a pool key claimed in the same transaction, or a fresh esc-<id>), so a
 * crash at any later point leaves a record that reconciliation follows.
 * The key's private half is wrapped under the front's KEK
 * (CKM_AES_KEY_WRAP_PAD), the blob split and the shares stored on all
 * share servers at once; then the certificate is issued and key, certificate
 * and audit entry committed in one transaction that also drops the
 * intent. Last the HSM copy is destroyed: at rest the key exists only as
 * shares, each useless alone, and the recombined blob is still encrypted
 * under the KEK that never leaves the front's HSM. Any failure deletes
 * the shares and the HSM copy, and the intent only once both are gone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "kms_ca.h"
#include "kms_service.h"
#include "kms_share_client.h"
#include "kw_log.h"

static kw_rv
split_store(kms_ctx *ctx, const char *label, const char *id, char *err, size_t errsz)
{
	kw_buf blob, shares[KMS_MAX_SHARES];
	bool xor_split = strcmp(ctx->cfg.split, "xor") == 0;
	long i;
	kw_rv rv;

	kw_buf_init(&blob, 1 << 14);
	for (i = 0; i < KMS_MAX_SHARES; i++)
		kw_buf_init(&shares[i], 1 << 14);
	if ((rv = kms_hsm_wrap_private(ctx->hsm, KMS_LABEL_KEK, label, &blob)) != KW_OK ||
	    (rv = kms_split(kw_buf_view(&blob), (unsigned)ctx->cfg.threshold,
	    (unsigned)ctx->cfg.share_count, xor_split, shares)) != KW_OK) {
		snprintf(err, errsz, "the HSM could not wrap the new key");
		rv = KW_ERR_CRYPTO;
		goto fail;
	}
	rv = kms_shares_store(ctx->shares, id, shares, err, errsz);
fail:
	kw_buf_free(&blob);
	for (i = 0; i < KMS_MAX_SHARES; i++)
		kw_buf_free(&shares[i]);
	return rv;
}

static EVP_PKEY *
public_key(kms_ctx *ctx, const char *label)
{
	kw_buf spki;
	const unsigned char *p;
	EVP_PKEY *pk = NULL;

	kw_buf_init(&spki, 4096);
	if (kms_hsm_get_spki(ctx->hsm, label, &spki) == KW_OK) {
		p = spki.data;
		pk = d2i_PUBKEY(NULL, &p, (long)spki.len);
	}
	kw_buf_free(&spki);
	return pk;
}

struct made {
	const char *email, *id, *client, *reason;
	bool pooled;
	int64_t expect_seq;
};

/* Issue the certificate and commit key + certificate + audit entry. */
static kw_rv
record(kms_ctx *ctx, const struct made *m, EVP_PKEY *pub, char *err, size_t errsz)
{
	kms_cert_req r = { m->email, KMS_CERT_ENC, NULL, NULL, NULL, pub,
		ctx->cfg.enc_validity_days };
	char level[3], *name = NULL, *org = NULL, serial[33];
	kms_cert_rec rec;
	kms_audit_ev ev = { "issue", m->email, m->client, NULL };
	kw_buf der;
	time_t nb, na;
	kw_rv rv;

	kw_buf_init(&der, 1 << 16);
	if ((rv = kms_store_identity_get(ctx->store, m->email, level, &name, &org)) != KW_OK) {
		snprintf(err, errsz, "cannot read the identity level");
		goto fail;
	}
	r.profile = level;
	r.name = name;
	r.organization = org;
	if ((rv = kms_ca_issue(ctx, &r, &der, serial, &nb, &na)) != KW_OK) {
		snprintf(err, errsz, "the CA could not issue the encryption certificate");
		goto fail;
	}
	rec = (kms_cert_rec){ serial, m->email, "enc", level, nb, na, kw_buf_view(&der) };
	if ((ev.detail = json_pack("{s:s,s:s,s:s,s:s,s:b}", "kind", "enc", "serial", serial,
	    "key_id", m->id, "reason", m->reason, "pooled", m->pooled)) == NULL) {
		rv = KW_ERR_NOMEM;
		goto fail;
	}
	rv = kms_store_escrow_put(ctx->store, m->email, m->id, ctx->cfg.enc_key_type,
	    ctx->cfg.split, ctx->cfg.threshold, ctx->cfg.share_count, &rec, m->expect_seq,
	    kms_now(), &ev);
	if (rv == KW_ERR_IO)
		snprintf(err, errsz, "the key could not be recorded (storage or audit "
		    "unavailable); nothing was changed");
fail:
	json_decref(ev.detail);
	free(name);
	free(org);
	kw_buf_free(&der);
	return rv;
}

/* Undo a creation that did not commit: shares, HSM copy, then intent. */
static void
undo(kms_ctx *ctx, const struct made *m, const char *label, bool stored)
{
	char err[300] = "";
	kms_audit_ev ev = { "escrow_aborted", m->email, m->client, NULL };

	if (stored && kms_shares_delete(ctx->shares, m->id, err, sizeof(err)) != KW_OK) {
		kw_warn("escrow: %s; key %s left for reconciliation", err, m->id);
		return;
	}
	if (kms_hsm_has(ctx->hsm, label) && kms_hsm_destroy(ctx->hsm, label) != KW_OK)
		return;
	ev.detail = json_pack("{s:s}", "key_id", m->id);
	if (kms_store_escrow_abort(ctx->store, m->id, &ev) != KW_OK)
		kw_warn("escrow: intent %s left for reconciliation", m->id);
	json_decref(ev.detail);
}

kw_rv
kms_escrow_create(kms_ctx *ctx, const char *email, const char *client,
    const char *reason, int64_t expect_seq, bool *made, char *err, size_t errsz)
{
	struct made m = { email, NULL, client, reason, false, expect_seq };
	char id[33], label[48];
	kms_key_type type = kms_key_type_parse(ctx->cfg.enc_key_type);
	EVP_PKEY *pub = NULL;
	bool stored = false;
	kw_rv rv;

	*made = false;
	if ((rv = kms_random_hex(id, 16)) != KW_OK)
		return rv;
	m.id = id;
	if ((rv = kms_store_escrow_begin(ctx->store, id, ctx->pool != NULL, kms_now(), label,
	    &m.pooled)) != KW_OK) {
		snprintf(err, errsz, "cannot record the new key (storage unavailable)");
		return rv;
	}
	kms_pool_wake(ctx);
	if (!m.pooled && (rv = kms_hsm_gen_keypair(ctx->hsm, type, label, true, NULL)) != KW_OK) {
		snprintf(err, errsz, "the HSM could not generate a key pair");
		goto fail;
	}
	if ((pub = public_key(ctx, label)) == NULL) {
		snprintf(err, errsz, "cannot read the new public key");
		rv = KW_ERR_CRYPTO;
		goto fail;
	}
	stored = true; /* from here on a share may exist */
	if ((rv = split_store(ctx, label, id, err, errsz)) != KW_OK ||
	    (rv = record(ctx, &m, pub, err, errsz)) != KW_OK)
		goto fail;
	*made = true;
	/* At rest the key now exists only as shares. */
	if (kms_hsm_destroy(ctx->hsm, label) != KW_OK)
		kw_err("escrow: cannot destroy the HSM copy of %s (reconciled at start)", label);
	EVP_PKEY_free(pub);
	return KW_OK;
fail:
	undo(ctx, &m, label, stored);
	EVP_PKEY_free(pub);
	if (rv == KW_ERR_CONDITIONS) /* someone else made the key meanwhile */
		rv = KW_OK;
	return rv;
}

kw_rv
kms_rotation_check(kms_ctx *ctx, const char *email, const char *client, char *err,
    size_t errsz)
{
	int64_t seq = 0, not_after = 0;
	bool made;
	kw_rv rv;

	rv = kms_store_escrow_current(ctx->store, email, &seq, &not_after);
	if (rv != KW_OK && rv != KW_ERR_NOT_FOUND) {
		snprintf(err, errsz, "cannot read the keys (storage unavailable)");
		return rv;
	}
	if (rv == KW_OK && not_after - (int64_t)kms_now() >
	    (int64_t)ctx->cfg.rotate_before_days * 86400)
		return KW_OK;
	return kms_escrow_create(ctx, email, client, seq == 0 ? "enrollment" : "rotation",
	    seq, &made, err, errsz);
}
