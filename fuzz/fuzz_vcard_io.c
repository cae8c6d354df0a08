/* Fuzz target: what keyward-vcard reads besides APDUs to its applet core
 * (fuzz_vcard covers those): its state file and its front ends.
 *
 *   0  the state file (vcard_state.c): the input's bytes, with the SHA-256
 *      digest record appended when bit 2 of the selector is set (else the
 *      input must carry its own); a state that loads is then used (SELECT,
 *      GET METADATA of every slot, GET DATA, VERIFY, a signature with each
 *      key slot) and must survive encode -> decode -> encode unchanged.
 *   1  the UICC front end (vcard_uicc.c): a channel-count byte, then APDUs
 *      (chunk8 each; an empty chunk is a card reset) on any channel.
 *   2  the AT modem front end (vcard_at.c): a quirks byte, a faults byte and
 *      the APDU count they fire at, then command lines split at CR or LF.
 *
 * Input: a selector byte (low 2 bits: the front end above), then its bytes.
 * RSA key generation is rewritten to P-256 (it would take seconds).
 *
 * Checks: nothing crashes or reads out of bounds; every answer of the card
 * ends in a status word; only a reply action writes bytes; a decoded state
 * re-encodes to the same bytes. */
#include <stdlib.h>

#include <openssl/sha.h>

#include "fuzz_util.h"
#include "kw_piv.h"
#include "kw_tlv.h"
#include "vcard.h"
#include "vcard_at.h"
#include "vcard_uicc.h"

#define IO_MAX_STEPS 64

/* GENERATE with an RSA algorithm (AC { 80 01 alg }): use P-256. */
static void
tame_generate(uint8_t *apdu, size_t len)
{
	size_t i;

	if (len < 5 || apdu[1] != 0x47)
		return;
	for (i = 5; i + 2 < len; i++)
		if (apdu[i] == 0x80 && apdu[i + 1] == 0x01 && kw_piv_alg_is_rsa(apdu[i + 2]))
			apdu[i + 2] = KW_PIV_ALG_ECCP256;
}

/* The same inside the hex of an AT command line. */
static void
tame_generate_hex(char *s, size_t len)
{
	static const char *rsa[] = { "06", "07", "05", "16" };
	size_t i, j;

	for (i = 0; i + 6 <= len; i++) {
		if ((s[i] != '8' || s[i + 1] != '0' || s[i + 2] != '0' || s[i + 3] != '1'))
			continue;
		for (j = 0; j < 4; j++)
			if (s[i + 4] == rsa[j][0] && s[i + 5] == rsa[j][1]) {
				s[i + 4] = '1';
				s[i + 5] = '1';
			}
	}
}

static void
check_sw(kw_rv rv, const kw_buf *resp)
{
	if (rv == KW_OK && (resp->len < 2 || resp->len > 65536 + 2))
		abort();
}

static void
apdu(vcard_card *c, const uint8_t *cmd, size_t len)
{
	kw_buf resp;

	kw_buf_init(&resp, 0);
	check_sw(vcard_card_process(c, cmd, len, &resp), &resp);
	kw_buf_free(&resp);
}

/* Use a loaded state the way clients do. */
static void
exercise(vcard_card *c)
{
	static const uint8_t select[] = {
		0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x03, 0x08,
	};
	static const uint8_t verify[] = {
		0x00, 0x20, 0x00, 0x80, 0x08, '1', '2', '3', '4', '5', '6', 0xFF, 0xFF,
	};
	static const uint8_t get_chuid[] = {
		0x00, 0xCB, 0x3F, 0xFF, 0x05, 0x5C, 0x03, 0x5F, 0xC1, 0x02, 0x00,
	};
	uint8_t md[] = { 0x00, 0xF7, 0x00, 0x00, 0x00 };
	/* 87 alg slot, 7C { 82 00, 81 20 <32 bytes> }, Le */
	uint8_t sign[5 + 38 + 1] = { 0x00, 0x87, 0x00, 0x00, 38, 0x7C, 36, 0x82, 0x00, 0x81, 0x20 };
	size_t i;

	apdu(c, select, sizeof(select));
	apdu(c, get_chuid, sizeof(get_chuid));
	apdu(c, verify, sizeof(verify));
	for (i = 0; i < VC_NSLOTS; i++) {
		md[3] = c->keys[i].slot;
		apdu(c, md, sizeof(md));
		if (c->keys[i].alg == 0 || !vc_alg_is_ec(c->keys[i].alg))
			continue;
		sign[2] = c->keys[i].alg;
		sign[3] = c->keys[i].slot;
		apdu(c, sign, sizeof(sign));
	}
	md[3] = 0x9B;
	apdu(c, md, sizeof(md));
	md[3] = 0x80;
	apdu(c, md, sizeof(md));
}

