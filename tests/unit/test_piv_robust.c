/* Robustness: every PIV parser and the client calls that parse card answers
 * get thousands of deterministic mutations of valid input (bit flips,
 * truncation, junk appended, length bytes changed). They must return an
 * error of the parsing family (or succeed), clear their outputs on error
 * and never crash (this test matters most under ASan/UBSan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kw_log.h"
#include "kw_piv.h"
#include "kw_tlv.h"
#include "piv_fake.h"

#define ROUNDS 3000

static uint32_t rng = 0x12345678;

static uint32_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* One mutation of in into out. */
static void
mutate(kw_view in, kw_buf *out)
{
	size_t i, n;

	kw_buf_reset(out);
	assert_int_equal(kw_buf_put_view(out, in), KW_OK);
	switch (next() % 5) {
	case 0:   /* flip bits */
		for (n = 1 + next() % 3; n > 0 && out->len > 0; n--)
			out->data[next() % out->len] ^= (uint8_t)(1u << (next() % 8));
		break;
	case 1:   /* truncate */
		out->len = out->len > 0 ? next() % out->len : 0;
		break;
	case 2:   /* append junk */
		for (n = 1 + next() % 4; n > 0; n--)
			assert_int_equal(kw_buf_put_u8(out, (uint8_t)next()), KW_OK);
		break;
	case 3:   /* set a byte to a length-like value */
		if (out->len > 0)
			out->data[next() % out->len] = (uint8_t[]){ 0x00, 0x7f, 0x80, 0x81, 0x82,
			    0x83, 0x84, 0xff }[next() % 8];
		break;
	default:  /* random bytes in a random place */
		for (i = 0; i < out->len; i++)
			if (next() % 8 == 0)
				out->data[i] = (uint8_t)next();
		break;
	}
}

static bool
parse_err(kw_rv rv)
{
	return rv == KW_OK || rv == KW_ERR_FORMAT || rv == KW_ERR_TRUNCATED ||
	    rv == KW_ERR_TRAILING || rv == KW_ERR_RANGE;
}

static void
test_parsers(void **state)
{
	static const char *const samples[] = {
		"70053003020105710100FE00",                                 /* cert */
		"C10101C20102F30F687474703A2F2F782E6578616D706CFE00",       /* key history */
		"0101110202020303010104438641046B17D1F2E12C4247F8BCE6E563A440F277037D812DEB"
		"33A0F4A13945D898C2964FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6"
		"406837BF51F5",                                              /* metadata P-256 */
		"3019D4E739DA739CED39CE739D836858210842108421C84210C3EB"
		"341000112233445566778899AABBCCDDEEFF350832303330303130313E00FE00", /* CHUID */
		"4F0BA0000003080000100001005F2F024010",                     /* discovery */
		"800F810103820400000000830462626262",                       /* admin */
		"881289100102030405060708090A0B0C0D0E0F10",                 /* protected */
	};
	kw_buf in, m, der;
	kw_piv_key_history kh;
	kw_piv_metadata md;
	kw_piv_chuid ch;
	kw_piv_discovery d;
	kw_piv_admin a;
	kw_piv_ccc ccc;
	kw_secret s = KW_SECRET_EMPTY;
	size_t i, r, ok;
	kw_rv rv;

	(void)state;
	kw_buf_init(&m, 0);
	kw_buf_init(&der, 0);
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		hex_buf(&in, samples[i]);
		for (r = ok = 0; r < ROUNDS; r++) {
			mutate(kw_buf_view(&in), &m);
			switch (i) {
			case 0:
				rv = kw_piv_cert_parse(kw_buf_view(&m), &der);
				assert_true(rv == KW_OK || der.len == 0);
				break;
			case 1:
				rv = kw_piv_key_history_parse(kw_buf_view(&m), &kh);
				assert_true(rv == KW_OK || (kh.on_card_certs == 0 && kh.url[0] == 0));
				assert_true(strlen(kh.url) < sizeof(kh.url));
				break;
			case 2:
				rv = kw_piv_metadata_parse(kw_buf_view(&m), &md);
				assert_true(rv == KW_OK || md.pubkey == NULL);
				kw_piv_metadata_clear(&md);
				break;
			case 3:
				rv = kw_piv_chuid_parse(kw_buf_view(&m), &ch);
				assert_true(strlen(ch.expiry) < sizeof(ch.expiry));
				(void)kw_piv_ccc_parse(kw_buf_view(&m), &ccc);
				break;
			case 4:
				rv = kw_piv_discovery_parse(kw_buf_view(&m), &d);
				assert_true(d.aid_len <= sizeof(d.aid));
				break;
			case 5:
				rv = kw_piv_admin_parse(kw_buf_view(&m), &a);
				break;
			default:
				rv = kw_piv_protected_mgmt_key_parse(kw_buf_view(&m), &s);
				assert_true(rv == KW_OK || s.ptr == NULL);
				kw_secret_free(&s);
				break;
			}
			if (!parse_err(rv))
				fail_msg("sample %zu round %zu: %s", i, r, kw_strerror(rv));
			ok += rv == KW_OK;
		}
		/* Both outcomes happened: the mutations reach past the first check. */
		if (ok == 0 || ok == ROUNDS)
			fail_msg("sample %zu: %zu of %d parsed", i, ok, ROUNDS);
		kw_buf_free(&in);
	}
	kw_buf_free(&m);
	kw_buf_free(&der);
}

