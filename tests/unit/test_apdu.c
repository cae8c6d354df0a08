/* kw_apdu: encoding, chaining, GET RESPONSE, 6Cxx, logical channels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kw_apdu.h"
#include "kw_log.h"
#include "kw_mock.h"

static int test_channel_no;
static kw_transport_ops chan_ops;   /* mock ops + channel, no EXTENDED */

static int
test_channel(void *ctx)
{
	(void)ctx;
	return test_channel_no;
}

static kw_transport *
open_mock(void)
{
	kw_transport *t = NULL;

	assert_int_equal(kw_transport_open_ops(&kw_mock_ops, "test", &t), KW_OK);
	return t;
}

static kw_transport *
open_chan(int channel, kw_mock **m)
{
	kw_transport *t = NULL;

	chan_ops = kw_mock_ops;
	chan_ops.flags = 0;
	chan_ops.channel = test_channel;
	test_channel_no = channel;
	assert_int_equal(kw_transport_open_ops(&chan_ops, "chan", &t), KW_OK);
	*m = kw_transport_ctx(t);
	return t;
}

static void
done(kw_transport **t)
{
	kw_mock *m = kw_transport_ctx(*t);

	assert_int_equal(kw_mock_pending(m), 0);
	assert_int_equal(kw_mock_mismatches(m), 0);
	kw_transport_free(t);
	assert_null(*t);
}

static void
assert_buf_hex(const kw_buf *b, const char *hex)
{
	kw_buf want;

	kw_buf_init(&want, 0);
	assert_int_equal(kw_hex_decode(hex, &want), KW_OK);
	assert_int_equal(b->len, want.len);
	if (want.len > 0)
		assert_memory_equal(b->data, want.data, want.len);
	kw_buf_free(&want);
}

static void
test_cla_for_channel(void **state)
{
	static const struct { uint8_t cla; int ch; kw_rv rv; uint8_t out; } v[] = {
		{ 0x00, 0, KW_OK, 0x00 }, { 0x00, 1, KW_OK, 0x01 }, { 0x00, 3, KW_OK, 0x03 },
		{ 0x10, 2, KW_OK, 0x12 }, { 0x0c, 3, KW_OK, 0x0f }, { 0x80, 1, KW_OK, 0x81 },
		{ 0x00, 4, KW_OK, 0x40 }, { 0x10, 4, KW_OK, 0x50 }, { 0x00, 19, KW_OK, 0x4f },
		{ 0x10, 19, KW_OK, 0x5f }, { 0x08, 5, KW_OK, 0x61 }, { 0x80, 5, KW_OK, 0xc1 },
		{ 0x90, 7, KW_OK, 0xd3 },
		{ 0x0c, 4, KW_ERR_NOT_SUPPORTED, 0 }, { 0x04, 4, KW_ERR_NOT_SUPPORTED, 0 },
		{ 0x98, 18, KW_OK, 0xfe }, { 0x98, 19, KW_ERR_NOT_SUPPORTED, 0 }, /* not CLA FF */
		{ 0x00, 20, KW_ERR_ARG, 0 }, { 0x00, -1, KW_ERR_ARG, 0 },
		{ 0x01, 0, KW_ERR_ARG, 0 }, { 0x40, 0, KW_ERR_ARG, 0 }, { 0x20, 5, KW_ERR_ARG, 0 },
	};
	size_t i;
	uint8_t out;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		out = 0xee;
		assert_int_equal(kw_apdu_cla_for_channel(v[i].cla, v[i].ch, &out), v[i].rv);
		assert_int_equal(out, v[i].out);
	}
}

