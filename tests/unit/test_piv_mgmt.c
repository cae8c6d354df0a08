/* kw_piv_mgmt.c: management-key mutual authentication against a card side
 * written here with OpenSSL (3DES, AES-128/192/256), known vectors, wrong
 * keys, a card that answers wrongly, and malformed answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "kw_piv.h"
#include "kw_tlv.h"
#include "piv_fake.h"

static const uint8_t default_3des[24] = {
	1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
};

static const EVP_CIPHER *
cipher_of(uint8_t alg)
{
	switch (alg) {
	case KW_PIV_ALG_3DES: return EVP_des_ede3_ecb();
	case KW_PIV_ALG_AES128: return EVP_aes_128_ecb();
	case KW_PIV_ALG_AES192: return EVP_aes_192_ecb();
	default: return EVP_aes_256_ecb();
	}
}

static size_t
block_of(uint8_t alg)
{
	return alg == KW_PIV_ALG_3DES ? 8 : 16;
}

static void
ecb(uint8_t alg, const uint8_t *key, const uint8_t *in, uint8_t *out, int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0;

	assert_non_null(ctx);
	assert_int_equal(EVP_CipherInit_ex(ctx, cipher_of(alg), NULL, key, NULL, enc), 1);
	assert_int_equal(EVP_CIPHER_CTX_set_padding(ctx, 0), 1);
	assert_int_equal(EVP_CipherUpdate(ctx, out, &n, in, (int)block_of(alg)), 1);
	assert_int_equal(n, (int)block_of(alg));
	EVP_CIPHER_CTX_free(ctx);
}

/* The card side of the protocol. */
typedef struct mcard {
	uint8_t alg;
	uint8_t key[32];
	uint8_t witness[16];  /* the plain witness the card chose */
	int step;
	int lie;              /* answer the challenge with a wrong cryptogram */
	int fixed_witness;    /* keep the witness the test put there */
	const char *step1_override, *step2_override;  /* hex answers (malformed) */
	int authenticated;
} mcard;

static uint16_t
override(const char *hex, kw_buf *resp)
{
	kw_buf b;
	uint16_t sw;

	hex_buf(&b, hex);
	assert_true(b.len >= 2);
	sw = (uint16_t)((b.data[b.len - 2] << 8) | b.data[b.len - 1]);
	assert_int_equal(kw_buf_put(resp, b.data, b.len - 2), KW_OK);
	kw_buf_free(&b);
	return sw;
}

static uint16_t
mcard_step1(mcard *c, kw_buf *resp)
{
	uint8_t enc[16];
	size_t bs = block_of(c->alg), i;

	for (i = 0; i < bs && !c->fixed_witness; i++)
		c->witness[i] = (uint8_t)(0xa5 ^ (i * 37) ^ c->alg);
	ecb(c->alg, c->key, c->witness, enc, 1);
	c->step = 1;
	if (c->step1_override != NULL)
		return override(c->step1_override, resp);
	assert_int_equal(kw_tlv_put_header(resp, 0x7c, 2 + bs), KW_OK);
	assert_int_equal(kw_tlv_put(resp, 0x80, enc, bs), KW_OK);
	return 0x9000;
}

static uint16_t
mcard_step2(mcard *c, kw_view dyn, kw_buf *resp)
{
	size_t bs = block_of(c->alg);
	uint8_t enc[16];
	kw_view w, chal;

	if (kw_tlv_expect(&dyn, 0x80, &w) != KW_OK || kw_tlv_expect(&dyn, 0x81, &chal) != KW_OK ||
	    dyn.len != 0 || w.len != bs || chal.len != bs)
		return 0x6a80;
	c->step = 2;
	if (memcmp(w.ptr, c->witness, bs) != 0)
		return 0x6982;
	c->authenticated = 1;
	if (c->step2_override != NULL)
		return override(c->step2_override, resp);
	ecb(c->alg, c->key, chal.ptr, enc, 1);
	if (c->lie)
		enc[bs - 1] ^= 1;
	assert_int_equal(kw_tlv_put_header(resp, 0x7c, 2 + bs), KW_OK);
	assert_int_equal(kw_tlv_put(resp, 0x82, enc, bs), KW_OK);
	return 0x9000;
}

