/* drivers/uicc (kw_uicc.c) and the configuration parser (kw_config.c):
 * CLA encoding for channels 0-19, MANAGE CHANNEL open/close, the PIV
 * client's APDUs on the logical channel, channel lost on removal/reset and
 * reopened (with re-encoded CLA), the basic channel left alone, and the
 * `list` op from configuration. The card is keyward-vcard's UICC layer
 * behind a fake "fake:" transport (this test's own transport registry). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "kw_apdu.h"
#include "kw_config.h"
#include "kw_piv.h"
#include "pcsc/kw_pcsc.h"
#include "uicc/kw_uicc.h"
#include "vcard_uicc.h"

typedef struct peer {
	vcard_card *card;
	vcard_uicc *u;
	int remove_next;         /* fail the next transmit with CARD_REMOVED */
	int proactive;           /* end successful commands with 91 10 */
	unsigned long basic_apdus;   /* non-MANAGE CHANNEL APDUs on channel 0 */
	uint8_t last_cla;
} peer;

static peer g;

static kw_rv
fake_open(const char *rest, void **ctx)
{
	(void)rest;
	*ctx = &g;
	return KW_OK;
}

static void fake_close(void *ctx) { (void)ctx; }

static kw_rv
fake_transmit(void *ctx, const uint8_t *cmd, size_t len, uint8_t *resp, size_t *resp_len)
{
	peer *p = ctx;
	kw_buf r;
	kw_rv rv;

	if (p->remove_next) {
		p->remove_next = 0;
		vcard_uicc_reset(p->u);
		return KW_ERR_CARD_REMOVED;
	}
	p->last_cla = cmd[0];
	if (kw_uicc_cla_channel(cmd[0]) == 0 && cmd[1] != 0x70)
		p->basic_apdus++;
	kw_buf_init(&r, 0);
	rv = vcard_uicc_process(p->u, cmd, len, &r);
	if (rv == KW_OK && r.len > *resp_len)
		rv = KW_ERR_RANGE;
	if (rv == KW_OK) {
		memcpy(resp, r.data, r.len);
		*resp_len = r.len;
		if (p->proactive && r.len >= 2 && resp[r.len - 2] == 0x90) {
			resp[r.len - 2] = 0x91;
			resp[r.len - 1] = 0x10;
		}
	}
	kw_buf_free(&r);
	return rv;
}

static kw_rv
fake_reset(void *ctx)
{
	vcard_uicc_reset(((peer *)ctx)->u);
	return KW_OK;
}

static const kw_transport_ops fake_ops = {
	.scheme = "fake", .open = fake_open, .close = fake_close,
	.transmit = fake_transmit, .reset = fake_reset,
};

const kw_transport_ops *const kw_builtin_transports[] = { &fake_ops, &kw_uicc_ops, NULL };

/* kw_uicc's list op asks pcsc for the readers: these. */
static const char *fake_readers[] = { "SIM Reader 00 00", "Other 00 00", NULL };

kw_rv
kw_pcsc_list_readers(kw_strlist *out)
{
	size_t i;
	kw_rv rv;

	for (i = 0; fake_readers[i] != NULL; i++)
		if ((rv = kw_strlist_add(out, fake_readers[i])) != KW_OK)
			return rv;
	return KW_OK;
}

