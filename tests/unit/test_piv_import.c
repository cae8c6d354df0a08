/* kw_piv_keys.c, YubiKey extensions on key slots: IMPORT (FE), ATTEST (F9),
 * GET METADATA (F7), MOVE/DELETE (F6); malformed answers; log redaction of
 * imported key material. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "kw_piv.h"
#include "kw_tlv.h"
#include "piv_fake.h"

static EVP_PKEY *rsa1024, *p256, *p384;

static int
setup(void **state)
{
	(void)state;
	rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	return rsa1024 && p256 && p384 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
	return 0;
}

/* A card that records the last command and answers with `answer`. */
typedef struct rec {
	fake_cmd cmd;
	kw_buf data;
	const char *answer;
} rec;

static uint16_t
rec_answer(void *arg, const fake_cmd *cmd, kw_buf *resp)
{
	rec *r = arg;
	kw_buf b;
	uint16_t sw;

	r->cmd = *cmd;
	kw_buf_reset(&r->data);
	assert_int_equal(kw_buf_put_view(&r->data, cmd->data), KW_OK);
	hex_buf(&b, r->answer != NULL ? r->answer : "9000");
	sw = (uint16_t)((b.data[b.len - 2] << 8) | b.data[b.len - 1]);
	assert_int_equal(kw_buf_put(resp, b.data, b.len - 2), KW_OK);
	kw_buf_free(&b);
	return sw;
}

typedef struct env {
	rec r;
	fake_card card;
	kw_transport *t;
	kw_piv *p;
} env;

static void
env_open(env *e, const char *answer)
{
	memset(e, 0, sizeof(*e));
	kw_buf_init(&e->r.data, 0);
	e->r.answer = answer;
	e->card.answer = rec_answer;
	e->card.arg = &e->r;
	fake_open(&e->card, &e->t, &e->p);
}

static void
env_close(env *e)
{
	fake_close(&e->card, &e->t, &e->p);
	kw_buf_free(&e->r.data);
}

static void
expect_bn(kw_view *v, uint32_t tag, const EVP_PKEY *k, const char *name, size_t size)
{
	uint8_t want[512];
	BIGNUM *bn = NULL;
	kw_view val;

	assert_int_equal(kw_tlv_expect(v, tag, &val), KW_OK);
	assert_int_equal(val.len, size);
	assert_int_equal(EVP_PKEY_get_bn_param(k, name, &bn), 1);
	assert_int_equal(BN_bn2binpad(bn, want, (int)size), (int)size);
	assert_memory_equal(val.ptr, want, size);
	BN_clear_free(bn);
}

static void
test_import_ec(void **state)
{
	kw_view v;
	env e;

	(void)state;
	env_open(&e, NULL);
	assert_int_equal(kw_piv_import_key(e.p, 0x9d, p256, KW_PIV_PIN_POLICY_ONCE,
	    KW_PIV_TOUCH_POLICY_ALWAYS), KW_OK);
	assert_int_equal(e.r.cmd.ins, 0xfe);
	assert_int_equal(e.r.cmd.p1, KW_PIV_ALG_ECCP256);
	assert_int_equal(e.r.cmd.p2, 0x9d);
	v = kw_buf_view(&e.r.data);
	expect_bn(&v, 0x06, p256, OSSL_PKEY_PARAM_PRIV_KEY, 32);
	assert_view_hex(v, "AA0102AB0102");
	/* P-384 into a retired slot, default policies: no AA/AB. */
	assert_int_equal(kw_piv_import_key(e.p, 0x8a, p384, 0, 0), KW_OK);
	assert_int_equal(e.r.cmd.p1, KW_PIV_ALG_ECCP384);
	assert_int_equal(e.r.cmd.p2, 0x8a);
	v = kw_buf_view(&e.r.data);
	expect_bn(&v, 0x06, p384, OSSL_PKEY_PARAM_PRIV_KEY, 48);
	assert_int_equal(v.len, 0);
	env_close(&e);
}

