/* Attestation (YubiKey F9): an X.509 certificate for a key generated on the
 * token, signed by the slot F9 key, issued under the F9 certificate (object
 * 5FFF01), with Yubico-style extensions (1.3.6.1.4.1.41482.3.x: firmware
 * 3.3, serial 3.7, PIN/touch policy 3.8, form factor 3.9). Like a
 * YubiKey's, the statement copies the F9 certificate's validity (the F9
 * certificate is created valid 2016-03-14 to 2052-04-17) and is named
 * "CN=YubiKey PIV Attestation <slot>". */
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "vcard.h"
#include "kw_tlv.h"

#define TAG_ATTEST_CERT 0x5FFF01

static kw_rv
set_random_serial(X509 *x)
{
	uint8_t r[16];
	BIGNUM *bn;
	kw_rv rv = KW_ERR_CRYPTO;

	if (vc_random(r, sizeof(r)) != KW_OK)
		return KW_ERR_CRYPTO;
	r[0] &= 0x7F;
	r[0] |= 0x40;
	if ((bn = BN_bin2bn(r, sizeof(r), NULL)) == NULL)
		return KW_ERR_NOMEM;
	if (BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL)
		rv = KW_OK;
	BN_free(bn);
	return rv;
}

static kw_rv
add_ext(X509 *x, const char *oid, const uint8_t *p, size_t n)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	kw_rv rv = KW_ERR_CRYPTO;

	if (obj == NULL || os == NULL || ASN1_OCTET_STRING_set(os, p, (int)n) != 1)
		goto fail;
	if ((ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) == NULL ||
	    X509_add_ext(x, ext, -1) != 1)
		goto fail;
	rv = KW_OK;
fail:
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return rv;
}

static kw_rv
add_yubico_exts(const vcard_card *c, X509 *x, const vc_key *k)
{
	uint8_t ser[8], pol[2] = { k->pin_policy, k->touch_policy }, form = 0x01;
	ASN1_INTEGER *ai = ASN1_INTEGER_new();
	unsigned char *der = NULL;
	int n;
	kw_rv rv = KW_ERR_CRYPTO;

	if (ai == NULL || ASN1_INTEGER_set_int64(ai, (int64_t)c->serial) != 1 ||
	    (n = i2d_ASN1_INTEGER(ai, &der)) <= 0 || (size_t)n > sizeof(ser))
		goto fail;
	memcpy(ser, der, (size_t)n);
	if (add_ext(x, "1.3.6.1.4.1.41482.3.3", c->version, 3) != KW_OK ||
	    add_ext(x, "1.3.6.1.4.1.41482.3.7", ser, (size_t)n) != KW_OK ||
	    add_ext(x, "1.3.6.1.4.1.41482.3.8", pol, 2) != KW_OK ||
	    add_ext(x, "1.3.6.1.4.1.41482.3.9", &form, 1) != KW_OK)
		goto fail;
	rv = KW_OK;
fail:
	OPENSSL_free(der);
	ASN1_INTEGER_free(ai);
	return rv;
}

/* Object content for a certificate container: 70 cert 71 00 FE 00. */
static kw_rv
store_cert(vcard_card *c, uint32_t tag, const X509 *x)
{
	unsigned char *der = NULL;
	kw_buf b;
	int n;
	kw_rv rv = KW_ERR_CRYPTO;

	kw_buf_init(&b, VC_OBJ_MAX + 16);
	if ((n = i2d_X509(x, &der)) <= 0)
		goto fail;
	if ((rv = kw_tlv_put(&b, 0x70, der, (size_t)n)) != KW_OK ||
	    (rv = kw_tlv_put(&b, 0x71, "", 1)) != KW_OK ||
	    (rv = kw_tlv_put(&b, 0xFE, NULL, 0)) != KW_OK)
		goto fail;
	b.data[b.len - 3] = 0x00;
	rv = vc_obj_set(c, tag, b.data, b.len);
fail:
	OPENSSL_free(der);
	kw_buf_free(&b);
	return rv;
}

static X509 *
load_f9_cert(vcard_card *c)
{
	vc_object *o = vc_obj_find(c, TAG_ATTEST_CERT);
	kw_view v, der;
	const unsigned char *p;

	if (o == NULL)
		return NULL;
	v = kw_buf_view(&o->data);
	if (kw_tlv_find(v, 0x70, &der) != KW_OK)
		return NULL;
	p = der.ptr;
	return d2i_X509(NULL, &p, (long)der.len);
}

static kw_rv
name_cn(X509_NAME *name, const char *cn)
{
	return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) == 1 ? KW_OK : KW_ERR_CRYPTO;
}