static void
test_short_cases(void **state)
{
	static const uint8_t aid[] = { 0xa0, 0x00, 0x00, 0x03, 0x08 };
	kw_transport *t = open_mock();
	kw_mock *m = kw_mock_of(t);
	kw_apdu a = { 0x00, 0xfb, 0x00, 0x00, NULL, 0, 0, 0 };
	kw_buf r;
	uint16_t sw;

	(void)state;
	kw_buf_init(&r, 0);
	assert_int_equal(kw_mock_expect(m, "00FB0000", "9000"), KW_OK);
	assert_int_equal(kw_mock_expect(m, "00FD000000", "0505029000"), KW_OK);
	assert_int_equal(kw_mock_expect(m, "00FD000010", "9000"), KW_OK);
	assert_int_equal(kw_mock_expect(m, "00A4040005A000000308", "9000"), KW_OK);
	assert_int_equal(kw_mock_expect(m, "00A4040005A00000030800", "61024F009000"), KW_OK);
	/* case 1 */
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(r.len, 0);
	/* case 2, Le 256 -> 00 */
	a.ins = 0xfd;
	a.le = 256;
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	assert_buf_hex(&r, "050502");
	kw_buf_reset(&r);
	a.le = 16;
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	/* case 3 and 4 */
	a.ins = 0xa4;
	a.p1 = 0x04;
	a.data = aid;
	a.data_len = sizeof(aid);
	a.le = 0;
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	a.le = 256;
	kw_buf_reset(&r);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	assert_buf_hex(&r, "61024F00");
	kw_buf_free(&r);
	done(&t);
}

static void
test_extended_only_when_asked(void **state)
{
	kw_transport *t = open_mock();  /* the mock declares EXTENDED */
	kw_mock *m = kw_mock_of(t);
	uint8_t data[300];
	kw_apdu a = { 0x00, 0xdb, 0x3f, 0xff, data, sizeof(data), 65536, 0 };
	kw_buf r, cmd;
	uint16_t sw;

	(void)state;
	memset(data, 0xab, sizeof(data));
	kw_buf_init(&r, 0);
	kw_buf_init(&cmd, 0);
	/* case 4E: 00 Lc(2) data Le(2) */
	assert_int_equal(kw_buf_put(&cmd, "\x00\xdb\x3f\xff\x00\x01\x2c", 7), KW_OK);
	assert_int_equal(kw_buf_put(&cmd, data, sizeof(data)), KW_OK);
	assert_int_equal(kw_buf_put(&cmd, "\x00\x00", 2), KW_OK);
	{
		char hex[2 * 320 + 1];

		assert_int_equal(kw_hex_encode(cmd.data, cmd.len, hex, sizeof(hex)), KW_OK);
		assert_int_equal(kw_mock_expect(m, hex, "9000"), KW_OK);
	}
	assert_int_equal(kw_mock_expect(m, "00CB3FFF000400", "01029000"), KW_OK);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	/* case 2E: 00 Le(2) */
	a.ins = 0xcb;
	a.data = NULL;
	a.data_len = 0;
	a.le = 1024;
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	assert_buf_hex(&r, "0102");
	kw_buf_free(&r);
	kw_buf_free(&cmd);
	done(&t);
}

static void
expect_chunk(kw_mock *m, uint8_t cla, const uint8_t *d, size_t n, int le, const char *resp)
{
	kw_buf cmd;
	char *hex;

	kw_buf_init(&cmd, 0);
	assert_int_equal(kw_buf_put_u8(&cmd, cla), KW_OK);
	assert_int_equal(kw_buf_put(&cmd, "\xdb\x3f\xff", 3), KW_OK);
	assert_int_equal(kw_buf_put_u8(&cmd, (uint8_t)n), KW_OK);
	assert_int_equal(kw_buf_put(&cmd, d, n), KW_OK);
	if (le >= 0)
		assert_int_equal(kw_buf_put_u8(&cmd, (uint8_t)le), KW_OK);
	hex = malloc(cmd.len * 2 + 1);
	assert_non_null(hex);
	assert_int_equal(kw_hex_encode(cmd.data, cmd.len, hex, cmd.len * 2 + 1), KW_OK);
	assert_int_equal(kw_mock_expect(m, hex, resp), KW_OK);
	free(hex);
	kw_buf_free(&cmd);
}

