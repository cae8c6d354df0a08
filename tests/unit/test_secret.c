/* kw_secret.c and kw_err.c: wiping, constant-time comparison, secret
 * allocations; error strings and the one status-word mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kw_err.h"
#include "kw_secret.h"

static void
test_memzero_and_compare(void **state)
{
	uint8_t b[16];

	(void)state;
	memset(b, 0xaa, sizeof(b));
	kw_memzero(b, 8);
	assert_memory_equal(b, "\0\0\0\0\0\0\0\0", 8);
	assert_int_equal(b[8], 0xaa);
	kw_memzero(NULL, 8);
	kw_memzero(b, 0);
	kw_freezero(NULL, 10);
	assert_true(kw_timingsafe_eq("abcd", "abcd", 4));
	assert_false(kw_timingsafe_eq("abcd", "abce", 4));
	assert_false(kw_timingsafe_eq("\x80", "\x00", 1));
	assert_true(kw_timingsafe_eq("x", "y", 0));
}

static void
test_secret_alloc(void **state)
{
	kw_secret s = KW_SECRET_EMPTY;

	(void)state;
	assert_int_equal(kw_secret_alloc(&s, 0), KW_ERR_ARG);
	assert_null(s.ptr);
	assert_int_equal(kw_secret_alloc(&s, 32), KW_OK);
	assert_non_null(s.ptr);
	assert_int_equal(s.len, 32);
	assert_memory_equal(s.ptr, "\0\0\0\0\0\0\0\0", 8);
	kw_secret_free(&s);
	assert_null(s.ptr);
	assert_int_equal(s.len, 0);
	assert_false(s.locked);
	kw_secret_free(&s);  /* twice is fine */
	assert_int_equal(kw_secret_set(&s, "key material", 12), KW_OK);
	assert_memory_equal(s.ptr, "key material", 12);
	kw_secret_free(&s);
}

/* Storing into a secret that holds one wipes and frees the old one first
 * (the sanitizer build's leak check fails this test otherwise); errors
 * leave it empty; the source may be the secret itself. */
static void
test_secret_replace(void **state)
{
	kw_secret s = KW_SECRET_EMPTY;

	(void)state;
	assert_int_equal(kw_secret_set(&s, "first PIN", 9), KW_OK);
	assert_int_equal(kw_secret_set(&s, "second", 6), KW_OK);
	assert_int_equal(s.len, 6);
	assert_memory_equal(s.ptr, "second", 6);
	assert_int_equal(kw_secret_alloc(&s, 16), KW_OK);
	assert_int_equal(s.len, 16);
	assert_memory_equal(s.ptr, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_int_equal(kw_secret_set(&s, "abcdefgh", 8), KW_OK);
	assert_int_equal(kw_secret_set(&s, s.ptr + 2, 4), KW_OK);
	assert_memory_equal(s.ptr, "cdef", 4);
	assert_int_equal(s.len, 4);
	/* a failed store leaves nothing behind, not the old secret */
	assert_int_equal(kw_secret_set(&s, NULL, 4), KW_ERR_ARG);
	assert_null(s.ptr);
	assert_int_equal(s.len, 0);
	assert_int_equal(kw_secret_set(&s, "x", 1), KW_OK);
	assert_int_equal(kw_secret_alloc(&s, 0), KW_ERR_ARG);
	assert_null(s.ptr);
	assert_int_equal(kw_secret_set(NULL, "x", 1), KW_ERR_ARG);
	kw_secret_free(NULL);
	kw_secret_free(&s);
}

static void
test_sw_mapping(void **state)
{
	static const struct { uint16_t sw; kw_rv rv; } v[] = {
		{ 0x9000, KW_OK }, { 0x6100, KW_OK }, { 0x61ff, KW_OK },
		{ 0x63c0, KW_ERR_PIN_INCORRECT }, { 0x63c5, KW_ERR_PIN_INCORRECT },
		{ 0x6a82, KW_ERR_NOT_FOUND }, { 0x6a88, KW_ERR_NOT_FOUND },
		{ 0x6982, KW_ERR_SECURITY }, { 0x6983, KW_ERR_PIN_BLOCKED },
		{ 0x6984, KW_ERR_CONDITIONS }, { 0x6985, KW_ERR_CONDITIONS },
		{ 0x6a80, KW_ERR_WRONG_DATA }, { 0x6a84, KW_ERR_NO_SPACE },
		{ 0x6a86, KW_ERR_WRONG_PARAMS }, { 0x6b00, KW_ERR_WRONG_PARAMS },
		{ 0x6700, KW_ERR_WRONG_LENGTH }, { 0x6d00, KW_ERR_INS_UNKNOWN },
		{ 0x6e00, KW_ERR_INS_UNKNOWN }, { 0x6a81, KW_ERR_INS_UNKNOWN },
		{ 0x6f00, KW_ERR_CARD }, { 0x6300, KW_ERR_CARD }, { 0x9001, KW_ERR_CARD },
		{ 0x0000, KW_ERR_CARD }, { 0x6c10, KW_ERR_CARD },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_int_equal(kw_sw_to_rv(v[i].sw), v[i].rv);
}

static void
test_strerror(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < KW_ERR_MAX; i++) {
		assert_non_null(kw_strerror((kw_rv)i));
		assert_string_not_equal(kw_strerror((kw_rv)i), "unknown error");
	}
	assert_string_equal(kw_strerror(KW_OK), "success");
	assert_string_equal(kw_strerror(KW_ERR_MAX), "unknown error");
	assert_string_equal(kw_strerror((kw_rv)-1), "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memzero_and_compare),
		cmocka_unit_test(test_secret_alloc),
		cmocka_unit_test(test_secret_replace),
		cmocka_unit_test(test_sw_mapping),
		cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
