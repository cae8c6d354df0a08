/* keyward-vcard PIN/PUK: VERIFY, CHANGE REFERENCE DATA, RESET RETRY
 * COUNTER, retry counters, blocking, SET RETRIES (FA), RESET (FB). */
#include "test_vcard_util.h"

#define VERIFY_OK    "0020008008" PIN_123456
#define VERIFY_WRONG "0020008008393939393939FFFF"

static void
test_verify_status_and_counter(void **state)
{
	vcard_card *c = new_selected_card();

	(void)state;
	assert_int_equal(tx(c, "0020008000", NULL), 0x63C3);
	assert_int_equal(tx(c, "00200080", NULL), 0x63C3);
	assert_int_equal(tx(c, VERIFY_WRONG, NULL), 0x63C2);
	assert_true(c->dirty);
	assert_int_equal(tx(c, "00200080", NULL), 0x63C2);
	assert_int_equal(tx(c, VERIFY_OK, NULL), 0x9000);
	assert_int_equal(tx(c, "00200080", NULL), 0x9000);
	/* success restores the counter */
	assert_int_equal(c->pin.tries, 3);
	/* P1=FF resets the security status */
	assert_int_equal(tx(c, "0020FF80", NULL), 0x9000);
	assert_int_equal(tx(c, "00200080", NULL), 0x63C3);
	/* bad length, bad key reference, bad P1 */
	assert_int_equal(tx(c, "0020008006313233343536", NULL), 0x6A80);
	assert_int_equal(tx(c, "0020009908" PIN_123456, NULL), 0x6A88);
	assert_int_equal(tx(c, "0020018008" PIN_123456, NULL), 0x6A86);
	/* PUK status query */
	assert_int_equal(tx(c, "00200081", NULL), 0x63C3);
	/* power cycle forgets the PIN */
	assert_int_equal(tx(c, VERIFY_OK, NULL), 0x9000);
	vcard_card_reset(c);
	assert_int_equal(tx(c, "00A4040005A000000308", NULL), 0x9000);
	assert_int_equal(tx(c, "00200080", NULL), 0x63C3);
	vcard_card_free(&c);
}

static void
test_block_and_unblock(void **state)
{
	vcard_card *c = new_selected_card();

	(void)state;
	assert_int_equal(tx(c, VERIFY_WRONG, NULL), 0x63C2);
	assert_int_equal(tx(c, VERIFY_WRONG, NULL), 0x63C1);
	assert_int_equal(tx(c, VERIFY_WRONG, NULL), 0x63C0);
	assert_int_equal(tx(c, VERIFY_OK, NULL), 0x6983);
	assert_int_equal(tx(c, "00200080", NULL), 0x6983);
	assert_int_equal(tx(c, "0024008010" PIN_123456 "363534333231FFFF", NULL), 0x6983);
	/* RESET RETRY COUNTER: wrong PUK counts, bad new PIN format does not */
	assert_int_equal(tx(c, "002C008010" "3939393939393939" "363534333231FFFF", NULL), 0x63C2);
	assert_int_equal(tx(c, "002C008010" PUK_DEFAULT "3635FFFFFFFFFFFF", NULL), 0x6A80);
	assert_int_equal(c->puk.tries, 2);
	assert_int_equal(tx(c, "002C008110" PUK_DEFAULT "363534333231FFFF", NULL), 0x6A88);
	assert_int_equal(tx(c, "002C008010" PUK_DEFAULT "363534333231FFFF", NULL), 0x9000);
	assert_int_equal(c->puk.tries, 3);
	assert_int_equal(tx(c, "00200080", NULL), 0x63C3);
	assert_int_equal(tx(c, VERIFY_OK, NULL), 0x63C2);
	assert_int_equal(tx(c, "0020008008363534333231FFFF", NULL), 0x9000);
	vcard_card_free(&c);
}

