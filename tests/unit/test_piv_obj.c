/* kw_piv_obj.c: FASC-N encoding, CHUID / CCC / Discovery parsing and
 * building, malformed objects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kw_piv.h"
#include "kw_tlv.h"
#include "piv_fake.h"

/* Agency 9999, system 9999, credential 999999, CS 0, ICI 1, PI 0..0, OC 3,
 * OI 0000, POA 1: the FASC-N found on many test cards. */
static const char fascn_digits[] = "9999" "9999" "999999" "0" "1" "0000000000" "3" "0000" "1";
static const char fascn_hex[] = "D4E739DA739CED39CE739D836858210842108421C84210C3EB";

static void
test_fascn(void **state)
{
	uint8_t out[KW_PIV_FASCN_LEN];
	char *hex;

	(void)state;
	assert_int_equal(kw_piv_fascn_encode(fascn_digits, out), KW_OK);
	hex = hex_of(out, sizeof(out));
	assert_string_equal(hex, fascn_hex);
	free(hex);
	/* All zeros: SS, FS and ES characters and an LRC of SS^FS^..^ES. */
	assert_int_equal(kw_piv_fascn_encode("00000000000000000000000000000000", out), KW_OK);
	assert_int_equal(out[0] >> 3, 0x1a);         /* SS = 11010 */
	assert_int_equal(kw_piv_fascn_encode("123", out), KW_ERR_ARG);
	assert_int_equal(kw_piv_fascn_encode("9999999999999999999999999999999a", out), KW_ERR_ARG);
	assert_int_equal(kw_piv_fascn_encode(NULL, out), KW_ERR_ARG);
}

static void
test_chuid_roundtrip(void **state)
{
	static const uint8_t guid[16] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
		1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t fascn[KW_PIV_FASCN_LEN];
	kw_piv_chuid c;
	kw_buf b;

	(void)state;
	kw_buf_init(&b, 0);
	assert_int_equal(kw_piv_fascn_encode(fascn_digits, fascn), KW_OK);
	assert_int_equal(kw_piv_chuid_build(fascn, guid, "20300101", &b), KW_OK);
	assert_int_equal(b.len, 2 + 25 + 2 + 16 + 2 + 8 + 2 + 2);
	assert_int_equal(kw_piv_chuid_parse(kw_buf_view(&b), &c), KW_OK);
	assert_memory_equal(c.fascn, fascn, sizeof(fascn));
	assert_memory_equal(c.guid, guid, 16);
	assert_string_equal(c.expiry, "20300101");
	assert_false(c.has_uuid);
	assert_int_equal(kw_piv_chuid_build(fascn, guid, "2030010", &b), KW_ERR_ARG);
	assert_int_equal(kw_piv_chuid_build(fascn, guid, "2030010x", &b), KW_ERR_ARG);
	assert_int_equal(kw_piv_chuid_build(NULL, guid, "20300101", &b), KW_ERR_ARG);
	kw_buf_free(&b);
}

static void
chuid_case(const char *hex, kw_rv want)
{
	kw_piv_chuid c;
	kw_buf b;

	hex_buf(&b, hex);
	memset(&c, 0x55, sizeof(c));
	if (kw_piv_chuid_parse(kw_buf_view(&b), &c) != want)
		fail_msg("%.100s", hex);
	if (want != KW_OK)
		assert_int_equal(c.guid[0], 0);
	kw_buf_free(&b);
}

#define FASCN "3019" "D4E739DA739CED39CE739D836858210842108421C84210C3EB"
#define GUID "3410" "00112233445566778899AABBCCDDEEFF"

static void
test_chuid_malformed(void **state)
{
	(void)state;
	chuid_case(FASCN GUID "350832303330303130313E00FE00", KW_OK);
	chuid_case("EE020BB8" FASCN "320412345678" GUID "3D0100" "3610" "00112233445566778899AABBCCDDEEFF"
	    "3E03AABBCC", KW_OK);
	chuid_case(GUID, KW_ERR_FORMAT);                        /* no FASC-N */
	chuid_case(FASCN, KW_ERR_FORMAT);                       /* no GUID */
	chuid_case(FASCN GUID GUID, KW_ERR_FORMAT);             /* duplicate */
	chuid_case("3018D4E739DA739CED39CE739D836858210842108421C84210C3" GUID, KW_ERR_FORMAT);
	chuid_case(FASCN "340F00112233445566778899AABBCCDDEE", KW_ERR_FORMAT);
	chuid_case(FASCN GUID "3508323033303031", KW_ERR_TRUNCATED);
	chuid_case(FASCN GUID "3508323033303031303E", KW_ERR_FORMAT); /* '>' in the date */
	chuid_case(FASCN GUID "3E82", KW_ERR_TRUNCATED);
	chuid_case(FASCN GUID "3E80", KW_ERR_FORMAT);
	chuid_case("", KW_ERR_FORMAT);
}

