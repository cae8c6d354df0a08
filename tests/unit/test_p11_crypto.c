/* keyward-pkcs11: objects, attributes, signatures, decryption, ECDH, PIN
 * handling and the certificate cache, through the C_* functions over the
 * mock transport with the fake card of test_p11_fake.c. Results are
 * checked with OpenSSL against the fake card's keys. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/ecdsa.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "test_p11_fake.h"

static char cache_dir[64];

static int
setup(void **state)
{
	(void)state;
	p11f_reset();
	p11f_standard(&p11f_cards[0]);
	setenv("KEYWARD_NO_CACHE", "1", 1);
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	(void)C_Finalize(NULL);
	return 0;
}

static CK_SESSION_HANDLE
user_session(void)
{
	CK_SESSION_HANDLE s = p11f_open(0, true);

	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"123456", 6), CKR_OK);
	return s;
}

static void
test_objects(void **state)
{
	CK_SESSION_HANDLE s = p11f_open(0, false);
	CK_OBJECT_CLASS pub = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE pcls[] = { { CKA_CLASS, &pub, sizeof(pub) } };
	CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY, cert = CKO_CERTIFICATE;
	CK_ATTRIBUTE all[1], cls[] = { { CKA_CLASS, &priv, sizeof(priv) } };
	CK_ATTRIBUTE ccls[] = { { CKA_CLASS, &cert, sizeof(cert) } };
	CK_OBJECT_HANDLE k, c;
	char l1[64], l2[64];
	CK_ATTRIBUTE lab = { CKA_LABEL, l1, sizeof(l1) };

	(void)state;
	/* before login: public keys (from metadata) and certificates only */
	assert_int_equal(p11f_count(s, all, 0), 7);
	assert_int_equal(p11f_count(s, pcls, 1), 4);
	assert_int_equal(p11f_count(s, cls, 1), 0);
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"123456", 6), CKR_OK);
	/* 4 keys: 4 private, 4 public (metadata), 3 certificates */
	assert_int_equal(p11f_count(s, all, 0), 11);
	assert_int_equal(p11f_count(s, cls, 1), 4);
	assert_int_equal(p11f_count(s, ccls, 1), 3);
	/* 9D has a key but no certificate: still there; 82 retired = id 05 */
	assert_int_not_equal(p11f_find(s, CKO_PRIVATE_KEY, 3), CK_INVALID_HANDLE);
	assert_int_equal(p11f_find(s, CKO_CERTIFICATE, 3), CK_INVALID_HANDLE);
	assert_int_not_equal(p11f_find(s, CKO_PUBLIC_KEY, 3), CK_INVALID_HANDLE);
	assert_int_not_equal(p11f_find(s, CKO_PRIVATE_KEY, 5), CK_INVALID_HANDLE);
	/* key and certificate share CKA_LABEL */
	k = p11f_find(s, CKO_PRIVATE_KEY, 2);
	c = p11f_find(s, CKO_CERTIFICATE, 2);
	assert_int_equal(C_GetAttributeValue(s, k, &lab, 1), CKR_OK);
	memcpy(l2, l1, lab.ulValueLen);
	l2[lab.ulValueLen] = '\0';
	lab.ulValueLen = sizeof(l1);
	assert_int_equal(C_GetAttributeValue(s, c, &lab, 1), CKR_OK);
	l1[lab.ulValueLen] = '\0';
	assert_string_equal(l1, l2);
	assert_string_equal(l1, "Digital Signature");
	/* enumeration: metadata for every slot (no key history on this card:
	 * all retired slots probed), certificates of the 4 keys' slots (9D has
	 * none) and the key history object */
	assert_int_equal(p11f_cards[0].metadata, 24);
	assert_int_equal(p11f_cards[0].get_data, 5);
	/* stale object handles of a finished find are still fine; bogus ones not */
	assert_int_equal(C_GetAttributeValue(s, k + 0x100000, &lab, 1), CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(C_FindObjects(s, &k, 1, &(CK_ULONG){ 0 }), CKR_OPERATION_NOT_INITIALIZED);
}

/* A certificate search reads certificate objects only (the start-up of a
 * mail client); a later key search adds the keys by metadata and keeps the
 * certificate objects and their handles. */