static void
test_chaining(void **state)
{
	kw_transport *t = open_mock();
	kw_mock *m = kw_mock_of(t);
	uint8_t data[600];
	kw_apdu a = { 0x00, 0xdb, 0x3f, 0xff, data, sizeof(data), 256, 0 };
	kw_buf r;
	uint16_t sw;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	kw_buf_init(&r, 0);
	expect_chunk(m, 0x10, data, 255, -1, "9000");
	expect_chunk(m, 0x10, data + 255, 255, -1, "9000");
	expect_chunk(m, 0x00, data + 510, 90, 0, "AA9000");
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	assert_buf_hex(&r, "AA");
	done(&t);

	/* Exactly 255 bytes: no chaining. 256: two links. */
	t = open_mock();
	m = kw_mock_of(t);
	a.le = 0;
	a.data_len = 255;
	expect_chunk(m, 0x00, data, 255, -1, "9000");
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	a.data_len = 256;
	expect_chunk(m, 0x10, data, 255, -1, "9000");
	expect_chunk(m, 0x00, data + 255, 1, -1, "9000");
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	done(&t);

	/* A refused link ends the command with its status word. */
	t = open_mock();
	m = kw_mock_of(t);
	a.data_len = sizeof(data);
	expect_chunk(m, 0x10, data, 255, -1, "6A84");
	assert_int_equal(kw_apdu_transmit(t, &a, &r, &sw), KW_OK);
	assert_int_equal(sw, 0x6a84);
	expect_chunk(m, 0x10, data, 255, -1, "6A84");
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_ERR_NO_SPACE);
	done(&t);
	kw_buf_free(&r);
}

static void
test_chaining_on_channel(void **state)
{
	kw_mock *m;
	kw_transport *t = open_chan(6, &m);
	uint8_t data[300] = { 0 };
	kw_apdu a = { 0x00, 0xdb, 0x3f, 0xff, data, sizeof(data), 0, 0 };
	kw_buf r;
	uint16_t sw;

	(void)state;
	kw_buf_init(&r, 0);
	expect_chunk(m, 0x52, data, 255, -1, "9000");
	expect_chunk(m, 0x42, data + 255, 45, -1, "9000");
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	kw_buf_free(&r);
	done(&t);
}

static void
test_get_response(void **state)
{
	kw_transport *t = open_mock();
	kw_mock *m = kw_mock_of(t);
	kw_apdu a = { 0x00, 0xcb, 0x3f, 0xff, (const uint8_t *)"\x5c\x01\x7e", 3, 256, 0 };
	kw_buf r;
	uint16_t sw;

	(void)state;
	kw_buf_init(&r, 0);
	assert_int_equal(kw_mock_expect(m, "00CB3FFF035C017E00", "01026100"), KW_OK);
	assert_int_equal(kw_mock_expect(m, "00C0000000", "03046103"), KW_OK);
	assert_int_equal(kw_mock_expect(m, "00C0000003", "0506079000"), KW_OK);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	assert_int_equal(sw, 0x9000);
	assert_buf_hex(&r, "01020304050607");
	/* GET RESPONSE ending in an error: the error is the answer. */
	kw_buf_reset(&r);
	assert_int_equal(kw_mock_expect(m, "00CB3FFF035C017E00", "016101"), KW_OK);
	assert_int_equal(kw_mock_expect(m, "00C0000001", "6F00"), KW_OK);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_ERR_CARD);
	assert_int_equal(sw, 0x6f00);
	kw_buf_free(&r);
	done(&t);
}

