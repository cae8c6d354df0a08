/* keyward-vcard UICC mode (vcard_uicc.c) and its AT interpreter
 * (vcard_at.c): logical channels, CLA forms, per-channel state, the
 * telecom application on the basic channel, every AT reply style, quirks
 * and faults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "vcard_at.h"
#include "vcard_uicc.h"

typedef struct fx {
	vcard_card *card;
	vcard_uicc *u;
} fx;

static int
setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(vcard_card_new(&f->card), KW_OK);
	assert_int_equal(vcard_uicc_new(f->card, &f->u), KW_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;

	vcard_uicc_free(&f->u);
	vcard_card_free(&f->card);
	free(f);
	return 0;
}

/* Send hex, return SW; data (without SW) into *data if given. */
static uint16_t
utx(fx *f, const char *hex, kw_buf *data)
{
	kw_buf cmd, resp;
	uint16_t sw;

	kw_buf_init(&cmd, 0);
	kw_buf_init(&resp, 0);
	assert_int_equal(kw_hex_decode(hex, &cmd), KW_OK);
	assert_int_equal(vcard_uicc_process(f->u, cmd.data, cmd.len, &resp), KW_OK);
	assert_true(resp.len >= 2);
	sw = (uint16_t)(resp.data[resp.len - 2] << 8 | resp.data[resp.len - 1]);
	if (data != NULL) {
		kw_buf_reset(data);
		assert_int_equal(kw_buf_put(data, resp.data, resp.len - 2), KW_OK);
	}
	kw_buf_free(&cmd);
	kw_buf_free(&resp);
	return sw;
}

#define SEL_PIV(cla) cla "A4040005A00000030800"
#define SEL_USIM(cla) cla "A4040407A0000000871002"

static void
test_manage_channel(void **state)
{
	fx *f = *state;
	kw_buf d;
	int i;
	char cmd[32];

	kw_buf_init(&d, 0);
	assert_int_equal(utx(f, "0070000001", &d), 0x9000);
	assert_int_equal(d.len, 1);
	assert_int_equal(d.data[0], 1);
	assert_true(vcard_uicc_channel_open(f->u, 1));
	assert_int_equal(utx(f, "0070000001", &d), 0x9000);
	assert_int_equal(d.data[0], 2);
	/* explicit numbers, already open, out of range */
	assert_int_equal(utx(f, "00700005", &d), 0x9000);
	assert_int_equal(d.len, 0);
	assert_int_equal(utx(f, "00700005", NULL), 0x6A86);
	assert_int_equal(utx(f, "0070001400", NULL), 0x6A86);
	/* close: by number from the basic channel, or itself with P2 = 0 */
	assert_int_equal(utx(f, "0070800200", NULL), 0x9000);
	assert_false(vcard_uicc_channel_open(f->u, 2));
	assert_int_equal(utx(f, "4170800000", NULL), 0x9000);   /* channel 5 closes itself */
	assert_false(vcard_uicc_channel_open(f->u, 5));
	assert_int_equal(utx(f, "0070800000", NULL), 0x6A86);   /* never the basic channel */
	assert_int_equal(utx(f, "0070800700", NULL), 0x6A86);   /* not open */
	assert_int_equal(utx(f, "0070400000", NULL), 0x6A86);
	/* a closed channel refuses commands */
	assert_int_equal(utx(f, SEL_PIV("02"), NULL), 0x6881);
	assert_int_equal(utx(f, SEL_PIV("4F"), NULL), 0x6881);
	/* all 19 */
	for (i = 2; i <= 19; i++) {
		assert_int_equal(utx(f, "0070000001", &d), 0x9000);
		assert_int_equal(d.data[0], i);
	}
	assert_int_equal(utx(f, "0070000001", NULL), 0x6A81);
	for (i = 1; i <= 19; i++) {
		snprintf(cmd, sizeof(cmd), "007080%02X", i);
		assert_int_equal(utx(f, cmd, NULL), 0x9000);
	}
	kw_buf_free(&d);
}