static void
test_cert_search(void **state)
{
	CK_SESSION_HANDLE s = p11f_open(0, false);
	CK_OBJECT_CLASS cert = CKO_CERTIFICATE, priv = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE ccls[] = { { CKA_CLASS, &cert, sizeof(cert) } };
	CK_ATTRIBUTE pcls[] = { { CKA_CLASS, &priv, sizeof(priv) } };
	CK_OBJECT_HANDLE c;
	char lab[64];
	CK_ATTRIBUTE la = { CKA_LABEL, lab, sizeof(lab) };

	(void)state;
	p11f_cards[0].metadata = p11f_cards[0].get_data = 0;
	assert_int_equal(p11f_count(s, ccls, 1), 3);
	assert_int_equal(p11f_cards[0].metadata, 0);
	/* 9A 9C 9D 9E, the key history (absent: every retired slot) */
	assert_int_equal(p11f_cards[0].get_data, 25);
	c = p11f_find(s, CKO_CERTIFICATE, 2);
	assert_int_not_equal(c, CK_INVALID_HANDLE);
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"123456", 6), CKR_OK);
	/* keys now: metadata, no certificate read again; 9D's key has none */
	assert_int_equal(p11f_count(s, pcls, 1), 4);
	assert_true(p11f_cards[0].metadata > 0);
	assert_int_equal(p11f_cards[0].get_data, 25);
	assert_int_not_equal(p11f_find(s, CKO_PRIVATE_KEY, 3), CK_INVALID_HANDLE);
	assert_int_equal(p11f_find(s, CKO_CERTIFICATE, 2), c);
	assert_int_equal(C_GetAttributeValue(s, c, &la, 1), CKR_OK);
	assert_int_equal(p11f_count(s, ccls, 1), 3);
	assert_int_equal(p11f_cards[0].get_data, 25);
}

/* Only what a template can match is read from the card. */
static void
test_lazy(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_ATTRIBUTE all[1];

	(void)state;
	p11f_cards[0].metadata = p11f_cards[0].get_data = 0;
	/* a private key by CKA_ID: that slot's metadata, no certificate */
	assert_int_not_equal(p11f_find(s, CKO_PRIVATE_KEY, 1), CK_INVALID_HANDLE);
	assert_int_equal(p11f_cards[0].metadata, 1);
	assert_int_equal(p11f_cards[0].get_data, 0);
	/* its certificate: one read */
	assert_int_not_equal(p11f_find(s, CKO_CERTIFICATE, 1), CK_INVALID_HANDLE);
	assert_int_equal(p11f_cards[0].metadata, 1);
	assert_int_equal(p11f_cards[0].get_data, 1);
	/* without a key history every retired slot is probed: a key past a
	 * gap (83 empty) is listed */
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	p11f_add_key(&p11f_cards[0], 0x84, 0, KW_PIV_PIN_POLICY_ONCE, false);
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	s = user_session();
	p11f_cards[0].metadata = 0;
	assert_int_equal(p11f_count(s, all, 0), 13);
	assert_int_equal(p11f_cards[0].metadata, 24);
	/* a key history counting 1 retired key: probed up to the first empty
	 * slot after it (82, 83); 84 then only by its CKA_ID (07), or with
	 * KEYWARD_PROBE_ALL_RETIRED=1 */
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	p11f_cards[0].key_history = 1;
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	s = user_session();
	p11f_cards[0].metadata = 0;
	assert_int_equal(p11f_count(s, all, 0), 11);
	assert_int_equal(p11f_cards[0].metadata, 6);
	assert_int_not_equal(p11f_find(s, CKO_PRIVATE_KEY, 7), CK_INVALID_HANDLE);
	setenv("KEYWARD_PROBE_ALL_RETIRED", "1", 1);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	s = user_session();
	assert_int_equal(p11f_count(s, all, 0), 13);
	unsetenv("KEYWARD_PROBE_ALL_RETIRED");
}

static void
test_no_metadata(void **state)
{
	CK_SESSION_HANDLE s;
	CK_ATTRIBUTE all[1];

	(void)state;
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	p11f_cards[0].no_metadata = true;
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	s = user_session();
	/* without GET METADATA: keys with certificates only (9A, 9C, 82) */
	assert_int_equal(p11f_count(s, all, 0), 9);
	assert_int_equal(p11f_cards[0].metadata, 1);
	assert_int_equal(p11f_cards[0].get_data, 24);
}

