/* kms_hsm.c against a real SoftHSMv2 token in a temporary directory:
 * token init/login, key generation, signing, sealing, data objects, and
 * the delivery re-wrap (unwrapped here with OpenSSL, as libkwkms does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "kms.h"
#include "kms_hsm.h"

#define MODULE "/usr/lib/softhsm/libsofthsm2.so"

static char dir[64];
static kms_hsm *hsm;

static int
setup(void **state)
{
	char conf[128], tokens[96];
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/kw-kms-hsm-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(tokens, sizeof(tokens), "%s/tokens", dir);
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", dir);
	mkdir(tokens, 0700);
	f = fopen(conf, "w");
	fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n",
	    tokens);
	fclose(f);
	setenv("SOFTHSM2_CONF", conf, 1);
	if (kms_hsm_open(MODULE, &hsm) != KW_OK ||
	    kms_hsm_init_token(hsm, "unit", "so-pin-1234", "user-pin-1234") != KW_OK ||
	    kms_hsm_login(hsm, "unit", "user-pin-1234") != KW_OK)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	kms_hsm_free(&hsm);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static EVP_PKEY *
pub_of(const kw_buf *spki)
{
	const unsigned char *p = spki->data;

	return d2i_PUBKEY(NULL, &p, (long)spki->len);
}

static void
test_sign_p256(void **state)
{
	static const char msg[] = "to be signed";
	kw_buf spki, sig;
	EVP_PKEY *pk;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	(void)state;
	kw_buf_init(&spki, 4096);
	kw_buf_init(&sig, 512);
	assert_int_equal(kms_hsm_gen_keypair(hsm, KMS_KEY_P256, "ec1", false, &spki), KW_OK);
	assert_true(kms_hsm_has(hsm, "ec1"));
	assert_int_equal(kms_hsm_sign(hsm, "ec1", kw_view_make(msg, strlen(msg)), &sig), KW_OK);
	assert_non_null(pk = pub_of(&spki));
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk), 1);
	assert_int_equal(EVP_DigestVerify(md, sig.data, sig.len, (const uint8_t *)msg,
	    strlen(msg)), 1);
	/* a non-extractable key cannot be wrapped out */
	assert_int_equal(kms_hsm_gen_aes(hsm, "kek0", true), KW_OK);
	assert_int_not_equal(kms_hsm_wrap_private(hsm, "kek0", "ec1", &sig), KW_OK);
	assert_int_equal(kms_hsm_destroy(hsm, "ec1"), KW_OK);
	assert_false(kms_hsm_has(hsm, "ec1"));
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	kw_buf_free(&spki);
	kw_buf_free(&sig);
}

static void
test_seal_and_data(void **state)
{
	static const char aad[] = "key/1", aad2[] = "key/2", secret[] = "share bytes";
	kw_buf sealed, out;

	(void)state;
	kw_buf_init(&sealed, 4096);
	kw_buf_init(&out, 4096);
	assert_int_equal(kms_hsm_gen_aes(hsm, "seal", false), KW_OK);
	assert_int_equal(kms_hsm_seal(hsm, "seal", kw_view_make(aad, 5),
	    kw_view_make(secret, sizeof(secret)), &sealed), KW_OK);
	assert_int_equal(sealed.len, 12 + sizeof(secret) + 16);
	assert_int_equal(kms_hsm_open_sealed(hsm, "seal", kw_view_make(aad, 5),
	    kw_buf_view(&sealed), &out), KW_OK);
	assert_memory_equal(out.data, secret, sizeof(secret));
	assert_int_not_equal(kms_hsm_open_sealed(hsm, "seal", kw_view_make(aad2, 5),
	    kw_buf_view(&sealed), &out), KW_OK);
	sealed.data[14] ^= 1;
	assert_int_not_equal(kms_hsm_open_sealed(hsm, "seal", kw_view_make(aad, 5),
	    kw_buf_view(&sealed), &out), KW_OK);
	assert_int_equal(kms_hsm_data_put(hsm, "blob", kw_view_make(secret, 5)), KW_OK);
	assert_int_equal(kms_hsm_data_get(hsm, "blob", &out), KW_OK);
	assert_int_equal(out.len, 5);
	assert_int_equal(kms_hsm_data_get(hsm, "nothing", &out), KW_ERR_NOT_FOUND);
	kw_buf_free(&sealed);
	kw_buf_free(&out);
}

