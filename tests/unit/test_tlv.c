#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kw_tlv.h"

static void
test_tlv_roundtrip_long_tag(void **state)
{
	kw_buf b;
	kw_view v, val;
	uint32_t tag;
	uint8_t data[300] = { 1, 2, 3 };

	(void)state;
	kw_buf_init(&b, 0);
	assert_int_equal(kw_tlv_put(&b, 0x5FC105, data, sizeof(data)), KW_OK);
	assert_int_equal(b.len, 3 + 3 + sizeof(data));
	v = kw_buf_view(&b);
	assert_int_equal(kw_tlv_get(&v, &tag, &val), KW_OK);
	assert_int_equal(tag, 0x5FC105);
	assert_int_equal(val.len, sizeof(data));
	assert_int_equal(kw_view_expect_end(&v), KW_OK);
	kw_buf_free(&b);
}

static void
test_tlv_rejects_indefinite_and_overlong(void **state)
{
	static const uint8_t indefinite[] = { 0x53, 0x80, 0x00, 0x00 };
	static const uint8_t overlong[] = { 0x53, 0x84, 0, 0, 0, 1, 0 };
	static const uint8_t truncated[] = { 0x53, 0x05, 0x01 };
	kw_view v, val;
	uint32_t tag;

	(void)state;
	v = kw_view_make(indefinite, sizeof(indefinite));
	assert_int_equal(kw_tlv_get(&v, &tag, &val), KW_ERR_FORMAT);
	assert_int_equal(v.len, sizeof(indefinite)); /* nothing consumed */
	v = kw_view_make(overlong, sizeof(overlong));
	assert_int_equal(kw_tlv_get(&v, &tag, &val), KW_ERR_FORMAT);
	v = kw_view_make(truncated, sizeof(truncated));
	assert_int_equal(kw_tlv_get(&v, &tag, &val), KW_ERR_TRUNCATED);
	assert_null(val.ptr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tlv_roundtrip_long_tag),
		cmocka_unit_test(test_tlv_rejects_indefinite_and_overlong),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