static void
test_attributes(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k = p11f_find(s, CKO_PRIVATE_KEY, 1);
	CK_OBJECT_HANDLE ec = p11f_find(s, CKO_PRIVATE_KEY, 2);
	CK_OBJECT_HANDLE ecpub = p11f_find(s, CKO_PUBLIC_KEY, 2);
	CK_OBJECT_HANDLE c = p11f_find(s, CKO_CERTIFICATE, 1);
	CK_BYTE small[4], mod[512], id = 0;
	CK_BBOOL b = CK_FALSE;
	CK_ATTRIBUTE t[3];

	(void)state;
	/* length query, then too small, then fine */
	t[0].type = CKA_MODULUS; t[0].pValue = NULL; t[0].ulValueLen = 0;
	assert_int_equal(C_GetAttributeValue(s, k, t, 1), CKR_OK);
	assert_int_equal(t[0].ulValueLen, 256);
	t[0].pValue = small; t[0].ulValueLen = sizeof(small);
	assert_int_equal(C_GetAttributeValue(s, k, t, 1), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(t[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	/* a sensitive one, an invalid one and a good one in one call */
	t[0].type = CKA_PRIVATE_EXPONENT; t[0].pValue = mod; t[0].ulValueLen = sizeof(mod);
	t[1].type = 0x80001234UL; t[1].pValue = mod; t[1].ulValueLen = sizeof(mod);
	t[2].type = CKA_ID; t[2].pValue = &id; t[2].ulValueLen = 1;
	assert_int_not_equal(C_GetAttributeValue(s, k, t, 3), CKR_OK);
	assert_int_equal(t[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(t[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(id, 1);
	t[0].type = CKA_PRIVATE_EXPONENT;
	assert_int_equal(C_GetAttributeValue(s, k, t, 1), CKR_ATTRIBUTE_SENSITIVE);
	t[0].type = 0x80001234UL; t[0].ulValueLen = sizeof(mod);
	assert_int_equal(C_GetAttributeValue(s, k, t, 1), CKR_ATTRIBUTE_TYPE_INVALID);
	/* CKA_DERIVE on EC private and public keys, not on RSA, nor on the
	 * PIN-always 9C (no context login can precede C_DeriveKey) */
	t[0].type = CKA_DERIVE; t[0].pValue = &b; t[0].ulValueLen = 1;
	assert_int_equal(C_GetAttributeValue(s, p11f_find(s, CKO_PRIVATE_KEY, 5), t, 1), CKR_OK);
	assert_int_equal(b, CK_TRUE);
	assert_int_equal(C_GetAttributeValue(s, ec, t, 1), CKR_OK);
	assert_int_equal(b, CK_FALSE);
	assert_int_equal(C_GetAttributeValue(s, ecpub, t, 1), CKR_OK);
	assert_int_equal(b, CK_FALSE);   /* the same on both halves */
	assert_int_equal(C_GetAttributeValue(s, p11f_find(s, CKO_PUBLIC_KEY, 5), t, 1), CKR_OK);
	assert_int_equal(b, CK_TRUE);
	assert_int_equal(C_GetAttributeValue(s, k, t, 1), CKR_OK);
	assert_int_equal(b, CK_FALSE);
	/* 9C: always authenticate */
	t[0].type = CKA_ALWAYS_AUTHENTICATE;
	assert_int_equal(C_GetAttributeValue(s, ec, t, 1), CKR_OK);
	assert_int_equal(b, CK_TRUE);
	/* certificate value equals the card's */
	t[0].type = CKA_VALUE; t[0].pValue = NULL;
	assert_int_equal(C_GetAttributeValue(s, c, t, 1), CKR_OK);
	assert_int_equal(t[0].ulValueLen, p11f_cards[0].keys[0].cert_len);
	assert_int_equal(C_SetAttributeValue(s, c, t, 1), CKR_ACTION_PROHIBITED);
}

static void
verify_rsa(EVP_PKEY *key, const EVP_MD *md, int pad, const void *msg, size_t len,
    const CK_BYTE *sig, CK_ULONG siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;

	assert_int_equal(EVP_DigestVerifyInit(ctx, &pctx, md, NULL, key), 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, pad) > 0);
	if (pad == RSA_PKCS1_PSS_PADDING)
		assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) > 0);
	assert_int_equal(EVP_DigestVerify(ctx, sig, siglen, msg, len), 1);
	EVP_MD_CTX_free(ctx);
}

static void
test_sign_rsa(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k = p11f_find(s, CKO_PRIVATE_KEY, 1);
	CK_RSA_PKCS_PSS_PARAMS pss = { CKM_SHA256, CKG_MGF1_SHA256, 32 };
	CK_MECHANISM m = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_MECHANISM mp = { CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof(pss) };
	CK_BYTE sig[256];
	CK_ULONG len = 0;
	unsigned before;

	(void)state;
	assert_int_equal(C_SignInit(s, &m, k), CKR_OK);
	assert_int_equal(C_SignInit(s, &m, k), CKR_OPERATION_ACTIVE);
	/* length query and short buffer: no card operation, op stays */
	before = p11f_cards[0].gen_auth;
	assert_int_equal(C_Sign(s, (CK_BYTE_PTR)"hello", 5, NULL, &len), CKR_OK);
	assert_int_equal(len, 256);
	len = 10;
	assert_int_equal(C_Sign(s, (CK_BYTE_PTR)"hello", 5, sig, &len), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(p11f_cards[0].gen_auth, before);
	len = sizeof(sig);
	assert_int_equal(C_Sign(s, (CK_BYTE_PTR)"hello", 5, sig, &len), CKR_OK);
	assert_int_equal(p11f_cards[0].gen_auth, before + 1);
	verify_rsa(p11f_cards[0].keys[0].key, EVP_sha256(), RSA_PKCS1_PADDING, "hello", 5, sig, len);
	/* multi-part */
	assert_int_equal(C_SignInit(s, &m, k), CKR_OK);
	assert_int_equal(C_SignUpdate(s, (CK_BYTE_PTR)"hel", 3), CKR_OK);
	assert_int_equal(C_SignUpdate(s, (CK_BYTE_PTR)"lo", 2), CKR_OK);
	len = sizeof(sig);
	assert_int_equal(C_SignFinal(s, sig, &len), CKR_OK);
	verify_rsa(p11f_cards[0].keys[0].key, EVP_sha256(), RSA_PKCS1_PADDING, "hello", 5, sig, len);
	/* PSS */
	assert_int_equal(C_SignInit(s, &mp, k), CKR_OK);
	len = sizeof(sig);
	assert_int_equal(C_Sign(s, (CK_BYTE_PTR)"hello", 5, sig, &len), CKR_OK);
	verify_rsa(p11f_cards[0].keys[0].key, EVP_sha256(), RSA_PKCS1_PSS_PADDING, "hello", 5,
	    sig, len);
	/* PSS parameters that contradict the mechanism */
	pss.hashAlg = CKM_SHA384;
	assert_int_equal(C_SignInit(s, &mp, k), CKR_MECHANISM_PARAM_INVALID);
	/* raw PKCS#1 v1.5 input too long */
	m.mechanism = CKM_RSA_PKCS;
	assert_int_equal(C_SignInit(s, &m, k), CKR_OK);
	len = sizeof(sig);
	assert_int_equal(C_Sign(s, sig, 250, sig, &len), CKR_DATA_LEN_RANGE);
	assert_int_equal(C_Sign(s, sig, 1, sig, &len), CKR_OPERATION_NOT_INITIALIZED);
	/* an EC mechanism on an RSA key */
	m.mechanism = CKM_ECDSA;
	assert_int_equal(C_SignInit(s, &m, k), CKR_KEY_TYPE_INCONSISTENT);
}

static void
test_sign_ec_always_auth(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k = p11f_find(s, CKO_PRIVATE_KEY, 2);
	CK_OBJECT_HANDLE rsa = p11f_find(s, CKO_PRIVATE_KEY, 1);
	CK_MECHANISM m = { CKM_ECDSA_SHA256, NULL, 0 };
	CK_BYTE sig[64];
	CK_ULONG len = sizeof(sig);
	unsigned verifies = p11f_cards[0].verifies;
	ECDSA_SIG *es;
	BIGNUM *r, *sv;
	unsigned char *der = NULL, h[32];
	int dlen;
	EVP_PKEY_CTX *vc;

	(void)state;
	/* PIN-always key: C_Sign without a context-specific login fails, and
	 * the module does not resend the PIN on its own */
	assert_int_equal(C_SignInit(s, &m, k), CKR_OK);
	assert_int_equal(C_Sign(s, (CK_BYTE_PTR)"msg", 3, sig, &len), CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(p11f_cards[0].verifies, verifies);
	assert_int_equal(C_Login(s, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)"123456", 6),
	    CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(C_SignInit(s, &m, k), CKR_OK);
	assert_int_equal(C_Login(s, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)"123456", 6), CKR_OK);
	/* sent once, with the operation, in its transaction */
	assert_int_equal(p11f_cards[0].verifies, verifies);
	len = sizeof(sig);
	assert_int_equal(C_Sign(s, (CK_BYTE_PTR)"msg", 3, sig, &len), CKR_OK);
	assert_int_equal(p11f_cards[0].verifies, verifies + 1);
	assert_int_equal(len, 64);
	assert_int_equal(p11f_cards[0].verifies, verifies + 1);
	/* verify r||s with OpenSSL */
	es = ECDSA_SIG_new();
	r = BN_bin2bn(sig, 32, NULL);
	sv = BN_bin2bn(sig + 32, 32, NULL);
	ECDSA_SIG_set0(es, r, sv);
	dlen = i2d_ECDSA_SIG(es, &der);
	SHA256((const unsigned char *)"msg", 3, h);
	vc = EVP_PKEY_CTX_new(p11f_cards[0].keys[1].key, NULL);
	assert_int_equal(EVP_PKEY_verify_init(vc), 1);
	assert_int_equal(EVP_PKEY_verify(vc, der, (size_t)dlen, h, 32), 1);
	EVP_PKEY_CTX_free(vc);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	/* the next signature needs its own context login again */
	assert_int_equal(C_SignInit(s, &m, k), CKR_OK);
	len = sizeof(sig);
	assert_int_equal(C_Sign(s, (CK_BYTE_PTR)"msg", 3, sig, &len), CKR_USER_NOT_LOGGED_IN);
	/* two sessions interleaving their context logins both succeed: the
	 * card's one-operation authorisation cannot be taken by the other */
	{
		CK_SESSION_HANDLE s2 = p11f_open(0, false);
		CK_ULONG len2 = sizeof(sig);

		assert_int_equal(C_SignInit(s, &m, k), CKR_OK);
		assert_int_equal(C_SignInit(s2, &m, k), CKR_OK);
		assert_int_equal(C_Login(s, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)"123456", 6), CKR_OK);
		assert_int_equal(C_Login(s2, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)"123456", 6), CKR_OK);
		len = sizeof(sig);
		assert_int_equal(C_Sign(s, (CK_BYTE_PTR)"msg", 3, sig, &len), CKR_OK);
		assert_int_equal(C_Sign(s2, (CK_BYTE_PTR)"msg", 3, sig, &len2), CKR_OK);
	}
	/* a wrong context PIN: reported by the operation, sent once */
	verifies = p11f_cards[0].verifies;
	assert_int_equal(C_SignInit(s, &m, k), CKR_OK);
	assert_int_equal(C_Login(s, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)"000000", 6), CKR_OK);
	len = sizeof(sig);
	assert_int_equal(C_Sign(s, (CK_BYTE_PTR)"msg", 3, sig, &len), CKR_PIN_INCORRECT);
	assert_int_equal(p11f_cards[0].verifies, verifies + 1);
	/* a failed VERIFY resets the card's PIN status: logged out */
	m.mechanism = CKM_SHA256_RSA_PKCS;
	k = rsa;
	assert_int_equal(C_SignInit(s, &m, k), CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"123456", 6), CKR_OK);
	assert_int_equal(C_SignInit(s, &m, k), CKR_OK);
	len = 0;
	assert_int_equal(C_Sign(s, (CK_BYTE_PTR)"msg", 3, NULL, &len), CKR_OK);
	{
		CK_BYTE big[256];

		assert_int_equal(C_Sign(s, (CK_BYTE_PTR)"msg", 3, big, &len), CKR_OK);
	}
}

static CK_ULONG
rsa_encrypt(EVP_PKEY *key, int pad, const EVP_MD *md, const char *label, CK_BYTE *out,
    const char *msg)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	size_t len = 256;

	assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx, pad) > 0);
	if (pad == RSA_PKCS1_OAEP_PADDING) {
		assert_true(EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) > 0);
		assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) > 0);
		if (label != NULL)
			assert_true(EVP_PKEY_CTX_set0_rsa_oaep_label(ctx,
			    OPENSSL_strdup(label), strlen(label)) > 0);
	}
	assert_int_equal(EVP_PKEY_encrypt(ctx, out, &len, (const unsigned char *)msg,
	    strlen(msg)), 1);
	EVP_PKEY_CTX_free(ctx);
	return (CK_ULONG)len;
}

