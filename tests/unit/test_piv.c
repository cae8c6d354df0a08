/* kw_piv.c, kw_piv_pin.c, kw_piv_yk.c: SELECT, GET/PUT DATA, PINs, YubiKey
 * card-wide extensions; happy paths with exact bytes and malformed answers. */
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

static void
test_new_free(void **state)
{
	kw_piv *p = (kw_piv *)1;

	(void)state;
	assert_int_equal(kw_piv_new(NULL, &p), KW_ERR_ARG);
	assert_null(p);
	assert_int_equal(kw_piv_new(NULL, NULL), KW_ERR_ARG);
	kw_piv_free(NULL);
	kw_piv_free(&p);
	assert_null(kw_piv_transport(NULL));
	/* Calls on a NULL object fail cleanly. */
	assert_int_equal(kw_piv_select(NULL), KW_ERR_ARG);
	assert_int_equal(kw_piv_reset(NULL), KW_ERR_ARG);
}

static void
test_select(void **state)
{
	static const struct { const char *resp; kw_rv rv; } v[] = {
		{ "61114F0600001000010079074F05A0000003089000", KW_OK },
		{ "9000", KW_OK },
		{ "6A82", KW_ERR_NOT_FOUND },
		{ "61054F06009000", KW_ERR_TRUNCATED },       /* 61 shorter than said */
		{ "6102" "4F05" "9000", KW_ERR_TRUNCATED },   /* inner 4F truncated */
		{ "6100009000", KW_ERR_TRAILING },
		{ "7100" "9000", KW_ERR_FORMAT },
		{ "6180" "9000", KW_ERR_FORMAT },             /* indefinite length */
		{ "6184000000009000", KW_ERR_FORMAT },        /* over-long length */
	};
	kw_transport *t;
	kw_piv *p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		fake_open(NULL, &t, &p);
		fake_expect(t, "00A4040005A00000030800", v[i].resp);
		assert_int_equal(kw_piv_select(p), v[i].rv);
		fake_close(NULL, &t, &p);
	}
}

static void
test_get_data(void **state)
{
	static const struct { uint32_t tag; const char *cmd, *resp; kw_rv rv; const char *out; } v[] = {
		{ KW_PIV_OBJ_CHUID, "00CB3FFF055C035FC10200", "53030102039000", KW_OK, "010203" },
		{ KW_PIV_OBJ_DISCOVERY, "00CB3FFF035C017E00", "7E034F01AA9000", KW_OK, "4F01AA" },
		{ 0x7f61, "00CB3FFF045C027F6100", "7F6100" "9000", KW_OK, "" },
		{ KW_PIV_OBJ_CHUID, "00CB3FFF055C035FC10200", "5300" "9000", KW_OK, "" },
		{ KW_PIV_OBJ_CHUID, "00CB3FFF055C035FC10200", "6A82", KW_ERR_NOT_FOUND, "" },
		{ KW_PIV_OBJ_CHUID, "00CB3FFF055C035FC10200", "6982", KW_ERR_SECURITY, "" },
		{ KW_PIV_OBJ_CHUID, "00CB3FFF055C035FC10200", "530401029000", KW_ERR_TRUNCATED, "" },
		{ KW_PIV_OBJ_CHUID, "00CB3FFF055C035FC10200", "53", KW_ERR_PROTOCOL, "" },
		{ KW_PIV_OBJ_CHUID, "00CB3FFF055C035FC10200", "5301" "9000", KW_ERR_TRUNCATED, "" },
		{ KW_PIV_OBJ_CHUID, "00CB3FFF055C035FC10200", "53010102" "9000", KW_ERR_TRAILING, "" },
		{ KW_PIV_OBJ_CHUID, "00CB3FFF055C035FC10200", "540101" "9000", KW_ERR_FORMAT, "" },
		{ KW_PIV_OBJ_CHUID, "00CB3FFF055C035FC10200", "53840000000101" "9000", KW_ERR_FORMAT, "" },
		{ KW_PIV_OBJ_CHUID, "00CB3FFF055C035FC10200", "9000", KW_ERR_TRUNCATED, "" },
		/* The Discovery object does not come in 53. */
		{ KW_PIV_OBJ_DISCOVERY, "00CB3FFF035C017E00", "5303010203" "9000", KW_ERR_FORMAT, "" },
	};
	kw_transport *t;
	kw_piv *p;
	kw_buf out;
	size_t i;

	(void)state;
	kw_buf_init(&out, 0);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		fake_open(NULL, &t, &p);
		fake_expect(t, v[i].cmd, v[i].resp);
		assert_int_equal(kw_buf_put(&out, "junk", 4), KW_OK);
		assert_int_equal(kw_piv_get_data(p, v[i].tag, &out), v[i].rv);
		assert_view_hex(kw_buf_view(&out), v[i].out);
		fake_close(NULL, &t, &p);
	}
	fake_open(NULL, &t, &p);
	assert_int_equal(kw_piv_get_data(p, 0x123456, &out), KW_ERR_ARG);
	assert_int_equal(kw_piv_get_data(p, 0x5c, &out), KW_ERR_ARG);
	assert_int_equal(kw_piv_get_data(p, KW_PIV_OBJ_CHUID, NULL), KW_ERR_ARG);
	fake_close(NULL, &t, &p);
	kw_buf_free(&out);
}