static void
test_get_response_on_channel(void **state)
{
	kw_mock *m;
	kw_transport *t = open_chan(5, &m);
	kw_apdu a = { 0x00, 0xfd, 0, 0, NULL, 0, 256, 0 };
	kw_buf r;
	uint16_t sw;

	(void)state;
	kw_buf_init(&r, 0);
	assert_int_equal(kw_mock_expect(m, "41FD000000", "6103"), KW_OK);
	assert_int_equal(kw_mock_expect(m, "41C0000003", "0102039000"), KW_OK);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	assert_buf_hex(&r, "010203");
	kw_transport_free(&t);
	t = open_chan(2, &m);
	assert_int_equal(kw_mock_expect(m, "02FD000000", "6101"), KW_OK);
	assert_int_equal(kw_mock_expect(m, "02C0000001", "049000"), KW_OK);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	assert_buf_hex(&r, "01020304");
	kw_buf_free(&r);
	done(&t);
	/* An impossible channel number from a transport is refused. */
	t = open_chan(20, &m);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_ERR_ARG);
	done(&t);
}

static void
test_wrong_le(void **state)
{
	kw_transport *t = open_mock();
	kw_mock *m = kw_mock_of(t);
	kw_apdu a = { 0x00, 0xca, 0x01, 0x02, NULL, 0, 256, 0 };
	kw_buf r;
	uint16_t sw;

	(void)state;
	kw_buf_init(&r, 0);
	assert_int_equal(kw_mock_expect(m, "00CA010200", "6C04"), KW_OK);
	assert_int_equal(kw_mock_expect(m, "00CA010204", "A1A2A3A49000"), KW_OK);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	assert_buf_hex(&r, "A1A2A3A4");
	/* Only once: a second 6Cxx is returned as is. */
	kw_buf_reset(&r);
	assert_int_equal(kw_mock_expect(m, "00CA010200", "6C04"), KW_OK);
	assert_int_equal(kw_mock_expect(m, "00CA010204", "6C02"), KW_OK);
	assert_int_equal(kw_apdu_transmit(t, &a, &r, &sw), KW_OK);
	assert_int_equal(sw, 0x6c02);
	assert_int_equal(r.len, 0);
	/* 6C00 means 256; 6Cxx then 61xx works too. */
	assert_int_equal(kw_mock_expect(m, "00CA010210", "6C00"), KW_OK);
	assert_int_equal(kw_mock_expect(m, "00CA010200", "116101"), KW_OK);
	assert_int_equal(kw_mock_expect(m, "00C0000001", "229000"), KW_OK);
	a.le = 16;
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	assert_buf_hex(&r, "1122");
	kw_buf_free(&r);
	done(&t);
}

static kw_rv
endless_61(void *arg, kw_view cmd, kw_buf *resp)
{
	size_t *n = arg;
	uint8_t chunk[256];

	(void)cmd;
	memset(chunk, 0x5a, sizeof(chunk));
	if (kw_buf_put(resp, chunk, *n) != KW_OK)
		return KW_ERR_NOMEM;
	return kw_buf_put(resp, "\x61\x00", 2);
}

static void
test_response_bounds(void **state)
{
	kw_transport *t = open_mock();
	kw_mock *m = kw_mock_of(t);
	kw_apdu a = { 0x00, 0xcb, 0x3f, 0xff, NULL, 0, 256, 0 };
	size_t n = 256;
	uint64_t before;
	kw_buf r;
	uint16_t sw;

	(void)state;
	kw_buf_init(&r, 0);
	/* Full chunks forever: stops at 64 KiB of data. */
	kw_mock_set_handler(m, endless_61, &n);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_ERR_RANGE);
	assert_int_equal(sw, 0);
	assert_true(r.len <= 65536);
	/* Empty chunks forever: stops after a bounded number of rounds. */
	n = 0;
	kw_buf_reset(&r);
	before = kw_transport_apdu_count(t);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_ERR_PROTOCOL);
	assert_true(kw_transport_apdu_count(t) - before <= 1100);
	/* The caller's buffer limit holds too. */
	n = 256;
	kw_buf_free(&r);
	kw_buf_init(&r, 1000);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_ERR_RANGE);
	kw_buf_free(&r);
	kw_transport_free(&t);
}