static void
test_decrypt(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k = p11f_find(s, CKO_PRIVATE_KEY, 3);   /* 9D, no cert */
	EVP_PKEY *key = p11f_cards[0].keys[2].key;
	CK_RSA_PKCS_OAEP_PARAMS oaep = { CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED,
	    (CK_VOID_PTR)"lbl", 3 };
	CK_MECHANISM m = { CKM_RSA_PKCS, NULL, 0 };
	CK_BYTE ct[256], pt[256];
	CK_ULONG ctlen, len;
	unsigned before;

	(void)state;
	ctlen = rsa_encrypt(key, RSA_PKCS1_PADDING, NULL, NULL, ct, "secret");
	assert_int_equal(C_DecryptInit(s, &m, k), CKR_OK);
	len = 0;
	before = p11f_cards[0].gen_auth;
	assert_int_equal(C_Decrypt(s, ct, ctlen, NULL, &len), CKR_OK);
	assert_int_equal(len, 256);
	assert_int_equal(p11f_cards[0].gen_auth, before);
	len = 2;   /* too small: the card is asked once, the result kept */
	assert_int_equal(C_Decrypt(s, ct, ctlen, pt, &len), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(len, 6);
	assert_int_equal(C_Decrypt(s, ct, ctlen, pt, &len), CKR_OK);
	assert_memory_equal(pt, "secret", 6);
	assert_int_equal(p11f_cards[0].gen_auth, before + 1);
	/* OAEP with a label, and without */
	ctlen = rsa_encrypt(key, RSA_PKCS1_OAEP_PADDING, EVP_sha256(), "lbl", ct, "oaep!");
	m.mechanism = CKM_RSA_PKCS_OAEP;
	m.pParameter = &oaep;
	m.ulParameterLen = sizeof(oaep);
	assert_int_equal(C_DecryptInit(s, &m, k), CKR_OK);
	len = sizeof(pt);
	assert_int_equal(C_Decrypt(s, ct, ctlen, pt, &len), CKR_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(pt, "oaep!", 5);
	oaep.pSourceData = NULL;   /* wrong label: refused */
	oaep.ulSourceDataLen = 0;
	assert_int_equal(C_DecryptInit(s, &m, k), CKR_OK);
	len = sizeof(pt);
	assert_int_equal(C_Decrypt(s, ct, ctlen, pt, &len), CKR_ENCRYPTED_DATA_INVALID);
	ctlen = rsa_encrypt(key, RSA_PKCS1_OAEP_PADDING, EVP_sha1(), NULL, ct, "nolabel");
	oaep.hashAlg = CKM_SHA_1;
	oaep.mgf = CKG_MGF1_SHA1;
	assert_int_equal(C_DecryptInit(s, &m, k), CKR_OK);
	len = sizeof(pt);
	assert_int_equal(C_Decrypt(s, ct, ctlen, pt, &len), CKR_OK);
	assert_memory_equal(pt, "nolabel", 7);
	/* PKCS#1 v1.5 padding check: a raw block that is not type 2 */
	m.mechanism = CKM_RSA_PKCS;
	m.pParameter = NULL;
	m.ulParameterLen = 0;
	ctlen = rsa_encrypt(key, RSA_PKCS1_OAEP_PADDING, EVP_sha1(), NULL, ct, "x");
	assert_int_equal(C_DecryptInit(s, &m, k), CKR_OK);
	len = sizeof(pt);
	assert_int_equal(C_Decrypt(s, ct, ctlen, pt, &len), CKR_ENCRYPTED_DATA_INVALID);
	assert_int_equal(C_DecryptInit(s, &m, k), CKR_OK);
	assert_int_equal(C_Decrypt(s, ct, 100, pt, &len), CKR_ENCRYPTED_DATA_LEN_RANGE);
	/* raw */
	m.mechanism = CKM_RSA_X_509;
	ctlen = rsa_encrypt(key, RSA_PKCS1_PADDING, NULL, NULL, ct, "raw");
	assert_int_equal(C_DecryptInit(s, &m, k), CKR_OK);
	len = sizeof(pt);
	assert_int_equal(C_Decrypt(s, ct, ctlen, pt, &len), CKR_OK);
	assert_int_equal(len, 256);
	assert_memory_equal(pt + 253, "raw", 3);
}

static void
test_pin(void **state)
{
	unsigned i;
	CK_SESSION_HANDLE s = user_session(), ro;
	CK_OBJECT_HANDLE k = p11f_find(s, CKO_PRIVATE_KEY, 1);
	CK_MECHANISM m = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_SESSION_INFO si;
	CK_TOKEN_INFO ti;
	CK_BYTE sig[256];
	CK_ULONG len = sizeof(sig);

	(void)state;
	assert_int_equal(C_Logout(s), CKR_OK);
	assert_int_equal(C_SignInit(s, &m, k), CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"12345", 5), CKR_PIN_LEN_RANGE);
	assert_int_equal(p11f_cards[0].verifies, 1);
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"654321", 6), CKR_PIN_INCORRECT);
	assert_int_equal(p11f_cards[0].verifies, 2);
	assert_int_equal(C_GetTokenInfo(p11f_slot_of(0), &ti), CKR_OK);
	assert_true((ti.flags & CKF_USER_PIN_COUNT_LOW) != 0);
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"123456", 6), CKR_OK);
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"123456", 6),
	    CKR_USER_ALREADY_LOGGED_IN);
	assert_int_equal(C_GetSessionInfo(s, &si), CKR_OK);
	assert_int_equal(si.state, CKS_RW_USER_FUNCTIONS);
	/* the card forgets the PIN (reset by another process): no resend */
	p11f_cards[0].pin_ok = false;
	assert_int_equal(C_SignInit(s, &m, k), CKR_OK);
	assert_int_equal(C_Sign(s, (CK_BYTE_PTR)"a", 1, sig, &len), CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(p11f_cards[0].verifies, 3);
	assert_int_equal(C_GetSessionInfo(s, &si), CKR_OK);
	assert_int_equal(si.state, CKS_RW_PUBLIC_SESSION);
	/* logout: nothing kept, and the card forgets the PIN too */
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"123456", 6), CKR_OK);
	assert_true(p11f_cards[0].pin_ok);
	i = p11f_cards[0].logouts;
	assert_int_equal(C_Logout(s), CKR_OK);
	assert_false(p11f_cards[0].pin_ok);
	assert_int_equal(p11f_cards[0].logouts, i + 1);
	assert_int_equal(C_Logout(s), CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(C_SignInit(s, &m, k), CKR_USER_NOT_LOGGED_IN);
	/* change the PIN */
	assert_int_equal(C_SetPIN(s, (CK_UTF8CHAR_PTR)"123456", 6, (CK_UTF8CHAR_PTR)"11112222", 8),
	    CKR_OK);
	assert_string_equal(p11f_cards[0].pin, "11112222");
	/* block it, then unblock with the PUK as SO (C_InitPIN) */
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"000000", 6), CKR_PIN_INCORRECT);
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"000000", 6), CKR_PIN_INCORRECT);
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"000000", 6), CKR_PIN_LOCKED);
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"11112222", 8), CKR_PIN_LOCKED);
	/* C_SetPIN while blocked in a public session: the PUK unblocks */
	assert_int_equal(C_SetPIN(s, (CK_UTF8CHAR_PTR)"87654321", 8, (CK_UTF8CHAR_PTR)"222222", 6),
	    CKR_PIN_INCORRECT);
	assert_int_equal(C_SetPIN(s, (CK_UTF8CHAR_PTR)"12345678", 8, (CK_UTF8CHAR_PTR)"222222", 6),
	    CKR_OK);
	assert_string_equal(p11f_cards[0].pin, "222222");
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"000000", 6), CKR_PIN_INCORRECT);
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"000000", 6), CKR_PIN_INCORRECT);
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"000000", 6), CKR_PIN_LOCKED);
	/* and as SO: C_InitPIN */
	ro = p11f_open(0, false);
	assert_int_equal(C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR)"12345678", 8),
	    CKR_SESSION_READ_ONLY_EXISTS);
	assert_int_equal(C_CloseSession(ro), CKR_OK);
	assert_int_equal(C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR)"12345678", 8), CKR_OK);
	assert_int_equal(C_InitPIN(s, (CK_UTF8CHAR_PTR)"654321", 6), CKR_OK);
	assert_int_equal(C_Logout(s), CKR_OK);
	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"654321", 6), CKR_OK);
	assert_int_equal(C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR)"12345678", 8),
	    CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
	assert_int_equal(C_Login(s, 77, (CK_UTF8CHAR_PTR)"12345678", 8), CKR_USER_TYPE_INVALID);
}