static void
test_change_pin_and_puk(void **state)
{
	vcard_card *c = new_selected_card();

	(void)state;
	/* wrong old PIN */
	assert_int_equal(tx(c, "0024008010" "393939393939FFFF" "363534333231FFFF", NULL), 0x63C2);
	/* new PIN too short / bad padding */
	assert_int_equal(tx(c, "0024008010" PIN_123456 "3132333435FFFFFF", NULL), 0x6A80);
	assert_int_equal(tx(c, "0024008010" PIN_123456 "313233343536FF31", NULL), 0x6A80);
	assert_int_equal(tx(c, "0024008008" PIN_123456, NULL), 0x6A80);
	assert_int_equal(tx(c, "0024008010" PIN_123456 "3837363534333231", NULL), 0x9000);
	assert_int_equal(c->pin.tries, 3);
	assert_int_equal(tx(c, VERIFY_OK, NULL), 0x63C2);
	assert_int_equal(tx(c, "00200080083837363534333231", NULL), 0x9000);
	/* PUK */
	assert_int_equal(tx(c, "0024008110" PUK_DEFAULT "3131313131313131", NULL), 0x9000);
	assert_int_equal(tx(c, "002C008010" PUK_DEFAULT "313233343536FFFF", NULL), 0x63C2);
	assert_int_equal(tx(c, "002C008010" "3131313131313131" "313233343536FFFF", NULL), 0x9000);
	vcard_card_free(&c);
}

static void
block_both(vcard_card *c)
{
	int i;

	for (i = 0; i < 3; i++)
		(void)tx(c, VERIFY_WRONG, NULL);
	for (i = 0; i < 3; i++)
		(void)tx(c, "002C008010" "3939393939393939" "363534333231FFFF", NULL);
	assert_int_equal(c->pin.tries, 0);
	assert_int_equal(c->puk.tries, 0);
}

static void
test_reset_rules(void **state)
{
	vcard_card *c = new_selected_card();
	vc_key *k;
	kw_buf d;

	(void)state;
	kw_buf_init(&d, 0);
	assert_int_equal(mgmt_auth(c, VC_ALG_3DES, DEFAULT_MGMT), 0x9000);
	assert_int_equal(tx(c, "00DB3FFF0C5C035FC102530501020304FF", NULL), 0x9000);
	k = vc_key_slot(c, 0x9A);
	assert_int_equal(vc_key_make(k, VC_ALG_P256), KW_OK);
	/* not blocked: refused */
	assert_int_equal(tx(c, "00FB0000", NULL), 0x6985);
	/* only the PIN blocked: refused */
	for (int i = 0; i < 3; i++)
		(void)tx(c, VERIFY_WRONG, NULL);
	assert_int_equal(tx(c, "00FB0000", NULL), 0x6985);
	block_both(c);
	assert_int_equal(tx(c, "00FB0001", NULL), 0x6A86);
	assert_int_equal(tx(c, "00FB0000", NULL), 0x9000);
	assert_null(k->pkey);
	assert_int_equal(tx(c, "00CB3FFF055C035FC102", NULL), 0x6A82);
	assert_int_equal(tx(c, VERIFY_OK, NULL), 0x9000);
	assert_int_equal(tx(c, "00200081", NULL), 0x63C3);
	assert_int_equal(mgmt_auth(c, VC_ALG_3DES, DEFAULT_MGMT), 0x9000);
	kw_buf_free(&d);
	vcard_card_free(&c);
}

static void
test_set_retries(void **state)
{
	vcard_card *c = new_selected_card();

	(void)state;
	assert_int_equal(tx(c, "00FA0504", NULL), 0x6982);
	assert_int_equal(tx(c, VERIFY_OK, NULL), 0x9000);
	assert_int_equal(tx(c, "00FA0504", NULL), 0x6982);
	assert_int_equal(mgmt_auth(c, VC_ALG_3DES, DEFAULT_MGMT), 0x9000);
	assert_int_equal(tx(c, "00FA0004", NULL), 0x6A86);
	assert_int_equal(tx(c, "00FA0504", NULL), 0x9000);
	assert_int_equal(tx(c, "00200080", NULL), 0x63C5);
	assert_int_equal(tx(c, "00200081", NULL), 0x63C4);
	vcard_card_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_status_and_counter),
		cmocka_unit_test(test_block_and_unblock),
		cmocka_unit_test(test_change_pin_and_puk),
		cmocka_unit_test(test_reset_rules),
		cmocka_unit_test(test_set_retries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