static void
test_three_channels(void **state)
{
	fx *f = *state;

	assert_int_equal(vcard_uicc_set_channels(f->u, 3), KW_OK);
	assert_int_equal(vcard_uicc_set_channels(f->u, 0), KW_ERR_ARG);
	assert_int_equal(vcard_uicc_set_channels(f->u, 20), KW_ERR_ARG);
	assert_int_equal(utx(f, "0070000001", NULL), 0x9000);
	assert_int_equal(utx(f, "0070000001", NULL), 0x9000);
	assert_int_equal(utx(f, "0070000001", NULL), 0x9000);
	assert_int_equal(utx(f, "0070000001", NULL), 0x6A81);
	assert_int_equal(utx(f, "00700004", NULL), 0x6A86);
	assert_int_equal(utx(f, SEL_PIV("40"), NULL), 0x6881);
	assert_int_equal(utx(f, "00708002", NULL), 0x9000);
	assert_int_equal(utx(f, "0070000001", NULL), 0x9000);
}

static void
test_piv_only_on_logical(void **state)
{
	fx *f = *state;

	assert_int_equal(utx(f, SEL_PIV("00"), NULL), 0x6A82);
	assert_int_equal(utx(f, "00FD000000", NULL), 0x6D00);
	assert_int_equal(utx(f, "0070000001", NULL), 0x9000);
	assert_int_equal(utx(f, SEL_PIV("01"), NULL), 0x9000);
	assert_int_equal(utx(f, "01FD000000", NULL), 0x9000);
	/* the basic channel still has no PIV */
	assert_int_equal(utx(f, "00FD000000", NULL), 0x6D00);
	/* an unknown AID on a logical channel deselects PIV there */
	assert_int_equal(utx(f, "01A4040005A000000999", NULL), 0x6A82);
	assert_int_equal(utx(f, "01FD000000", NULL), 0x6D00);
}

/* Channels 4-19 use the further interindustry class: 01yx zzzz. */
static void
test_cla_forms(void **state)
{
	fx *f = *state;
	kw_buf d;
	char cmd[64];
	int i;

	kw_buf_init(&d, 0);
	for (i = 1; i <= 19; i++)
		assert_int_equal(utx(f, "0070000001", NULL), 0x9000);
	for (i = 1; i <= 19; i++) {
		unsigned cla = i <= 3 ? (unsigned)i : 0x40u | (unsigned)(i - 4);

		snprintf(cmd, sizeof(cmd), "%02XA4040005A00000030800", cla);
		assert_int_equal(utx(f, cmd, NULL), 0x9000);
		snprintf(cmd, sizeof(cmd), "%02XFD000000", cla);
		assert_int_equal(utx(f, cmd, &d), 0x9000);
		assert_int_equal(d.len, 3);
	}
	/* secure messaging bits in either form: the applet refuses the class */
	assert_int_equal(utx(f, "09FD000000", NULL), 0x6E00);
	assert_int_equal(utx(f, "60FD000000", NULL), 0x6E00);
	/* chaining in the further form: 0x50 = channel 4 + chain */
	assert_int_equal(utx(f, "50DB3FFF03010203", NULL), 0x9000);
	/* RFU first-form bit */
	assert_int_equal(utx(f, "20FD000000", NULL), 0x6E00);
	kw_buf_free(&d);
}

static void
test_independent_state(void **state)
{
	fx *f = *state;

	assert_int_equal(utx(f, "0070000001", NULL), 0x9000);
	assert_int_equal(utx(f, "0070000001", NULL), 0x9000);
	assert_int_equal(utx(f, SEL_PIV("01"), NULL), 0x9000);
	assert_int_equal(utx(f, SEL_PIV("02"), NULL), 0x9000);
	assert_int_equal(utx(f, "0120008008313233343536FFFF", NULL), 0x9000);
	assert_int_equal(utx(f, "0120008000", NULL), 0x9000);
	assert_int_equal(utx(f, "0220008000", NULL), 0x63C3);   /* not verified on 2 */
	/* closing channel 2 leaves channel 1 logged in */
	assert_int_equal(utx(f, "0070800200", NULL), 0x9000);
	assert_int_equal(utx(f, "0120008000", NULL), 0x9000);
	/* a channel opened from channel 1 has PIV selected, not the login */
	assert_int_equal(utx(f, "0170000001", NULL), 0x9000);
	assert_int_equal(utx(f, "02FD000000", NULL), 0x9000);
	assert_int_equal(utx(f, "0220008000", NULL), 0x63C3);
	/* a chain on channel 1 is not disturbed by commands on channel 2 */
	assert_int_equal(utx(f, "11DB3FFF0401020304", NULL), 0x9000);
	assert_int_equal(utx(f, "02FD000000", NULL), 0x9000);
	/* reset closes every logical channel */
	vcard_uicc_reset(f->u);
	assert_false(vcard_uicc_channel_open(f->u, 1));
	assert_int_equal(utx(f, "01FD000000", NULL), 0x6881);
}