kw_rv
vc_attest_init(vcard_card *c)
{
	vc_key *k = vc_key_slot(c, VC_SLOT_ATTEST);
	X509 *x = NULL;
	X509_NAME *subj = NULL;
	EVP_PKEY *signer;
	X509V3_CTX v3;
	X509_EXTENSION *bc = NULL;
	kw_rv rv = KW_ERR_CRYPTO;

	if (k == NULL || (rv = vc_key_make(k, VC_ALG_RSA2048)) != KW_OK)
		return rv == KW_OK ? KW_ERR_INTERNAL : rv;
	rv = KW_ERR_CRYPTO;
	k->pin_policy = VC_PIN_NEVER;
	k->touch_policy = VC_TOUCH_NEVER;
	k->origin = VC_ORIGIN_GENERATED;
	signer = c->attest_ca_key != NULL ? c->attest_ca_key : k->pkey;
	if ((x = X509_new()) == NULL || (subj = X509_NAME_new()) == NULL ||
	    X509_set_version(x, 2) != 1 || set_random_serial(x) != KW_OK ||
	    name_cn(subj, "keyward vcard PIV Attestation") != KW_OK ||
	    X509_set_subject_name(x, subj) != 1 ||
	    X509_set_issuer_name(x, c->attest_ca_cert != NULL ?
	    X509_get_subject_name(c->attest_ca_cert) : subj) != 1 ||
	    ASN1_TIME_set_string_X509(X509_getm_notBefore(x), "20160314000000Z") != 1 ||
	    ASN1_TIME_set_string_X509(X509_getm_notAfter(x), "20520417000000Z") != 1 ||
	    X509_set_pubkey(x, k->pkey) != 1)
		goto fail;
	X509V3_set_ctx(&v3, c->attest_ca_cert != NULL ? c->attest_ca_cert : x, x, NULL, NULL, 0);
	if ((bc = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE")) == NULL ||
	    X509_add_ext(x, bc, -1) != 1 ||
	    add_ext(x, "1.3.6.1.4.1.41482.3.3", c->version, 3) != KW_OK ||
	    X509_sign(x, signer, EVP_sha256()) <= 0)
		goto fail;
	c->dirty = true;
	rv = store_cert(c, TAG_ATTEST_CERT, x);
fail:
	X509_EXTENSION_free(bc);
	X509_NAME_free(subj);
	X509_free(x);
	return rv;
}

static kw_rv
make_attestation(vcard_card *c, const vc_key *k, X509 *f9, EVP_PKEY *f9key, kw_buf *out)
{
	X509 *x = NULL;
	X509_NAME *subj = NULL;
	char cn[64];
	unsigned char *der = NULL;
	int n;
	kw_rv rv = KW_ERR_CRYPTO;

	snprintf(cn, sizeof(cn), "YubiKey PIV Attestation %02x", k->slot);
	if ((x = X509_new()) == NULL || (subj = X509_NAME_new()) == NULL ||
	    X509_set_version(x, 2) != 1 || set_random_serial(x) != KW_OK ||
	    name_cn(subj, cn) != KW_OK || X509_set_subject_name(x, subj) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(f9)) != 1 ||
	    X509_set1_notBefore(x, X509_get0_notBefore(f9)) != 1 ||
	    X509_set1_notAfter(x, X509_get0_notAfter(f9)) != 1 ||
	    X509_set_pubkey(x, k->pkey) != 1 || add_yubico_exts(c, x, k) != KW_OK ||
	    X509_sign(x, f9key, EVP_sha256()) <= 0 || (n = i2d_X509(x, &der)) <= 0)
		goto fail;
	rv = kw_buf_put(out, der, (size_t)n);
fail:
	OPENSSL_free(der);
	X509_NAME_free(subj);
	X509_free(x);
	return rv;
}

uint16_t
vc_attest(vcard_card *c, const vc_cmd *cmd, kw_buf *out)
{
	vc_key *k, *f9 = vc_key_slot(c, VC_SLOT_ATTEST);
	X509 *f9cert;
	uint16_t sw;

	if ((k = vc_key_slot(c, cmd->p1)) == NULL || cmd->p1 == VC_SLOT_ATTEST || cmd->p2 != 0)
		return VC_SW_WRONG_P1P2;
	if (k->pkey == NULL || k->origin != VC_ORIGIN_GENERATED)
		return VC_SW_WRONG_DATA;
	if (f9 == NULL || f9->pkey == NULL || (f9cert = load_f9_cert(c)) == NULL)
		return VC_SW_REF_NOT_FOUND;
	sw = make_attestation(c, k, f9cert, f9->pkey, out) == KW_OK ? VC_SW_OK : VC_SW_NO_PRECISE;
	X509_free(f9cert);
	return sw;
}
