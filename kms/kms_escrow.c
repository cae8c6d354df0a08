/* Escrowed encryption keys (see kms_escrow.h).
 *
 * Creation: the key pair is taken from the pool or generated in the HSM
 * (sensitive, extractable only by wrapping); its private key is wrapped
 * under the front's KEK (CKM_AES_KEY_WRAP_PAD), the wrapped blob is split
 * and each share goes to its share server, which seals it under its own
 * key. Then the HSM copy is destroyed: at rest the key exists only as
 * shares, each useless alone, and the recombined blob is still encrypted
 * under the KEK that never leaves the front's HSM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "kms_ca.h"
#include "kms_escrow.h"
#include "kms_share_client.h"
#include "kw_log.h"

kw_rv
kms_identity_get(kms_ctx *ctx, const char *email, char level[3], char **name,
    char **org)
{
	sqlite3_stmt *st;

	snprintf(level, 3, "V1");
	*name = NULL;
	*org = NULL;
	st = kms_db_prepare(ctx->db, "SELECT level, name, organization FROM identities"
	    " WHERE email = ?", "t", email);
	if (st == NULL)
		return KW_ERR_IO;
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(level, 3, "%.2s", (const char *)sqlite3_column_text(st, 0));
		*name = kms_db_text(st, 1);
		*org = kms_db_text(st, 2);
	}
	sqlite3_finalize(st);
	return KW_OK;
}

static kw_rv
escrow_split_store(kms_ctx *ctx, const char *label, const char *id, char *err,
    size_t errsz)
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
		goto fail;
	}
	rv = kms_shares_store(ctx, id, shares, err, errsz);
fail:
	kw_buf_free(&blob);
	for (i = 0; i < KMS_MAX_SHARES; i++)
		kw_buf_free(&shares[i]);
	return rv;
}

static kw_rv
record(kms_ctx *ctx, const char *email, const char *id, EVP_PKEY *pub,
    char serial[33], char *err, size_t errsz)
{
	kms_cert_req r = { email, KMS_CERT_ENC, NULL, NULL, NULL, pub,
		ctx->cfg.enc_validity_days };
	char level[3], *name = NULL, *org = NULL;
	kw_buf der;
	time_t not_after;
	kw_rv rv;

	kw_buf_init(&der, 1 << 16);
	if ((rv = kms_identity_get(ctx, email, level, &name, &org)) != KW_OK ||
	    (rv = kms_db_begin(ctx->db)) != KW_OK)
		goto fail;
	r.profile = level;
	r.name = name;
	r.organization = org;
	if ((rv = kms_ca_issue(ctx, &r, &der, serial, &not_after)) != KW_OK ||
	    (rv = kms_db_exec(ctx->db, "INSERT INTO enc_keys (id, email, seq, alg, serial,"
	    " not_after, created, split, threshold, shares) VALUES (?, ?, (SELECT"
	    " COALESCE(MAX(seq), 0) + 1 FROM enc_keys WHERE email = ?), ?, ?, ?, ?, ?, ?, ?)",
	    "tttttiitii", id, email, email, ctx->cfg.enc_key_type, serial,
	    (int64_t)not_after, (int64_t)kms_now(), ctx->cfg.split,
	    (int64_t)ctx->cfg.threshold, (int64_t)ctx->cfg.share_count)) != KW_OK ||
	    (rv = kms_db_commit(ctx->db)) != KW_OK) {
		kms_db_rollback(ctx->db);
		snprintf(err, errsz, "cannot issue or record the encryption certificate");
	}
fail:
	free(name);
	free(org);
	kw_buf_free(&der);
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

kw_rv
kms_escrow_create(kms_ctx *ctx, const char *email, const char *client,
    const char *reason, char *err, size_t errsz)
{
	char id[33], label[40], serial[33] = "";
	kms_key_type type = kms_key_type_parse(ctx->cfg.enc_key_type);
	EVP_PKEY *pub = NULL;
	bool pooled, stored = false;
	kw_rv rv;

	if ((rv = kms_random_hex(id, 16)) != KW_OK)
		return rv;
	snprintf(label, sizeof(label), "esc-%s", id);
	pooled = kms_pool_take(ctx, label) == KW_OK;
	if (!pooled && (rv = kms_hsm_gen_keypair(ctx->hsm, type, label, true, NULL)) != KW_OK) {
		snprintf(err, errsz, "the HSM could not generate a key pair");
		return rv;
	}
	if ((pub = public_key(ctx, label)) == NULL) {
		snprintf(err, errsz, "cannot read the new public key");
		rv = KW_ERR_CRYPTO;
		goto fail;
	}
	if ((rv = escrow_split_store(ctx, label, id, err, errsz)) != KW_OK)
		goto fail;
	stored = true;
	if ((rv = record(ctx, email, id, pub, serial, err, errsz)) != KW_OK)
		goto fail;
	kms_audit(ctx, "issue", email, client, json_pack("{s:s,s:s,s:s,s:s,s:b}",
	    "kind", "enc", "serial", serial, "key_id", id, "reason", reason,
	    "pooled", pooled));
fail:
	if (rv != KW_OK && stored)
		kms_shares_delete(ctx, id);
	/* At rest the key now exists only as shares. */
	if (kms_hsm_destroy(ctx->hsm, label) != KW_OK)
		kw_err("escrow: cannot destroy the HSM copy of %s", label);
	EVP_PKEY_free(pub);
	return rv;
}

