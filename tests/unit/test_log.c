/* kw_log.c: levels, output capture, and APDU redaction: the data of VERIFY,
 * CHANGE REFERENCE, RESET RETRY, GENERAL AUTHENTICATE, IMPORT and SET
 * MANAGEMENT KEY never appears, in commands or responses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kw_log.h"

static char *text;
static size_t text_len;
static FILE *f;

static void
capture(kw_log_level level)
{
	text = NULL;
	text_len = 0;
	f = open_memstream(&text, &text_len);
	assert_non_null(f);
	kw_log_set_stream(f);
	kw_log_set_level(level);
}

static char *
captured(void)
{
	kw_log_set_stream(NULL);
	kw_log_set_level(KW_LOG_WARN);
	fclose(f);
	return text;
}

static void
test_levels(void **state)
{
	char *s;

	(void)state;
	capture(KW_LOG_INFO);
	assert_int_equal(kw_log_get_level(), KW_LOG_INFO);
	kw_err("e%d", 1);
	kw_warn("w%d", 2);
	kw_info("i%d", 3);
	kw_debug("d%d", 4);
	kw_log(KW_LOG_NONE, "never");
	kw_log_apdu(">>", (const uint8_t *)"\x00\xa4\x04\x00", 4, 0, 0xa4);
	s = captured();
	assert_non_null(strstr(s, "keyward[error]: e1\n"));
	assert_non_null(strstr(s, "keyward[warn]: w2\n"));
	assert_non_null(strstr(s, "keyward[info]: i3\n"));
	assert_null(strstr(s, "d4"));
	assert_null(strstr(s, "never"));
	assert_null(strstr(s, "00A4"));   /* APDUs only at TRACE */
	free(s);
	capture(KW_LOG_TRACE);
	kw_log_apdu(">>", (const uint8_t *)"\x00\xa4\x04\x00", 4, 0, 0xa4);
	s = captured();
	assert_non_null(strstr(s, "keyward[trace]: >> 00A40400"));
	free(s);
	/* Out-of-range levels are clamped. */
	kw_log_init(99);
	assert_int_equal(kw_log_get_level(), KW_LOG_TRACE);
	kw_log_set_level(KW_LOG_WARN);
}

static void
test_is_secret(void **state)
{
	static const uint8_t secret_ins[] = { 0x20, 0x24, 0x2c, 0x87, 0xfe, 0xff };
	static const uint8_t plain_ins[] = { 0xa4, 0xcb, 0xdb, 0x47, 0xf7, 0xf9, 0xfd, 0xc0 };
	uint8_t apdu[4] = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(secret_ins); i++) {
		apdu[1] = secret_ins[i];
		assert_true(kw_apdu_is_secret(apdu, sizeof(apdu)));
	}
	for (i = 0; i < sizeof(plain_ins); i++) {
		apdu[1] = plain_ins[i];
		assert_false(kw_apdu_is_secret(apdu, sizeof(apdu)));
	}
	assert_false(kw_apdu_is_secret(apdu, 1));
}

static void
test_format_redacts(void **state)
{
	static const uint8_t secret_ins[] = { 0x20, 0x24, 0x2c, 0x87, 0xfe, 0xff };
	uint8_t cmd[13] = { 0x00, 0, 0x00, 0x80, 0x08, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0xff, 0xff };
	static const uint8_t resp[] = { 0x7c, 0x0a, 0x80, 0x08, 0xde, 0xad, 0xbe, 0xef, 0x90, 0x00 };
	char out[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(secret_ins); i++) {
		cmd[1] = secret_ins[i];
		kw_apdu_format(cmd, sizeof(cmd), 0, cmd[1], out, sizeof(out));
		assert_null(strstr(out, "313233"));
		assert_non_null(strstr(out, "redacted"));
		assert_int_equal(strncmp(out, "00", 2), 0);
		kw_apdu_format(resp, sizeof(resp), 1, secret_ins[i], out, sizeof(out));
		assert_null(strstr(out, "DEAD"));
		assert_null(strstr(out, "7C0A"));
		assert_non_null(strstr(out, "9000"));
	}
	/* Ordinary APDUs are shown (long ones shortened). */
	cmd[1] = 0xcb;
	kw_apdu_format(cmd, sizeof(cmd), 0, cmd[1], out, sizeof(out));
	assert_string_equal(out, "00CB008008313233343536FFFF");
	kw_apdu_format(resp, sizeof(resp), 1, 0xcb, out, sizeof(out));
	assert_string_equal(out, "7C0A8008DEADBEEF9000");
	{
		uint8_t big[300];

		memset(big, 0x41, sizeof(big));
		kw_apdu_format(big, sizeof(big), 1, 0xcb, out, sizeof(out));
		assert_non_null(strstr(out, "(300 bytes)"));
		assert_true(strlen(out) < sizeof(out));
	}
}

static void
test_format_small_outputs(void **state)
{
	static const uint8_t cmd[] = { 0x00, 0x20, 0x00, 0x80, 0x08, 0x31, 0x32, 0x33, 0x34, 0x35,
		0x36, 0x37, 0x38 };
	char out[64];
	size_t n;

	(void)state;
	for (n = 0; n < sizeof(out); n++) {
		memset(out, 'Z', sizeof(out));
		kw_apdu_format(cmd, sizeof(cmd), 0, 0x20, out, n);
		if (n > 0) {
			assert_true(memchr(out, '\0', n) != NULL);
			assert_null(strstr(out, "3132"));
		}
		if (n < sizeof(out))
			assert_int_equal(out[n], 'Z');   /* nothing written past outsz */
	}
	/* Empty and one-byte inputs are safe. */
	kw_apdu_format(cmd, 0, 1, 0x20, out, sizeof(out));
	kw_apdu_format(cmd, 1, 1, 0x20, out, sizeof(out));
	kw_apdu_format(cmd, 1, 0, 0x20, out, sizeof(out));
}

static void
test_log_stream_apdu_secret(void **state)
{
	static const uint8_t imp[] = { 0x00, 0xfe, 0x11, 0x9d, 0x06, 0x06, 0x04, 0xca, 0xfe,
		0xf0, 0x0d, 0x55 };
	char *s;

	(void)state;
	capture(KW_LOG_TRACE);
	kw_log_apdu(">>", imp, sizeof(imp), 0, 0xfe);
	kw_log_apdu("<<", (const uint8_t *)"\xca\xfe\x90\x00", 4, 1, 0x87);
	s = captured();
	assert_non_null(strstr(s, "00FE119D"));
	assert_null(strstr(s, "CAFE"));
	assert_non_null(strstr(s, "9000"));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_is_secret),
		cmocka_unit_test(test_format_redacts),
		cmocka_unit_test(test_format_small_outputs),
		cmocka_unit_test(test_log_stream_apdu_secret),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