/* Extended APDUs on request: one exchange for an object or a long command;
 * the first refusal (6700) switches the object to short APDUs for good. */
static void
test_extended(void **state)
{
	static const uint8_t sig_in[300] = { 0 };
	kw_transport *t;
	kw_piv *p;
	kw_buf out;
	kw_mock *m;

	(void)state;
	kw_buf_init(&out, 0);
	fake_open(NULL, &t, &p);
	m = kw_mock_of(t);
	assert_false(kw_piv_extended(p));
	kw_piv_set_extended(p, true);
	assert_true(kw_piv_extended(p));
	/* case 4E: Lc 000005, Le 0000; short commands stay short */
	fake_expect(t, "00CB3FFF0000055C035FC1020000", "53030102039000");
	assert_int_equal(kw_piv_get_data(p, KW_PIV_OBJ_CHUID, &out), KW_OK);
	assert_view_hex(kw_buf_view(&out), "010203");
	fake_expect(t, "00A4040005A00000030800", "9000");
	assert_int_equal(kw_piv_select(p), KW_OK);
	/* more than 255 bytes of data without an answer: no chaining */
	{
		char hex[2 * 320];
		size_t i;

		strcpy(hex, "00DB3FFF000135" "5C035FC102" "5382012C");
		for (i = 0; i < sizeof(sig_in); i++)
			strcat(hex, "00");
		fake_expect(t, hex, "9000");
	}
	assert_int_equal(kw_piv_put_data(p, KW_PIV_OBJ_CHUID, sig_in, sizeof(sig_in)), KW_OK);
	/* refused (6700): resent short, and short from then on */
	fake_expect(t, "00CB3FFF0000055C035FC1020000", "6700");
	fake_expect(t, "00CB3FFF055C035FC10200", "53030102039000");
	assert_int_equal(kw_piv_get_data(p, KW_PIV_OBJ_CHUID, &out), KW_OK);
	assert_false(kw_piv_extended(p));
	fake_expect(t, "00CB3FFF055C035FC10200", "5300" "9000");
	assert_int_equal(kw_piv_get_data(p, KW_PIV_OBJ_CHUID, &out), KW_OK);
	assert_int_equal(kw_mock_pending(m), 0);
	assert_int_equal(kw_mock_mismatches(m), 0);
	fake_close(NULL, &t, &p);
	/* a transport error on an extended APDU says nothing about execution:
	 * reported, not resent, and extended APDUs stay (test_piv_xfer.c) */
	fake_open(NULL, &t, &p);
	m = kw_mock_of(t);
	kw_piv_set_extended(p, true);
	assert_int_equal(kw_mock_expect_err(m, "00CB3FFF0000055C035FC1020000", KW_ERR_TRANSPORT),
	    KW_OK);
	assert_int_equal(kw_piv_get_data(p, KW_PIV_OBJ_CHUID, &out), KW_ERR_TRANSPORT);
	assert_int_equal(out.len, 0);
	assert_true(kw_piv_extended(p));
	fake_expect(t, "00CB3FFF0000055C035FC1020000", "53030102039000");
	assert_int_equal(kw_piv_get_data(p, KW_PIV_OBJ_CHUID, &out), KW_OK);
	assert_view_hex(kw_buf_view(&out), "010203");
	fake_close(NULL, &t, &p);
	kw_buf_free(&out);
}

