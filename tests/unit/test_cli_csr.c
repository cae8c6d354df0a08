/* tools/keyward/cli_csr.c: a PKCS#10 request signed by the token (a fake
 * PIV card that checks the PIN and signs with an OpenSSL key), RSA and
 * P-256, a wrong PIN (no signature asked), the PEM/key helpers and the
 * chain check of KMS certificates (foreign CA, expired). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "kw_tlv.h"
#include "piv_fake.h"
#include "kwenroll.h"

typedef struct scard {
	EVP_PKEY *key;
	unsigned verifies, signs;
	bool pin_ok;
} scard;

static uint16_t
sign_raw(scard *c, kw_view in, kw_buf *resp)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(c->key, NULL);
	uint8_t sig[512];
	size_t n = sizeof(sig);
	kw_buf inner;
	bool rsa = EVP_PKEY_get_base_id(c->key) == EVP_PKEY_RSA;

	assert_non_null(ctx);
	if (rsa) {
		/* GENERAL AUTHENTICATE on RSA is the raw private operation. */
		assert_int_equal(EVP_PKEY_decrypt_init(ctx), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING), 1);
		assert_int_equal(EVP_PKEY_decrypt(ctx, sig, &n, in.ptr, in.len), 1);
	} else {
		assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
		assert_int_equal(EVP_PKEY_sign(ctx, sig, &n, in.ptr, in.len), 1);
	}
	EVP_PKEY_CTX_free(ctx);
	kw_buf_init(&inner, 0);
	assert_int_equal(kw_tlv_put(&inner, 0x82, sig, n), KW_OK);
	assert_int_equal(kw_tlv_put(resp, 0x7C, inner.data, inner.len), KW_OK);
	kw_buf_free(&inner);
	c->signs++;
	return 0x9000;
}

static uint16_t
scard_answer(void *arg, const fake_cmd *cmd, kw_buf *resp)
{
	scard *c = arg;
	kw_view v = cmd->data, tmpl, chal;

	switch (cmd->ins) {
	case 0x20:
		c->verifies++;
		c->pin_ok = cmd->data.len == 8 && memcmp(cmd->data.ptr, "246810\xff\xff", 8) == 0;
		return c->pin_ok ? 0x9000 : 0x63C2;
	case 0x87:
		assert_true(c->pin_ok);     /* the PIN was verified right before */
		c->pin_ok = false;          /* PIN policy "always" */
		assert_int_equal(cmd->p2, 0x9C);
		assert_int_equal(kw_tlv_expect(&v, 0x7C, &tmpl), KW_OK);
		assert_int_equal(kw_tlv_find(tmpl, 0x81, &chal), KW_OK);
		return sign_raw(c, chal, resp);
	default:
		return 0x6D00;
	}
}

static void
make_csr(EVP_PKEY *key, const char *pin, kw_rv want, scard *c, char **pem)
{
	fake_card card;
	kwcli_token tok;
	kw_secret s = { 0 };

	memset(&card, 0, sizeof(card));
	memset(&tok, 0, sizeof(tok));
	memset(c, 0, sizeof(*c));
	c->key = key;
	card.answer = scard_answer;
	card.arg = c;
	fake_open(&card, &tok.t, &tok.piv);
	assert_int_equal(kw_secret_set(&s, pin, strlen(pin)), KW_OK);
	assert_int_equal(kwcli_csr_make(&tok, 0x9C, key, "alice@example.test", &s, pem), want);
	kw_secret_free(&s);
	fake_close(&card, &tok.t, &tok.piv);
}

static void
check_csr(const char *pem, EVP_PKEY *key)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509_REQ *req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
	STACK_OF(X509_EXTENSION) *exts;
	GENERAL_NAMES *san;
	GENERAL_NAME *gn;
	char cn[64];

	assert_non_null(req);
	assert_int_equal(X509_REQ_verify(req, key), 1);
	assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), key), 1);
	assert_true(X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName,
	    cn, sizeof(cn)) > 0);
	assert_string_equal(cn, "alice@example.test");
	exts = X509_REQ_get_extensions(req);
	san = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	assert_non_null(san);
	gn = sk_GENERAL_NAME_value(san, 0);
	assert_int_equal(gn->type, GEN_EMAIL);
	assert_string_equal((const char *)ASN1_STRING_get0_data(gn->d.rfc822Name),
	    "alice@example.test");
	GENERAL_NAMES_free(san);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	BIO_free(b);
}

static void
test_rsa(void **state)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	scard c;
	char *pem = NULL;

	(void)state;
	make_csr(key, "246810", KW_OK, &c, &pem);
	assert_non_null(pem);
	assert_int_equal(c.verifies, 1);
	assert_int_equal(c.signs, 1);
	check_csr(pem, key);
	free(pem);
	EVP_PKEY_free(key);
}

static void
test_p256(void **state)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	scard c;
	char *pem = NULL;

	(void)state;
	make_csr(key, "246810", KW_OK, &c, &pem);
	assert_non_null(pem);
	check_csr(pem, key);
	free(pem);
	EVP_PKEY_free(key);
}

static void
test_wrong_pin(void **state)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	scard c;
	char *pem = (char *)"x";

	(void)state;
	make_csr(key, "111111", KW_ERR_PIN_INCORRECT, &c, &pem);
	assert_null(pem);
	assert_int_equal(c.verifies, 1);   /* one try, not retried */
	assert_int_equal(c.signs, 0);
	EVP_PKEY_free(key);
}

