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

static void
test_tlv_tags(void **state)
{
	static const uint8_t two[] = { 0x7f, 0x49, 0x01, 0xaa };
	static const uint8_t three[] = { 0x5f, 0xc1, 0x02, 0x00 };
	static const uint8_t four[] = { 0x5f, 0xc1, 0x82, 0x01, 0x00 };   /* 4-byte tag */
	static const uint8_t cut[] = { 0x5f, 0xc1 };
	kw_view v, val;
	uint32_t tag;

	(void)state;
	v = kw_view_make(two, sizeof(two));
	assert_int_equal(kw_tlv_get(&v, &tag, &val), KW_OK);
	assert_int_equal(tag, 0x7f49);
	assert_int_equal(val.len, 1);
	v = kw_view_make(three, sizeof(three));
	assert_int_equal(kw_tlv_get(&v, &tag, &val), KW_OK);
	assert_int_equal(tag, 0x5fc102);
	assert_int_equal(val.len, 0);
	v = kw_view_make(four, sizeof(four));
	assert_int_equal(kw_tlv_get(&v, &tag, &val), KW_ERR_FORMAT);
	assert_int_equal(tag, 0);
	v = kw_view_make(cut, sizeof(cut));
	assert_int_equal(kw_tlv_get(&v, &tag, &val), KW_ERR_TRUNCATED);
	assert_int_equal(v.len, sizeof(cut));
}

static void
test_tlv_lengths(void **state)
{
	static const uint8_t l81[] = { 0x53, 0x81, 0x01, 0xaa };
	static const uint8_t l82[] = { 0x53, 0x82, 0x00, 0x01, 0xaa };
	static const uint8_t l83[] = { 0x53, 0x83, 0x00, 0x00, 0x01, 0xaa };
	static const uint8_t l83cut[] = { 0x53, 0x83, 0x00, 0x00 };
	static const uint8_t nolen[] = { 0x53 };
	kw_view v, val;
	uint32_t tag;

	(void)state;
	v = kw_view_make(l81, sizeof(l81));
	assert_int_equal(kw_tlv_get(&v, &tag, &val), KW_OK);
	assert_int_equal(val.len, 1);
	v = kw_view_make(l82, sizeof(l82));
	assert_int_equal(kw_tlv_get(&v, &tag, &val), KW_OK);
	assert_int_equal(val.ptr[0], 0xaa);
	v = kw_view_make(l83, sizeof(l83));
	assert_int_equal(kw_tlv_get(&v, &tag, &val), KW_OK);
	assert_true(kw_view_empty(&v));
	v = kw_view_make(l83cut, sizeof(l83cut));
	assert_int_equal(kw_tlv_get(&v, &tag, &val), KW_ERR_TRUNCATED);
	v = kw_view_make(nolen, sizeof(nolen));
	assert_int_equal(kw_tlv_get(&v, &tag, &val), KW_ERR_TRUNCATED);
}

static void
test_tlv_expect_find_validate(void **state)
{
	static const uint8_t seq[] = { 0x80, 0x01, 0x11, 0x81, 0x00, 0x82, 0x02, 0x01, 0x02 };
	static const uint8_t bad[] = { 0x80, 0x01, 0x11, 0x81, 0x05, 0x00 };
	kw_view v, val;

	(void)state;
	v = kw_view_make(seq, sizeof(seq));
	assert_int_equal(kw_tlv_expect(&v, 0x81, &val), KW_ERR_FORMAT);
	assert_int_equal(v.len, sizeof(seq));   /* not consumed */
	assert_null(val.ptr);
	assert_int_equal(kw_tlv_expect(&v, 0x80, &val), KW_OK);
	assert_int_equal(v.len, sizeof(seq) - 3);
	v = kw_view_make(seq, sizeof(seq));
	assert_int_equal(kw_tlv_find(v, 0x82, &val), KW_OK);
	assert_int_equal(val.len, 2);
	assert_int_equal(kw_tlv_find(v, 0x83, &val), KW_ERR_NOT_FOUND);
	assert_int_equal(kw_tlv_validate(v), KW_OK);
	v = kw_view_make(bad, sizeof(bad));
	assert_int_equal(kw_tlv_find(v, 0x80, &val), KW_OK);     /* before the damage */
	assert_int_equal(kw_tlv_find(v, 0x82, &val), KW_ERR_TRUNCATED);
	assert_int_equal(kw_tlv_validate(v), KW_ERR_TRUNCATED);
	assert_int_equal(kw_tlv_validate(kw_view_make(NULL, 0)), KW_OK);
}

static void
test_tlv_put(void **state)
{
	kw_buf b;
	static uint8_t big[0x10000];

	(void)state;
	kw_buf_init(&b, 0);
	assert_int_equal(kw_tlv_put(&b, 0x53, NULL, 0), KW_OK);
	assert_int_equal(kw_tlv_put(&b, 0x7f49, "\x01", 1), KW_OK);
	assert_int_equal(b.len, 2 + 4);
	assert_memory_equal(b.data, "\x53\x00\x7f\x49\x01\x01", 6);
	kw_buf_reset(&b);
	assert_int_equal(kw_tlv_put(&b, 0x70, big, 0x80), KW_OK);
	assert_memory_equal(b.data, "\x70\x81\x80", 3);
	kw_buf_reset(&b);
	assert_int_equal(kw_tlv_put(&b, 0x70, big, 0x100), KW_OK);
	assert_memory_equal(b.data, "\x70\x82\x01\x00", 4);
	kw_buf_reset(&b);
	assert_int_equal(kw_tlv_put(&b, 0x70, big, sizeof(big)), KW_OK);
	assert_memory_equal(b.data, "\x70\x83\x01\x00\x00", 5);
	assert_int_equal(kw_tlv_header_size(0x53, 0x7f), 2);
	assert_int_equal(kw_tlv_header_size(0x53, 0x80), 3);
	assert_int_equal(kw_tlv_header_size(0x7f49, 0x100), 5);
	assert_int_equal(kw_tlv_header_size(0x5fc102, 0x10000), 7);
	assert_int_equal(kw_tlv_put_header(&b, 0x1000000, 1), KW_ERR_RANGE);
	assert_int_equal(kw_tlv_put_header(&b, 0x53, 0x1000000), KW_ERR_RANGE);
	kw_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tlv_roundtrip_long_tag),
		cmocka_unit_test(test_tlv_rejects_indefinite_and_overlong),
		cmocka_unit_test(test_tlv_tags),
		cmocka_unit_test(test_tlv_lengths),
		cmocka_unit_test(test_tlv_expect_find_validate),
		cmocka_unit_test(test_tlv_put),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