kw_rv
kms_escrow_list(kms_ctx *ctx, const char *email, kms_escrow_key *keys, size_t max,
    size_t *n)
{
	sqlite3_stmt *st;
	int r;

	*n = 0;
	st = kms_db_prepare(ctx->db, "SELECT id, seq, alg, serial, not_after FROM enc_keys"
	    " WHERE email = ? ORDER BY seq DESC", "t", email);
	if (st == NULL)
		return KW_ERR_IO;
	while (*n < max && (r = sqlite3_step(st)) == SQLITE_ROW) {
		kms_escrow_key *k = &keys[*n];
		snprintf(k->id, sizeof(k->id), "%s", (const char *)sqlite3_column_text(st, 0));
		k->seq = sqlite3_column_int64(st, 1);
		snprintf(k->alg, sizeof(k->alg), "%s", (const char *)sqlite3_column_text(st, 2));
		snprintf(k->serial, sizeof(k->serial), "%s",
		    (const char *)sqlite3_column_text(st, 3));
		k->not_after = sqlite3_column_int64(st, 4);
		(*n)++;
	}
	sqlite3_finalize(st);
	return KW_OK;
}

kw_rv
kms_escrow_wrap_for(kms_ctx *ctx, const kms_escrow_key *k, kw_view client_spki,
    kw_buf *enc_transport_key, kw_buf *wrapped_key, char *err, size_t errsz)
{
	kw_buf bufs[KMS_MAX_SHARES], blob;
	kw_view views[KMS_MAX_SHARES];
	unsigned got = 0, i;
	kw_rv rv;

	kw_buf_init(&blob, 1 << 14);
	for (i = 0; i < KMS_MAX_SHARES; i++)
		kw_buf_init(&bufs[i], 1 << 14);
	if ((rv = kms_shares_fetch(ctx, k->id, bufs, views, &got, err, errsz)) != KW_OK)
		goto fail;
	if ((rv = kms_combine(views, got, strcmp(ctx->cfg.split, "xor") == 0, &blob)) != KW_OK ||
	    (rv = kms_hsm_rewrap_for_client(ctx->hsm, KMS_LABEL_KEK,
	    kms_key_type_parse(k->alg), kw_buf_view(&blob), client_spki,
	    enc_transport_key, wrapped_key)) != KW_OK)
		snprintf(err, errsz, "the recovered key %s does not unwrap in the HSM", k->id);
fail:
	kw_buf_free(&blob);
	for (i = 0; i < KMS_MAX_SHARES; i++)
		kw_buf_free(&bufs[i]);
	return rv;
}