static void
test_errors(void **state)
{
	kw_transport *t = open_mock();
	kw_mock *m = kw_mock_of(t);
	kw_apdu a = { 0x00, 0x20, 0x00, 0x80, NULL, 0, 0, 0 };
	kw_buf r;
	uint16_t sw = 0x1234;
	static uint8_t big[65536];

	(void)state;
	kw_buf_init(&r, 0);
	assert_int_equal(kw_mock_expect_err(m, "00200080", KW_ERR_CARD_REMOVED), KW_OK);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_ERR_CARD_REMOVED);
	assert_int_equal(sw, 0);
	assert_int_equal(kw_mock_expect(m, "00200080", "90"), KW_OK);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_ERR_PROTOCOL);
	assert_int_equal(kw_mock_expect(m, "00200080", "63C2"), KW_OK);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_ERR_PIN_INCORRECT);
	assert_int_equal(sw, 0x63c2);
	assert_int_equal(kw_mock_expect(m, "00200080", "6983"), KW_OK);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_ERR_PIN_BLOCKED);
	assert_int_equal(kw_mock_expect(m, "00200080", "6A82"), KW_OK);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_ERR_NOT_FOUND);
	/* Argument checks: nothing is sent. */
	a.data_len = 3;
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_ERR_ARG);
	a.data = big;
	a.data_len = sizeof(big);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_ERR_RANGE);
	a.data_len = 0;
	a.le = 65537;
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_ERR_ARG);
	a.le = 0;
	a.cla = 0x01;  /* channel bits belong to the transport */
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_ERR_ARG);
	assert_int_equal(kw_apdu_exchange(NULL, &a, &r, &sw), KW_ERR_ARG);
	assert_int_equal(kw_apdu_exchange(t, NULL, &r, &sw), KW_ERR_ARG);
	assert_int_equal(kw_apdu_exchange(t, &a, NULL, &sw), KW_ERR_ARG);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, NULL), KW_ERR_ARG);
	kw_buf_free(&r);
	done(&t);
}

static void
test_log_redacts_secrets(void **state)
{
	kw_transport *t = open_mock();
	kw_mock *m = kw_mock_of(t);
	static const uint8_t pin[8] = { '9', '8', '7', '6', '5', '4', 0xff, 0xff };
	kw_apdu a = { 0x00, 0x20, 0x00, 0x80, pin, sizeof(pin), 0, 0 };
	char *log = NULL;
	size_t loglen = 0;
	FILE *f;
	kw_buf r;
	uint16_t sw;

	(void)state;
	kw_buf_init(&r, 0);
	f = open_memstream(&log, &loglen);
	assert_non_null(f);
	kw_log_set_stream(f);
	kw_log_set_level(KW_LOG_TRACE);
	assert_int_equal(kw_mock_expect(m, "0020008008393837363534FFFF", "9000"), KW_OK);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	/* A decrypted key coming back through GET RESPONSE stays hidden. */
	a.ins = 0x87;
	a.p1 = 0x07;
	a.p2 = 0x9d;
	a.le = 256;
	assert_int_equal(kw_mock_expect(m, "008707" "9D08393837363534FFFF00", "7C04820253EC6102"), KW_OK);
	assert_int_equal(kw_mock_expect(m, "00C0000002", "C0DE9000"), KW_OK);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	assert_buf_hex(&r, "7C04820253ECC0DE");
	/* Ordinary commands are logged in full. */
	a.ins = 0xcb;
	a.le = 0;
	assert_int_equal(kw_mock_expect(m, "00CB079D08393837363534FFFF", "ABCD9000"), KW_OK);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	/* Marked secret: only header, lengths and status word. */
	a.flags = KW_APDU_F_SECRET;
	a.le = 256;
	assert_int_equal(kw_mock_expect(m, "00CB079D08393837363534FFFF00", "0BADC0DE6101"), KW_OK);
	assert_int_equal(kw_mock_expect(m, "00C0000001", "0F9000"), KW_OK);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	kw_log_set_level(KW_LOG_WARN);
	kw_log_set_stream(NULL);
	fclose(f);
	assert_non_null(strstr(log, ">> 00CB079D [10 bytes redacted]"));
	assert_non_null(strstr(log, "<< [4 bytes redacted] 6101"));
	assert_non_null(strstr(log, "<< [1 bytes redacted] 9000"));
	assert_null(strstr(log, "0BAD"));
	assert_non_null(strstr(log, "00200080"));
	assert_non_null(strstr(log, "00870" "79D"));
	assert_non_null(strstr(log, "6102"));
	assert_non_null(strstr(log, "00CB079D08393837363534FFFF"));
	assert_non_null(strstr(log, "ABCD9000"));
	/* The PIN appears exactly once: in the unredacted GET DATA line. */
	assert_ptr_equal(strstr(log, "393837"), strstr(log, "00CB079D08393837") + 10);
	assert_null(strstr(log, "53EC"));
	assert_null(strstr(log, "C0DE"));
	free(log);
	kw_buf_free(&r);
	done(&t);
}