static void
test_helpers(void **state)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	unsigned char *der = NULL;
	char *pem, id1[65], id2[65];
	kw_buf back;
	int n;

	(void)state;
	kw_buf_init(&back, 0);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 60);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	n = i2d_X509(x, &der);
	assert_true(n > 0);
	assert_true(kwcli_cert_matches_key(der, (size_t)n, key));
	assert_false(kwcli_cert_matches_key(der, (size_t)n, other));
	assert_false(kwcli_cert_matches_key(der, (size_t)n - 1, key));
	pem = kwcli_der_to_pem("CERTIFICATE", der, (size_t)n);
	assert_non_null(pem);
	assert_int_equal(kwcli_pem_to_der(pem, &back), KW_OK);
	assert_int_equal(back.len, (size_t)n);
	assert_memory_equal(back.data, der, (size_t)n);
	assert_int_equal(kwcli_pem_to_der("not a certificate", &back), KW_ERR_FORMAT);
	assert_int_equal(kwcli_pubkey_id(key, id1), KW_OK);
	assert_int_equal(kwcli_pubkey_id(other, id2), KW_OK);
	assert_int_equal(strlen(id1), 64);
	assert_string_not_equal(id1, id2);
	kw_buf_free(&back);
	free(pem);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

static const char *leaf_ku;   /* keyUsage of the next leaf made, or NULL */

static X509 *
make_cert(EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, bool ca, long from, long to)
{
	X509 *x = X509_new();
	X509V3_CTX v3;
	X509_EXTENSION *e;
	const char *bc = ca ? "critical,CA:TRUE" : "CA:FALSE";

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 2);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)(ca ? "test CA" : "alice@example.test"), -1, -1, 0);
	assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(issuer != NULL ? issuer : x)), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	assert_non_null(e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, bc));
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (!ca) {
		assert_non_null(e = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage,
		    "emailProtection"));
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
		if (leaf_ku != NULL) {
			assert_non_null(e = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, leaf_ku));
			X509_add_ext(x, e, -1);
			X509_EXTENSION_free(e);
		}
	}
	assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
	return x;
}

static void
check_chain(X509 *leaf, X509 *ca, int purpose, kw_rv want)
{
	unsigned char *der = NULL;
	int n = i2d_X509(leaf, &der);
	char *pem;
	unsigned char *cader = NULL;
	int m = i2d_X509(ca, &cader);

	pem = kwcli_der_to_pem("CERTIFICATE", cader, (size_t)m);
	assert_int_equal(kwcli_cert_check_chain(der, (size_t)n, pem, purpose), want);
	free(pem);
	OPENSSL_free(der);
	OPENSSL_free(cader);
}

static void
test_chain(void **state)
{
	EVP_PKEY *cak = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *otherk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *ca = make_cert(cak, NULL, cak, true, -60, 3600);
	X509 *other = make_cert(otherk, NULL, otherk, true, -60, 3600);
	X509 *leaf = make_cert(k, ca, cak, false, -60, 3600);
	X509 *expired = make_cert(k, ca, cak, false, -7200, -3600);

	(void)state;
	check_chain(leaf, ca, X509_PURPOSE_SMIME_SIGN, KW_OK);
	check_chain(leaf, ca, X509_PURPOSE_SMIME_ENCRYPT, KW_OK);
	check_chain(leaf, other, X509_PURPOSE_SMIME_SIGN, KW_ERR_SECURITY);
	check_chain(expired, ca, X509_PURPOSE_SMIME_SIGN, KW_ERR_SECURITY);
	/* an expired encryption certificate stays in the history */
	check_chain(expired, ca, X509_PURPOSE_SMIME_ENCRYPT, KW_OK);
	assert_int_equal(kwcli_cert_check_chain((const uint8_t *)"\x30\x00", 2, "", 0),
	    KW_ERR_CRYPTO);
	/* an EC encryption (ECDH) certificate with keyAgreement, as the KMS
	 * issues for ca.enc_key_type = p256: good for encryption, still only
	 * from the KMS CA; without keyAgreement it is refused */
	{
		X509 *ka, *ka_other, *ka_sign;

		leaf_ku = "critical,keyAgreement";
		ka = make_cert(k, ca, cak, false, -60, 3600);
		ka_other = make_cert(k, other, otherk, false, -60, 3600);
		leaf_ku = "critical,digitalSignature";
		ka_sign = make_cert(k, ca, cak, false, -60, 3600);
		leaf_ku = NULL;
		check_chain(ka, ca, X509_PURPOSE_SMIME_ENCRYPT, KW_OK);
		check_chain(ka_other, ca, X509_PURPOSE_SMIME_ENCRYPT, KW_ERR_SECURITY);
		check_chain(ka_sign, ca, X509_PURPOSE_SMIME_ENCRYPT, KW_ERR_SECURITY);
		X509_free(ka);
		X509_free(ka_other);
		X509_free(ka_sign);
	}
	X509_free(ca);
	X509_free(other);
	X509_free(leaf);
	X509_free(expired);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(otherk);
	EVP_PKEY_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsa),
		cmocka_unit_test(test_p256),
		cmocka_unit_test(test_wrong_pin),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
