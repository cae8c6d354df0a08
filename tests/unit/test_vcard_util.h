/* Helpers for the keyward-vcard unit tests: drive the applet core with
 * APDUs written as hex strings. */
#ifndef TEST_VCARD_UTIL_H
#define TEST_VCARD_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vcard.h"

/* Send hex APDU; returns SW, response data (without SW) in *data if set. */
static inline uint16_t
tx_bytes(vcard_card *c, const uint8_t *p, size_t n, kw_buf *data)
{
	kw_buf resp;
	uint16_t sw;

	kw_buf_init(&resp, 0);
	assert_int_equal(vcard_card_process(c, p, n, &resp), KW_OK);
	assert_true(resp.len >= 2);
	sw = (uint16_t)(resp.data[resp.len - 2] << 8 | resp.data[resp.len - 1]);
	if (data != NULL) {
		kw_buf_reset(data);
		assert_int_equal(kw_buf_put(data, resp.data, resp.len - 2), KW_OK);
	}
	kw_buf_free(&resp);
	return sw;
}

static inline uint16_t
tx(vcard_card *c, const char *hex, kw_buf *data)
{
	kw_buf cmd;
	uint16_t sw;

	kw_buf_init(&cmd, 0);
	assert_int_equal(kw_hex_decode(hex, &cmd), KW_OK);
	sw = tx_bytes(c, cmd.data, cmd.len, data);
	kw_buf_free(&cmd);
	return sw;
}

/* Send and collect the whole response through GET RESPONSE. */
static inline uint16_t
tx_all(vcard_card *c, const char *hex, kw_buf *data)
{
	kw_buf part;
	uint16_t sw;

	kw_buf_init(&part, 0);
	kw_buf_reset(data);
	sw = tx(c, hex, &part);
	assert_int_equal(kw_buf_put_view(data, kw_buf_view(&part)), KW_OK);
	while ((sw & 0xFF00) == 0x6100) {
		sw = tx(c, "00C0000000", &part);
		assert_int_equal(kw_buf_put_view(data, kw_buf_view(&part)), KW_OK);
	}
	kw_buf_free(&part);
	return sw;
}

static inline vcard_card *
new_selected_card(void)
{
	vcard_card *c = NULL;

	assert_int_equal(vcard_card_new(&c), KW_OK);
	c->serial = 12345678;
	assert_int_equal(tx(c, "00A4040005A000000308", NULL), 0x9000);
	return c;
}

#define DEFAULT_MGMT "010203040506070801020304050607080102030405060708"

#endif