static uint16_t
mcard_answer(void *arg, const fake_cmd *cmd, kw_buf *resp)
{
	mcard *c = arg;
	kw_view v = cmd->data, dyn, tmp;

	if (cmd->ins != 0x87 || cmd->p2 != 0x9b)
		return 0x6d00;
	if (cmd->p1 != c->alg)
		return 0x6a86;
	if (kw_tlv_expect(&v, 0x7c, &dyn) != KW_OK || v.len != 0)
		return 0x6a80;
	tmp = dyn;
	if (kw_tlv_expect(&tmp, 0x80, &v) == KW_OK && v.len == 0 && tmp.len == 0)
		return mcard_step1(c, resp);
	if (c->step != 1)
		return 0x6985;
	return mcard_step2(c, dyn, resp);
}

static kw_rv
run_auth(mcard *c, const uint8_t *client_key, size_t len)
{
	fake_card card = { .answer = mcard_answer, .arg = c };
	kw_transport *t;
	kw_piv *p;
	kw_rv rv;

	fake_open(&card, &t, &p);
	rv = kw_piv_authenticate(p, c->alg, client_key, len);
	fake_close(&card, &t, &p);
	return rv;
}

static void
test_auth_all_algorithms(void **state)
{
	static const uint8_t algs[] = { KW_PIV_ALG_3DES, KW_PIV_ALG_AES128, KW_PIV_ALG_AES192,
		KW_PIV_ALG_AES256 };
	uint8_t wrong[32];
	mcard c;
	size_t i, j, len;

	(void)state;
	for (i = 0; i < sizeof(algs); i++) {
		memset(&c, 0, sizeof(c));
		c.alg = algs[i];
		len = kw_piv_mgmt_key_len(c.alg);
		for (j = 0; j < len; j++)
			c.key[j] = (uint8_t)(j * 11 + i);
		assert_int_equal(run_auth(&c, c.key, len), KW_OK);
		assert_int_equal(c.authenticated, 1);
		/* The client holds another key: the card refuses the witness. */
		memcpy(wrong, c.key, len);
		wrong[len - 1] ^= 0x80;
		c.authenticated = 0;
		assert_int_equal(run_auth(&c, wrong, len), KW_ERR_SECURITY);
		assert_int_equal(c.authenticated, 0);
		assert_int_equal(c.step, 2);
		/* The card does not know the key: the client notices. */
		c.lie = 1;
		assert_int_equal(run_auth(&c, c.key, len), KW_ERR_SECURITY);
		assert_int_equal(c.authenticated, 1);
	}
}

/* Known answers from the standards, independent of OpenSSL: FIPS 81's
 * DES example (3DES with K1=K2=K3 is DES) and FIPS 197 appendix C.1. The
 * card sends the published ciphertext as the witness; the client must send
 * back the published plaintext. */
static void
test_auth_known_vectors(void **state)
{
	static const struct { uint8_t alg; const char *key, *plain, *step1; } v[] = {
		{ KW_PIV_ALG_3DES, "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
		  "4E6F772069732074", "7C0A8008" "3FA40E8A984D4815" "9000" },
		{ KW_PIV_ALG_AES128, "000102030405060708090A0B0C0D0E0F",
		  "00112233445566778899AABBCCDDEEFF",
		  "7C128010" "69C4E0D86A7B0430D8CDB78070B4C55A" "9000" },
		{ KW_PIV_ALG_AES256,
		  "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
		  "00112233445566778899AABBCCDDEEFF",
		  "7C128010" "8EA2B7CA516745BFEAFC49904B496089" "9000" },
	};
	kw_buf key, plain;
	mcard c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.alg = v[i].alg;
		hex_buf(&key, v[i].key);
		hex_buf(&plain, v[i].plain);
		memcpy(c.key, key.data, key.len);
		memcpy(c.witness, plain.data, plain.len);
		c.fixed_witness = 1;
		c.step1_override = v[i].step1;
		assert_int_equal(run_auth(&c, key.data, key.len), KW_OK);
		assert_int_equal(c.authenticated, 1);
		kw_buf_free(&key);
		kw_buf_free(&plain);
	}
}

