/* Never execute a command twice (issue 9): a token that executes a command
 * and then loses its answer (the link drops the frame, returns garbage or
 * times out) must see that command exactly once; the PIV client does not
 * resend it, keeps extended APDUs, and after a broken chain ends the chain
 * on the card (SELECT) so that the next command is not appended to it.
 *
 * The card here sits behind the mock transport and decodes short and
 * extended APDUs itself (written for this test from ISO 7816-4); it counts
 * GENERAL AUTHENTICATE executions and can drop the answer of its N-th APDU
 * after executing it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kw_mock.h"
#include "kw_piv.h"

typedef struct card {
	unsigned apdus;          /* APDUs received */
	unsigned drop_at;        /* execute the N-th APDU, then lose its answer */
	kw_rv drop_rv;           /* what the link reports then */
	unsigned sw_at, sw_n;    /* answer APDUs sw_at..sw_at+sw_n-1 (sw_n 0: 1)
	                          * with sw_value, unexecuted */
	uint16_t sw_value;
	unsigned ga_runs;        /* GENERAL AUTHENTICATEs executed */
	unsigned ext_seen;       /* extended APDUs received */
	unsigned selects;
	bool pin_ok;
	bool select_forgets_pin; /* a card that clears the PIN on every SELECT */
	bool chaining;
	uint8_t chain_hdr[4];
	uint8_t chain[1024];
	size_t chain_len;
	size_t last_ga_len;      /* data length of the last executed GA */
} card;

/* Header, data, extended-ness; false if malformed. */
static bool
parse(kw_view v, uint8_t hdr[4], kw_view *data, bool *ext)
{
	uint8_t b;
	uint16_t lc;

	data->ptr = NULL;
	data->len = 0;
	*ext = false;
	if (kw_view_get_bytes(&v, hdr, 4) != KW_OK)
		return false;
	if (v.len == 0 || v.len == 1)
		return true;   /* case 1, case 2S */
	if (v.ptr[0] == 0 && v.len >= 3) {
		*ext = true;
		(void)kw_view_get_u8(&v, &b);
		if (v.len == 2)
			return true;   /* case 2E */
		if (kw_view_get_u16be(&v, &lc) != KW_OK || lc == 0 ||
		    kw_view_get_view(&v, lc, data) != KW_OK)
			return false;
		return v.len == 0 || v.len == 2;
	}
	if (kw_view_get_u8(&v, &b) != KW_OK || b == 0 || kw_view_get_view(&v, b, data) != KW_OK)
		return false;
	return v.len <= 1;
}

static kw_rv
put_sw(kw_buf *r, uint16_t sw)
{
	return kw_buf_put_u16be(r, sw);
}

/* 7C { 82 <30 06 02 01 01 02 01 01> }: a (dummy) ECDSA signature; RSA gets
 * 256 bytes. */
static kw_rv
ga_answer(card *c, uint8_t alg, kw_buf *r)
{
	static const uint8_t ec[] = { 0x7c, 0x0a, 0x82, 0x08, 0x30, 0x06, 0x02, 0x01, 0x01,
		0x02, 0x01, 0x01 };
	static const uint8_t rsa_hdr[] = { 0x7c, 0x82, 0x01, 0x04, 0x82, 0x82, 0x01, 0x00 };
	uint8_t block[256];
	kw_rv rv;

	c->ga_runs++;
	if (alg != 0x07) {
		(void)kw_buf_put(r, ec, sizeof(ec));
		return put_sw(r, 0x9000);
	}
	memset(block, 0x5a, sizeof(block));
	if ((rv = kw_buf_put(r, rsa_hdr, sizeof(rsa_hdr))) != KW_OK ||
	    (rv = kw_buf_put(r, block, sizeof(block))) != KW_OK)
		return rv;
	return put_sw(r, 0x9000);
}

static kw_rv
card_exec(card *c, const uint8_t hdr[4], kw_view data, kw_buf *r)
{
	bool more = (hdr[0] & 0x10) != 0;
	size_t len;

	if (c->chaining && memcmp(c->chain_hdr + 1, hdr + 1, 3) != 0) {
		c->chaining = false;   /* a command outside the chain ends it */
		c->chain_len = 0;
	}
	if (more || c->chaining) {
		if (data.len > sizeof(c->chain) - c->chain_len)
			return put_sw(r, 0x6700);
		memcpy(c->chain + c->chain_len, data.ptr, data.len);
		c->chain_len += data.len;
		if (more) {
			memcpy(c->chain_hdr, hdr, 4);
			c->chaining = true;
			return put_sw(r, 0x9000);
		}
		c->chaining = false;
		data = kw_view_make(c->chain, c->chain_len);
		c->chain_len = 0;
	}
	switch (hdr[1]) {
	case 0xa4:
		c->selects++;
		if (c->select_forgets_pin)
			c->pin_ok = false;
		return put_sw(r, 0x9000);
	case 0x20:
		if (data.len == 0)
			return put_sw(r, c->pin_ok ? 0x9000 : 0x63c3);
		c->pin_ok = data.len == 8 && memcmp(data.ptr, "123456\xff\xff", 8) == 0;
		return put_sw(r, c->pin_ok ? 0x9000 : 0x63c2);
	case 0x87:
		len = data.len;
		/* RSA-2048: 7C 82 01 06 82 00 81 82 01 00 <256> */
		if ((hdr[2] == 0x07 && len != 266) || (hdr[2] != 0x07 && len != 38))
			return put_sw(r, 0x6a80);
		c->last_ga_len = len;
		return ga_answer(c, hdr[2], r);
	default:
		return put_sw(r, 0x6d00);
	}
}

