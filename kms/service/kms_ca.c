/* S/MIME certificates: CA creation, issuance by profile, CRL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "kms_ca.h"
#include "kms_ca_int.h"
#include "kw_log.h"

#define DAY 86400L

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

static int
set_serial(X509 *x, char serial[33])
{
	uint8_t b[16];
	BIGNUM *bn;
	int ok;

	if (kms_random(b, sizeof(b)) != KW_OK)
		return 0;
	b[0] = (uint8_t)((b[0] & 0x7f) | 0x40); /* positive, 16 bytes */
	kw_hex_encode(b, sizeof(b), serial, 33);
	bn = BN_bin2bn(b, sizeof(b), NULL);
	ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok;
}

static int
set_validity(X509 *x, time_t nb, long days)
{
	return ASN1_TIME_set(X509_getm_notBefore(x), nb) != NULL &&
	    ASN1_TIME_set(X509_getm_notAfter(x), nb + days * DAY) != NULL;
}

static int
name_add(X509_NAME *n, const char *field, const char *v)
{
	return X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8,
	    (const unsigned char *)v, -1, -1, 0);
}

static kw_rv
write_ca(kms_ctx *ctx, kw_view der)
{
	char *pem = kms_der_to_pem("CERTIFICATE", der), *path;
	kw_rv rv = KW_ERR_NOMEM;

	if (pem != NULL && (path = kms_path(ctx->cfg.state_dir, "ca.crt")) != NULL) {
		rv = kms_file_write(path, pem, strlen(pem), 0644);
		free(path);
	}
	free(pem);
	return rv;
}

kw_rv
kms_ca_create(kms_ctx *ctx)
{
	kms_key_type type = kms_key_type_parse(ctx->cfg.ca_key_type);
	kw_buf spki, der;
	const unsigned char *p;
	EVP_PKEY *pub = NULL;
	X509 *x = NULL;
	char serial[33];
	struct kms_ca ca = { 0 };
	kw_rv rv;

	kw_buf_init(&spki, 4096);
	kw_buf_init(&der, 1 << 16);
	if ((rv = kms_hsm_gen_keypair(ctx->hsm, type, KMS_LABEL_CA, false, &spki)) != KW_OK)
		goto fail;
	rv = KW_ERR_CRYPTO;
	p = spki.data;
	if ((pub = d2i_PUBKEY(NULL, &p, (long)spki.len)) == NULL ||
	    (x = X509_new()) == NULL || !X509_set_version(x, 2) ||
	    !set_serial(x, serial) || !set_validity(x, kms_now() - 3600,
	    ctx->cfg.ca_validity_days) ||
	    !name_add(X509_get_subject_name(x), "CN", ctx->cfg.ca_name) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(x)) ||
	    !X509_set_pubkey(x, pub) ||
	    !add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") ||
	    !add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    !add_ext(x, x, NID_subject_key_identifier, "hash"))
		goto fail;
	ca.type = type;
	ctx->ca = &ca;
	if ((rv = kms_ca_template_key(type, &ca.tmpl)) == KW_OK &&
	    (rv = kms_ca_sign_cert(ctx, x, &der)) == KW_OK)
		rv = write_ca(ctx, kw_buf_view(&der));
	ctx->ca = NULL;
fail:
	EVP_PKEY_free(ca.tmpl);
	EVP_PKEY_free(pub);
	X509_free(x);
	kw_buf_free(&spki);
	kw_buf_free(&der);
	return rv;
}