static void
test_auth_malformed(void **state)
{
	static const struct { const char *s1, *s2; kw_rv rv; } v[] = {
		{ "7C0A80080102030405060708" "6A80", NULL, KW_ERR_WRONG_DATA },
		{ "7C0A800701020304050607" "9000", NULL, KW_ERR_TRUNCATED },
		{ "7C09800701020304050607" "9000", NULL, KW_ERR_FORMAT },      /* 7 bytes */
		{ "7C0B8009010203040506070809" "9000", NULL, KW_ERR_FORMAT },  /* 9 bytes */
		{ "7D0A80080102030405060708" "9000", NULL, KW_ERR_FORMAT },
		{ "7C0A81080102030405060708" "9000", NULL, KW_ERR_FORMAT },
		{ "7C0A80080102030405060708" "00" "9000", NULL, KW_ERR_TRAILING },
		{ "7C0C800801020304050607080000" "9000", NULL, KW_ERR_TRAILING },
		{ "7C8A80080102030405060708" "9000", NULL, KW_ERR_FORMAT },
		{ "9000", NULL, KW_ERR_TRUNCATED },
		{ NULL, "7C0A83080102030405060708" "9000", KW_ERR_FORMAT },
		{ NULL, "7C06820401020304" "9000", KW_ERR_FORMAT },
		{ NULL, "7C0A820801020304050607" "9000", KW_ERR_TRUNCATED },
		{ NULL, "7C0A82080102030405060708" "FFFF" "9000", KW_ERR_TRAILING },
		{ NULL, "6982", KW_ERR_SECURITY },
		{ NULL, "9000", KW_ERR_TRUNCATED },
	};
	mcard c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.alg = KW_PIV_ALG_3DES;
		memcpy(c.key, default_3des, 24);
		c.step1_override = v[i].s1;
		c.step2_override = v[i].s2;
		if (run_auth(&c, c.key, 24) != v[i].rv)
			fail_msg("case %zu", i);
	}
}

/* Both steps in one transaction, however the caller holds the reader. */
static void
test_auth_one_transaction(void **state)
{
	mcard c;
	fake_card card = { .answer = mcard_answer, .arg = &c, .track_tx = true };
	kw_transport *t;
	kw_piv *p;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.alg = KW_PIV_ALG_AES256;
	memset(c.key, 0x42, 32);
	fake_open(&card, &t, &p);
	assert_int_equal(kw_piv_authenticate(p, c.alg, c.key, 32), KW_OK);
	assert_int_equal(card.apdus, 2);
	assert_int_equal(fake_tx_outside, 0);
	assert_int_equal(fake_tx_depth, 0);
	assert_int_equal(fake_tx_begins, 3);   /* the operation + one per APDU, nested */
	fake_close(&card, &t, &p);
}

static void
test_auth_args(void **state)
{
	kw_transport *t;
	kw_piv *p;

	(void)state;
	fake_open(NULL, &t, &p);
	assert_int_equal(kw_piv_authenticate(p, KW_PIV_ALG_3DES, default_3des, 16), KW_ERR_ARG);
	assert_int_equal(kw_piv_authenticate(p, KW_PIV_ALG_AES256, default_3des, 24), KW_ERR_ARG);
	assert_int_equal(kw_piv_authenticate(p, KW_PIV_ALG_RSA2048, default_3des, 24), KW_ERR_ARG);
	assert_int_equal(kw_piv_authenticate(p, KW_PIV_ALG_3DES, NULL, 24), KW_ERR_ARG);
	assert_int_equal(kw_piv_authenticate(NULL, KW_PIV_ALG_3DES, default_3des, 24), KW_ERR_ARG);
	fake_close(NULL, &t, &p);
}

static void
test_auth_wire_format_and_log(void **state)
{
	mcard c;
	fake_card card = { .answer = mcard_answer, .arg = &c };
	kw_transport *t;
	kw_piv *p;
	char *log, *khex;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.alg = KW_PIV_ALG_AES128;
	memcpy(c.key, "\x10\x32\x54\x76\x98\xba\xdc\xfe\x01\x23\x45\x67\x89\xab\xcd\xef", 16);
	fake_open(&card, &t, &p);
	log_capture_begin();
	assert_int_equal(kw_piv_authenticate(p, c.alg, c.key, 16), KW_OK);
	log = log_capture_end();
	/* Two exchanges, headers visible, nothing else. */
	assert_int_equal(card.apdus, 2);
	assert_non_null(strstr(log, "0087089B"));
	assert_null(strstr(log, "7C0280"));
	assert_null(strstr(log, "7C12"));
	khex = hex_of(c.witness, 16);
	assert_null(strstr(log, khex));
	free(khex);
	khex = hex_of(c.key, 16);
	assert_null(strstr(log, khex));
	free(khex);
	free(log);
	fake_close(&card, &t, &p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auth_all_algorithms),
		cmocka_unit_test(test_auth_known_vectors),
		cmocka_unit_test(test_auth_malformed),
		cmocka_unit_test(test_auth_one_transaction),
		cmocka_unit_test(test_auth_args),
		cmocka_unit_test(test_auth_wire_format_and_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