static void
test_put_data(void **state)
{
	kw_transport *t;
	kw_piv *p;

	(void)state;
	fake_open(NULL, &t, &p);
	fake_expect(t, "00DB3FFF0A5C035FC1025303010203", "9000");
	assert_int_equal(kw_piv_put_data(p, KW_PIV_OBJ_CHUID, (const uint8_t *)"\1\2\3", 3), KW_OK);
	fake_expect(t, "00DB3FFF075C035FC1025300", "9000");
	assert_int_equal(kw_piv_put_data(p, KW_PIV_OBJ_CHUID, NULL, 0), KW_OK);
	fake_expect(t, "00DB3FFF037E0101", "9000");
	assert_int_equal(kw_piv_put_data(p, KW_PIV_OBJ_DISCOVERY, (const uint8_t *)"\1", 1), KW_OK);
	fake_expect(t, "00DB3FFF075C035FC1025300", "6A84");
	assert_int_equal(kw_piv_put_data(p, KW_PIV_OBJ_CHUID, NULL, 0), KW_ERR_NO_SPACE);
	fake_expect(t, "00DB3FFF075C035FC1025300", "6982");
	assert_int_equal(kw_piv_put_data(p, KW_PIV_OBJ_CHUID, NULL, 0), KW_ERR_SECURITY);
	assert_int_equal(kw_piv_put_data(p, 0x42, NULL, 0), KW_ERR_ARG);
	assert_int_equal(kw_piv_put_data(p, KW_PIV_OBJ_CHUID, NULL, 3), KW_ERR_ARG);
	fake_close(NULL, &t, &p);
}

/* A card that stores data objects, for round trips of long objects. */
typedef struct store {
	kw_buf tag_list, obj;
} store;

static uint16_t
store_answer(void *arg, const fake_cmd *c, kw_buf *resp)
{
	store *s = arg;
	kw_view v = c->data, tl, val;
	uint32_t tag;

	if (c->ins != 0xcb && c->ins != 0xdb)
		return 0x6d00;
	if (kw_tlv_expect(&v, 0x5c, &tl) != KW_OK)
		return 0x6a80;
	if (c->ins == 0xcb) {
		if (!kw_view_equal(tl, kw_buf_view(&s->tag_list)))
			return 0x6a82;
		assert_int_equal(kw_tlv_put(resp, 0x53, s->obj.data, s->obj.len), KW_OK);
		return 0x9000;
	}
	if (kw_tlv_get(&v, &tag, &val) != KW_OK || tag != 0x53 || v.len != 0)
		return 0x6a80;
	kw_buf_reset(&s->tag_list);
	kw_buf_reset(&s->obj);
	assert_int_equal(kw_buf_put_view(&s->tag_list, tl), KW_OK);
	assert_int_equal(kw_buf_put_view(&s->obj, val), KW_OK);
	return 0x9000;
}

static void
test_long_object_roundtrip(void **state)
{
	store s;
	fake_card card = { .answer = store_answer, .arg = &s, .chunk = 100 };
	kw_transport *t;
	kw_piv *p;
	uint8_t data[2000];
	kw_buf out;
	size_t i;

	(void)state;
	kw_buf_init(&s.tag_list, 0);
	kw_buf_init(&s.obj, 0);
	kw_buf_init(&out, 0);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	fake_open(&card, &t, &p);
	assert_int_equal(kw_piv_put_data(p, 0x5fc109, data, sizeof(data)), KW_OK);
	assert_int_equal(card.links, 7);   /* 2000 + 9 bytes in 255-byte links */
	assert_int_equal(kw_piv_get_data(p, 0x5fc109, &out), KW_OK);
	assert_int_equal(out.len, sizeof(data));
	assert_memory_equal(out.data, data, sizeof(data));
	assert_true(card.get_responses >= 20);
	assert_int_equal(kw_piv_get_data(p, 0x5fc108, &out), KW_ERR_NOT_FOUND);
	fake_close(&card, &t, &p);
	kw_buf_free(&out);
	kw_buf_free(&s.tag_list);
	kw_buf_free(&s.obj);
}

