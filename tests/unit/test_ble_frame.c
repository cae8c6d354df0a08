/* Unit tests for drivers/ble/kw_ble_frame.c: fragmenting and reassembling
 * keyward's BLE frames across every fragment size 20..512. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ble/kw_ble_frame.h"

#define MAXFRAMES 4000

typedef struct frames {
	uint8_t *f[MAXFRAMES];
	size_t n[MAXFRAMES];
	size_t count;
} frames;

static uint8_t *
pattern(size_t len)
{
	uint8_t *p = malloc(len > 0 ? len : 1);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + (i >> 8));
	return p;
}

static void
fragment(frames *fr, uint8_t cmd, const uint8_t *msg, size_t len, size_t frag)
{
	kw_ble_tx tx;
	uint8_t buf[KW_BLE_FRAG_MAX];
	size_t n;

	memset(fr, 0, sizeof(*fr));
	assert_int_equal(kw_ble_tx_init(&tx, cmd, msg, len, frag), KW_OK);
	while (!kw_ble_tx_done(&tx)) {
		assert_true(fr->count < MAXFRAMES);
		assert_int_equal(kw_ble_tx_next(&tx, buf, sizeof(buf), &n), KW_OK);
		assert_true(n >= 1 && n <= frag);
		fr->f[fr->count] = malloc(n);
		assert_non_null(fr->f[fr->count]);
		memcpy(fr->f[fr->count], buf, n);
		fr->n[fr->count++] = n;
	}
	assert_int_equal(kw_ble_tx_next(&tx, buf, sizeof(buf), &n), KW_ERR_ARG);
}

static void
frames_free(frames *fr)
{
	size_t i;

	for (i = 0; i < fr->count; i++)
		free(fr->f[i]);
	fr->count = 0;
}

/* Feed frames [0, upto) and return the last result. */
static kw_rv
feed(kw_ble_rx *rx, const frames *fr, size_t upto, bool *complete)
{
	kw_rv rv = KW_OK;
	size_t i;

	*complete = false;
	for (i = 0; i < upto && rv == KW_OK; i++) {
		assert_false(*complete);
		rv = kw_ble_rx_feed(rx, fr->f[i], fr->n[i], complete);
	}
	return rv;
}

static void
roundtrip(size_t len, size_t frag, const uint8_t *msg)
{
	frames fr;
	kw_ble_rx rx;
	bool complete;
	size_t i;

	fragment(&fr, KW_BLE_CMD_MSG, msg, len, frag);
	assert_int_equal(fr.count, kw_ble_frame_count(len, frag));
	assert_int_equal(fr.f[0][0], KW_BLE_CMD_MSG);
	assert_int_equal((fr.f[0][1] << 8) | fr.f[0][2], len);
	for (i = 0; i + 1 < fr.count; i++)
		assert_int_equal(fr.n[i], frag);           /* all but the last are full */
	for (i = 1; i < fr.count; i++)
		assert_int_equal(fr.f[i][0], (i - 1) & 0x7F); /* SEQ wraps after 7F */
	kw_ble_rx_init(&rx, frag);
	assert_int_equal(feed(&rx, &fr, fr.count, &complete), KW_OK);
	assert_true(complete);
	assert_int_equal(rx.cmd, KW_BLE_CMD_MSG);
	assert_int_equal(rx.msg.len, len);
	if (len > 0)
		assert_memory_equal(rx.msg.data, msg, len);
	/* the reassembler is reusable after a reset */
	kw_ble_rx_reset(&rx);
	assert_int_equal(feed(&rx, &fr, fr.count, &complete), KW_OK);
	assert_true(complete);
	kw_ble_rx_free(&rx);
	frames_free(&fr);
}

static void
test_all_fragment_sizes(void **state)
{
	uint8_t *msg = pattern(KW_BLE_MSG_MAX);
	size_t frag, k, len, first, cont;

	(void)state;
	for (frag = KW_BLE_FRAG_MIN; frag <= KW_BLE_FRAG_MAX; frag++) {
		first = frag - 3;
		cont = frag - 1;
		size_t lens[] = { 0, 1, 5, 261, first - 1, first, first + 1,
			first + cont - 1, first + cont, first + cont + 1,
			first + 128 * cont, first + 128 * cont + 1, 4096 + frag };
		for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
			len = lens[k];
			if (len <= KW_BLE_MSG_MAX)
				roundtrip(len, frag, msg);
		}
	}
	free(msg);
}

static void
test_largest_message(void **state)
{
	uint8_t *msg = pattern(KW_BLE_MSG_MAX);
	size_t frags[] = { 20, 21, 23, 100, 182, 244, 251, 509, 512 }, i;

	(void)state;
	for (i = 0; i < sizeof(frags) / sizeof(frags[0]); i++)
		roundtrip(KW_BLE_MSG_MAX, frags[i], msg);
	free(msg);
}