static void
test_derive(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k = p11f_find(s, CKO_PRIVATE_KEY, 5), dk = 0;
	EVP_PKEY *peer = EVP_EC_gen("P-256");
	uint8_t pt[65], z[32], val[32];
	size_t ptlen = 0, zlen = sizeof(z);
	CK_ECDH1_DERIVE_PARAMS p = { CKD_NULL, 0, NULL, 0, pt };
	CK_MECHANISM m = { CKM_ECDH1_DERIVE, &p, sizeof(p) };
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
	CK_BBOOL f = CK_FALSE;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) }, { CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &f, 1 }, { CKA_SENSITIVE, &f, 1 },
	};
	CK_ATTRIBUTE v = { CKA_VALUE, val, sizeof(val) };
	EVP_PKEY_CTX *ctx;

	(void)state;
	assert_true(EVP_PKEY_get_octet_string_param(peer, "pub", pt, sizeof(pt), &ptlen));
	p.ulPublicDataLen = ptlen;
	assert_int_equal(C_DeriveKey(s, &m, k, t, 4, &dk), CKR_OK);
	assert_int_equal(C_GetAttributeValue(s, dk, &v, 1), CKR_OK);
	assert_int_equal(v.ulValueLen, 32);
	ctx = EVP_PKEY_CTX_new(peer, NULL);
	assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
	assert_int_equal(EVP_PKEY_derive_set_peer(ctx, p11f_cards[0].keys[3].key), 1);
	assert_int_equal(EVP_PKEY_derive(ctx, z, &zlen), 1);
	assert_memory_equal(z, val, 32);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	assert_int_equal(C_DestroyObject(s, dk), CKR_OK);
	assert_int_equal(C_GetAttributeValue(s, dk, &v, 1), CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(C_DeriveKey(s, &m, p11f_find(s, CKO_PRIVATE_KEY, 2), t, 4, &dk),
	    CKR_KEY_FUNCTION_NOT_PERMITTED);
	/* the X9.63 KDFs: test_p11_ecdh.c; an unknown KDF is refused */
	p.kdf = 0x99;
	assert_int_equal(C_DeriveKey(s, &m, k, t, 4, &dk), CKR_MECHANISM_PARAM_INVALID);
}