static void
test_verify(void **state)
{
	static const char pin_cmd[] = "0020008008313233343536FFFF";
	kw_transport *t;
	kw_piv *p;
	int tries = 99;

	(void)state;
	fake_open(NULL, &t, &p);
	fake_expect(t, pin_cmd, "9000");
	assert_int_equal(kw_piv_verify(p, KW_PIV_REF_PIN, (const uint8_t *)"123456", 6, &tries), KW_OK);
	assert_int_equal(tries, -1);
	fake_expect(t, pin_cmd, "63C2");
	assert_int_equal(kw_piv_verify(p, KW_PIV_REF_PIN, (const uint8_t *)"123456", 6, &tries),
	    KW_ERR_PIN_INCORRECT);
	assert_int_equal(tries, 2);
	fake_expect(t, pin_cmd, "6983");
	assert_int_equal(kw_piv_verify(p, KW_PIV_REF_PIN, (const uint8_t *)"123456", 6, &tries),
	    KW_ERR_PIN_BLOCKED);
	assert_int_equal(tries, 0);
	fake_expect(t, "00200000083132333435363738", "9000");
	assert_int_equal(kw_piv_verify(p, KW_PIV_REF_GLOBAL_PIN, (const uint8_t *)"12345678", 8,
	    NULL), KW_OK);
	fake_expect(t, pin_cmd, "6F00");
	assert_int_equal(kw_piv_verify(p, KW_PIV_REF_PIN, (const uint8_t *)"123456", 6, &tries),
	    KW_ERR_CARD);
	assert_int_equal(tries, -1);
	/* Client-side checks: nothing reaches the card. */
	assert_int_equal(kw_piv_verify(p, KW_PIV_REF_PIN, (const uint8_t *)"12345", 5, &tries),
	    KW_ERR_ARG);
	assert_int_equal(kw_piv_verify(p, KW_PIV_REF_PIN, (const uint8_t *)"123456789", 9, &tries),
	    KW_ERR_ARG);
	assert_int_equal(kw_piv_verify(p, KW_PIV_REF_PIN, (const uint8_t *)"1234\xff" "6", 6, &tries),
	    KW_ERR_ARG);
	assert_int_equal(kw_piv_verify(p, KW_PIV_REF_PIN, NULL, 6, &tries), KW_ERR_ARG);
	assert_int_equal(kw_piv_verify(p, KW_PIV_REF_PUK, (const uint8_t *)"123456", 6, &tries),
	    KW_ERR_ARG);
	assert_int_equal(tries, -1);
	fake_close(NULL, &t, &p);
}

static void
test_pin_status(void **state)
{
	kw_transport *t;
	kw_piv *p;
	int tries;

	(void)state;
	fake_open(NULL, &t, &p);
	fake_expect(t, "00200080", "63C3");
	assert_int_equal(kw_piv_pin_status(p, KW_PIV_REF_PIN, &tries), KW_ERR_PIN_INCORRECT);
	assert_int_equal(tries, 3);
	fake_expect(t, "00200080", "9000");
	assert_int_equal(kw_piv_pin_status(p, KW_PIV_REF_PIN, &tries), KW_OK);
	assert_int_equal(tries, -1);
	fake_expect(t, "00200080", "6983");
	assert_int_equal(kw_piv_pin_status(p, KW_PIV_REF_PIN, &tries), KW_ERR_PIN_BLOCKED);
	assert_int_equal(tries, 0);
	assert_int_equal(kw_piv_pin_status(p, 0x9b, &tries), KW_ERR_ARG);
	fake_close(NULL, &t, &p);
}

