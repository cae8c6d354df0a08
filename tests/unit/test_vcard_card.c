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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select_apt),
		cmocka_unit_test(test_cla_ins_length_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
