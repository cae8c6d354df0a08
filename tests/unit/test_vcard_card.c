/* keyward-vcard applet core: APDU framing, SELECT, chaining, GET RESPONSE,
 * class and instruction errors. */
#include "test_vcard_util.h"

static void
test_select_apt(void **state)
{
	vcard_card *c = NULL;
	kw_buf d;

	(void)state;
	kw_buf_init(&d, 0);
	assert_int_equal(vcard_card_new(&c), KW_OK);
	/* nothing selected yet */
	assert_int_equal(tx(c, "00FD000000", NULL), 0x6D00);
	assert_int_equal(tx(c, "00A404000BA000000308000010000100", &d), 0x9000);
	assert_true(d.len > 20);
	assert_int_equal(d.data[0], 0x61);
	assert_memory_equal(d.data + 2, "\x4F\x06\x00\x00\x10\x00\x01\x00\x79\x07\x4F\x05\xA0\x00\x00\x03\x08", 17);
	assert_int_equal(tx(c, "00A4040005A000000308", &d), 0x9000);
	assert_int_equal(tx(c, "00A4040007A0000005272101", &d), 0x6A82);
	assert_int_equal(tx(c, "00FD000000", NULL), 0x6D00);
	assert_int_equal(tx(c, "00A4040005A000000308", &d), 0x9000);
	assert_int_equal(tx(c, "00FD000000", &d), 0x9000);
	assert_memory_equal(d.data, "\x05\x04\x03", 3);
	kw_buf_free(&d);
	vcard_card_free(&c);
	assert_null(c);
}

static void
test_cla_ins_length_errors(void **state)
{
	vcard_card *c = new_selected_card();

	(void)state;
	assert_int_equal(tx(c, "80CA9F7F00", NULL), 0x6E00);
	assert_int_equal(tx(c, "0099000000", NULL), 0x6D00);
	assert_int_equal(tx(c, "00CB3F", NULL), 0x6700);
	assert_int_equal(tx(c, "00CB3FFF055C035FC1", NULL), 0x6700);
	/* malformed TLVs -> 6A80, never a crash */
	assert_int_equal(tx(c, "00CB3FFF025C05", NULL), 0x6A80);
	assert_int_equal(tx(c, "00CB3FFF035C8400", NULL), 0x6A80);
	assert_int_equal(tx(c, "00CB3FFF045C035FC1", NULL), 0x6A80);
	assert_int_equal(tx(c, "00CB3FFF065C045FC10500", NULL), 0x6A80);
	assert_int_equal(tx(c, "00CB3FFF055C035FC10500", NULL), 0x6A82);
	assert_int_equal(tx(c, "008703FF047C028100", NULL), 0x6A86);
	assert_int_equal(tx(c, "0087039B037C0280", NULL), 0x6A80);
	assert_int_equal(tx(c, "0087039B047C048000", NULL), 0x6A80);
	vcard_card_free(&c);
}

static void
test_objects_access_rules(void **state)
{
	vcard_card *c = new_selected_card();
	kw_buf d;

	(void)state;
	kw_buf_init(&d, 0);
	/* Discovery object is built in */
	assert_int_equal(tx(c, "00CB3FFF035C017E00", &d), 0x9000);
	assert_int_equal(d.data[0], 0x7E);
	/* PUT DATA needs the management key */
	assert_int_equal(tx(c, "00DB3FFF0C5C035FC102530501020304FF", NULL), 0x6982);
	assert_int_equal(mgmt_auth(c, VC_ALG_3DES, DEFAULT_MGMT), 0x9000);
	assert_int_equal(tx(c, "00DB3FFF0C5C035FC102530501020304FF", NULL), 0x9000);
	assert_int_equal(tx(c, "00CB3FFF055C035FC10200", &d), 0x9000);
	assert_int_equal(d.len, 7);
	assert_memory_equal(d.data, "\x53\x05\x01\x02\x03\x04\xFF", 7);
	/* printed information: PIN to read */
	assert_int_equal(tx(c, "00DB3FFF095C035FC10953028800", NULL), 0x9000);
	assert_int_equal(tx(c, "00CB3FFF055C035FC109", &d), 0x6982);
	assert_true(c->last_sensitive);
	assert_int_equal(tx(c, "0020008008" PIN_123456, NULL), 0x9000);
	assert_int_equal(tx(c, "00CB3FFF055C035FC109", &d), 0x9000);
	/* empty 53 deletes */
	assert_int_equal(tx(c, "00DB3FFF075C035FC1025300", NULL), 0x9000);
	assert_int_equal(tx(c, "00CB3FFF055C035FC102", &d), 0x6A82);
	/* malformed: bad tag, trailing bytes, no 53, not 5C, wrong P1P2 */
	assert_int_equal(tx(c, "00DB3FFF095C035FC2025302AABB", NULL), 0x6A80);
	assert_int_equal(tx(c, "00DB3FFF095C035FC1025301AABB", NULL), 0x6A80);
	assert_int_equal(tx(c, "00DB3FFF055C035FC102", NULL), 0x6A80);
	assert_int_equal(tx(c, "00DB3FFF0554035FC102", NULL), 0x6A80);
	assert_int_equal(tx(c, "00DB3FFE0C5C035FC102530501020304FF", NULL), 0x6A86);
	assert_int_equal(tx(c, "00CB3FFF055C035FC2FF", &d), 0x6A80);
	/* the discovery object is fixed */
	assert_int_equal(tx(c, "00DB3FFF075C017E53020102", NULL), 0x6A80);
	/* BIT group template is stored whole */
	assert_int_equal(tx(c, "00DB3FFF057F6102AB00", NULL), 0x9000);
	assert_int_equal(tx(c, "00CB3FFF045C027F61", &d), 0x9000);
	assert_memory_equal(d.data, "\x7F\x61\x02\xAB\x00", 5);
	kw_buf_free(&d);
	vcard_card_free(&c);
}

