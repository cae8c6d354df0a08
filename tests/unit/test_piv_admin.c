/* kw_piv_admin.c: admin data and the PIN-protected management key, on a
 * card that stores data objects; malformed objects. */
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

#define NOBJ 4

/* A card with a few data objects, PIN-gated reading of 5FC109. */
typedef struct ocard {
	kw_buf tag[NOBJ], val[NOBJ];
	bool pin_ok;
	unsigned puts;
} ocard;

static int
ocard_find(ocard *c, kw_view tl, bool create)
{
	int i;

	for (i = 0; i < NOBJ; i++)
		if (c->tag[i].len > 0 && kw_view_equal(tl, kw_buf_view(&c->tag[i])))
			return i;
	for (i = 0; create && i < NOBJ; i++)
		if (c->tag[i].len == 0) {
			assert_int_equal(kw_buf_put_view(&c->tag[i], tl), KW_OK);
			return i;
		}
	return -1;
}

static uint16_t
ocard_answer(void *arg, const fake_cmd *cmd, kw_buf *resp)
{
	ocard *c = arg;
	kw_view v = cmd->data, tl, val;
	uint32_t tag;
	int i;

	if (kw_tlv_expect(&v, 0x5c, &tl) != KW_OK)
		return 0x6a80;
	if (cmd->ins == 0xcb) {
		if ((i = ocard_find(c, tl, false)) < 0)
			return 0x6a82;
		if (kw_view_equal(tl, kw_view_make("\x5f\xc1\x09", 3)) && !c->pin_ok)
			return 0x6982;
		assert_int_equal(kw_tlv_put(resp, 0x53, c->val[i].data, c->val[i].len), KW_OK);
		return 0x9000;
	}
	if (kw_tlv_get(&v, &tag, &val) != KW_OK || tag != 0x53 || v.len != 0)
		return 0x6a80;
	c->puts++;
	i = ocard_find(c, tl, true);
	assert_true(i >= 0);
	kw_buf_reset(&c->val[i]);
	assert_int_equal(kw_buf_put_view(&c->val[i], val), KW_OK);
	return 0x9000;
}

static void
ocard_init(ocard *c)
{
	int i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NOBJ; i++) {
		kw_buf_init(&c->tag[i], 0);
		kw_buf_init(&c->val[i], 0);
	}
}

static void
ocard_free(ocard *c)
{
	int i;

	for (i = 0; i < NOBJ; i++) {
		kw_buf_free(&c->tag[i]);
		kw_buf_free(&c->val[i]);
	}
}

static void
ocard_set(ocard *c, const char *tag_hex, const char *val_hex)
{
	kw_buf t, v;
	int i;

	hex_buf(&t, tag_hex);
	hex_buf(&v, val_hex);
	i = ocard_find(c, kw_buf_view(&t), true);
	kw_buf_reset(&c->val[i]);
	assert_int_equal(kw_buf_put_view(&c->val[i], kw_buf_view(&v)), KW_OK);
	kw_buf_free(&t);
	kw_buf_free(&v);
}

static kw_view
ocard_get(ocard *c, const char *tag_hex)
{
	kw_buf t;
	int i;

	hex_buf(&t, tag_hex);
	i = ocard_find(c, kw_buf_view(&t), false);
	kw_buf_free(&t);
	assert_true(i >= 0);
	return kw_buf_view(&c->val[i]);
}