static void
test_import_rsa(void **state)
{
	kw_view v;
	env e;

	(void)state;
	env_open(&e, NULL);
	assert_int_equal(kw_piv_import_key(e.p, 0x9a, rsa1024, 0, KW_PIV_TOUCH_POLICY_NEVER), KW_OK);
	assert_int_equal(e.r.cmd.p1, KW_PIV_ALG_RSA1024);
	v = kw_buf_view(&e.r.data);
	expect_bn(&v, 0x01, rsa1024, OSSL_PKEY_PARAM_RSA_FACTOR1, 64);
	expect_bn(&v, 0x02, rsa1024, OSSL_PKEY_PARAM_RSA_FACTOR2, 64);
	expect_bn(&v, 0x03, rsa1024, OSSL_PKEY_PARAM_RSA_EXPONENT1, 64);
	expect_bn(&v, 0x04, rsa1024, OSSL_PKEY_PARAM_RSA_EXPONENT2, 64);
	expect_bn(&v, 0x05, rsa1024, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, 64);
	assert_view_hex(v, "AB0101");
	env_close(&e);
}

static void
test_import_refused(void **state)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *e3 = NULL, *ed;
	BIGNUM *three = BN_new();
	env e;

	(void)state;
	/* Public exponent 3: the card cannot take it. */
	assert_non_null(three);
	assert_int_equal(BN_set_word(three, 3), 1);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 1024), 1);
	assert_int_equal(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, three), 1);
	assert_int_equal(EVP_PKEY_keygen(ctx, &e3), 1);
	EVP_PKEY_CTX_free(ctx);
	BN_free(three);
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");   /* a curve PIV lacks */
	env_open(&e, "6982");
	assert_int_equal(kw_piv_import_key(e.p, 0x9a, e3, 0, 0), KW_ERR_NOT_SUPPORTED);
	assert_int_equal(kw_piv_import_key(e.p, 0x9a, ed, 0, 0), KW_ERR_ARG);
	assert_int_equal(kw_piv_import_key(e.p, 0x9a, NULL, 0, 0), KW_ERR_ARG);
	assert_int_equal(kw_piv_import_key(e.p, 0x9b, p256, 0, 0), KW_ERR_ARG);
	assert_int_equal(kw_piv_import_key(e.p, 0xf9, p256, 0, 0), KW_ERR_ARG);
	assert_int_equal(kw_piv_import_key(e.p, 0x9a, p256, 5, 0), KW_ERR_ARG);
	assert_int_equal(e.card.apdus, 0);
	/* A public key alone cannot be imported. */
	{
		uint8_t pt[100];
		size_t n;
		EVP_PKEY *pub = NULL;
		OSSL_PARAM params[3];

		assert_int_equal(EVP_PKEY_get_octet_string_param(p256, OSSL_PKEY_PARAM_PUB_KEY, pt,
		    sizeof(pt), &n), 1);
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
		    (char *)"prime256v1", 0);
		params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, n);
		params[2] = OSSL_PARAM_construct_end();
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
		assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
		assert_int_equal(EVP_PKEY_fromdata(ctx, &pub, EVP_PKEY_PUBLIC_KEY, params), 1);
		EVP_PKEY_CTX_free(ctx);
		assert_int_equal(kw_piv_import_key(e.p, 0x9a, pub, 0, 0), KW_ERR_CRYPTO);
		EVP_PKEY_free(pub);
	}
	assert_int_equal(kw_piv_import_key(e.p, 0x9a, p256, 0, 0), KW_ERR_SECURITY);
	env_close(&e);
	EVP_PKEY_free(e3);
	EVP_PKEY_free(ed);
}