kw_rv
kms_ca_load(kms_ctx *ctx)
{
	char *path = kms_path(ctx->cfg.state_dir, "ca.crt");
	struct kms_ca *ca = calloc(1, sizeof(*ca));
	kw_buf pem;
	BIO *b = NULL;
	kw_rv rv = KW_ERR_IO;

	kw_buf_init(&pem, 1 << 16);
	if (path == NULL || ca == NULL) {
		rv = KW_ERR_NOMEM;
		goto fail;
	}
	ca->type = kms_key_type_parse(ctx->cfg.ca_key_type);
	if (kms_file_read(path, &pem, 1 << 16) != KW_OK ||
	    kw_buf_put_u8(&pem, 0) != KW_OK ||
	    (b = BIO_new_mem_buf(pem.data, (int)pem.len - 1)) == NULL ||
	    (ca->cert = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL ||
	    (ca->pem = strdup((const char *)pem.data)) == NULL)
		goto fail;
	if (!kms_hsm_has(ctx->hsm, KMS_LABEL_CA)) {
		kw_err("ca: no CA key in the HSM");
		goto fail;
	}
	if ((rv = kms_ca_template_key(ca->type, &ca->tmpl)) != KW_OK)
		goto fail;
	ctx->ca = ca;
	ca = NULL;
fail:
	BIO_free(b);
	kw_buf_free(&pem);
	free(path);
	kms_ca_free(&ca);
	return rv;
}

void
kms_ca_free(kms_ca **cap)
{
	kms_ca *ca = *cap;

	if (ca == NULL)
		return;
	X509_free(ca->cert);
	EVP_PKEY_free(ca->tmpl);
	free(ca->pem);
	free(ca);
	*cap = NULL;
}

const char *
kms_ca_pem(const kms_ctx *ctx)
{
	return ctx->ca->pem;
}

static int
add_san(X509 *x, const char *email)
{
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
	int ok = 0;

	if (gens == NULL || gn == NULL || ia5 == NULL ||
	    !ASN1_STRING_set(ia5, email, (int)strlen(email)))
		goto fail;
	GENERAL_NAME_set0_value(gn, GEN_EMAIL, ia5);
	ia5 = NULL;
	if (!sk_GENERAL_NAME_push(gens, gn))
		goto fail;
	gn = NULL;
	ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0) == 1;
fail:
	ASN1_IA5STRING_free(ia5);
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(gens);
	return ok;
}

static int
set_subject(X509 *x, const kms_cert_req *r)
{
	X509_NAME *n = X509_get_subject_name(x);
	bool named = strcmp(r->profile, "V2") == 0 || strcmp(r->profile, "V4") == 0;
	bool org = strcmp(r->profile, "V3") == 0 || strcmp(r->profile, "V4") == 0;

	if (org && (r->organization == NULL || !name_add(n, "O", r->organization)))
		return 0;
	if (named && r->name == NULL)
		return 0;
	return name_add(n, "CN", named ? r->name : r->email);
}

static int
add_policy(X509 *x, const char *oid)
{
	CERTIFICATEPOLICIES *pols = CERTIFICATEPOLICIES_new();
	POLICYINFO *pi = POLICYINFO_new();
	int ok = 0;

	if (pols == NULL || pi == NULL ||
	    (pi->policyid = OBJ_txt2obj(oid, 1)) == NULL || !sk_POLICYINFO_push(pols, pi))
		goto fail;
	pi = NULL;
	ok = X509_add1_ext_i2d(x, NID_certificate_policies, pols, 0, 0) == 1;
fail:
	POLICYINFO_free(pi);
	CERTIFICATEPOLICIES_free(pols);
	return ok;
}

static int
add_profile_exts(X509 *x, X509 *issuer, const kms_cert_req *r)
{
	static const char *const policy[] = { KMS_POLICY_V1, KMS_POLICY_V2, KMS_POLICY_V3,
		KMS_POLICY_V4 };
	const char *ku;
	int level = r->profile[0] == 'V' && r->profile[1] >= '1' && r->profile[1] <= '4' ?
	    r->profile[1] - '1' : -1;
	bool ec = EVP_PKEY_get_base_id(r->pub) == EVP_PKEY_EC;

	if (r->kind == KMS_CERT_SIGN)
		ku = "critical,digitalSignature,nonRepudiation";
	else
		ku = ec ? "critical,keyAgreement" : "critical,keyEncipherment";
	if (level < 0)
		return 0;
	return add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") &&
	    add_ext(x, issuer, NID_key_usage, ku) &&
	    add_ext(x, issuer, NID_ext_key_usage, "emailProtection") &&
	    add_ext(x, issuer, NID_subject_key_identifier, "hash") &&
	    add_ext(x, issuer, NID_authority_key_identifier, "keyid:always") &&
	    add_policy(x, policy[level]) && add_san(x, r->email);
}

static bool
profile_ok(const char *p)
{
	return p != NULL && p[0] == 'V' && p[1] >= '1' && p[1] <= '4' && p[2] == '\0';
}

