/* keyward-vcard management key: mutual, external and internal GENERAL
 * AUTHENTICATE with 3DES and AES, SET MANAGEMENT KEY (FF), metadata 9B. */
#include "test_vcard_util.h"

#define AES128_KEY "00112233445566778899AABBCCDDEEFF"
#define AES256_KEY "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"

static void
test_mutual_3des(void **state)
{
	vcard_card *c = new_selected_card();

	(void)state;
	assert_false(c->ses.mgmt_authed);
	assert_int_equal(mgmt_auth(c, VC_ALG_3DES, DEFAULT_MGMT), 0x9000);
	assert_true(c->ses.mgmt_authed);
	/* a wrong key: the witness does not match */
	assert_int_equal(mgmt_auth(c, VC_ALG_3DES, "0102030405060708010203040506070801020304050607FF"), 0x6982);
	assert_false(c->ses.mgmt_authed);
	/* second step without the first */
	assert_int_equal(tx(c, "0087039B187C1680080000000000000000810800000000000000008200", NULL), 0x6982);
	/* wrong algorithm for the key; 00 is the legacy 3DES reference */
	assert_int_equal(tx(c, "0087089B047C028000", NULL), 0x6A80);
	assert_int_equal(tx(c, "0087009B047C028100", NULL), 0x9000);
	/* unknown tag inside 7C */
	assert_int_equal(tx(c, "0087039B047C028300", NULL), 0x6A80);
	/* trailing bytes after 7C */
	assert_int_equal(tx(c, "0087039B057C02800000", NULL), 0x6A80);
	vcard_card_free(&c);
}

static void
test_external_auth(void **state)
{
	vcard_card *c = new_selected_card();
	kw_buf d, key, cmd;
	uint8_t resp[8];

	(void)state;
	kw_buf_init(&d, 0);
	kw_buf_init(&key, 0);
	kw_buf_init(&cmd, 0);
	assert_int_equal(kw_hex_decode(DEFAULT_MGMT, &key), KW_OK);
	assert_int_equal(tx(c, "0087039B047C028100", &d), 0x9000);
	assert_int_equal(d.len, 12);
	assert_int_equal(d.data[2], 0x81);
	ecb(VC_ALG_3DES, key.data, d.data + 4, resp, 8, 1);
	kw_buf_put(&cmd, "\x00\x87\x03\x9B\x0C\x7C\x0A\x82\x08", 9);
	kw_buf_put(&cmd, resp, 8);
	assert_int_equal(tx_bytes(c, cmd.data, cmd.len, &d), 0x9000);
	assert_true(c->ses.mgmt_authed);
	/* replaying the response fails: the challenge is consumed */
	assert_int_equal(tx_bytes(c, cmd.data, cmd.len, &d), 0x6982);
	assert_false(c->ses.mgmt_authed);
	/* internal authenticate: the card encrypts our challenge */
	assert_int_equal(tx(c, "0087039B0E7C0C81081122334455667788" "8200", &d), 0x9000);
	ecb(VC_ALG_3DES, key.data, (const uint8_t *)"\x11\x22\x33\x44\x55\x66\x77\x88", resp, 8, 1);
	assert_memory_equal(d.data + 4, resp, 8);
	assert_false(c->ses.mgmt_authed);
	kw_buf_free(&d);
	kw_buf_free(&key);
	kw_buf_free(&cmd);
	vcard_card_free(&c);
}

static void
test_set_key_aes(void **state)
{
	vcard_card *c = new_selected_card();
	kw_buf d;

	(void)state;
	kw_buf_init(&d, 0);
	/* needs authentication */
	assert_int_equal(tx(c, "00FFFFFF13089B10" AES128_KEY, NULL), 0x6982);
	assert_int_equal(mgmt_auth(c, VC_ALG_3DES, DEFAULT_MGMT), 0x9000);
	/* wrong length for the algorithm, unknown algorithm, bad P2 */
	assert_int_equal(tx(c, "00FFFFFF12089B0F" "00112233445566778899AABBCCDDEE", NULL), 0x6A80);
	assert_int_equal(tx(c, "00FFFFFF13099B10" AES128_KEY, NULL), 0x6A80);
	assert_int_equal(tx(c, "00FFFF0013089B10" AES128_KEY, NULL), 0x6A86);
	assert_int_equal(tx(c, "00FFFFFF13089B10" AES128_KEY, NULL), 0x9000);
	assert_int_equal(tx(c, "00F7009B00", &d), 0x9000);
	assert_memory_equal(d.data, "\x01\x01\x08\x02\x02\x00\x01\x05\x01\x00", 10);
	vcard_card_reset(c);
	assert_int_equal(tx(c, "00A4040005A000000308", NULL), 0x9000);
	assert_int_equal(mgmt_auth(c, VC_ALG_AES128, AES128_KEY), 0x9000);
	assert_int_equal(tx(c, "00FFFFFE23" "0C9B20" AES256_KEY, NULL), 0x9000);
	assert_int_equal(mgmt_auth(c, VC_ALG_AES256, AES256_KEY), 0x9000);
	assert_int_equal(tx(c, "00F7009B00", &d), 0x9000);
	assert_memory_equal(d.data, "\x01\x01\x0C\x02\x02\x00\x02\x05\x01\x00", 10);
	/* back to the default 3DES key: metadata says default */
	assert_int_equal(tx(c, "00FFFFFF1B039B18" DEFAULT_MGMT, NULL), 0x9000);
	assert_int_equal(tx(c, "00F7009B00", &d), 0x9000);
	assert_memory_equal(d.data, "\x01\x01\x03\x02\x02\x00\x01\x05\x01\x01", 10);
	kw_buf_free(&d);
	vcard_card_free(&c);
}

static void
test_aes_needs_firmware(void **state)
{
	vcard_card *c = new_selected_card();

	(void)state;
	c->version[1] = 2;   /* 5.2.x: no AES management keys, no metadata */
	assert_int_equal(mgmt_auth(c, VC_ALG_3DES, DEFAULT_MGMT), 0x9000);
	assert_int_equal(tx(c, "00FFFFFF13089B10" AES128_KEY, NULL), 0x6A80);
	assert_int_equal(tx(c, "00F7009B00", NULL), 0x6D00);
	vcard_card_free(&c);
}

static void
test_default_is_aes192_on_57(void **state)
{
	vcard_card *c = new_selected_card();

	(void)state;
	c->version[1] = 7;
	c->version[2] = 1;
	vc_mgmt_set_default(c);
	assert_int_equal(mgmt_auth(c, VC_ALG_AES192, DEFAULT_MGMT), 0x9000);
	vcard_card_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutual_3des),
		cmocka_unit_test(test_external_auth),
		cmocka_unit_test(test_set_key_aes),
		cmocka_unit_test(test_aes_needs_firmware),
		cmocka_unit_test(test_default_is_aes192_on_57),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
