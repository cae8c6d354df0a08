/* kw_buf.c: views (consume only on success, cleared outputs, bounds) and
 * growable buffers (limits, no realloc of secrets, wiping), hex. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kw_buf.h"

static const uint8_t bytes[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07 };

static void
test_view_getters(void **state)
{
	kw_view v = kw_view_make(bytes, sizeof(bytes)), c;
	uint8_t u8, out[4];
	uint16_t u16;
	uint32_t u32;

	(void)state;
	assert_int_equal(kw_view_get_u8(&v, &u8), KW_OK);
	assert_int_equal(u8, 0x01);
	assert_int_equal(kw_view_get_u16be(&v, &u16), KW_OK);
	assert_int_equal(u16, 0x0203);
	assert_int_equal(kw_view_get_u32be(&v, &u32), KW_OK);
	assert_int_equal(u32, 0x04050607);
	assert_true(kw_view_empty(&v));
	assert_int_equal(kw_view_expect_end(&v), KW_OK);
	/* Failures consume nothing and clear outputs. */
	v = kw_view_make(bytes, 3);
	u32 = 0xffffffff;
	assert_int_equal(kw_view_get_u32be(&v, &u32), KW_ERR_TRUNCATED);
	assert_int_equal(u32, 0);
	assert_int_equal(v.len, 3);
	memset(out, 0xee, sizeof(out));
	assert_int_equal(kw_view_get_bytes(&v, out, 4), KW_ERR_TRUNCATED);
	assert_memory_equal(out, "\0\0\0\0", 4);
	assert_int_equal(kw_view_get_view(&v, 4, &c), KW_ERR_TRUNCATED);
	assert_null(c.ptr);
	assert_int_equal(c.len, 0);
	assert_int_equal(kw_view_skip(&v, 4), KW_ERR_TRUNCATED);
	assert_int_equal(v.len, 3);
	assert_int_equal(kw_view_expect_end(&v), KW_ERR_TRAILING);
	/* Huge counts cannot wrap. */
	assert_int_equal(kw_view_get_view(&v, SIZE_MAX, &c), KW_ERR_TRUNCATED);
	assert_int_equal(kw_view_skip(&v, SIZE_MAX), KW_ERR_TRUNCATED);
	/* Child views and the rest. */
	assert_int_equal(kw_view_get_view(&v, 2, &c), KW_OK);
	assert_int_equal(c.len, 2);
	assert_int_equal(c.ptr[1], 0x02);
	kw_view_get_rest(&v, &c);
	assert_int_equal(c.len, 1);
	assert_int_equal(c.ptr[0], 0x03);
	assert_true(kw_view_empty(&v));
	/* NULL pointer makes an empty view. */
	v = kw_view_make(NULL, 10);
	assert_int_equal(v.len, 0);
	assert_int_equal(kw_view_get_u8(&v, &u8), KW_ERR_TRUNCATED);
	assert_int_equal(u8, 0);
}

static void
test_view_equal(void **state)
{
	(void)state;
	assert_true(kw_view_equal(kw_view_make(bytes, 3), kw_view_make("\1\2\3", 3)));
	assert_false(kw_view_equal(kw_view_make(bytes, 3), kw_view_make("\1\2\4", 3)));
	assert_false(kw_view_equal(kw_view_make(bytes, 3), kw_view_make(bytes, 2)));
	assert_true(kw_view_equal(kw_view_make(NULL, 0), kw_view_make(bytes, 0)));
}

static void
test_buf_put_and_limits(void **state)
{
	kw_buf b;
	size_t i;

	(void)state;
	kw_buf_init(&b, 10);
	assert_int_equal(kw_buf_put(&b, bytes, 7), KW_OK);
	assert_int_equal(kw_buf_put_u16be(&b, 0xabcd), KW_OK);
	assert_int_equal(kw_buf_put_u8(&b, 0xef), KW_OK);
	assert_int_equal(b.len, 10);
	assert_int_equal(kw_buf_put_u8(&b, 0), KW_ERR_RANGE);
	assert_int_equal(kw_buf_put(&b, NULL, 0), KW_OK);
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.data + 7, "\xab\xcd\xef", 3);
	assert_int_equal(kw_buf_reserve(&b, SIZE_MAX), KW_ERR_RANGE);
	kw_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 10);   /* the limit survives free */
	/* A zeroed buffer works, with the default limit. */
	memset(&b, 0, sizeof(b));
	for (i = 0; i < 1000; i++)
		assert_int_equal(kw_buf_put_u32be(&b, (uint32_t)i), KW_OK);
	assert_int_equal(b.len, 4000);
	assert_memory_equal(b.data + 3996, "\0\0\x03\xe7", 4);
	assert_int_equal(kw_buf_view(&b).len, 4000);
	kw_buf_free(&b);
	kw_buf_init(&b, 0);
	assert_int_equal(kw_buf_reserve(&b, KW_BUF_DEFAULT_MAX + 1), KW_ERR_RANGE);
	kw_buf_free(&b);
}

static void
test_buf_reset_consume(void **state)
{
	kw_buf b;
	uint8_t *p;

	(void)state;
	kw_buf_init(&b, 0);
	assert_int_equal(kw_buf_put(&b, "secretXYZ", 9), KW_OK);
	p = b.data;
	assert_int_equal(kw_buf_consume(&b, 6), KW_OK);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "XYZ", 3);
	/* The vacated tail is wiped. */
	assert_memory_equal(b.data + 3, "\0\0\0\0\0\0", 6);
	assert_int_equal(kw_buf_consume(&b, 4), KW_ERR_RANGE);
	kw_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_ptr_equal(b.data, p);   /* storage kept */
	assert_memory_equal(b.data, "\0\0\0", 3);
	assert_int_equal(kw_buf_put_view(&b, kw_view_make("ab", 2)), KW_OK);
	assert_memory_equal(b.data, "ab", 2);
	kw_buf_free(&b);
}

static void
test_hex(void **state)
{
	char out[16];
	kw_buf b;

	(void)state;
	assert_int_equal(kw_hex_encode(bytes, 3, out, sizeof(out)), KW_OK);
	assert_string_equal(out, "010203");
	assert_int_equal(kw_hex_encode(bytes, 7, out, 14), KW_ERR_RANGE);
	assert_string_equal(out, "");
	assert_int_equal(kw_hex_encode(bytes, 7, out, 15), KW_OK);
	assert_int_equal(kw_hex_encode(bytes, 0, out, 1), KW_OK);
	assert_string_equal(out, "");
	kw_buf_init(&b, 0);
	assert_int_equal(kw_hex_decode("0a:Bc de\nF0", &b), KW_OK);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "\x0a\xbc\xde\xf0", 4);
	kw_buf_reset(&b);
	assert_int_equal(kw_hex_decode("abc", &b), KW_ERR_FORMAT);
	kw_buf_reset(&b);
	assert_int_equal(kw_hex_decode("zz", &b), KW_ERR_FORMAT);
	kw_buf_free(&b);
	kw_buf_init(&b, 2);
	assert_int_equal(kw_hex_decode("010203", &b), KW_ERR_RANGE);
	kw_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_view_getters),
		cmocka_unit_test(test_view_equal),
		cmocka_unit_test(test_buf_put_and_limits),
		cmocka_unit_test(test_buf_reset_consume),
		cmocka_unit_test(test_hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
