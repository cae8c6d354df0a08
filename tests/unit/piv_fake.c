#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kw_log.h"
#include "piv_fake.h"

static kw_rv
fake_reply(fake_card *c, kw_buf *resp, uint16_t sw)
{
	size_t n = c->pending.len < c->chunk ? c->pending.len : c->chunk;
	kw_rv rv;

	/* (kw_buf_consume on an empty buffer hits memmove(NULL): skip n == 0) */
	if (n > 0 && ((rv = kw_buf_put(resp, c->pending.data, n)) != KW_OK ||
	    (rv = kw_buf_consume(&c->pending, n)) != KW_OK))
		return rv;
	if (c->pending.len > 0)
		sw = (uint16_t)(0x6100 | (c->pending.len > 255 ? 0 : c->pending.len));
	return kw_buf_put_u16be(resp, sw);
}

/* Split an APDU into header, data and Le presence (short APDUs only). */
static bool
fake_parse(kw_view v, uint8_t hdr[4], kw_view *data, bool *has_le)
{
	uint8_t lc;

	data->ptr = NULL;
	data->len = 0;
	*has_le = false;
	if (kw_view_get_bytes(&v, hdr, 4) != KW_OK)
		return false;
	if (v.len == 0)
		return true;
	if (v.len == 1) {
		*has_le = true;
		return true;
	}
	if (kw_view_get_u8(&v, &lc) != KW_OK || lc == 0 || kw_view_get_view(&v, lc, data) != KW_OK)
		return false;
	if (v.len == 1)
		*has_le = true;
	return v.len <= 1;
}

static kw_rv
fake_handler(void *arg, kw_view apdu, kw_buf *resp)
{
	fake_card *c = arg;
	uint8_t hdr[4];
	fake_cmd cmd;
	kw_buf out;
	kw_view data;
	bool has_le;
	uint16_t sw;

	c->apdus++;
	if (!fake_parse(apdu, hdr, &data, &has_le))
		return kw_buf_put_u16be(resp, 0x6700);
	if (hdr[1] == 0xc0 && (hdr[0] & 0x10) == 0) {
		c->get_responses++;
		return c->pending.len > 0 ? fake_reply(c, resp, 0x9000) :
		    kw_buf_put_u16be(resp, 0x6985);
	}
	kw_buf_reset(&c->pending);
	if (hdr[0] & 0x10) {
		c->links++;
		if (c->chaining && memcmp(c->chain_hdr + 1, hdr + 1, 3) != 0)
			return kw_buf_put_u16be(resp, 0x6883);
		memcpy(c->chain_hdr, hdr, 4);
		c->chaining = true;
		assert_int_equal(kw_buf_put_view(&c->chain, data), KW_OK);
		return kw_buf_put_u16be(resp, 0x9000);
	}
	if (c->chaining && memcmp(c->chain_hdr + 1, hdr + 1, 3) != 0) {
		c->chaining = false;
		kw_buf_reset(&c->chain);
		return kw_buf_put_u16be(resp, 0x6883);
	}
	assert_int_equal(kw_buf_put_view(&c->chain, data), KW_OK);
	c->chaining = false;
	memset(&cmd, 0, sizeof(cmd));
	cmd.cla = hdr[0];
	cmd.ins = hdr[1];
	cmd.p1 = hdr[2];
	cmd.p2 = hdr[3];
	cmd.data = kw_buf_view(&c->chain);
	cmd.has_le = has_le;
	kw_buf_init(&out, 0);
	sw = c->answer(c->arg, &cmd, &out);
	kw_buf_reset(&c->chain);
	assert_int_equal(kw_buf_put(&c->pending, out.data, out.len), KW_OK);
	kw_buf_free(&out);
	return fake_reply(c, resp, sw);
}

unsigned fake_tx_begins, fake_tx_depth, fake_tx_outside;
static kw_transport_ops tx_ops;

static kw_rv
tx_begin(void *ctx)
{
	(void)ctx;
	fake_tx_begins++;
	fake_tx_depth++;
	return KW_OK;
}

static kw_rv
tx_end(void *ctx)
{
	(void)ctx;
	assert_true(fake_tx_depth > 0);
	fake_tx_depth--;
	return KW_OK;
}

static kw_rv
tx_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp, size_t *resp_len)
{
	if (fake_tx_depth == 0)
		fake_tx_outside++;
	return kw_mock_ops.transmit(ctx, cmd, cmd_len, resp, resp_len);
}

void
fake_open(fake_card *card, kw_transport **t, kw_piv **p)
{
	const kw_transport_ops *ops = &kw_mock_ops;

	if (card != NULL && card->track_tx) {
		tx_ops = kw_mock_ops;
		tx_ops.begin = tx_begin;
		tx_ops.end = tx_end;
		tx_ops.transmit = tx_transmit;
		ops = &tx_ops;
		fake_tx_begins = fake_tx_depth = fake_tx_outside = 0;
	}
	assert_int_equal(kw_transport_open_ops(ops, "fake", t), KW_OK);
	if (card != NULL) {
		if (card->chunk == 0)
			card->chunk = 256;
		kw_buf_init(&card->chain, 0);
		kw_buf_init(&card->pending, 0);
		kw_mock_set_handler(kw_transport_ctx(*t), fake_handler, card);
	}
	assert_int_equal(kw_piv_new(*t, p), KW_OK);
	assert_ptr_equal(kw_piv_transport(*p), *t);
}

void
fake_close(fake_card *card, kw_transport **t, kw_piv **p)
{
	kw_mock *m = kw_transport_ctx(*t);

	assert_int_equal(kw_mock_pending(m), 0);
	assert_int_equal(kw_mock_mismatches(m), 0);
	kw_piv_free(p);
	assert_null(*p);
	kw_transport_free(t);
	if (card != NULL) {
		kw_buf_free(&card->chain);
		kw_buf_free(&card->pending);
	}
}

void
fake_expect(kw_transport *t, const char *cmd_hex, const char *resp_hex)
{
	assert_int_equal(kw_mock_expect(kw_mock_of(t), cmd_hex, resp_hex), KW_OK);
}

void
fake_expect_bytes(kw_transport *t, const kw_buf *cmd, const char *resp_hex)
{
	char *hex = hex_of(cmd->data, cmd->len);

	fake_expect(t, hex, resp_hex);
	free(hex);
}

void
hex_buf(kw_buf *b, const char *hex)
{
	kw_buf_init(b, 0);
	assert_int_equal(kw_hex_decode(hex, b), KW_OK);
}

char *
hex_of(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	assert_non_null(s);
	assert_int_equal(kw_hex_encode(p, n, s, 2 * n + 1), KW_OK);
	return s;
}

void
assert_view_hex(kw_view v, const char *hex)
{
	kw_buf want;

	hex_buf(&want, hex);
	assert_int_equal(v.len, want.len);
	if (want.len > 0)
		assert_memory_equal(v.ptr, want.data, want.len);
	kw_buf_free(&want);
}

static FILE *log_f;
static char *log_text;
static size_t log_len;

void
log_capture_begin(void)
{
	log_text = NULL;
	log_len = 0;
	log_f = open_memstream(&log_text, &log_len);
	assert_non_null(log_f);
	kw_log_set_stream(log_f);
	kw_log_set_level(KW_LOG_TRACE);
}

char *
log_capture_end(void)
{
	kw_log_set_level(KW_LOG_WARN);
	kw_log_set_stream(NULL);
	fclose(log_f);
	log_f = NULL;
	return log_text;
}