static void
test_ccc(void **state)
{
	static const uint8_t id[14] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
	kw_piv_ccc c;
	kw_buf b;

	(void)state;
	kw_buf_init(&b, 0);
	assert_int_equal(kw_piv_ccc_build(id, &b), KW_OK);
	assert_int_equal(kw_piv_ccc_parse(kw_buf_view(&b), &c), KW_OK);
	assert_memory_equal(c.card_id, "\xa0\x00\x00\x01\x16\xff\x02", 7);
	assert_memory_equal(c.card_id + 7, id, 14);
	assert_int_equal(kw_tlv_validate(kw_buf_view(&b)), KW_OK);
	kw_buf_free(&b);
	hex_buf(&b, "F114A000000116000000000000000000000000000000" "FE00");
	assert_int_equal(kw_piv_ccc_parse(kw_buf_view(&b), &c), KW_ERR_FORMAT);  /* no F0 */
	kw_buf_free(&b);
	hex_buf(&b, "F014A000000116000000000000000000000000000000");
	assert_int_equal(kw_piv_ccc_parse(kw_buf_view(&b), &c), KW_ERR_FORMAT);  /* 20 bytes */
	kw_buf_free(&b);
	hex_buf(&b, "F015A000000116FF020102030405060708090A0B0C0D0E" "F101");
	assert_int_equal(kw_piv_ccc_parse(kw_buf_view(&b), &c), KW_ERR_TRUNCATED);
	kw_buf_free(&b);
	assert_int_equal(kw_piv_ccc_build(NULL, &b), KW_ERR_ARG);
}

static void
disc_case(const char *hex, kw_rv want, uint16_t policy)
{
	kw_piv_discovery d;
	kw_buf b;

	hex_buf(&b, hex);
	if (kw_piv_discovery_parse(kw_buf_view(&b), &d) != want)
		fail_msg("%.100s", hex);
	assert_int_equal(d.pin_policy, policy);
	if (want == KW_OK)
		assert_int_equal(d.aid_len, 11);
	kw_buf_free(&b);
}

static void
test_discovery(void **state)
{
	kw_piv_discovery d;
	kw_transport *t;
	kw_piv *p;

	(void)state;
	disc_case("4F0BA000000308000010000100" "5F2F024010", KW_OK, 0x4010);
	disc_case("4F0BA000000308000010000100" "5F2F024010" "7F620200", KW_ERR_TRUNCATED, 0);
	disc_case("4F0BA000000308000010000100" "5F2F02401000", KW_ERR_TRUNCATED, 0);
	disc_case("4F0BA000000308000010000100" "5F2F0140", KW_ERR_FORMAT, 0);
	disc_case("4F0BA000000308000010000100", KW_ERR_TRUNCATED, 0);
	disc_case("4F0BA000000309000010000100" "5F2F024010", KW_ERR_FORMAT, 0);  /* not PIV */
	disc_case("4F04A0000003" "5F2F024010", KW_ERR_FORMAT, 0);
	disc_case("5F2F024010" "4F0BA000000308000010000100", KW_ERR_FORMAT, 0);
	disc_case("", KW_ERR_TRUNCATED, 0);
	fake_open(NULL, &t, &p);
	fake_expect(t, "00CB3FFF035C017E00", "7E124F0BA0000003080000100001005F2F0240109000");
	assert_int_equal(kw_piv_read_discovery(p, &d), KW_OK);
	assert_int_equal(d.pin_policy, 0x4010);
	fake_expect(t, "00CB3FFF035C017E00", "6A82");
	assert_int_equal(kw_piv_read_discovery(p, &d), KW_ERR_NOT_FOUND);
	fake_close(NULL, &t, &p);
}

static void
test_read_chuid(void **state)
{
	kw_piv_chuid c;
	kw_transport *t;
	kw_piv *p;

	(void)state;
	fake_open(NULL, &t, &p);
	fake_expect(t, "00CB3FFF055C035FC10200", "533B" FASCN GUID "350832303330303130313E00FE00" "9000");
	assert_int_equal(kw_piv_read_chuid(p, &c), KW_OK);
	assert_string_equal(c.expiry, "20300101");
	assert_int_equal(c.guid[15], 0xff);
	fake_expect(t, "00CB3FFF055C035FC10200", "53009000");
	assert_int_equal(kw_piv_read_chuid(p, &c), KW_ERR_NOT_FOUND);
	fake_expect(t, "00CB3FFF055C035FC10200", "5302" "3400" "9000");
	assert_int_equal(kw_piv_read_chuid(p, &c), KW_ERR_FORMAT);
	assert_int_equal(kw_piv_read_chuid(p, NULL), KW_ERR_ARG);
	fake_close(NULL, &t, &p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fascn),
		cmocka_unit_test(test_chuid_roundtrip),
		cmocka_unit_test(test_chuid_malformed),
		cmocka_unit_test(test_ccc),
		cmocka_unit_test(test_discovery),
		cmocka_unit_test(test_read_chuid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
