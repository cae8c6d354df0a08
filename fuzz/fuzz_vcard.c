/* Fuzz target: the virtual token's applet core (tools/vcard), a fresh
 * in-memory card per input, fed a sequence of command APDUs.
 *
 * Input: a firmware byte (bit 0: 5.7.1 instead of 5.4.3), then steps. A
 * step is an op byte: 0x00-0xEF a command APDU whose length follows (one
 * byte, or two when bit 0 of the op is set), 0xF0 management-key mutual
 * authentication with the default key (done by the PIV client of
 * src/kw_piv*.c over a mock transport wired to this card, so the fuzzer
 * need not solve the challenge), 0xF1 VERIFY of the default PIN, 0xF2
 * card reset, 0xF3 GET RESPONSE until the card has nothing left.
 *
 * RSA key generation is rewritten to P-256 (it would take seconds).
 * Checks: every KW_OK answer ends in a status word and fits in a response
 * APDU. */
#include <stdlib.h>

#include "fuzz_util.h"
#include "kw_piv.h"
#include "vcard.h"

#define VCARD_MAX_STEPS 64

static void
check_answer(kw_rv rv, const kw_buf *resp)
{
	if (rv == KW_OK && (resp->len < 2 || resp->len > 65536 + 2))
		abort();
}

static kw_rv
bridge(void *arg, kw_view cmd, kw_buf *resp)
{
	kw_buf r;
	kw_rv rv;

	kw_buf_init(&r, 0);
	rv = vcard_card_process(arg, cmd.ptr, cmd.len, &r);
	check_answer(rv, &r);
	if (rv == KW_OK)
		rv = kw_buf_put_view(resp, kw_buf_view(&r));
	kw_buf_free(&r);
	return rv;
}

/* Management-key authentication through the real client. */
static void
mgmt_auth(vcard_card *c)
{
	static const uint8_t key[24] = {
		1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
	};
	kw_transport *t = NULL;
	kw_piv *p = NULL;
	size_t len = kw_piv_mgmt_key_len(c->mgmt_alg);

	if (kw_transport_open_ops(&kw_mock_ops, "vcard", &t) != KW_OK)
		return;
	kw_mock_set_handler((kw_mock *)kw_transport_ctx(t), bridge, c);
	if (len > 0 && len <= sizeof(key) && kw_piv_new(t, &p) == KW_OK)
		(void)kw_piv_authenticate(p, c->mgmt_alg, key, len);
	kw_piv_free(&p);
	kw_transport_free(&t);
}

/* GENERATE with an RSA algorithm (AC { 80 alg ... }): use P-256. */
static void
tame_generate(uint8_t *apdu, size_t len)
{
	size_t i;

	if (len < 5 || apdu[1] != 0x47)
		return;
	for (i = 5; i + 2 < len; i++)
		if (apdu[i] == 0x80 && apdu[i + 1] == 0x01 &&
		    kw_piv_alg_is_rsa(apdu[i + 2]))
			apdu[i + 2] = KW_PIV_ALG_ECCP256;
}

static void
send_apdu(vcard_card *c, const uint8_t *apdu, size_t len, kw_buf *resp)
{
	check_answer(vcard_card_process(c, apdu, len, resp), resp);
}

static void
get_responses(vcard_card *c, kw_buf *resp)
{
	static const uint8_t gr[] = { 0x00, 0xC0, 0x00, 0x00, 0x00 };
	unsigned n = 0;

	do {
		send_apdu(c, gr, sizeof(gr), resp);
	} while (resp->len >= 2 && resp->data[resp->len - 2] == 0x61 && ++n < 300);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t verify[] = {
		0x00, 0x20, 0x00, 0x80, 0x08, '1', '2', '3', '4', '5', '6', 0xFF, 0xFF,
	};
	static uint8_t apdu[65536 + 16];
	fz_in in = fz_make(data, size);
	vcard_card *c = NULL;
	kw_buf resp;
	kw_view v;
	unsigned steps = 0;
	uint8_t op;

	if (vcard_card_new(&c) != KW_OK)
		return 0;
	if (fz_u8(&in) & 1) {
		c->version[0] = 5;
		c->version[1] = 7;
		c->version[2] = 1;
	}
	kw_buf_init(&resp, 0);
	while (in.n > 0 && steps++ < VCARD_MAX_STEPS) {
		op = fz_u8(&in);
		switch (op) {
		case 0xF0: mgmt_auth(c); break;
		case 0xF1: send_apdu(c, verify, sizeof(verify), &resp); break;
		case 0xF2: vcard_card_reset(c); break;
		case 0xF3: get_responses(c, &resp); break;
		default:
			if (op > 0xF3)
				break;
			v = (op & 1) ? fz_chunk(&in) : fz_chunk8(&in);
			if (v.len > 0)
				memcpy(apdu, v.ptr, v.len);
			tame_generate(apdu, v.len);
			send_apdu(c, apdu, v.len, &resp);
			break;
		}
	}
	kw_buf_free(&resp);
	vcard_card_free(&c);
	return 0;
}