static void
test_chaining_and_large_objects(void **state)
{
	vcard_card *c = new_selected_card();
	uint8_t obj[3100];
	kw_buf d, cmd;
	size_t i;

	(void)state;
	kw_buf_init(&d, 0);
	kw_buf_init(&cmd, 0);
	for (i = 0; i < sizeof(obj); i++)
		obj[i] = (uint8_t)i;
	assert_int_equal(mgmt_auth(c, VC_ALG_3DES, DEFAULT_MGMT), 0x9000);
	/* 5C 03 5FC105 53 82 0BB8 <3000 bytes> through 12 chained links */
	kw_buf_put(&cmd, "\x5C\x03\x5F\xC1\x05\x53\x82\x0B\xB8", 9);
	kw_buf_put(&cmd, obj, 3000);
	assert_int_equal(tx_chain(c, 0xDB, 0x3F, 0xFF, cmd.data, cmd.len, NULL), 0x9000);
	assert_int_equal(tx_all(c, "00CB3FFF055C035FC10500", &d), 0x9000);
	assert_int_equal(d.len, 3004);
	assert_memory_equal(d.data + 4, obj, 3000);
	/* an extended Le returns it in one response */
	assert_int_equal(tx(c, "00CB3FFF0000055C035FC1050000", &d), 0x9000);
	assert_int_equal(d.len, 3004);
	/* too large for a YubiKey object */
	kw_buf_reset(&cmd);
	kw_buf_put(&cmd, "\x5C\x03\x5F\xC1\x05\x53\x82\x0C\x1C", 9);
	kw_buf_put(&cmd, obj, 3100);
	assert_int_equal(tx_chain(c, 0xDB, 0x3F, 0xFF, cmd.data, cmd.len, NULL), 0x6A84);
	/* a chain interrupted by another command is dropped */
	assert_int_equal(tx(c, "10DB3FFF055C035FC105", NULL), 0x9000);
	assert_int_equal(tx(c, "00FD000000", &d), 0x9000);
	assert_int_equal(tx(c, "00DB3FFF04530201FF", NULL), 0x6A80);
	/* a new command discards a pending response */
	assert_int_equal(tx(c, "00CB3FFF055C035FC10500", &d), 0x6100);
	assert_int_equal(tx(c, "00FD000000", &d), 0x9000);
	assert_int_equal(tx(c, "00C0000000", &d), 0x6985);
	assert_int_equal(tx(c, "00C0010000", &d), 0x6A86);
	/* power cycle drops selection, chain and pending data */
	assert_int_equal(tx(c, "10DB3FFF055C035FC105", NULL), 0x9000);
	vcard_card_reset(c);
	assert_false(c->ses.chaining);
	assert_false(c->ses.mgmt_authed);
	kw_buf_free(&d);
	kw_buf_free(&cmd);
	vcard_card_free(&c);
}