static kw_rv
card_handler(void *arg, kw_view cmd, kw_buf *resp)
{
	card *c = arg;
	uint8_t hdr[4];
	kw_view data;
	bool ext;
	kw_rv rv;

	c->apdus++;
	if (!parse(cmd, hdr, &data, &ext))
		return put_sw(resp, 0x6700);
	if (c->sw_at != 0 && c->apdus >= c->sw_at &&
	    c->apdus < c->sw_at + (c->sw_n != 0 ? c->sw_n : 1))
		return put_sw(resp, c->sw_value);
	if (ext)
		c->ext_seen++;
	rv = card_exec(c, hdr, data, resp);
	if (rv == KW_OK && c->drop_at == c->apdus) {
		kw_buf_reset(resp);   /* executed; the answer is lost on the way */
		return c->drop_rv;
	}
	return rv;
}

static void
open_card(card *c, kw_transport **t, kw_piv **p)
{
	assert_int_equal(kw_transport_open("mock:xfer", t), KW_OK);
	kw_mock_set_handler(kw_mock_of(*t), card_handler, c);
	assert_int_equal(kw_piv_new(*t, p), KW_OK);
	kw_piv_set_extended(*p, true);
}

static kw_rv
ec_sign(kw_piv *p)
{
	static const uint8_t hash[32] = { 1, 2, 3 };
	kw_buf sig;
	kw_rv rv;

	kw_buf_init(&sig, 0);
	rv = kw_piv_private_op(p, 0x9c, 0x11, hash, sizeof(hash), &sig);
	if (rv == KW_OK)
		assert_int_equal(sig.len, 8);
	else
		assert_int_equal(sig.len, 0);
	kw_buf_free(&sig);
	return rv;
}

static kw_rv
rsa_sign(kw_piv *p)
{
	uint8_t block[256];
	kw_buf sig;
	kw_rv rv;

	memset(block, 0x01, sizeof(block));
	block[0] = 0;
	kw_buf_init(&sig, 0);
	rv = kw_piv_private_op(p, 0x9a, 0x07, block, sizeof(block), &sig);
	if (rv == KW_OK)
		assert_int_equal(sig.len, 256);
	kw_buf_free(&sig);
	return rv;
}

/* Executed, answer lost (each kind of link error): once, reported as the
 * link error, extended APDUs kept for the next signature, which works. */
static void
test_lost_answer_not_resent(void **state)
{
	static const kw_rv errs[] = { KW_ERR_PROTOCOL, KW_ERR_TRANSPORT, KW_ERR_TIMEOUT };
	kw_transport *t;
	kw_piv *p;
	size_t i;
	card c;

	(void)state;
	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		memset(&c, 0, sizeof(c));
		open_card(&c, &t, &p);
		/* long data (RSA-2048) goes as one extended APDU */
		c.drop_at = 1;
		c.drop_rv = errs[i];
		assert_int_equal(rsa_sign(p), errs[i]);
		assert_int_equal(c.ga_runs, 1);
		assert_int_equal(c.apdus, 1);        /* no resend of any kind */
		assert_true(kw_piv_extended(p));
		assert_int_equal(rsa_sign(p), KW_OK);
		assert_int_equal(c.ga_runs, 2);
		assert_int_equal(c.ext_seen, 2);
		assert_int_equal(c.apdus, 2);
		/* the same for a short command with a long answer (ECDSA) */
		c.drop_at = 3;
		assert_int_equal(ec_sign(p), errs[i]);
		assert_int_equal(c.ga_runs, 3);
		assert_int_equal(c.apdus, 3);
		assert_int_equal(ec_sign(p), KW_OK);
		assert_int_equal(c.ga_runs, 4);
		assert_int_equal(c.ext_seen, 4);
		assert_true(kw_piv_extended(p));
		kw_piv_free(&p);
		kw_transport_free(&t);
	}
}

/* 6700 says "not executed": resent short once, short from then on; other
 * checking errors (6D00, 6E00) are the card's final answer. */