static void
test_telecom(void **state)
{
	fx *f = *state;
	kw_buf d;
	unsigned long before;

	kw_buf_init(&d, 0);
	/* STATUS before selection: the MF */
	assert_int_equal(utx(f, "80F2000000", &d), 0x9000);
	assert_int_equal(d.data[0], 0x62);
	assert_non_null(memmem(d.data, d.len, "\x83\x02\x3F\x00", 4));
	assert_int_equal(utx(f, "00F2000000", NULL), 0x6E00);   /* STATUS is class 80 */
	assert_int_equal(utx(f, SEL_USIM("00"), &d), 0x9000);
	assert_non_null(memmem(d.data, d.len, "\x84\x0C\xA0\x00\x00\x00\x87\x10\x02", 9));
	assert_int_equal(utx(f, "80F2000100", &d), 0x9000);
	assert_int_equal(d.data[0], 0x84);
	assert_int_equal(utx(f, "80F2000C00", &d), 0x9000);
	assert_int_equal(d.len, 0);
	/* EF_IMSI under the USIM */
	assert_int_equal(utx(f, "00A4000C026F07", NULL), 0x9000);
	assert_int_equal(utx(f, "00B0000009", &d), 0x9000);
	assert_int_equal(d.len, 9);
	assert_int_equal(d.data[0], 0x08);
	assert_int_equal(utx(f, "00A4000C024F99", NULL), 0x6A82);
	/* a logical channel user does not move the basic channel */
	before = vcard_uicc_basic_count(f->u);
	assert_int_equal(utx(f, "0070000001", NULL), 0x9000);
	assert_int_equal(utx(f, SEL_PIV("01"), NULL), 0x9000);
	assert_int_equal(utx(f, "01CB3FFF055C035FC102", NULL) & 0xFF00, 0x6A00);
	assert_int_equal(utx(f, "0070800100", NULL), 0x9000);
	assert_int_equal(vcard_uicc_basic_count(f->u), before);
	assert_int_equal(utx(f, "80F2000100", &d), 0x9000);
	assert_int_equal(d.data[0], 0x84);
	/* the USIM can be selected on a logical channel too */
	assert_int_equal(utx(f, "0070000001", NULL), 0x9000);
	assert_int_equal(utx(f, SEL_USIM("01"), NULL), 0x9000);
	assert_int_equal(utx(f, "81F2000100", &d), 0x9000);
	assert_int_equal(utx(f, "00A2000000", NULL), 0x6D00);
	assert_int_equal(utx(f, "A0F2000000", NULL), 0x6E00);   /* GSM class */
	assert_int_equal(utx(f, "00", NULL), 0x6700);
	kw_buf_free(&d);
}

/* ---- the AT interpreter ---- */

static kw_rv
at(vcard_at *m, const char *line, char *out, size_t outsz, vcard_at_action *act)
{
	kw_buf o;
	vcard_at_action a;
	kw_rv rv;

	kw_buf_init(&o, 0);
	rv = vcard_at_line(m, line, strlen(line), &o, act != NULL ? act : &a);
	assert_true(o.len < outsz);
	memcpy(out, o.data != NULL ? (const char *)o.data : "", o.len);
	out[o.len] = '\0';
	kw_buf_free(&o);
	return rv;
}