/* What libkwkms does: OAEP(SHA-1) -> AES key, RFC 5649 unwrap -> PKCS#8. */
static EVP_PKEY *
client_unwrap(EVP_PKEY *eph, const kw_buf *etk, const kw_buf *wk)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(eph, NULL);
	EVP_CIPHER_CTX *a = EVP_CIPHER_CTX_new();
	uint8_t tk[512], key[4096];
	size_t tkl = sizeof(tk);
	int n1 = 0, n2 = 0;
	const unsigned char *p = key;
	EVP_PKEY *pk = NULL;

	if (EVP_PKEY_decrypt_init(c) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) == 1 &&
	    EVP_PKEY_decrypt(c, tk, &tkl, etk->data, etk->len) == 1 && tkl == 32) {
		EVP_CIPHER_CTX_set_flags(a, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
		if (EVP_DecryptInit_ex(a, EVP_aes_256_wrap_pad(), NULL, tk, NULL) == 1 &&
		    EVP_DecryptUpdate(a, key, &n1, wk->data, (int)wk->len) == 1 &&
		    EVP_DecryptFinal_ex(a, key + n1, &n2) == 1)
			pk = d2i_AutoPrivateKey(NULL, &p, n1 + n2);
	}
	EVP_CIPHER_CTX_free(a);
	EVP_PKEY_CTX_free(c);
	return pk;
}

static void
test_rewrap_for_client(void **state)
{
	kw_buf spki, blob, etk, wk, cspki;
	EVP_PKEY *eph = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048), *pub, *priv;
	unsigned char *der = NULL;
	int n;

	(void)state;
	kw_buf_init(&spki, 4096);
	kw_buf_init(&blob, 8192);
	kw_buf_init(&etk, 4096);
	kw_buf_init(&wk, 8192);
	kw_buf_init(&cspki, 4096);
	assert_int_equal(kms_hsm_gen_aes(hsm, "kek", true), KW_OK);
	assert_int_equal(kms_hsm_gen_keypair(hsm, KMS_KEY_RSA2048, "esc", true, &spki), KW_OK);
	assert_int_equal(kms_hsm_wrap_private(hsm, "kek", "esc", &blob), KW_OK);
	assert_int_equal(kms_hsm_destroy(hsm, "esc"), KW_OK);
	n = i2d_PUBKEY(eph, &der);
	kw_buf_put(&cspki, der, (size_t)n);
	assert_int_equal(kms_hsm_rewrap_for_client(hsm, "kek", KMS_KEY_RSA2048,
	    kw_buf_view(&blob), kw_buf_view(&cspki), &etk, &wk), KW_OK);
	assert_non_null(priv = client_unwrap(eph, &etk, &wk));
	assert_non_null(pub = pub_of(&spki));
	assert_int_equal(EVP_PKEY_eq(pub, priv), 1);
	/* a tampered blob does not unwrap; a short client key is refused */
	blob.data[3] ^= 0x40;
	assert_int_not_equal(kms_hsm_rewrap_for_client(hsm, "kek", KMS_KEY_RSA2048,
	    kw_buf_view(&blob), kw_buf_view(&cspki), &etk, &wk), KW_OK);
	blob.data[3] ^= 0x40;
	assert_int_not_equal(kms_hsm_rewrap_for_client(hsm, "kek", KMS_KEY_RSA2048,
	    kw_buf_view(&blob), kw_view_make(cspki.data, 20), &etk, &wk), KW_OK);
	OPENSSL_free(der);
	EVP_PKEY_free(eph);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(priv);
	kw_buf_free(&spki);
	kw_buf_free(&blob);
	kw_buf_free(&etk);
	kw_buf_free(&wk);
	kw_buf_free(&cspki);
}

static void
test_relabel_and_list(void **state)
{
	char *labels[8];
	size_t n = 0, i;

	(void)state;
	assert_int_equal(kms_hsm_gen_keypair(hsm, KMS_KEY_P256, "pool-a", true, NULL), KW_OK);
	assert_int_equal(kms_hsm_gen_keypair(hsm, KMS_KEY_P256, "pool-b", true, NULL), KW_OK);
	assert_int_equal(kms_hsm_list(hsm, "pool-", labels, 8, &n), KW_OK);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++)
		free(labels[i]);
	assert_int_equal(kms_hsm_relabel(hsm, "pool-a", "taken"), KW_OK);
	assert_int_equal(kms_hsm_relabel(hsm, "pool-a", "again"), KW_ERR_NOT_FOUND);
	assert_int_equal(kms_hsm_list(hsm, "pool-", labels, 8, &n), KW_OK);
	assert_int_equal(n, 1);
	free(labels[0]);
	assert_true(kms_hsm_has(hsm, "taken"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_p256),
		cmocka_unit_test(test_seal_and_data),
		cmocka_unit_test(test_rewrap_for_client),
		cmocka_unit_test(test_relabel_and_list),
	};
	if (access(MODULE, R_OK) != 0) {
		printf("# SKIP: %s not installed\n", MODULE);
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