static void
test_change_and_unblock(void **state)
{
	kw_transport *t;
	kw_piv *p;
	int tries;

	(void)state;
	fake_open(NULL, &t, &p);
	fake_expect(t, "0024008010313233343536FFFF3635343332310000", "9000");
	assert_int_equal(kw_piv_change_reference(p, KW_PIV_REF_PIN, (const uint8_t *)"123456", 6,
	    (const uint8_t *)"654321\0\0", 8, &tries), KW_OK);
	assert_int_equal(kw_piv_change_reference(p, KW_PIV_REF_PUK, (const uint8_t *)"12345678", 8,
	    (const uint8_t *)"\xaa\xbb\xcc\xdd\xee", 5, &tries), KW_ERR_ARG);
	assert_int_equal(tries, -1);
	fake_close(NULL, &t, &p);

	fake_open(NULL, &t, &p);
	fake_expect(t, "00240081103132333435363738AABBCCDDEE01FFFF", "63C1");
	assert_int_equal(kw_piv_change_reference(p, KW_PIV_REF_PUK, (const uint8_t *)"12345678", 8,
	    (const uint8_t *)"\xaa\xbb\xcc\xdd\xee\x01", 6, &tries), KW_ERR_PIN_INCORRECT);
	assert_int_equal(tries, 1);
	assert_int_equal(kw_piv_change_reference(p, 0x9b, (const uint8_t *)"12345678", 8,
	    (const uint8_t *)"12345678", 8, &tries), KW_ERR_ARG);
	fake_expect(t, "002C0080103132333435363738393939393939FFFF", "9000");
	assert_int_equal(kw_piv_unblock_pin(p, (const uint8_t *)"12345678", 8,
	    (const uint8_t *)"999999", 6, &tries), KW_OK);
	fake_expect(t, "002C0080103132333435363738393939393939FFFF", "6983");
	assert_int_equal(kw_piv_unblock_pin(p, (const uint8_t *)"12345678", 8,
	    (const uint8_t *)"999999", 6, &tries), KW_ERR_PIN_BLOCKED);
	assert_int_equal(tries, 0);
	assert_int_equal(kw_piv_unblock_pin(p, (const uint8_t *)"1234", 4,
	    (const uint8_t *)"999999", 6, &tries), KW_ERR_ARG);
	fake_close(NULL, &t, &p);
}

static void
test_version_serial(void **state)
{
	kw_transport *t;
	kw_piv *p;
	uint8_t ver[3];
	uint32_t serial;

	(void)state;
	fake_open(NULL, &t, &p);
	fake_expect(t, "00FD000000", "0505029000");
	assert_int_equal(kw_piv_get_version(p, ver), KW_OK);
	assert_memory_equal(ver, "\5\5\2", 3);
	fake_expect(t, "00FD000000", "05059000");
	assert_int_equal(kw_piv_get_version(p, ver), KW_ERR_TRUNCATED);
	assert_memory_equal(ver, "\0\0\0", 3);
	fake_expect(t, "00FD000000", "050502019000");
	assert_int_equal(kw_piv_get_version(p, ver), KW_ERR_TRAILING);
	fake_expect(t, "00FD000000", "6D00");
	assert_int_equal(kw_piv_get_version(p, ver), KW_ERR_INS_UNKNOWN);
	fake_expect(t, "00F8000000", "00BC614E9000");
	assert_int_equal(kw_piv_get_serial(p, &serial), KW_OK);
	assert_int_equal(serial, 12345678);
	fake_expect(t, "00F8000000", "00BC619000");
	assert_int_equal(kw_piv_get_serial(p, &serial), KW_ERR_TRUNCATED);
	assert_int_equal(serial, 0);
	fake_expect(t, "00F8000000", "00BC614E009000");
	assert_int_equal(kw_piv_get_serial(p, &serial), KW_ERR_TRAILING);
	assert_int_equal(kw_piv_get_serial(p, NULL), KW_ERR_ARG);
	assert_int_equal(kw_piv_get_version(p, NULL), KW_ERR_ARG);
	fake_close(NULL, &t, &p);
}