static void
test_at_basic(void **state)
{
	fx *f = *state;
	vcard_at *m;
	char out[4096];
	unsigned q;

	assert_int_equal(vcard_at_new(f->u, 0, NULL, &m), KW_OK);
	assert_int_equal(at(m, "AT", out, sizeof(out), NULL), KW_OK);
	assert_string_equal(out, "AT\r\r\nOK\r\n");   /* echo on by default */
	at(m, "ATE0", out, sizeof(out), NULL);
	at(m, "AT", out, sizeof(out), NULL);
	assert_string_equal(out, "\r\nOK\r\n");
	at(m, "AT+BOGUS", out, sizeof(out), NULL);
	assert_string_equal(out, "\r\nERROR\r\n");
	at(m, "AT+CMEE=1", out, sizeof(out), NULL);
	at(m, "AT+CCHO=\"A0000003080000100001\"", out, sizeof(out), NULL);
	assert_string_equal(out, "\r\n+CCHO: 423\r\n\r\nOK\r\n");   /* channel 1, opaque id */
	at(m, "AT+CGLA=423,10,\"00FD000000\"", out, sizeof(out), NULL);
	assert_string_equal(out, "\r\n+CGLA: 10,\"0504039000\"\r\n\r\nOK\r\n");
	at(m, "AT+CGLA=423,9,\"00FD000000\"", out, sizeof(out), NULL);
	assert_string_equal(out, "\r\n+CME ERROR: 25\r\n");
	at(m, "AT+CGLA=1,10,\"00FD000000\"", out, sizeof(out), NULL);
	assert_string_equal(out, "\r\n+CME ERROR: 21\r\n");
	/* +CSIM carries the channel in CLA itself */
	at(m, "AT+CSIM=10,\"01FD000000\"", out, sizeof(out), NULL);
	assert_string_equal(out, "\r\n+CSIM: 10,\"0504039000\"\r\n\r\nOK\r\n");
	at(m, "AT+CSIM=10,\"00FD000000\"", out, sizeof(out), NULL);
	assert_string_equal(out, "\r\n+CSIM: 4,\"6D00\"\r\n\r\nOK\r\n");
	at(m, "AT+CCHO=\"A000000999\"", out, sizeof(out), NULL);
	assert_string_equal(out, "\r\n+CME ERROR: 22\r\n");
	assert_false(vcard_uicc_channel_open(f->u, 2));
	at(m, "AT+CCHC=423", out, sizeof(out), NULL);
	assert_string_equal(out, "\r\nOK\r\n");
	assert_false(vcard_uicc_channel_open(f->u, 1));
	at(m, "AT+CMEE=2", out, sizeof(out), NULL);
	at(m, "AT+CCHC=423", out, sizeof(out), NULL);
	assert_string_equal(out, "\r\n+CME ERROR: invalid index\r\n");
	assert_int_equal(vcard_at_parse_quirks("bare-ccho,urc", &q), KW_OK);
	assert_int_equal(q, VCARD_AT_Q_BARE_CCHO | VCARD_AT_Q_URC);
	assert_int_equal(vcard_at_parse_quirks("bare-ccho,nope", &q), KW_ERR_ARG);
	assert_int_equal(vcard_at_parse_faults("garbage,vanish", &q), KW_OK);
	assert_int_equal(q, VCARD_AT_F_GARBAGE | VCARD_AT_F_VANISH);
	vcard_at_free(&m);
}

static void
test_at_quirks(void **state)
{
	fx *f = *state;
	vcard_at *m;
	char out[4096];

	assert_int_equal(vcard_at_new(f->u, VCARD_AT_Q_BARE_CCHO | VCARD_AT_Q_URC, NULL, &m), KW_OK);
	at(m, "ATE0", out, sizeof(out), NULL);
	assert_non_null(strstr(out, "RING"));
	at(m, "AT+CCHO=\"A000000308\"", out, sizeof(out), NULL);
	assert_non_null(strstr(out, "\r\n423\r\n"));
	assert_null(strstr(out, "+CCHO"));
	assert_non_null(strstr(out, "+CREG: "));
	vcard_at_free(&m);
	vcard_uicc_reset(f->u);

	assert_int_equal(vcard_at_new(f->u, VCARD_AT_Q_NO_CGLA, NULL, &m), KW_OK);
	at(m, "ATE0", out, sizeof(out), NULL);
	at(m, "AT+CCHO=\"A000000308\"", out, sizeof(out), NULL);
	assert_string_equal(out, "\r\nERROR\r\n");
	at(m, "AT+CMEE=1", out, sizeof(out), NULL);
	at(m, "AT+CGLA=423,10,\"00FD000000\"", out, sizeof(out), NULL);
	assert_string_equal(out, "\r\n+CME ERROR: 4\r\n");
	at(m, "AT+CSIM=10,\"0070000001\"", out, sizeof(out), NULL);
	assert_string_equal(out, "\r\n+CSIM: 6,\"019000\"\r\n\r\nOK\r\n");
	vcard_at_free(&m);
}