static void
test_import_25519(void **state)
{
	static const struct { const char *type; uint8_t alg; uint32_t tag; } v[] = {
		{ "ED25519", KW_PIV_ALG_ED25519, 0x07 }, { "X25519", KW_PIV_ALG_X25519, 0x08 },
	};
	uint8_t raw[32];
	size_t i, n;
	kw_view view, val;
	EVP_PKEY *k;
	env e;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		k = EVP_PKEY_Q_keygen(NULL, NULL, v[i].type);
		assert_non_null(k);
		n = sizeof(raw);
		assert_int_equal(EVP_PKEY_get_raw_private_key(k, raw, &n), 1);
		env_open(&e, NULL);
		assert_int_equal(kw_piv_import_key(e.p, 0x9d, k, 0, KW_PIV_TOUCH_POLICY_NEVER), KW_OK);
		assert_int_equal(e.r.cmd.p1, v[i].alg);
		view = kw_buf_view(&e.r.data);
		assert_int_equal(kw_tlv_expect(&view, v[i].tag, &val), KW_OK);
		assert_int_equal(val.len, 32);
		assert_memory_equal(val.ptr, raw, 32);
		assert_view_hex(view, "AB0101");
		env_close(&e);
		EVP_PKEY_free(k);
	}
}

static void
test_import_not_logged(void **state)
{
	uint8_t d[32];
	BIGNUM *bn = NULL;
	char *log, *dhex;
	env e;

	(void)state;
	assert_int_equal(EVP_PKEY_get_bn_param(p256, OSSL_PKEY_PARAM_PRIV_KEY, &bn), 1);
	assert_int_equal(BN_bn2binpad(bn, d, 32), 32);
	BN_clear_free(bn);
	dhex = hex_of(d, 32);
	dhex[16] = '\0';   /* any 8 bytes of it would be a leak */
	env_open(&e, NULL);
	log_capture_begin();
	assert_int_equal(kw_piv_import_key(e.p, 0x9d, p256, 0, 0), KW_OK);
	log = log_capture_end();
	assert_non_null(strstr(log, "00FE119D"));
	assert_null(strstr(log, dhex));
	free(log);
	free(dhex);
	env_close(&e);
}

static void
test_attest(void **state)
{
	static const struct { const char *answer; kw_rv rv; const char *der; } v[] = {
		{ "30030201059000", KW_OK, "3003020105" },
		{ "3003020105009000", KW_ERR_TRAILING, "" },
		{ "300302019000", KW_ERR_TRUNCATED, "" },
		{ "31030201059000", KW_ERR_FORMAT, "" },
		{ "9000", KW_ERR_TRUNCATED, "" },
		{ "6A80", KW_ERR_WRONG_DATA, "" },   /* imported key: no attestation */
	};
	kw_buf der;
	env e;
	size_t i;

	(void)state;
	kw_buf_init(&der, 0);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		env_open(&e, v[i].answer);
		assert_int_equal(kw_piv_attest(e.p, 0x9c, &der), v[i].rv);
		assert_int_equal(e.r.cmd.ins, 0xf9);
		assert_int_equal(e.r.cmd.p1, 0x9c);
		assert_int_equal(e.r.cmd.p2, 0x00);
		assert_true(e.r.cmd.has_le);
		assert_view_hex(kw_buf_view(&der), v[i].der);
		env_close(&e);
	}
	env_open(&e, NULL);
	assert_int_equal(kw_piv_attest(e.p, 0x9b, &der), KW_ERR_ARG);
	assert_int_equal(kw_piv_attest(e.p, 0x9c, NULL), KW_ERR_ARG);
	env_close(&e);
	kw_buf_free(&der);
}