static void
test_refusal_by_status_word(void **state)
{
	kw_transport *t;
	kw_piv *p;
	card c;

	(void)state;
	memset(&c, 0, sizeof(c));
	open_card(&c, &t, &p);
	c.sw_at = 1;
	c.sw_value = 0x6d00;
	assert_int_equal(ec_sign(p), KW_ERR_INS_UNKNOWN);
	assert_int_equal(c.apdus, 1);
	assert_true(kw_piv_extended(p));
	c.sw_at = 2;
	c.sw_value = 0x6e00;
	assert_int_equal(ec_sign(p), KW_ERR_INS_UNKNOWN);
	assert_int_equal(c.apdus, 2);
	assert_true(kw_piv_extended(p));
	c.sw_at = 3;
	c.sw_value = 0x6700;
	assert_int_equal(ec_sign(p), KW_OK);
	assert_int_equal(c.apdus, 4);
	assert_int_equal(c.ga_runs, 1);
	assert_false(kw_piv_extended(p));
	/* short now: RSA data goes chained (two links) */
	assert_int_equal(rsa_sign(p), KW_OK);
	assert_int_equal(c.ext_seen, 0);
	assert_int_equal(c.ga_runs, 2);
	kw_piv_free(&p);
	kw_transport_free(&t);
}

/* 6700 to the short command as well: the command was wrong, not its
 * encoding; extended APDUs stay in use. */
static void
test_6700_twice_keeps_extended(void **state)
{
	kw_transport *t;
	kw_piv *p;
	card c;

	(void)state;
	memset(&c, 0, sizeof(c));
	open_card(&c, &t, &p);
	c.sw_at = 1;
	c.sw_n = 2;
	c.sw_value = 0x6700;
	assert_int_equal(ec_sign(p), KW_ERR_WRONG_LENGTH);
	assert_int_equal(c.apdus, 2);
	assert_int_equal(c.ga_runs, 0);
	assert_true(kw_piv_extended(p));
	assert_int_equal(ec_sign(p), KW_OK);
	assert_int_equal(c.ext_seen, 1);
	kw_piv_free(&p);
	kw_transport_free(&t);
}

/* A link error inside a chain (short APDUs, RSA-2048: two links): the
 * first link is on the card; the client ends the chain with SELECT and the
 * next signature is computed over its own data (not 6A80). */
static void
run_broken_chain(unsigned drop_at, bool forgets_pin, kw_rv want)
{
	kw_transport *t;
	kw_piv *p;
	card c;

	memset(&c, 0, sizeof(c));
	c.select_forgets_pin = forgets_pin;
	open_card(&c, &t, &p);
	kw_piv_set_extended(p, false);
	assert_int_equal(kw_piv_verify(p, KW_PIV_REF_PIN, (const uint8_t *)"123456", 6, NULL),
	    KW_OK);
	c.drop_at = c.apdus + drop_at;
	c.drop_rv = KW_ERR_PROTOCOL;
	assert_int_equal(rsa_sign(p), want);
	assert_int_equal(c.ga_runs, drop_at == 2 ? 1 : 0);
	assert_int_equal(c.selects, 1);
	assert_false(c.chaining);
	if (forgets_pin) {
		/* the PIN is not resent by the client: the caller logs in again */
		assert_false(c.pin_ok);
		assert_int_equal(kw_piv_verify(p, KW_PIV_REF_PIN, (const uint8_t *)"123456", 6,
		    NULL), KW_OK);
	}
	assert_int_equal(rsa_sign(p), KW_OK);
	assert_int_equal(c.last_ga_len, 266);
	assert_true(c.pin_ok);
	kw_piv_free(&p);
	kw_transport_free(&t);
}

static void
test_broken_chain(void **state)
{
	(void)state;
	run_broken_chain(1, false, KW_ERR_PROTOCOL);     /* first link's answer lost */
	run_broken_chain(2, false, KW_ERR_PROTOCOL);     /* last link: executed, lost */
	run_broken_chain(1, true, KW_ERR_CARD_RESET);    /* SELECT cleared the PIN */
}

/* The SELECT that ends the chain fails too: it is tried again before the
 * next command, which then works. */
static kw_rv
failing_select(void *arg, kw_view cmd, kw_buf *resp)
{
	card *c = arg;

	if (cmd.len >= 2 && cmd.ptr[1] == 0xa4 && c->selects == 0 && c->drop_at != 0) {
		c->selects = 100;   /* fail once */
		return KW_ERR_TIMEOUT;
	}
	if (c->selects == 100)
		c->selects = 0;
	return card_handler(arg, cmd, resp);
}

static void
test_broken_chain_select_fails(void **state)
{
	kw_transport *t;
	kw_piv *p;
	card c;

	(void)state;
	memset(&c, 0, sizeof(c));
	open_card(&c, &t, &p);
	kw_mock_set_handler(kw_mock_of(t), failing_select, &c);
	kw_piv_set_extended(p, false);
	c.drop_at = 1;
	c.drop_rv = KW_ERR_TRANSPORT;
	assert_int_equal(rsa_sign(p), KW_ERR_TRANSPORT);
	assert_true(c.chaining);              /* SELECT failed: chain still there */
	assert_int_equal(rsa_sign(p), KW_OK); /* ended first, then signed */
	assert_int_equal(c.selects, 1);
	assert_int_equal(c.last_ga_len, 266);
	assert_int_equal(c.ga_runs, 1);
	kw_piv_free(&p);
	kw_transport_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lost_answer_not_resent),
		cmocka_unit_test(test_refusal_by_status_word),
		cmocka_unit_test(test_6700_twice_keeps_extended),
		cmocka_unit_test(test_broken_chain),
		cmocka_unit_test(test_broken_chain_select_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