/* A card that answers every command with a mutation of a valid answer. */
typedef struct mcard {
	kw_buf good, cur;
} mcard;

static uint16_t
mutant_answer(void *arg, const fake_cmd *cmd, kw_buf *resp)
{
	mcard *c = arg;

	(void)cmd;
	mutate(kw_buf_view(&c->good), &c->cur);
	assert_int_equal(kw_buf_put_view(resp, kw_buf_view(&c->cur)), KW_OK);
	return next() % 16 == 0 ? 0x6a80 : 0x9000;
}

static void
client_round(kw_piv *p, size_t which)
{
	static const uint8_t k24[24] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t in[32] = { 0 }, ver[3];
	EVP_PKEY *pub = NULL;
	kw_piv_metadata md;
	kw_buf out;
	kw_rv rv;

	kw_buf_init(&out, 0);
	switch (which) {
	case 0:
		rv = kw_piv_generate(p, 0x9a, KW_PIV_ALG_ECCP256, 0, 0, &pub);
		assert_true(rv == KW_OK || pub == NULL);
		EVP_PKEY_free(pub);
		break;
	case 1:
		rv = kw_piv_private_op(p, 0x9a, KW_PIV_ALG_ECCP256, in, sizeof(in), &out);
		assert_true(rv == KW_OK || out.len == 0);
		break;
	case 2:
		rv = kw_piv_authenticate(p, KW_PIV_ALG_3DES, k24, sizeof(k24));
		break;
	case 3:
		rv = kw_piv_get_metadata(p, 0x9a, &md);
		kw_piv_metadata_clear(&md);
		break;
	default:
		rv = kw_piv_get_version(p, ver);
		break;
	}
	kw_buf_free(&out);
	if (!parse_err(rv) && rv != KW_ERR_WRONG_DATA && rv != KW_ERR_SECURITY &&
	    rv != KW_ERR_PROTOCOL)
		fail_msg("client %zu: %s", which, kw_strerror(rv));
}

static void
test_client_calls(void **state)
{
	static const char *const good[] = {
		"7F49438641046B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C2964FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5",
		"7C48824630440220010203040506070801020304050607080102030405060708010203040506070802200102030405060708010203040506070801020304050607080102030405060708",
		"7C0A80080102030405060708",
		"0101110202020303010104438641046B17D1F2E12C4247F8BCE6E563A440F277037D812DEB"
		"33A0F4A13945D898C2964FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6"
		"406837BF51F5",
		"050502",
	};
	mcard c;
	fake_card card = { .answer = mutant_answer, .arg = &c, .chunk = 40 };
	kw_transport *t;
	kw_piv *p;
	size_t i, r;

	(void)state;
	kw_buf_init(&c.cur, 0);
	fake_open(&card, &t, &p);
	kw_log_set_level(KW_LOG_NONE);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		hex_buf(&c.good, good[i]);
		for (r = 0; r < ROUNDS / 3; r++)
			client_round(p, i);
		kw_buf_free(&c.good);
	}
	kw_log_set_level(KW_LOG_WARN);
	fake_close(&card, &t, &p);
	kw_buf_free(&c.cur);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_client_calls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