static char *
metadata_answer(const EVP_PKEY *k, const char *extra_hex)
{
	uint8_t pt[100];
	size_t n;
	kw_buf b, extra;
	char *hex;

	assert_int_equal(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    sizeof(pt), &n), 1);
	kw_buf_init(&b, 0);
	assert_int_equal(kw_buf_put(&b, "\x01\x01\x11\x02\x02\x02\x03\x03\x01\x01", 10), KW_OK);
	assert_int_equal(kw_tlv_put_header(&b, 0x04, 2 + n), KW_OK);
	assert_int_equal(kw_tlv_put(&b, 0x86, pt, n), KW_OK);
	hex_buf(&extra, extra_hex);
	assert_int_equal(kw_buf_put(&b, extra.data, extra.len), KW_OK);
	assert_int_equal(kw_buf_put(&b, "\x90\x00", 2), KW_OK);
	hex = hex_of(b.data, b.len);
	kw_buf_free(&b);
	kw_buf_free(&extra);
	return hex;
}

static void
test_metadata_key(void **state)
{
	kw_piv_metadata md;
	char *ans;
	env e;

	(void)state;
	ans = metadata_answer(p256, "0700");   /* an unknown tag is skipped */
	env_open(&e, ans);
	assert_int_equal(kw_piv_get_metadata(e.p, 0x9a, &md), KW_OK);
	assert_int_equal(e.r.cmd.ins, 0xf7);
	assert_int_equal(e.r.cmd.p1, 0x00);
	assert_int_equal(e.r.cmd.p2, 0x9a);
	assert_int_equal(md.alg, KW_PIV_ALG_ECCP256);
	assert_int_equal(md.pin_policy, 2);
	assert_int_equal(md.touch_policy, 3);
	assert_int_equal(md.origin, KW_PIV_ORIGIN_GENERATED);
	assert_false(md.is_default);
	assert_int_equal(md.retries_total, -1);
	assert_non_null(md.pubkey);
	assert_int_equal(EVP_PKEY_eq(md.pubkey, p256), 1);
	kw_piv_metadata_clear(&md);
	assert_null(md.pubkey);
	kw_piv_metadata_clear(NULL);
	env_close(&e);
	free(ans);
}

static void
test_metadata_25519(void **state)
{
	kw_piv_metadata md;
	env e;

	(void)state;
	env_open(&e, "0101E0" "0202020103010104228620"
	    "D75A980182B10AB7D54BFED3C964073A0EE172F3DAA62325AF021A68F707511A" "9000");
	assert_int_equal(kw_piv_get_metadata(e.p, 0x9c, &md), KW_OK);
	assert_int_equal(md.alg, KW_PIV_ALG_ED25519);
	assert_non_null(md.pubkey);
	assert_true(EVP_PKEY_is_a(md.pubkey, "ED25519"));
	kw_piv_metadata_clear(&md);
	env_close(&e);
	env_open(&e, "0101E1" "040386" "01AA" "9000");
	assert_int_equal(kw_piv_get_metadata(e.p, 0x9d, &md), KW_ERR_FORMAT);
	env_close(&e);
}

static void
test_metadata_pin(void **state)
{
	kw_piv_metadata md;
	env e;

	(void)state;
	env_open(&e, "0101FF" "050101" "06020502" "9000");
	assert_int_equal(kw_piv_get_metadata(e.p, KW_PIV_REF_PIN, &md), KW_OK);
	assert_int_equal(e.r.cmd.p2, 0x80);
	assert_int_equal(md.alg, 0xff);
	assert_true(md.is_default);
	assert_int_equal(md.retries_total, 5);
	assert_int_equal(md.retries_left, 2);
	assert_null(md.pubkey);
	kw_piv_metadata_clear(&md);
	env_close(&e);
	/* Management key: 01 alg, 02 policy (touch), 05 default. */
	env_open(&e, "010103" "02020001" "050100" "9000");
	assert_int_equal(kw_piv_get_metadata(e.p, KW_PIV_SLOT_MGMT, &md), KW_OK);
	assert_int_equal(md.alg, KW_PIV_ALG_3DES);
	assert_int_equal(md.touch_policy, 1);
	assert_false(md.is_default);
	kw_piv_metadata_clear(&md);
	env_close(&e);
}

