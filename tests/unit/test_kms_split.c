/* kms_split.c: XOR and Shamir splitting round trips, thresholds, misuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kms.h"

#define N 5

static void
init_bufs(kw_buf *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		kw_buf_init(&b[i], 4096);
}

static void
free_bufs(kw_buf *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		kw_buf_free(&b[i]);
}

static void
test_xor_roundtrip(void **state)
{
	uint8_t secret[1224];
	kw_buf sh[2], out;
	kw_view v[2];

	(void)state;
	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(i * 7);
	init_bufs(sh, 2);
	kw_buf_init(&out, 4096);
	assert_int_equal(kms_split(kw_view_make(secret, sizeof(secret)), 2, 2, true, sh), KW_OK);
	assert_int_equal(sh[0].len, sizeof(secret));
	assert_memory_not_equal(sh[0].data, secret, sizeof(secret));
	assert_memory_not_equal(sh[1].data, secret, sizeof(secret));
	v[0] = kw_buf_view(&sh[1]);
	v[1] = kw_buf_view(&sh[0]);
	assert_int_equal(kms_combine(v, 2, true, &out), KW_OK);
	assert_int_equal(out.len, sizeof(secret));
	assert_memory_equal(out.data, secret, sizeof(secret));
	/* one share alone is not the secret, and a short share is refused */
	v[1].len--;
	assert_int_equal(kms_combine(v, 2, true, &out), KW_ERR_FORMAT);
	free_bufs(sh, 2);
	kw_buf_free(&out);
}

static void
test_shamir_any_three_of_five(void **state)
{
	static const uint8_t secret[] = "wrapped escrow key blob \x00\xff\x80";
	kw_buf sh[N], out;
	kw_view v[3];
	unsigned a, b, c;

	(void)state;
	init_bufs(sh, N);
	kw_buf_init(&out, 4096);
	assert_int_equal(kms_split(kw_view_make(secret, sizeof(secret)), 3, N, false, sh), KW_OK);
	for (a = 0; a < N; a++)
		for (b = a + 1; b < N; b++)
			for (c = b + 1; c < N; c++) {
				v[0] = kw_buf_view(&sh[c]);
				v[1] = kw_buf_view(&sh[a]);
				v[2] = kw_buf_view(&sh[b]);
				assert_int_equal(kms_combine(v, 3, false, &out), KW_OK);
				assert_int_equal(out.len, sizeof(secret));
				assert_memory_equal(out.data, secret, sizeof(secret));
			}
	/* two of a 3-of-5 split give something else */
	assert_int_equal(kms_combine(v, 2, false, &out), KW_OK);
	assert_memory_not_equal(out.data, secret, sizeof(secret));
	/* duplicate x coordinates are refused */
	v[1] = v[0];
	assert_int_equal(kms_combine(v, 3, false, &out), KW_ERR_FORMAT);
	free_bufs(sh, N);
	kw_buf_free(&out);
}

static void
test_split_misuse(void **state)
{
	uint8_t s[4] = { 1, 2, 3, 4 };
	kw_buf sh[N];

	(void)state;
	init_bufs(sh, N);
	assert_int_equal(kms_split(kw_view_make(s, 0), 2, 2, true, sh), KW_ERR_ARG);
	assert_int_equal(kms_split(kw_view_make(s, 4), 1, 2, false, sh), KW_ERR_ARG);
	assert_int_equal(kms_split(kw_view_make(s, 4), 3, 2, false, sh), KW_ERR_ARG);
	assert_int_equal(kms_split(kw_view_make(s, 4), 2, 3, true, sh), KW_ERR_ARG);
	free_bufs(sh, N);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xor_roundtrip),
		cmocka_unit_test(test_shamir_any_three_of_five),
		cmocka_unit_test(test_split_misuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