static int tx_depth, tx_begins, tx_outside;
static kw_rv tx_begin_rv;

static kw_rv
tx_begin(void *ctx)
{
	(void)ctx;
	if (tx_begin_rv != KW_OK)
		return tx_begin_rv;
	tx_begins++;
	tx_depth++;
	return KW_OK;
}

static kw_rv
tx_end(void *ctx)
{
	(void)ctx;
	assert_true(tx_depth > 0);
	tx_depth--;
	return KW_OK;
}

static kw_rv
tx_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp, size_t *resp_len)
{
	if (tx_depth == 0)
		tx_outside++;
	return kw_mock_ops.transmit(ctx, cmd, cmd_len, resp, resp_len);
}

static void
test_one_transaction_per_command(void **state)
{
	static kw_transport_ops ops;
	kw_transport *t;
	kw_mock *m;
	uint8_t data[300] = { 0 };
	kw_apdu a = { 0x00, 0xdb, 0x3f, 0xff, data, sizeof(data), 256, 0 };
	kw_buf r;
	uint16_t sw;

	(void)state;
	ops = kw_mock_ops;
	ops.begin = tx_begin;
	ops.end = tx_end;
	ops.transmit = tx_transmit;
	assert_int_equal(kw_transport_open_ops(&ops, "tx", &t), KW_OK);
	m = kw_transport_ctx(t);
	kw_buf_init(&r, 0);
	expect_chunk(m, 0x10, data, 255, -1, "9000");
	expect_chunk(m, 0x00, data + 255, 45, 0, "016101");
	assert_int_equal(kw_mock_expect(m, "00C0000001", "029000"), KW_OK);
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_OK);
	assert_int_equal(tx_begins, 1);
	assert_int_equal(tx_depth, 0);
	assert_int_equal(tx_outside, 0);
	/* No transaction, no APDU. */
	tx_begin_rv = KW_ERR_SHARING;
	assert_int_equal(kw_apdu_exchange(t, &a, &r, &sw), KW_ERR_SHARING);
	assert_int_equal(sw, 0);
	assert_int_equal(kw_transport_apdu_count(t), 3);
	tx_begin_rv = KW_OK;
	kw_buf_free(&r);
	done(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cla_for_channel),
		cmocka_unit_test(test_short_cases),
		cmocka_unit_test(test_extended_only_when_asked),
		cmocka_unit_test(test_chaining),
		cmocka_unit_test(test_chaining_on_channel),
		cmocka_unit_test(test_get_response),
		cmocka_unit_test(test_get_response_on_channel),
		cmocka_unit_test(test_wrong_le),
		cmocka_unit_test(test_response_bounds),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_log_redacts_secrets),
		cmocka_unit_test(test_one_transaction_per_command),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