static void
md_bad(const char *answer, kw_rv want)
{
	kw_piv_metadata md;
	env e;

	env_open(&e, answer);
	if (kw_piv_get_metadata(e.p, 0x9a, &md) != want)
		fail_msg("%.80s", answer);
	assert_null(md.pubkey);
	assert_int_equal(md.alg, 0);
	assert_int_equal(md.retries_left, -1);
	env_close(&e);
}

static void
test_metadata_malformed(void **state)
{
	char *ans;

	(void)state;
	md_bad("6A88", KW_ERR_NOT_FOUND);                 /* empty slot */
	md_bad("9000", KW_ERR_FORMAT);                    /* nothing: no algorithm */
	md_bad("02020101" "9000", KW_ERR_FORMAT);         /* no algorithm */
	md_bad("01021111" "9000", KW_ERR_FORMAT);         /* alg length */
	md_bad("0100" "9000", KW_ERR_FORMAT);
	md_bad("010111" "020101" "9000", KW_ERR_FORMAT);  /* policy length */
	md_bad("010111" "06010A" "9000", KW_ERR_FORMAT);  /* retries length */
	md_bad("010111" "05020101" "9000", KW_ERR_FORMAT);
	md_bad("010111" "010111" "9000", KW_ERR_FORMAT);  /* duplicate */
	md_bad("010111" "0203" "9000", KW_ERR_TRUNCATED);
	md_bad("010111" "02" "9000", KW_ERR_TRUNCATED);
	md_bad("010111" "0284000000010000" "9000", KW_ERR_FORMAT);
	md_bad("010111" "040100" "9000", KW_ERR_TRUNCATED);  /* bad public key TLV */
	md_bad("010111" "0403860100" "9000", KW_ERR_FORMAT);  /* bad point */
	ans = metadata_answer(p384, "");                       /* P-384 point, alg P-256 */
	md_bad(ans, KW_ERR_FORMAT);
	free(ans);
}

static void
test_move_delete(void **state)
{
	env e;

	(void)state;
	env_open(&e, NULL);
	assert_int_equal(kw_piv_move_key(e.p, 0x82, 0x9d), KW_OK);
	assert_int_equal(e.r.cmd.ins, 0xf6);
	assert_int_equal(e.r.cmd.p1, 0x82);
	assert_int_equal(e.r.cmd.p2, 0x9d);
	assert_int_equal(e.r.cmd.data.len, 0);
	assert_int_equal(kw_piv_delete_key(e.p, 0x95), KW_OK);
	assert_int_equal(e.r.cmd.p1, 0xff);
	assert_int_equal(e.r.cmd.p2, 0x95);
	assert_int_equal(e.card.apdus, 2);
	assert_int_equal(kw_piv_move_key(e.p, 0x9d, 0x9d), KW_ERR_ARG);
	assert_int_equal(kw_piv_move_key(e.p, 0x9b, 0x9d), KW_ERR_ARG);
	assert_int_equal(kw_piv_move_key(e.p, 0x9a, 0xf9), KW_ERR_ARG);
	assert_int_equal(kw_piv_delete_key(e.p, 0x9b), KW_ERR_ARG);
	assert_int_equal(kw_piv_delete_key(e.p, 0xf9), KW_ERR_ARG);
	assert_int_equal(e.card.apdus, 2);
	env_close(&e);
	env_open(&e, "6A88");
	assert_int_equal(kw_piv_delete_key(e.p, 0x9a), KW_ERR_NOT_FOUND);
	env_close(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_import_ec),
		cmocka_unit_test(test_import_rsa),
		cmocka_unit_test(test_import_refused),
		cmocka_unit_test(test_import_25519),
		cmocka_unit_test(test_import_not_logged),
		cmocka_unit_test(test_attest),
		cmocka_unit_test(test_metadata_key),
		cmocka_unit_test(test_metadata_25519),
		cmocka_unit_test(test_metadata_pin),
		cmocka_unit_test(test_metadata_malformed),
		cmocka_unit_test(test_move_delete),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
