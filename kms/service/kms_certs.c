/* Certificates as a service: signing certificates from token CSRs,
 * revocation, the CRL, the directory and identity levels. Each issuance
 * is recorded with its audit entry in one store call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kms_ca.h"
#include "kms_service.h"

void
kms_issued_clear(kms_issued *i)
{
	free(i->pem);
	memset(i, 0, sizeof(*i));
}

kw_rv
kms_sign_cert(kms_ctx *ctx, const char *email, EVP_PKEY *pub, bool attested,
    const char *client, kms_issued *out)
{
	char *name = NULL, *org = NULL;
	kms_cert_req r = { 0 };
	kms_cert_rec rec;
	kms_audit_ev ev = { "issue", email, client, NULL };
	kw_buf der;
	time_t nb, na;
	kw_rv rv;

	memset(out, 0, sizeof(*out));
	kw_buf_init(&der, 1 << 16);
	if ((rv = kms_store_identity_get(ctx->store, email, out->profile, &name, &org)) != KW_OK)
		goto fail;
	r.email = email;
	r.kind = KMS_CERT_SIGN;
	r.profile = out->profile;
	r.name = name;
	r.organization = org;
	r.pub = pub;
	r.days = ctx->cfg.sign_validity_days;
	if ((rv = kms_ca_issue(ctx, &r, &der, out->serial, &nb, &na)) != KW_OK)
		goto fail;
	out->not_after = na;
	rec = (kms_cert_rec){ out->serial, email, "sign", out->profile, nb, na,
		kw_buf_view(&der) };
	if ((ev.detail = json_pack("{s:s,s:s,s:s,s:b}", "kind", "sign", "serial",
	    out->serial, "profile", out->profile, "attested", attested)) == NULL) {
		rv = KW_ERR_NOMEM;
		goto fail;
	}
	if ((rv = kms_store_cert_put(ctx->store, &rec, &ev)) != KW_OK)
		goto fail;
	if ((out->pem = kms_der_to_pem("CERTIFICATE", kw_buf_view(&der))) == NULL)
		rv = KW_ERR_NOMEM;
fail:
	json_decref(ev.detail);
	free(name);
	free(org);
	kw_buf_free(&der);
	return rv;
}

kw_rv
kms_revoke(kms_ctx *ctx, const char *serial, long reason, const char *owner,
    const char *client)
{
	return kms_store_revoke(ctx->store, serial, owner, kms_now(), reason, client);
}

kw_rv
kms_crl(kms_ctx *ctx, kw_buf *der)
{
	return kms_ca_crl(ctx, der);
}

kw_rv
kms_directory_get(kms_ctx *ctx, const char *email, char **pem, char serial[33],
    int64_t *not_after)
{
	kw_buf der;
	kw_rv rv;

	*pem = NULL;
	kw_buf_init(&der, 1 << 16);
	if ((rv = kms_store_directory(ctx->store, email, &der, serial, not_after)) == KW_OK &&
	    (*pem = kms_der_to_pem("CERTIFICATE", kw_buf_view(&der))) == NULL)
		rv = KW_ERR_NOMEM;
	kw_buf_free(&der);
	return rv;
}

kw_rv
kms_identity_set(kms_ctx *ctx, const char *email, const char *level, const char *name,
    const char *org, const char *client)
{
	kms_audit_ev ev = { "identity", email, client, NULL };
	kw_rv rv;

	if ((ev.detail = json_pack("{s:s}", "level", level)) == NULL)
		return KW_ERR_NOMEM;
	rv = kms_store_identity_put(ctx->store, email, level, name, org, &ev);
	json_decref(ev.detail);
	return rv;
}