static void
fuzz_state(fz_in *in, bool add_digest)
{
	vcard_card *c = NULL, *again = NULL;
	kw_buf file, enc1, enc2;
	uint8_t digest[SHA256_DIGEST_LENGTH];
	kw_view body = fz_bytes(in, in->n);

	kw_buf_init(&file, 1u << 20);
	kw_buf_init(&enc1, 16u << 20);
	kw_buf_init(&enc2, 16u << 20);
	if (kw_buf_put_view(&file, body) != KW_OK)
		goto out;
	if (add_digest) {
		SHA256(file.data, file.len, digest);
		if (kw_buf_put_u8(&file, 0x8F) != KW_OK || kw_buf_put_u8(&file, 0x20) != KW_OK ||
		    kw_buf_put(&file, digest, sizeof(digest)) != KW_OK)
			goto out;
	}
	if (vcard_card_new(&c) != KW_OK || vcard_card_new(&again) != KW_OK)
		goto out;
	if (vcard_state_decode(c, kw_buf_view(&file)) != KW_OK)
		goto out;
	if (vcard_state_encode(c, &enc1) != KW_OK)
		goto out;
	if (vcard_state_decode(again, kw_buf_view(&enc1)) != KW_OK ||
	    vcard_state_encode(again, &enc2) != KW_OK ||
	    !kw_view_equal(kw_buf_view(&enc1), kw_buf_view(&enc2)))
		abort();
	exercise(c);
out:
	vcard_card_free(&c);
	vcard_card_free(&again);
	kw_buf_free(&file);
	kw_buf_free(&enc1);
	kw_buf_free(&enc2);
}

static void
fuzz_uicc(fz_in *in)
{
	static uint8_t buf[256];
	vcard_card *c = NULL;
	vcard_uicc *u = NULL;
	kw_buf resp;
	unsigned steps = 0;
	uint8_t nch = fz_u8(in);

	kw_buf_init(&resp, 0);
	if (vcard_card_new(&c) != KW_OK || vcard_uicc_new(c, &u) != KW_OK)
		goto out;
	if (nch & 0x80)
		(void)vcard_uicc_set_channels(u, nch & 0x1F);
	while (in->n > 0 && steps++ < IO_MAX_STEPS) {
		kw_view v = fz_chunk8(in);

		if (v.len == 0) {
			vcard_uicc_reset(u);
			continue;
		}
		memcpy(buf, v.ptr, v.len);
		tame_generate(buf, v.len);
		kw_buf_reset(&resp);
		check_sw(vcard_uicc_process(u, buf, v.len, &resp), &resp);
		(void)vcard_uicc_channel_open(u, buf[0] & 0x1F);
	}
	(void)vcard_uicc_basic_count(u);
out:
	kw_buf_free(&resp);
	vcard_uicc_free(&u);
	vcard_card_free(&c);
}

static void
fuzz_at(fz_in *in)
{
	static char line[VCARD_AT_MAX_LINE + 64];
	vcard_card *c = NULL;
	vcard_uicc *u = NULL;
	vcard_at *m = NULL;
	vcard_at_action act;
	kw_buf out;
	unsigned quirks = fz_u8(in) & 0x0F, faults = fz_u8(in), at = fz_u8(in), steps = 0;

	kw_buf_init(&out, 1u << 20);
	if (vcard_card_new(&c) != KW_OK || vcard_uicc_new(c, &u) != KW_OK ||
	    vcard_at_new(u, quirks & ~(unsigned)VCARD_AT_Q_SLOW, NULL, &m) != KW_OK)
		goto out;
	if (faults & 0x0F)
		vcard_at_set_faults(m, faults & 0x0F, at);
	while (in->n > 0 && steps++ < IO_MAX_STEPS) {
		size_t n = 0;

		while (in->n > 0 && n < sizeof(line) - 1) {
			uint8_t b = fz_u8(in);

			if (b == '\r' || b == '\n')
				break;
			line[n++] = (char)b;
		}
		line[n] = '\0';
		tame_generate_hex(line, n);
		kw_buf_reset(&out);
		act = VCARD_AT_REPLY;
		if (vcard_at_line(m, line, n, &out, &act) != KW_OK)
			continue;
		if (act == VCARD_AT_VANISH)
			break;
		if (act != VCARD_AT_REPLY && out.len > 0 && act != VCARD_AT_SILENT)
			abort();
		if (faults & 0x80)
			vcard_at_reset(m);
	}
out:
	kw_buf_free(&out);
	vcard_at_free(&m);
	vcard_uicc_free(&u);
	vcard_card_free(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = fz_make(data, size);
	uint8_t sel = fz_u8(&in);

	switch (sel & 3) {
	case 0: fuzz_state(&in, (sel & 4) != 0); break;
	case 1: fuzz_uicc(&in); break;
	default: fuzz_at(&in); break;
	}
	return 0;
}