static void
test_cache(void **state)
{
	CK_SESSION_HANDLE s;
	CK_ATTRIBUTE all[1];
	char path[128];
	struct stat st;
	FILE *f;

	(void)state;
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	snprintf(cache_dir, sizeof(cache_dir), "/tmp/kwp11-cache-%ld", (long)getpid());
	setenv("XDG_CACHE_HOME", cache_dir, 1);
	unsetenv("KEYWARD_NO_CACHE");
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	s = user_session();
	assert_int_equal(p11f_count(s, all, 0), 11);
	/* cold: no entries, no probes: 9A 9C 9D(none) 82 read once, and the
	 * key history */
	assert_int_equal(p11f_cards[0].get_data, 5);
	snprintf(path, sizeof(path), "%s/keyward/piv-11111111-9a.der", cache_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* warm: certificates come from the verified cache */
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	p11f_cards[0].get_data = 0;
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	s = user_session();
	assert_int_equal(p11f_count(s, all, 0), 11);
	assert_int_equal(p11f_cards[0].get_data, 5);   /* one probe each + history */
	/* a certificate replaced behind the module's back (same key): re-read */
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	p11f_new_cert(&p11f_cards[0].keys[0]);
	p11f_cards[0].get_data = 0;
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	s = user_session();
	assert_int_equal(p11f_count(s, all, 0), 11);
	assert_int_equal(p11f_cards[0].get_data, 6);
	{
		CK_OBJECT_HANDLE c = p11f_find(s, CKO_CERTIFICATE, 1);
		CK_BYTE buf[2048];
		CK_ATTRIBUTE v = { CKA_VALUE, buf, sizeof(buf) };
		assert_int_equal(C_GetAttributeValue(s, c, &v, 1), CKR_OK);
		assert_int_equal(v.ulValueLen, p11f_cards[0].keys[0].cert_len);
		assert_memory_equal(buf, p11f_cards[0].keys[0].cert, v.ulValueLen);
	}
	/* a corrupt entry and one with another key's certificate are ignored */
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	f = fopen(path, "w");
	fputs("garbage", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/keyward/piv-11111111-9c.der", cache_dir);
	f = fopen(path, "w");
	fwrite(p11f_cards[0].keys[3].cert, 1, p11f_cards[0].keys[3].cert_len, f);   /* 82's */
	fclose(f);
	chmod(path, 0600);
	p11f_cards[0].get_data = 0;
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	s = user_session();
	assert_int_equal(p11f_count(s, all, 0), 11);
	assert_int_equal(p11f_cards[0].get_data, 7);   /* 9A and 9C probed and re-read */
	{
		CK_OBJECT_HANDLE c = p11f_find(s, CKO_CERTIFICATE, 2);
		CK_BYTE buf[2048];
		CK_ATTRIBUTE v = { CKA_VALUE, buf, sizeof(buf) };
		assert_int_equal(C_GetAttributeValue(s, c, &v, 1), CKR_OK);
		assert_int_equal(v.ulValueLen, p11f_cards[0].keys[1].cert_len);
		assert_memory_equal(buf, p11f_cards[0].keys[1].cert, v.ulValueLen);
	}
	unsetenv("XDG_CACHE_HOME");
	setenv("KEYWARD_NO_CACHE", "1", 1);
}

typedef struct sign_thread {
	pthread_t th;
	CK_SLOT_ID slot;
	CK_BYTE id;
	int ok;
} sign_thread;

/* One session per thread; 9C's context login per signature. */
static void *
sign_main(void *arg)
{
	sign_thread *t = arg;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE k;
	CK_MECHANISM m = { t->id == 1 ? CKM_SHA256_RSA_PKCS : CKM_ECDSA_SHA256, NULL, 0 };
	CK_BYTE sig[256];
	CK_ULONG len;
	int i;

	if (C_OpenSession(t->slot, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
		return NULL;
	k = p11f_find(s, CKO_PRIVATE_KEY, t->id);
	for (i = 0; i < 20; i++) {
		len = sizeof(sig);
		if (C_SignInit(s, &m, k) != CKR_OK)
			break;
		if (t->id == 2 &&
		    C_Login(s, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR_PTR)"123456", 6) != CKR_OK)
			break;
		if (C_Sign(s, (CK_BYTE_PTR)"thread", 6, sig, &len) != CKR_OK)
			break;
		t->ok++;
	}
	C_CloseSession(s);
	return NULL;
}

/* Threads signing on one token with two keys, one of them PIN-always, while
 * another thread lists slots: all signatures succeed. */
static void
test_threads(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	sign_thread t[6];
	CK_SLOT_ID slots[4];
	CK_ULONG n;
	int i, j;

	(void)state;
	for (i = 0; i < 6; i++) {
		t[i].slot = p11f_slot_of(0);
		t[i].id = (CK_BYTE)(i % 2 == 0 ? 1 : 2);
		t[i].ok = 0;
		assert_int_equal(pthread_create(&t[i].th, NULL, sign_main, &t[i]), 0);
	}
	for (j = 0; j < 50; j++) {
		n = 4;
		assert_int_equal(C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	}
	for (i = 0; i < 6; i++) {
		pthread_join(t[i].th, NULL);
		assert_int_equal(t[i].ok, 20);
	}
	assert_int_equal(C_CloseSession(s), CKR_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lazy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_metadata, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attributes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_rsa, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_ec_always_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decrypt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_derive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[200];

	if (cache_dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache_dir);
		if (system(cmd) != 0)
			rc = 1;
	}
	p11f_free();
	return rc;
}