kw_rv
kms_ca_issue(kms_ctx *ctx, const kms_cert_req *r, kw_buf *der, char serial[33],
    time_t *not_before, time_t *not_after)
{
	X509 *x = NULL;
	time_t nb = kms_now() - 300;
	kw_rv rv = KW_ERR_CRYPTO;

	if (!profile_ok(r->profile) || r->pub == NULL || r->days < 1)
		return KW_ERR_ARG;
	if ((x = X509_new()) == NULL || !X509_set_version(x, 2) ||
	    !set_serial(x, serial) || !set_validity(x, nb, r->days) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ctx->ca->cert)) ||
	    !set_subject(x, r) || !X509_set_pubkey(x, r->pub) ||
	    !add_profile_exts(x, ctx->ca->cert, r)) {
		kw_err("ca: cannot build the certificate: %s",
		    ERR_error_string(ERR_get_error(), NULL));
		goto fail;
	}
	if ((rv = kms_ca_sign_cert(ctx, x, der)) != KW_OK)
		goto fail;
	*not_after = nb + r->days * DAY;
	if (not_before != NULL)
		*not_before = nb;
fail:
	X509_free(x);
	return rv;
}

static int
crl_add(X509_CRL *crl, const char *serial, time_t when, long reason)
{
	X509_REVOKED *rev = X509_REVOKED_new();
	ASN1_TIME *t = ASN1_TIME_set(NULL, when);
	ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	int ok = 0;

	if (rev == NULL || t == NULL || e == NULL || !BN_hex2bn(&bn, serial) ||
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_REVOKED_set_serialNumber(rev, ai) ||
	    !X509_REVOKED_set_revocationDate(rev, t) || !ASN1_ENUMERATED_set(e, reason) ||
	    !X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, e, 0, 0) ||
	    !X509_CRL_add0_revoked(crl, rev))
		goto fail;
	rev = NULL;
	ok = 1;
fail:
	X509_REVOKED_free(rev);
	ASN1_TIME_free(t);
	ASN1_ENUMERATED_free(e);
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return ok;
}

/* CRL number (the issue time: increasing) and the CA's key identifier. */
static int
crl_exts(kms_ctx *ctx, X509_CRL *crl)
{
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	X509V3_CTX v3;
	X509_EXTENSION *aki;
	int ok;

	X509V3_set_ctx(&v3, ctx->ca->cert, NULL, NULL, crl, 0);
	aki = X509V3_EXT_conf_nid(NULL, &v3, NID_authority_key_identifier, "keyid:always");
	ok = num != NULL && aki != NULL && ASN1_INTEGER_set_int64(num, (int64_t)kms_now()) &&
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1 &&
	    X509_CRL_add_ext(crl, aki, -1) == 1;
	ASN1_INTEGER_free(num);
	X509_EXTENSION_free(aki);
	return ok;
}

static kw_rv
on_revoked(void *arg, const char *serial, int64_t when, long reason)
{
	return crl_add(arg, serial, (time_t)when, reason) ? KW_OK : KW_ERR_CRYPTO;
}

kw_rv
kms_ca_crl(kms_ctx *ctx, kw_buf *der)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *now = ASN1_TIME_set(NULL, kms_now());
	ASN1_TIME *next = ASN1_TIME_set(NULL, kms_now() + ctx->cfg.crl_validity_days * DAY);
	kw_rv rv = KW_ERR_CRYPTO;

	if (crl == NULL || now == NULL || next == NULL || !X509_CRL_set_version(crl, 1) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ctx->ca->cert)) ||
	    !X509_CRL_set1_lastUpdate(crl, now) || !X509_CRL_set1_nextUpdate(crl, next))
		goto fail;
	if ((rv = kms_store_revoked(ctx->store, on_revoked, crl)) != KW_OK)
		goto fail;
	rv = KW_ERR_CRYPTO;
	if (!X509_CRL_sort(crl) || !crl_exts(ctx, crl))
		goto fail;
	rv = kms_ca_sign_crl(ctx, crl, der);
fail:
	ASN1_TIME_free(now);
	ASN1_TIME_free(next);
	X509_CRL_free(crl);
	return rv;
}