static void
test_protected_key_roundtrip(void **state)
{
	static const uint8_t key[24] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
		0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26,
		0x27 };
	ocard c;
	fake_card card = { .answer = ocard_answer, .arg = &c, .track_tx = true };
	kw_transport *t;
	kw_piv *p;
	kw_piv_admin a;
	kw_secret s = KW_SECRET_EMPTY;
	char *log;

	(void)state;
	ocard_init(&c);
	fake_open(&card, &t, &p);
	/* A fresh card: no admin data yet. */
	assert_int_equal(kw_piv_read_admin(p, &a), KW_ERR_NOT_FOUND);
	log_capture_begin();
	assert_int_equal(kw_piv_write_protected_mgmt_key(p, key, sizeof(key)), KW_OK);
	log = log_capture_end();
	assert_int_equal(card.apdus, 4);   /* GET admin above; PUT key, GET admin, PUT admin */
	assert_int_equal(fake_tx_outside, 0);
	assert_int_equal(fake_tx_depth, 0);
	assert_non_null(strstr(log, "00DB3FFF"));
	assert_null(strstr(log, "1415161718"));
	assert_view_hex(ocard_get(&c, "5FC109"),
	    "881A8918101112131415161718191A1B1C1D1E1F2021222324252627");
	assert_view_hex(ocard_get(&c, "5FFF00"), "8003810102");
	assert_int_equal(kw_piv_read_admin(p, &a), KW_OK);
	assert_int_equal(a.flags, KW_PIV_ADMIN_MGMT_PROTECTED);
	/* Reading needs the PIN. */
	assert_int_equal(kw_piv_read_protected_mgmt_key(p, &s), KW_ERR_SECURITY);
	assert_null(s.ptr);
	c.pin_ok = true;
	free(log);
	log_capture_begin();
	assert_int_equal(kw_piv_read_protected_mgmt_key(p, &s), KW_OK);
	log = log_capture_end();
	assert_non_null(strstr(log, "00CB3FFF"));
	assert_null(strstr(log, "1415161718"));
	free(log);
	assert_int_equal(s.len, 24);
	assert_memory_equal(s.ptr, key, 24);
	kw_secret_free(&s);
	/* Removal clears the flag, keeping other admin fields. */
	ocard_set(&c, "5FFF00", "800F810103820400000000830462626262");
	assert_int_equal(kw_piv_write_protected_mgmt_key(p, NULL, 0), KW_OK);
	assert_view_hex(ocard_get(&c, "5FC109"), "");
	assert_view_hex(ocard_get(&c, "5FFF00"), "800F810101820400000000830462626262");
	assert_int_equal(kw_piv_read_admin(p, &a), KW_OK);
	assert_int_equal(a.flags, KW_PIV_ADMIN_PUK_BLOCKED);
	assert_true(a.has_salt);
	assert_int_equal(a.pin_timestamp, 0x62626262);
	assert_int_equal(kw_piv_read_protected_mgmt_key(p, &s), KW_ERR_NOT_FOUND);
	/* Unreadable admin data is replaced. */
	ocard_set(&c, "5FFF00", "8103810102");
	assert_int_equal(kw_piv_write_protected_mgmt_key(p, key, 16), KW_OK);
	assert_view_hex(ocard_get(&c, "5FFF00"), "8003810102");
	assert_int_equal(kw_piv_write_protected_mgmt_key(p, key, 20), KW_ERR_ARG);
	assert_int_equal(kw_piv_write_protected_mgmt_key(p, NULL, 16), KW_ERR_ARG);
	assert_int_equal(kw_piv_write_protected_mgmt_key(p, key, 0), KW_ERR_ARG);
	fake_close(&card, &t, &p);
	ocard_free(&c);
}

static void
admin_case(const char *hex, kw_rv want, uint8_t flags)
{
	kw_piv_admin a;
	kw_buf b;

	hex_buf(&b, hex);
	if (kw_piv_admin_parse(kw_buf_view(&b), &a) != want)
		fail_msg("%.80s", hex);
	assert_int_equal(a.flags, flags);
	kw_buf_free(&b);
}

static void
test_admin_malformed(void **state)
{
	(void)state;
	admin_case("8003810103", KW_OK, 3);
	admin_case("8000", KW_OK, 0);
	admin_case("8003810103" "00", KW_ERR_TRAILING, 0);
	admin_case("800481020103", KW_ERR_FORMAT, 0);
	admin_case("80028100", KW_ERR_FORMAT, 0);
	admin_case("8006810103830101", KW_ERR_FORMAT, 0);  /* timestamp length */
	admin_case("800481010383", KW_ERR_TRUNCATED, 0);
	admin_case("8103810103", KW_ERR_FORMAT, 0);
	admin_case("", KW_ERR_TRUNCATED, 0);
}

static void
prot_case(const char *hex, kw_rv want)
{
	kw_secret s = KW_SECRET_EMPTY;
	kw_buf b;

	hex_buf(&b, hex);
	if (kw_piv_protected_mgmt_key_parse(kw_buf_view(&b), &s) != want)
		fail_msg("%.80s", hex);
	if (want != KW_OK)
		assert_null(s.ptr);
	kw_secret_free(&s);
	kw_buf_free(&b);
}

static void
test_protected_malformed(void **state)
{
	(void)state;
	prot_case("881289100102030405060708090A0B0C0D0E0F10", KW_OK);
	prot_case("8815" "8A0100" "89100102030405060708090A0B0C0D0E0F10", KW_OK);
	prot_case("8812891001020304", KW_ERR_TRUNCATED);
	prot_case("8811890F0102030405060708090A0B0C0D0E0F", KW_ERR_FORMAT);  /* 15 bytes */
	prot_case("88038A0100", KW_ERR_FORMAT);                              /* no key */
	prot_case("8900", KW_ERR_FORMAT);
	prot_case("881289100102030405060708090A0B0C0D0E0F10" "00", KW_ERR_TRAILING);
	prot_case("", KW_ERR_TRUNCATED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_protected_key_roundtrip),
		cmocka_unit_test(test_admin_malformed),
		cmocka_unit_test(test_protected_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