static int
setup(void **state)
{
	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(vcard_card_new(&g.card), KW_OK);
	assert_int_equal(vcard_uicc_new(g.card, &g.u), KW_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	vcard_uicc_free(&g.u);
	vcard_card_free(&g.card);
	return 0;
}

/* GET VERSION through the APDU layer on the transport's channel. */
static uint16_t
piv_version(kw_transport *t)
{
	static const uint8_t aid[] = { 0xA0, 0x00, 0x00, 0x03, 0x08 };
	kw_apdu sel = { 0x00, 0xA4, 0x04, 0x00, aid, sizeof(aid), 256, 0 };
	kw_apdu ver = { 0x00, 0xFD, 0x00, 0x00, NULL, 0, 256, 0 };
	kw_buf r;
	uint16_t sw = 0;

	kw_buf_init(&r, 0);
	if (kw_apdu_transmit(t, &sel, &r, &sw) == KW_OK && sw == 0x9000) {
		kw_buf_reset(&r);
		if (kw_apdu_transmit(t, &ver, &r, &sw) != KW_OK)
			sw = 0;
	}
	kw_buf_free(&r);
	return sw;
}

static void
test_cla(void **state)
{
	uint8_t out, ref;
	int ch;

	(void)state;
	for (ch = 0; ch <= 19; ch++) {
		assert_int_equal(kw_uicc_cla_set_channel(0x00, ch, &out), KW_OK);
		assert_int_equal(kw_apdu_cla_for_channel(0x00, ch, &ref), KW_OK);
		assert_int_equal(out, ref);
		assert_int_equal(kw_uicc_cla_channel(out), ch);
		assert_int_equal(kw_uicc_cla_set_channel(0x10, ch, &out), KW_OK);
		assert_int_equal(out & 0x10, 0x10);
		assert_int_equal(kw_uicc_cla_channel(out), ch);
		assert_int_equal(kw_uicc_cla_set_channel(0x80, ch, &out), KW_OK);
		assert_int_equal(out & 0x80, 0x80);
		assert_int_equal(kw_uicc_cla_channel(out), ch);
		/* moving a command between channels keeps chaining and SM */
		assert_int_equal(kw_uicc_cla_set_channel(ch <= 3 ? 0x18 | ch : 0x70 | (ch - 4),
		    ch <= 3 ? 7 : 2, &out), KW_OK);
		assert_int_equal(out & 0x10, 0x10);
	}
	assert_int_equal(kw_uicc_cla_set_channel(0x13, 1, &out), KW_OK);
	assert_int_equal(out, 0x11);
	assert_int_equal(kw_uicc_cla_set_channel(0x08, 5, &out), KW_OK);
	assert_int_equal(out, 0x61);
	assert_int_equal(kw_uicc_cla_set_channel(0x04, 5, &out), KW_ERR_NOT_SUPPORTED);
	assert_int_equal(kw_uicc_cla_set_channel(0x00, 20, &out), KW_ERR_ARG);
	assert_int_equal(kw_uicc_cla_set_channel(0x20, 1, &out), KW_ERR_ARG);
	assert_int_equal(kw_uicc_cla_channel(0xFF), -1);
	assert_int_equal(kw_uicc_cla_channel(0x4F), 19);
	assert_int_equal(kw_uicc_cla_channel(0x03), 3);
}

static void
test_open_close(void **state)
{
	kw_transport *t = NULL;

	(void)state;
	assert_int_equal(kw_transport_open("uicc:fake:sim", &t), KW_OK);
	assert_string_equal(kw_transport_name(t), "uicc:fake:sim");
	assert_int_equal(kw_transport_channel(t), 1);
	assert_true(vcard_uicc_channel_open(g.u, 1));
	assert_int_equal(piv_version(t), 0x9000);
	assert_int_equal(g.last_cla, 0x01);
	kw_transport_free(&t);
	assert_false(vcard_uicc_channel_open(g.u, 1));
	assert_int_equal(g.basic_apdus, 0);
	assert_int_equal(kw_transport_open("uicc:uicc:fake:x", &t), KW_ERR_ARG);
	assert_int_equal(kw_transport_open("uicc:nosuch:x", &t), KW_ERR_NOT_SUPPORTED);
}

/* Nineteen users: channels 1-19, both class forms; the twentieth fails. */
static void
test_all_channels(void **state)
{
	kw_transport *t[20] = { NULL };
	int i;

	(void)state;
	for (i = 0; i < 19; i++) {
		assert_int_equal(kw_transport_open("uicc:fake:sim", &t[i]), KW_OK);
		assert_int_equal(kw_transport_channel(t[i]), i + 1);
	}
	assert_int_equal(kw_transport_open("uicc:fake:sim", &t[19]), KW_ERR_NOT_SUPPORTED);
	for (i = 0; i < 19; i++) {
		assert_int_equal(piv_version(t[i]), 0x9000);
		assert_int_equal(kw_uicc_cla_channel(g.last_cla), i + 1);
		if (i + 1 >= 4)
			assert_int_equal(g.last_cla, 0x40 | (i + 1 - 4));
	}
	for (i = 0; i < 19; i++)
		kw_transport_free(&t[i]);
	for (i = 1; i < 20; i++)
		assert_false(vcard_uicc_channel_open(g.u, i));
	assert_int_equal(g.basic_apdus, 0);
}

/* A removal or reset loses the channel; the next command reopens one and
 * is re-encoded for it. Another user's channel is not disturbed. */
static void
test_removal_and_reset(void **state)
{
	kw_transport *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(kw_transport_open("uicc:fake:sim", &a), KW_OK);
	assert_int_equal(piv_version(a), 0x9000);
	g.remove_next = 1;
	assert_int_equal(piv_version(a), 0);
	/* meanwhile another user takes channel 1 */
	assert_int_equal(kw_transport_open("uicc:fake:sim", &b), KW_OK);
	assert_int_equal(kw_transport_channel(b), 1);
	assert_int_equal(piv_version(a), 0x9000);
	assert_int_equal(kw_transport_channel(a), 2);
	assert_int_equal(g.last_cla, 0x02);
	assert_int_equal(piv_version(b), 0x9000);
	assert_int_equal(g.last_cla, 0x01);
	/* reset through the wrapper: a new channel at once */
	assert_int_equal(kw_transport_reset(b), KW_OK);
	assert_true(vcard_uicc_channel_open(g.u, kw_transport_channel(b)));
	assert_int_equal(piv_version(b), 0x9000);
	kw_transport_free(&a);
	kw_transport_free(&b);
	assert_int_equal(g.basic_apdus, 0);
}

/* 91XX (proactive command pending) is a normal ending, as 9000. */
static void
test_proactive_sw(void **state)
{
	kw_transport *t = NULL;

	(void)state;
	g.proactive = 1;
	assert_int_equal(kw_transport_open("uicc:fake:sim", &t), KW_OK);
	assert_int_equal(piv_version(t), 0x9000);
	kw_transport_free(&t);
	g.proactive = 0;
}

/* The telecom application on the basic channel keeps its selection. */
static void
test_basic_channel_untouched(void **state)
{
	kw_transport *raw = NULL, *t = NULL;
	uint8_t usim[] = { 0x00, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02 };
	uint8_t status[] = { 0x80, 0xF2, 0x00, 0x01, 0x00 }, r[300];
	size_t n = sizeof(r);
	unsigned long before;

	(void)state;
	assert_int_equal(kw_transport_open("fake:sim", &raw), KW_OK);
	assert_int_equal(kw_transport_transmit(raw, usim, sizeof(usim), r, &n), KW_OK);
	assert_int_equal(n, 2);
	before = vcard_uicc_basic_count(g.u);
	assert_int_equal(kw_transport_open("uicc:fake:sim", &t), KW_OK);
	assert_int_equal(piv_version(t), 0x9000);
	kw_transport_free(&t);
	assert_int_equal(vcard_uicc_basic_count(g.u), before);
	n = sizeof(r);
	assert_int_equal(kw_transport_transmit(raw, status, sizeof(status), r, &n), KW_OK);
	assert_true(n > 9);
	assert_int_equal(r[0], 0x84);
	assert_memory_equal(r + 2, "\xA0\x00\x00\x00\x87\x10\x02", 7);
	kw_transport_free(&raw);
}

static void
test_list(void **state)
{
	kw_strlist l = { NULL, 0 };

	(void)state;
	unsetenv("KEYWARD_UICC_READERS");
	setenv("KEYWARD_CONF", "/nonexistent/keyward.conf", 1);
	assert_int_equal(kw_uicc_ops.list(&l), KW_OK);
	assert_int_equal(l.n, 0);
	setenv("KEYWARD_UICC_READERS", "SIM Reader 00 00;Absent 00 00", 1);
	assert_int_equal(kw_uicc_ops.list(&l), KW_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "uicc:pcsc:SIM Reader 00 00");
	kw_strlist_free(&l);
	unsetenv("KEYWARD_UICC_READERS");
}

static void
test_config(void **state)
{
	static const char text[] =
	    "# keyward\n"
	    "\n"
	    "uicc_reader = SIM Reader 00 00\n"
	    "  uicc_reader=\"Quoted: name 01\"  \r\n"
	    "modem_port = /dev/ttyUSB2\n"
	    "something_else = 3\n"
	    "ble_device = C0:FF:EE:00:00:01\n"
	    "modem_port=/dev/ttyACM0";
	kw_config c;
	kw_strlist l = { NULL, 0 };
	size_t line;
	char path[] = "/tmp/kwcfgXXXXXX";
	FILE *f;
	int fd;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(kw_config_parse(kw_view_make(text, sizeof(text) - 1), &c, &line), KW_OK);
	assert_int_equal(c.uicc_readers.n, 2);
	assert_string_equal(c.uicc_readers.v[0], "SIM Reader 00 00");
	assert_string_equal(c.uicc_readers.v[1], "Quoted: name 01");
	assert_int_equal(c.modem_ports.n, 2);
	assert_string_equal(c.modem_ports.v[1], "/dev/ttyACM0");
	kw_config_free(&c);
	assert_int_equal(kw_config_parse(kw_view_make("a=1\nno equals\n", 15), &c, &line),
	    KW_ERR_FORMAT);
	assert_int_equal(line, 2);
	kw_config_free(&c);
	assert_int_equal(kw_config_parse(kw_view_make("modem_port =\n", 13), &c, &line),
	    KW_ERR_FORMAT);
	kw_config_free(&c);
	assert_int_equal(kw_config_parse(kw_view_make("modem_port = a\x01\n", 16), &c, &line),
	    KW_ERR_FORMAT);
	kw_config_free(&c);
	assert_int_equal(kw_config_parse(kw_view_make("modem_port = a\0b\n", 17), &c, &line),
	    KW_ERR_FORMAT);
	kw_config_free(&c);
	/* lists */
	assert_int_equal(kw_config_split("/dev/a:/dev/b::", &l), KW_OK);
	assert_int_equal(l.n, 2);
	kw_strlist_free(&l);
	assert_int_equal(kw_config_split("Reader: x 00;  Reader y 01 ;", &l), KW_OK);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0], "Reader: x 00");
	assert_string_equal(l.v[1], "Reader y 01");
	kw_strlist_free(&l);
	/* a file, with the environment overriding one key */
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(text, f);
	fclose(f);
	setenv("KEYWARD_CONF", path, 1);
	setenv("KEYWARD_MODEM_PORTS", "/dev/pts/9", 1);
	assert_int_equal(kw_config_load(&c), KW_OK);
	assert_int_equal(c.uicc_readers.n, 2);
	assert_int_equal(c.modem_ports.n, 1);
	assert_string_equal(c.modem_ports.v[0], "/dev/pts/9");
	assert_int_equal(c.ble_devices.n, 1);
	assert_string_equal(c.ble_devices.v[0], "C0:FF:EE:00:00:01");
	kw_config_free(&c);
	unsetenv("KEYWARD_MODEM_PORTS");
	/* BLE addresses contain ':': the environment list splits on , ; blanks */
	setenv("KEYWARD_BLE_DEVICES", " AA:BB:CC:DD:EE:01,AA:BB:CC:DD:EE:02;;AA:BB:CC:DD:EE:03 ", 1);
	assert_int_equal(kw_config_load(&c), KW_OK);
	assert_int_equal(c.ble_devices.n, 3);
	assert_string_equal(c.ble_devices.v[0], "AA:BB:CC:DD:EE:01");
	assert_string_equal(c.ble_devices.v[2], "AA:BB:CC:DD:EE:03");
	assert_int_equal(c.uicc_readers.n, 2);
	kw_config_free(&c);
	unsetenv("KEYWARD_BLE_DEVICES");
	/* a broken file is an error, an absent one is empty */
	assert_non_null(f = fopen(path, "w"));
	fputs("broken line\n", f);
	fclose(f);
	assert_int_equal(kw_config_load(&c), KW_ERR_FORMAT);
	assert_int_equal(c.uicc_readers.n, 0);
	unlink(path);
	assert_int_equal(kw_config_load(&c), KW_OK);
	assert_int_equal(c.uicc_readers.n + c.modem_ports.n, 0);
	unsetenv("KEYWARD_CONF");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cla),
		cmocka_unit_test_setup_teardown(test_open_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_channels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removal_and_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_basic_channel_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proactive_sw, setup, teardown),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