static void
test_extended_apdu_forms(void **state)
{
	vcard_card *c = new_selected_card();
	kw_buf d;

	(void)state;
	kw_buf_init(&d, 0);
	/* 2E, 3E, 4E; malformed extended lengths */
	assert_int_equal(tx(c, "00FD0000000000", &d), 0x9000);
	assert_int_equal(d.len, 3);
	assert_int_equal(tx(c, "00F800000000", &d), 0x6700);
	assert_int_equal(tx(c, "002000800000", &d), 0x6700);
	assert_int_equal(tx(c, "00200080000008" PIN_123456, &d), 0x9000);
	assert_int_equal(tx(c, "00200080000008" PIN_123456 "00", &d), 0x6700);
	assert_int_equal(tx(c, "00F8000000", &d), 0x9000);
	assert_memory_equal(d.data, "\x00\xBC\x61\x4E", 4);
	/* short Le smaller than the data: the rest through GET RESPONSE */
	assert_int_equal(tx(c, "00CB3FFF035C017E08", &d), 0x610C);
	assert_int_equal(d.len, 8);
	kw_buf_free(&d);
	vcard_card_free(&c);
}

/* Mutated valid APDUs: any answer is fine, crashes and leaks are not
 * (run under ASan/UBSan in CI). Deterministic. */
static void
test_mutated_apdus(void **state)
{
	static const char *const corpus[] = {
		"00A4040005A000000308", "00CB3FFF055C035FC10500", "00CB3FFF035C017E00",
		"00DB3FFF0C5C035FC102530501020304FF", "0020008008313233343536FFFF",
		"0024008010313233343536FFFF313233343536FFFF", "002C008010313233343536373831323334353637FF",
		"0087039B047C028000", "0087039B047C028100", "0087119A267C2482008120"
		"0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20",
		"0047009C05AC03800111", "00FE119A2206200102030405060708090A0B0C0D0E0F"
		"101112131415161718191A1B1C1D1E1F20", "00F7009C00", "00F99C0000",
		"00FFFFFF1B039B18010203040506070801020304050607080102030405060708",
		"00FA0303", "00FB0000", "00F6FF9C", "10DB3FFF055C035FC105", "00C0000000",
		"0087118226 7C24820085410400", "00F8000000", "00FD000000",
	};
	vcard_card *c = new_selected_card();
	kw_buf cmd, resp;
	uint32_t seed = 12345;
	size_t i, j, n;

	(void)state;
	c->version[1] = 7;   /* reach the 5.7 paths too (EC only below) */
	kw_buf_init(&cmd, 0);
	kw_buf_init(&resp, 0);
	assert_int_equal(mgmt_auth(c, VC_ALG_3DES, DEFAULT_MGMT), 0x9000);
	assert_int_equal(tx(c, "0047009C05AC03800111", NULL), 0x9000);
	for (i = 0; i < 20000; i++) {
		kw_buf_reset(&cmd);
		assert_int_equal(kw_hex_decode(corpus[i % (sizeof(corpus) / sizeof(corpus[0]))], &cmd), KW_OK);
		n = 1 + (seed >> 28);
		for (j = 0; j < n; j++) {
			seed = seed * 1103515245u + 12345u;
			switch ((seed >> 16) % 4) {
			case 0: cmd.data[(seed >> 8) % cmd.len] ^= (uint8_t)(seed >> 3); break;
			case 1: if (cmd.len > 1) cmd.len--; break;
			case 2: kw_buf_put_u8(&cmd, (uint8_t)(seed >> 5)); break;
			default: cmd.data[4 % cmd.len] = (uint8_t)(seed >> 9); break;
			}
		}
		/* keep away from slow RSA key generation */
		if (cmd.len > 1 && cmd.data[1] == 0x47 && cmd.len >= 10 &&
		    (cmd.data[9] == VC_ALG_RSA3072 || cmd.data[9] == VC_ALG_RSA4096 ||
		    cmd.data[9] == VC_ALG_RSA2048))
			continue;
		assert_int_equal(vcard_card_process(c, cmd.data, cmd.len, &resp), KW_OK);
		assert_true(resp.len >= 2);
		if (i % 1000 == 0) {
			assert_int_equal(tx(c, "00A4040005A000000308", NULL), 0x9000);
			(void)mgmt_auth(c, c->mgmt_alg, DEFAULT_MGMT);
		}
	}
	kw_buf_free(&cmd);
	kw_buf_free(&resp);
	vcard_card_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select_apt),
		cmocka_unit_test(test_cla_ins_length_errors),
		cmocka_unit_test(test_objects_access_rules),
		cmocka_unit_test(test_chaining_and_large_objects),
		cmocka_unit_test(test_extended_apdu_forms),
		cmocka_unit_test(test_mutated_apdus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