static void
test_frame_count(void **state)
{
	(void)state;
	assert_int_equal(kw_ble_frame_count(0, 20), 1);
	assert_int_equal(kw_ble_frame_count(17, 20), 1);
	assert_int_equal(kw_ble_frame_count(18, 20), 2);
	assert_int_equal(kw_ble_frame_count(36, 20), 2);
	assert_int_equal(kw_ble_frame_count(37, 20), 3);
	assert_int_equal(kw_ble_frame_count(509, 512), 1);
	assert_int_equal(kw_ble_frame_count(510, 512), 2);
	assert_int_equal(kw_ble_frame_count(65535, 20), 1 + (65535 - 17 + 18) / 19);
	assert_int_equal(kw_ble_frame_count(65536, 20), 0);
	assert_int_equal(kw_ble_frame_count(10, 19), 0);
	assert_int_equal(kw_ble_frame_count(10, 513), 0);
}

static void
test_tx_args(void **state)
{
	kw_ble_tx tx;
	uint8_t msg[40] = { 0 }, out[20];
	size_t n;

	(void)state;
	assert_int_equal(kw_ble_tx_init(&tx, 0x42, msg, 1, 20), KW_ERR_ARG);
	assert_int_equal(kw_ble_tx_init(&tx, KW_BLE_CMD_MSG, msg, 1, 19), KW_ERR_ARG);
	assert_int_equal(kw_ble_tx_init(&tx, KW_BLE_CMD_MSG, msg, 1, 513), KW_ERR_ARG);
	assert_int_equal(kw_ble_tx_init(&tx, KW_BLE_CMD_MSG, NULL, 1, 20), KW_ERR_ARG);
	assert_int_equal(kw_ble_tx_init(&tx, KW_BLE_CMD_MSG, msg, 65536, 20), KW_ERR_ARG);
	assert_int_equal(kw_ble_tx_init(&tx, KW_BLE_CMD_MSG, msg, sizeof(msg), 20), KW_OK);
	assert_int_equal(kw_ble_tx_next(&tx, out, 19, &n), KW_ERR_RANGE);
	assert_int_equal(n, 0);
	assert_int_equal(kw_ble_tx_next(&tx, out, sizeof(out), &n), KW_OK);
	assert_int_equal(n, 20);
	/* an empty PING is one INIT frame with length 0 */
	assert_int_equal(kw_ble_tx_init(&tx, KW_BLE_CMD_PING, NULL, 0, 20), KW_OK);
	assert_int_equal(kw_ble_tx_next(&tx, out, sizeof(out), &n), KW_OK);
	assert_int_equal(n, 3);
	assert_true(kw_ble_tx_done(&tx));
}

/* A 3-frame message at frag 20 for the error cases. */
static void
three_frames(frames *fr, uint8_t *msg)
{
	size_t i;

	for (i = 0; i < 50; i++)
		msg[i] = (uint8_t)i;
	fragment(fr, KW_BLE_CMD_MSG, msg, 50, 20);
	assert_int_equal(fr->count, 3);
}

static void
test_wrong_sequence(void **state)
{
	frames fr;
	kw_ble_rx rx;
	uint8_t msg[50];
	bool complete;

	(void)state;
	three_frames(&fr, msg);
	kw_ble_rx_init(&rx, 20);
	/* missing frame: INIT then CONT seq 1 */
	assert_int_equal(kw_ble_rx_feed(&rx, fr.f[0], fr.n[0], &complete), KW_OK);
	assert_int_equal(kw_ble_rx_feed(&rx, fr.f[2], fr.n[2], &complete), KW_ERR_PROTOCOL);
	assert_false(rx.busy);
	/* duplicate frame: seq 0 twice */
	assert_int_equal(kw_ble_rx_feed(&rx, fr.f[0], fr.n[0], &complete), KW_OK);
	assert_int_equal(kw_ble_rx_feed(&rx, fr.f[1], fr.n[1], &complete), KW_OK);
	assert_int_equal(kw_ble_rx_feed(&rx, fr.f[1], fr.n[1], &complete), KW_ERR_PROTOCOL);
	/* duplicate INIT */
	assert_int_equal(kw_ble_rx_feed(&rx, fr.f[0], fr.n[0], &complete), KW_OK);
	assert_int_equal(kw_ble_rx_feed(&rx, fr.f[0], fr.n[0], &complete), KW_ERR_PROTOCOL);
	/* CONT without INIT */
	assert_int_equal(kw_ble_rx_feed(&rx, fr.f[1], fr.n[1], &complete), KW_ERR_PROTOCOL);
	/* after errors, a whole message still goes through */
	assert_int_equal(feed(&rx, &fr, 3, &complete), KW_OK);
	assert_true(complete);
	assert_memory_equal(rx.msg.data, msg, 50);
	/* feeding a complete reassembler without reset is a caller error */
	assert_int_equal(kw_ble_rx_feed(&rx, fr.f[0], fr.n[0], &complete), KW_ERR_ARG);
	assert_true(rx.complete);
	kw_ble_rx_free(&rx);
	frames_free(&fr);
}