static void
test_yk_admin(void **state)
{
	static const uint8_t k24[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
		1, 2, 3, 4, 5, 6, 7, 8 };
	kw_transport *t;
	kw_piv *p;

	(void)state;
	fake_open(NULL, &t, &p);
	fake_expect(t, "00FFFFFF1B039B18010203040506070801020304050607080102030405060708", "9000");
	assert_int_equal(kw_piv_set_mgmt_key(p, KW_PIV_ALG_3DES, k24, 24, false), KW_OK);
	fake_expect(t, "00FFFFFE1B0A9B18010203040506070801020304050607080102030405060708", "9000");
	assert_int_equal(kw_piv_set_mgmt_key(p, KW_PIV_ALG_AES192, k24, 24, true), KW_OK);
	fake_expect(t, "00FFFFFF13089B1001020304050607080102030405060708", "6982");
	assert_int_equal(kw_piv_set_mgmt_key(p, KW_PIV_ALG_AES128, k24, 16, false), KW_ERR_SECURITY);
	assert_int_equal(kw_piv_set_mgmt_key(p, KW_PIV_ALG_AES128, k24, 24, false), KW_ERR_ARG);
	assert_int_equal(kw_piv_set_mgmt_key(p, KW_PIV_ALG_RSA2048, k24, 24, false), KW_ERR_ARG);
	assert_int_equal(kw_piv_set_mgmt_key(p, KW_PIV_ALG_3DES, NULL, 24, false), KW_ERR_ARG);
	fake_expect(t, "00FA0503", "9000");
	assert_int_equal(kw_piv_set_retries(p, 5, 3), KW_OK);
	fake_expect(t, "00FA0503", "6982");
	assert_int_equal(kw_piv_set_retries(p, 5, 3), KW_ERR_SECURITY);
	assert_int_equal(kw_piv_set_retries(p, 0, 3), KW_ERR_ARG);
	fake_expect(t, "00FB0000", "9000");
	assert_int_equal(kw_piv_reset(p), KW_OK);
	fake_expect(t, "00FB0000", "6985");
	assert_int_equal(kw_piv_reset(p), KW_ERR_CONDITIONS);
	fake_close(NULL, &t, &p);
}

static void
test_log_never_shows_pins_or_keys(void **state)
{
	static const uint8_t k16[16] = { 0xde, 0xad, 0xbe, 0xef, 0xca, 0xfe, 0xba, 0xbe,
		0x0b, 0xad, 0xf0, 0x0d, 0x12, 0x34, 0x56, 0x78 };
	kw_transport *t;
	kw_piv *p;
	char *log;

	(void)state;
	fake_open(NULL, &t, &p);
	log_capture_begin();
	fake_expect(t, "0020008008393837363534FFFF", "63C2");
	(void)kw_piv_verify(p, KW_PIV_REF_PIN, (const uint8_t *)"987654", 6, NULL);
	fake_expect(t, "0024008110" "3837363534333231" "3132333435363738", "9000");
	(void)kw_piv_change_reference(p, KW_PIV_REF_PUK, (const uint8_t *)"87654321", 8,
	    (const uint8_t *)"12345678", 8, NULL);
	fake_expect(t, "002C008010" "3837363534333231" "393939393939FFFF", "9000");
	(void)kw_piv_unblock_pin(p, (const uint8_t *)"87654321", 8, (const uint8_t *)"999999", 6,
	    NULL);
	fake_expect(t, "00FFFFFF13089B10DEADBEEFCAFEBABE0BADF00D12345678", "9000");
	(void)kw_piv_set_mgmt_key(p, KW_PIV_ALG_AES128, k16, 16, false);
	log = log_capture_end();
	assert_non_null(strstr(log, "00200080"));
	assert_non_null(strstr(log, "63C2"));
	assert_non_null(strstr(log, "00FFFFFF"));
	assert_null(strstr(log, "393837"));
	assert_null(strstr(log, "383736"));
	assert_null(strstr(log, "313233"));
	assert_null(strstr(log, "DEADBEEF"));
	assert_null(strstr(log, "0BADF00D"));
	free(log);
	fake_close(NULL, &t, &p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_free),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_get_data),
		cmocka_unit_test(test_put_data),
		cmocka_unit_test(test_long_object_roundtrip),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_pin_status),
		cmocka_unit_test(test_change_and_unblock),
		cmocka_unit_test(test_extended),
		cmocka_unit_test(test_version_serial),
		cmocka_unit_test(test_yk_admin),
		cmocka_unit_test(test_log_never_shows_pins_or_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