static void
test_at_faults(void **state)
{
	fx *f = *state;
	vcard_at *m;
	vcard_at_action act;
	char out[4096], big[VCARD_AT_MAX_LINE + 10];

	assert_int_equal(vcard_at_new(f->u, 0, NULL, &m), KW_OK);
	vcard_at_set_faults(m, VCARD_AT_F_GARBAGE | VCARD_AT_F_ERROR_MID | VCARD_AT_F_NO_REPLY |
	    VCARD_AT_F_VANISH, 2);
	at(m, "ATE0", out, sizeof(out), NULL);
	at(m, "AT+CSIM=10,\"0070000001\"", out, sizeof(out), &act);
	assert_int_equal(act, VCARD_AT_REPLY);
	assert_non_null(strstr(out, "+CSIM: 6"));
	at(m, "AT+CSIM=10,\"01FD000000\"", out, sizeof(out), &act);
	assert_non_null(strchr(out, '\x01'));                  /* garbage */
	at(m, "AT+CSIM=10,\"01FD000000\"", out, sizeof(out), &act);
	assert_string_equal(out, "\r\nERROR\r\n");             /* error-mid */
	at(m, "AT+CSIM=10,\"01FD000000\"", out, sizeof(out), &act);
	assert_int_equal(act, VCARD_AT_SILENT);
	assert_string_equal(out, "");
	at(m, "AT+CSIM=10,\"01FD000000\"", out, sizeof(out), &act);
	assert_int_equal(act, VCARD_AT_VANISH);
	at(m, "AT+CSIM=10,\"01FD000000\"", out, sizeof(out), &act);
	assert_int_equal(act, VCARD_AT_REPLY);
	/* an overlong line is refused */
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	at(m, big, out, sizeof(out), &act);
	assert_string_equal(out, "\r\nERROR\r\n");
	vcard_at_free(&m);
}

/* Deterministic pseudo-random APDUs and AT lines: every APDU gets a status
 * word, no crash (ASan builds). */
static uint32_t lcg_state = 777;

static uint32_t
lcg(void)
{
	lcg_state = lcg_state * 1103515245u + 12345u;
	return lcg_state >> 8;
}

static void
test_robust(void **state)
{
	static const uint8_t ins[] = { 0x70, 0xA4, 0xF2, 0xB0, 0xC0, 0x20, 0xCB, 0xDB, 0x87, 0xFD, 0x47 };
	static const char *const words[] = {
		"AT", "+CCHO=", "+CGLA=", "+CCHC=", "+CSIM=", "+CMEE=", "423", "430", "1", "10", ",",
		"\"", "A0000003080000100001", "00FD000000", "0070000001", "00708001", "E1", "ZZ",
	};
	uint8_t a[300];
	char line[600];
	kw_buf resp;
	vcard_at *m;
	vcard_at_action act;
	size_t len, k;
	fx *f = *state;
	int i;

	kw_buf_init(&resp, 0);
	for (i = 0; i < 20000; i++) {
		len = 4 + lcg() % 40;
		for (k = 0; k < len; k++)
			a[k] = (uint8_t)lcg();
		a[1] = ins[lcg() % sizeof(ins)];
		if (lcg() % 4 == 0)
			a[0] = (uint8_t)(lcg() % 20 <= 3 ? lcg() % 4 : 0x40 | (lcg() % 16));
		if (lcg() % 3 == 0 && len > 5)
			a[4] = (uint8_t)(len - 5);
		assert_int_equal(vcard_uicc_process(f->u, a, len, &resp), KW_OK);
		assert_true(resp.len >= 2);
		if (lcg() % 500 == 0)
			vcard_uicc_reset(f->u);
	}
	assert_int_equal(vcard_at_new(f->u, VCARD_AT_Q_URC, NULL, &m), KW_OK);
	for (i = 0; i < 5000; i++) {
		len = 0;
		for (k = lcg() % 8; k > 0; k--) {
			const char *w = words[lcg() % (sizeof(words) / sizeof(words[0]))];

			if (len + strlen(w) >= sizeof(line))
				break;
			memcpy(line + len, w, strlen(w));
			len += strlen(w);
		}
		assert_int_equal(vcard_at_line(m, line, len, &resp, &act), KW_OK);
	}
	vcard_at_free(&m);
	kw_buf_free(&resp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_manage_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_three_channels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_piv_only_on_logical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cla_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_independent_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_telecom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_at_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_at_quirks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_at_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_robust, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