static void
test_overlong_truncated(void **state)
{
	frames fr;
	kw_ble_rx rx;
	uint8_t msg[50], big[21], init2[2] = { KW_BLE_CMD_MSG, 0 };
	uint8_t shortinit[10] = { KW_BLE_CMD_MSG, 0, 50 };
	uint8_t lastlong[20];
	uint8_t unknown[3] = { 0x90, 0, 0 };
	bool complete;

	(void)state;
	three_frames(&fr, msg);
	kw_ble_rx_init(&rx, 20);
	assert_int_equal(kw_ble_rx_feed(&rx, NULL, 0, &complete), KW_ERR_TRUNCATED);
	assert_int_equal(kw_ble_rx_feed(&rx, init2, sizeof(init2), &complete), KW_ERR_TRUNCATED);
	memset(big, 0, sizeof(big));
	big[0] = KW_BLE_CMD_MSG;
	assert_int_equal(kw_ble_rx_feed(&rx, big, sizeof(big), &complete), KW_ERR_RANGE);
	assert_int_equal(kw_ble_rx_feed(&rx, unknown, sizeof(unknown), &complete), KW_ERR_FORMAT);
	/* a short INIT frame for a longer message (not the last frame) */
	assert_int_equal(kw_ble_rx_feed(&rx, shortinit, sizeof(shortinit), &complete),
	    KW_ERR_PROTOCOL);
	/* last frame carrying more than the declared length */
	assert_int_equal(feed(&rx, &fr, 2, &complete), KW_OK);
	assert_false(complete);
	memset(lastlong, 0xAA, sizeof(lastlong));
	lastlong[0] = 1;
	assert_int_equal(kw_ble_rx_feed(&rx, lastlong, sizeof(lastlong), &complete),
	    KW_ERR_PROTOCOL);
	assert_false(rx.busy);
	/* truncated message: everything but the last frame stays incomplete */
	assert_int_equal(feed(&rx, &fr, 2, &complete), KW_OK);
	assert_false(complete);
	assert_true(rx.busy);
	kw_ble_rx_free(&rx);
	frames_free(&fr);
}

static void
test_keepalive_and_errors(void **state)
{
	kw_ble_rx rx;
	uint8_t ka[4] = { KW_BLE_CMD_KEEPALIVE, 0, 1, KW_BLE_KA_PROCESSING };
	uint8_t err[4] = { KW_BLE_CMD_ERROR, 0, 1, KW_BLE_ERR_INVALID_SEQ };
	uint8_t cancel[3] = { KW_BLE_CMD_CANCEL, 0, 0 };
	bool complete;

	(void)state;
	kw_ble_rx_init(&rx, 512);
	assert_int_equal(kw_ble_rx_feed(&rx, ka, sizeof(ka), &complete), KW_OK);
	assert_true(complete);
	assert_int_equal(rx.cmd, KW_BLE_CMD_KEEPALIVE);
	assert_int_equal(rx.msg.data[0], KW_BLE_KA_PROCESSING);
	kw_ble_rx_reset(&rx);
	assert_int_equal(kw_ble_rx_feed(&rx, err, sizeof(err), &complete), KW_OK);
	assert_true(complete && rx.cmd == KW_BLE_CMD_ERROR);
	kw_ble_rx_reset(&rx);
	assert_int_equal(kw_ble_rx_feed(&rx, cancel, sizeof(cancel), &complete), KW_OK);
	assert_true(complete && rx.cmd == KW_BLE_CMD_CANCEL && rx.msg.len == 0);
	assert_string_equal(kw_ble_cmd_name(KW_BLE_CMD_MSG), "MSG");
	assert_string_equal(kw_ble_error_name(KW_BLE_ERR_INVALID_SEQ), "invalid sequence");
	assert_string_equal(kw_ble_cmd_name(0x12), "unknown");
	kw_ble_rx_free(&rx);
}

static void
test_rx_bad_frag(void **state)
{
	kw_ble_rx rx;
	uint8_t ping[3] = { KW_BLE_CMD_PING, 0, 0 };
	bool complete;

	(void)state;
	kw_ble_rx_init(&rx, 10);
	assert_int_equal(kw_ble_rx_feed(&rx, ping, sizeof(ping), &complete), KW_ERR_ARG);
	kw_ble_rx_free(&rx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_count),
		cmocka_unit_test(test_tx_args),
		cmocka_unit_test(test_all_fragment_sizes),
		cmocka_unit_test(test_largest_message),
		cmocka_unit_test(test_wrong_sequence),
		cmocka_unit_test(test_overlong_truncated),
		cmocka_unit_test(test_keepalive_and_errors),
		cmocka_unit_test(test_rx_bad_frag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
