/* drivers/atmodem: AT line parsing (kw_at.c: every reply style, URCs, CME
 * errors, garbage, overlong lines) and the transport (kw_atmodem*.c) on a
 * pseudo-terminal against keyward-vcard's modem front-end, run in a thread
 * of this test: each quirk profile, +CSIM fallback, faults (garbage, ERROR
 * mid-command, no reply, the port vanishing) within bounded time, the
 * exclusive lock, and `list` from configuration. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <termios.h>

#include "atmodem/kw_at.h"
#include "atmodem/kw_atmodem.h"
#include "kw_apdu.h"
#include "vcard_at.h"

/* This test's transport registry: the modem transport alone. */
const kw_transport_ops *const kw_builtin_transports[] = { &kw_atmodem_ops, NULL };

/* ---- parsing ---- */

static kw_at_kind
classify(const char *s, const kw_at_expect *ex, int *cme)
{
	return kw_at_classify(kw_view_make(s, strlen(s)), ex, cme);
}

static void
test_classify(void **state)
{
	kw_at_expect cgla = { "AT+CGLA=1,4,\"0000\"", "+CGLA:", false };
	kw_at_expect ccho = { NULL, "+CCHO:", true };
	char big[KW_AT_MAX_LINE + 2];
	int cme;

	(void)state;
	assert_int_equal(classify("OK", &cgla, &cme), KW_AT_OK);
	assert_int_equal(classify("  OK ", &cgla, &cme), KW_AT_OK);
	assert_int_equal(classify("ERROR", &cgla, &cme), KW_AT_ERROR);
	assert_int_equal(classify("+CMS ERROR: 500", &cgla, &cme), KW_AT_ERROR);
	assert_int_equal(classify("+CME ERROR: 4", &cgla, &cme), KW_AT_CME);
	assert_int_equal(cme, 4);
	assert_int_equal(classify("+CME ERROR: SIM busy", &cgla, &cme), KW_AT_CME);
	assert_int_equal(cme, -1);
	assert_int_equal(classify("+CME ERROR: 123456", &cgla, &cme), KW_AT_CME);
	assert_int_equal(cme, -1);
	assert_int_equal(classify("+CGLA: 4,\"9000\"", &cgla, &cme), KW_AT_INFO);
	assert_int_equal(classify("AT+CGLA=1,4,\"0000\"", &cgla, &cme), KW_AT_ECHO);
	assert_int_equal(classify("", &cgla, &cme), KW_AT_EMPTY);
	assert_int_equal(classify("   ", &cgla, &cme), KW_AT_EMPTY);
	/* URCs of every usual shape */
	assert_int_equal(classify("RING", &cgla, &cme), KW_AT_URC);
	assert_int_equal(classify("NO CARRIER", &cgla, &cme), KW_AT_URC);
	assert_int_equal(classify("+CREG: 1,\"00C3\",\"0012\"", &cgla, &cme), KW_AT_URC);
	assert_int_equal(classify("+CMTI: \"SM\",3", &cgla, &cme), KW_AT_URC);
	assert_int_equal(classify("^RSSI: 14", &cgla, &cme), KW_AT_URC);
	assert_int_equal(classify("Call Ready", &cgla, &cme), KW_AT_URC);
	/* a +CCHO line is a URC for +CGLA, the answer for +CCHO */
	assert_int_equal(classify("+CCHO: 5", &cgla, &cme), KW_AT_URC);
	assert_int_equal(classify("+CCHO: 5", &ccho, &cme), KW_AT_INFO);
	assert_int_equal(classify("5", &ccho, &cme), KW_AT_INFO);
	assert_int_equal(classify("5", &cgla, &cme), KW_AT_GARBAGE);
	assert_int_equal(classify("12345678901", &ccho, &cme), KW_AT_GARBAGE);
	/* garbage */
	assert_int_equal(classify("\x01\xfe#@!", &cgla, &cme), KW_AT_GARBAGE);
	assert_int_equal(classify("hello there", &cgla, &cme), KW_AT_GARBAGE);
	assert_int_equal(classify("OK\x7f", &cgla, &cme), KW_AT_GARBAGE);
	assert_int_equal(kw_at_classify(kw_view_make("O\0K", 3), &cgla, &cme), KW_AT_GARBAGE);
	memset(big, 'A', sizeof(big));
	assert_int_equal(kw_at_classify(kw_view_make(big, sizeof(big)), &cgla, &cme),
	    KW_AT_GARBAGE);
	assert_int_equal(classify("OK", NULL, &cme), KW_AT_OK);
}

static void
test_parse_ccho(void **state)
{
	unsigned long sid;

	(void)state;
	assert_int_equal(kw_at_parse_ccho(kw_view_make("+CCHO: 423", 10), &sid), KW_OK);
	assert_int_equal(sid, 423);
	assert_int_equal(kw_at_parse_ccho(kw_view_make("+CCHO:7", 7), &sid), KW_OK);
	assert_int_equal(sid, 7);
	assert_int_equal(kw_at_parse_ccho(kw_view_make(" 4294967295 ", 12), &sid), KW_OK);
	assert_int_equal(sid, 4294967295ul);
	assert_int_equal(kw_at_parse_ccho(kw_view_make("4294967296", 10), &sid), KW_ERR_RANGE);
	assert_int_equal(kw_at_parse_ccho(kw_view_make("12345678901", 11), &sid), KW_ERR_FORMAT);
	assert_int_equal(kw_at_parse_ccho(kw_view_make("+CCHO: 1,2", 10), &sid), KW_ERR_TRAILING);
	assert_int_equal(sid, 0);
	assert_int_equal(kw_at_parse_ccho(kw_view_make("+CCHO: ", 7), &sid), KW_ERR_FORMAT);
	assert_int_equal(kw_at_parse_ccho(kw_view_make("", 0), &sid), KW_ERR_FORMAT);
}

static kw_rv
parse_apdu(const char *s, const char *prefix, uint8_t *out, size_t *n)
{
	return kw_at_parse_apdu(kw_view_make(s, strlen(s)), prefix, out, n);
}

static void
test_parse_apdu(void **state)
{
	uint8_t r[KW_AT_MAX_RESP];
	char line[KW_AT_MAX_APDU * 2 + 64];
	uint8_t apdu[KW_AT_MAX_APDU + 1];
	size_t n;

	(void)state;
	n = sizeof(r);
	assert_int_equal(parse_apdu("+CGLA: 10,\"0504039000\"", "+CGLA:", r, &n), KW_OK);
	assert_int_equal(n, 5);
	assert_memory_equal(r, "\x05\x04\x03\x90\x00", 5);
	n = sizeof(r);
	assert_int_equal(parse_apdu("+CSIM: 4,9000", "+CSIM:", r, &n), KW_OK);   /* unquoted */
	assert_int_equal(n, 2);
	n = sizeof(r);
	assert_int_equal(parse_apdu("+CSIM:6,\"01a9ff\" ", "+CSIM:", r, &n), KW_OK);
	assert_int_equal(r[1], 0xa9);
	n = sizeof(r);
	assert_int_equal(parse_apdu("+CGLA: 8,\"0504039000\"", "+CGLA:", r, &n), KW_ERR_FORMAT);
	assert_int_equal(n, 0);
	n = sizeof(r);
	assert_int_equal(parse_apdu("+CGLA: 5,\"05040\"", "+CGLA:", r, &n), KW_ERR_FORMAT);
	n = sizeof(r);
	assert_int_equal(parse_apdu("+CGLA: 4,\"90G0\"", "+CGLA:", r, &n), KW_ERR_FORMAT);
	n = sizeof(r);
	assert_int_equal(parse_apdu("+CGLA: 2,\"90\"", "+CGLA:", r, &n), KW_ERR_FORMAT);
	n = sizeof(r);
	assert_int_equal(parse_apdu("+CGLA: 4,\"9000", "+CGLA:", r, &n), KW_ERR_FORMAT);
	n = sizeof(r);
	assert_int_equal(parse_apdu("+CGLA: 4 \"9000\"", "+CGLA:", r, &n), KW_ERR_FORMAT);
	n = sizeof(r);
	assert_int_equal(parse_apdu("+CSIM: 4,\"9000\"", "+CGLA:", r, &n), KW_ERR_FORMAT);
	n = 1;
	assert_int_equal(parse_apdu("+CGLA: 4,\"9000\"", "+CGLA:", r, &n), KW_ERR_RANGE);
	/* format */
	memset(apdu, 0, sizeof(apdu));
	assert_int_equal(kw_at_format_apdu(line, sizeof(line), true, 423,
	    (const uint8_t *)"\x00\xFD\x00\x00\x00", 5), KW_OK);
	assert_string_equal(line, "AT+CGLA=423,10,\"00FD000000\"");
	assert_int_equal(kw_at_format_apdu(line, sizeof(line), false, 0,
	    (const uint8_t *)"\x00\x70\x00\x00\x01", 5), KW_OK);
	assert_string_equal(line, "AT+CSIM=10,\"0070000001\"");
	assert_int_equal(kw_at_format_apdu(line, sizeof(line), false, 0, apdu, KW_AT_MAX_APDU),
	    KW_OK);
	assert_int_equal(kw_at_format_apdu(line, sizeof(line), false, 0, apdu,
	    KW_AT_MAX_APDU + 1), KW_ERR_RANGE);
	assert_int_equal(kw_at_format_apdu(line, 20, false, 0, apdu, 10), KW_ERR_RANGE);
}

static void
test_cme(void **state)
{
	const char *text;

	(void)state;
	assert_int_equal(kw_at_cme_rv(4, &text), KW_ERR_NOT_SUPPORTED);
	assert_string_equal(text, "operation not supported");
	assert_int_equal(kw_at_cme_rv(10, &text), KW_ERR_NO_CARD);
	assert_int_equal(kw_at_cme_rv(21, &text), KW_ERR_CARD_REMOVED);
	assert_int_equal(kw_at_cme_rv(22, &text), KW_ERR_NOT_FOUND);
	assert_int_equal(kw_at_cme_rv(14, &text), KW_ERR_SHARING);
	assert_int_equal(kw_at_cme_rv(777, &text), KW_ERR_TRANSPORT);
	assert_int_equal(kw_at_cme_rv(-1, &text), KW_ERR_TRANSPORT);
}

/* Deterministic pseudo-random modem lines through every parser: no crash
 * (ASan builds), outputs cleared on every error. */
static uint32_t lcg_state = 12345;

static uint32_t
lcg(void)
{
	lcg_state = lcg_state * 1103515245u + 12345u;
	return lcg_state >> 8;
}

static void
test_parse_robust(void **state)
{
	static const char *const parts[] = {
		"+CGLA:", "+CSIM:", "+CCHO:", "+CME ERROR:", "OK", "ERROR", "AT", " ", ",", "\"",
		"9000", "0", "12", "65535", "99999999999", "A", "f", "G", "\r", "\x01", "\xff",
		"RING", "+CREG: 1", "-", "\t",
	};
	kw_at_expect ex = { NULL, "+CGLA:", true };
	char line[KW_AT_MAX_LINE + 64];
	uint8_t r[KW_AT_MAX_RESP];
	unsigned long sid;
	size_t n, len, k;
	int i, cme;
	kw_rv rv;

	(void)state;
	for (i = 0; i < 20000; i++) {
		len = 0;
		for (k = lcg() % 12; k > 0; k--) {
			const char *p = parts[lcg() % (sizeof(parts) / sizeof(parts[0]))];

			if (len + strlen(p) >= sizeof(line))
				break;
			memcpy(line + len, p, strlen(p));
			len += strlen(p);
		}
		if (lcg() % 50 == 0) {   /* now and then an overlong line */
			memset(line, '9', sizeof(line) - 1);
			len = sizeof(line) - 1;
		}
		(void)kw_at_classify(kw_view_make(line, len), &ex, &cme);
		rv = kw_at_parse_ccho(kw_view_make(line, len), &sid);
		if (rv != KW_OK)
			assert_int_equal(sid, 0);
		n = 1 + lcg() % sizeof(r);
		rv = kw_at_parse_apdu(kw_view_make(line, len), i % 2 ? "+CGLA:" : "+CSIM:", r, &n);
		if (rv != KW_OK)
			assert_int_equal(n, 0);
		else
			assert_true(n >= 2 && n <= sizeof(r));
	}
}

/* ---- the transport against keyward-vcard's modem on a pty ---- */

typedef struct modem {
	vcard_card *card;
	vcard_uicc *u;
	vcard_modem_cfg cfg;
	volatile sig_atomic_t stop;
	pthread_t thr;
	bool running;
	char dir[64], link[96], uri[128];
} modem;

static void *
modem_thread(void *arg)
{
	modem *m = arg;

	(void)vcard_modem_run(m->u, &m->cfg);
	return NULL;
}

static void
modem_start(modem *m, unsigned quirks, unsigned faults, unsigned fault_at)
{
	struct stat st;
	int i;

	memset(m, 0, sizeof(*m));
	snprintf(m->dir, sizeof(m->dir), "/tmp/kwat.XXXXXX");
	assert_non_null(mkdtemp(m->dir));
	snprintf(m->link, sizeof(m->link), "%s/modem", m->dir);
	snprintf(m->uri, sizeof(m->uri), "at:%s", m->link);
	setenv("KEYWARD_LOCK_DIR", m->dir, 1);
	assert_int_equal(vcard_card_new(&m->card), KW_OK);
	assert_int_equal(vcard_uicc_new(m->card, &m->u), KW_OK);
	m->cfg.link = m->link;
	m->cfg.quirks = quirks;
	m->cfg.faults = faults;
	m->cfg.fault_at = fault_at;
	m->cfg.stop = &m->stop;
	assert_int_equal(pthread_create(&m->thr, NULL, modem_thread, m), 0);
	m->running = true;
	for (i = 0; i < 200 && lstat(m->link, &st) != 0; i++)
		usleep(10000);
	assert_int_equal(lstat(m->link, &st), 0);
}

static void
modem_stop(modem *m)
{
	m->stop = 1;
	if (m->running)
		pthread_join(m->thr, NULL);
	m->running = false;
	vcard_uicc_free(&m->u);
	vcard_card_free(&m->card);
	(void)unlink(m->link);
	rmdir(m->dir);
}

static uint16_t
piv_version(kw_transport *t, kw_rv *rv_out)
{
	static const uint8_t aid[] = { 0xA0, 0x00, 0x00, 0x03, 0x08 };
	kw_apdu sel = { 0x00, 0xA4, 0x04, 0x00, aid, sizeof(aid), 256, 0 };
	kw_apdu ver = { 0x00, 0xFD, 0x00, 0x00, NULL, 0, 256, 0 };
	kw_buf r;
	uint16_t sw = 0;
	kw_rv rv;

	kw_buf_init(&r, 0);
	rv = kw_apdu_transmit(t, &sel, &r, &sw);
	if (rv == KW_OK && sw == 0x9000) {
		kw_buf_reset(&r);
		rv = kw_apdu_transmit(t, &ver, &r, &sw);
		if (rv == KW_OK && (r.len != 3 || r.data[0] != 5))
			sw = 0;
	}
	if (rv_out != NULL)
		*rv_out = rv;
	kw_buf_free(&r);
	return rv == KW_OK ? sw : 0;
}

static int
count_open_channels(const modem *m)
{
	int i, n = 0;

	for (i = 1; i < VCARD_UICC_CHANNELS; i++)
		n += vcard_uicc_channel_open(m->u, i);
	return n;
}

/* One profile: open, channel report, PIV through it, close. */
static void
run_profile(unsigned quirks, int want_channel)
{
	kw_transport *t = NULL;
	modem m;
	uint64_t apdus;
	int i;

	modem_start(&m, quirks, 0, 0);
	assert_int_equal(kw_transport_open(m.uri, &t), KW_OK);
	assert_int_equal(kw_transport_channel(t), want_channel);
	assert_int_equal(count_open_channels(&m), 1);
	for (i = 0; i < 3; i++)
		assert_int_equal(piv_version(t, NULL), 0x9000);
	apdus = kw_transport_apdu_count(t);
	assert_int_equal(apdus, 6);
	assert_int_equal(kw_transport_present(t), KW_OK);
	kw_transport_free(&t);
	assert_int_equal(count_open_channels(&m), 0);
	modem_stop(&m);
}

static void test_plain(void **s) { (void)s; run_profile(0, 0); }
static void test_bare_ccho(void **s) { (void)s; run_profile(VCARD_AT_Q_BARE_CCHO, 0); }
static void test_no_cgla(void **s) { (void)s; run_profile(VCARD_AT_Q_NO_CGLA, 1); }
static void test_urc(void **s) { (void)s; run_profile(VCARD_AT_Q_URC, 0); }
static void test_slow(void **s) { (void)s; run_profile(VCARD_AT_Q_SLOW | VCARD_AT_Q_URC, 0); }
static void
test_all_quirks(void **s)
{
	(void)s;
	run_profile(VCARD_AT_Q_BARE_CCHO | VCARD_AT_Q_NO_CGLA | VCARD_AT_Q_URC | VCARD_AT_Q_SLOW, 1);
}

static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A fault at the 3rd APDU command (the 2nd SELECT after open's +CCHO):
 * a clear error, quickly, and the next command works again. */
static void
run_fault(unsigned quirks, unsigned fault, kw_rv want)
{
	kw_transport *t = NULL;
	struct timespec t0;
	modem m;
	kw_rv rv;

	setenv("KEYWARD_MODEM_TIMEOUT_MS", "700", 1);
	/* +CSIM mode spends one APDU command on MANAGE CHANNEL at open */
	modem_start(&m, quirks, fault, (quirks & VCARD_AT_Q_NO_CGLA) ? 4 : 3);
	assert_int_equal(kw_transport_open(m.uri, &t), KW_OK);
	assert_int_equal(piv_version(t, NULL), 0x9000);   /* APDU commands before the fault */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	(void)piv_version(t, &rv);
	if (rv == KW_OK)
		(void)piv_version(t, &rv);
	assert_int_equal(rv, want);
	assert_true(elapsed_ms(&t0) < 3000);
	if (fault == VCARD_AT_F_VANISH) {
		assert_int_equal(kw_transport_present(t), KW_ERR_SERVICE_GONE);
		assert_int_equal(piv_version(t, &rv), 0);
		assert_int_equal(rv, KW_ERR_SERVICE_GONE);
	} else {
		assert_int_equal(piv_version(t, &rv), 0x9000);
	}
	kw_transport_free(&t);
	modem_stop(&m);
	unsetenv("KEYWARD_MODEM_TIMEOUT_MS");
}

/* A late reply (issue 9): the modem runs the 3rd APDU command but answers
 * only after the client's timeout. The client must not take that late
 * "+CGLA: ..." for the answer to its next command: after resynchronising,
 * every following answer belongs to its own command (the version answer is
 * checked, and a SELECT's answer is not a version). */
static void
run_late(unsigned quirks)
{
	kw_transport *t = NULL;
	struct timespec t0;
	modem m;
	kw_rv rv;
	int i;

	setenv("KEYWARD_MODEM_TIMEOUT_MS", "400", 1);
	modem_start(&m, quirks, VCARD_AT_F_LATE, (quirks & VCARD_AT_Q_NO_CGLA) ? 4 : 3);
	m.cfg.late_ms = 700;
	assert_int_equal(kw_transport_open(m.uri, &t), KW_OK);
	assert_int_equal(piv_version(t, NULL), 0x9000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	(void)piv_version(t, &rv);
	assert_int_equal(rv, KW_ERR_TIMEOUT);
	assert_true(elapsed_ms(&t0) < 1500);
	for (i = 0; i < 8; i++)
		assert_int_equal(piv_version(t, NULL), 0x9000);
	kw_transport_free(&t);
	modem_stop(&m);
	unsetenv("KEYWARD_MODEM_TIMEOUT_MS");
}

static void test_late_reply(void **s) { (void)s; run_late(0); }
static void test_late_reply_urc(void **s) { (void)s; run_late(VCARD_AT_Q_URC | VCARD_AT_Q_SLOW); }
static void test_late_reply_csim(void **s) { (void)s; run_late(VCARD_AT_Q_NO_CGLA); }

static void test_fault_garbage(void **s) { (void)s; run_fault(0, VCARD_AT_F_GARBAGE, KW_ERR_PROTOCOL); }
static void test_fault_error(void **s) { (void)s; run_fault(0, VCARD_AT_F_ERROR_MID, KW_ERR_TRANSPORT); }
static void test_fault_noreply(void **s) { (void)s; run_fault(VCARD_AT_Q_URC, VCARD_AT_F_NO_REPLY, KW_ERR_TIMEOUT); }
static void test_fault_vanish(void **s) { (void)s; run_fault(0, VCARD_AT_F_VANISH, KW_ERR_SERVICE_GONE); }
static void test_fault_csim(void **s) { (void)s; run_fault(VCARD_AT_Q_NO_CGLA, VCARD_AT_F_GARBAGE, KW_ERR_PROTOCOL); }

static void
test_exclusive(void **state)
{
	kw_transport *a = NULL, *b = NULL;
	modem m;
	char lck[256], buf[32];
	FILE *f;

	(void)state;
	modem_start(&m, 0, 0, 0);
	assert_int_equal(kw_transport_open(m.uri, &a), KW_OK);
	assert_int_equal(kw_transport_open(m.uri, &b), KW_ERR_SHARING);
	assert_null(b);
	/* the UUCP-style lock file names us */
	snprintf(lck, sizeof(lck), "ls %s | grep -c '^LCK\\.\\.pts_' > %s/n", m.dir, m.dir);
	assert_int_equal(system(lck), 0);
	snprintf(lck, sizeof(lck), "%s/n", m.dir);
	assert_non_null(f = fopen(lck, "r"));
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	unlink(lck);
	assert_int_equal(atoi(buf), 1);
	kw_transport_free(&a);
	assert_int_equal(kw_transport_open(m.uri, &b), KW_OK);
	kw_transport_free(&b);
	snprintf(lck, sizeof(lck), "ls %s | grep -q '^LCK'", m.dir);
	assert_int_not_equal(system(lck), 0);   /* removed at close */
	modem_stop(&m);
	assert_int_equal(kw_transport_open("at:/nonexistent/ttyUSB9", &a), KW_ERR_NO_READER);
	assert_int_equal(kw_transport_open("at:/dev/null", &a), KW_ERR_ARG);   /* not a tty */
}

static void
test_list(void **state)
{
	kw_strlist l = { NULL, 0 };
	modem m;
	char env[256];

	(void)state;
	modem_start(&m, 0, 0, 0);
	setenv("KEYWARD_CONF", "/nonexistent/keyward.conf", 1);
	snprintf(env, sizeof(env), "%s:/nonexistent/ttyUSB7:/dev/null", m.link);
	setenv("KEYWARD_MODEM_PORTS", env, 1);
	assert_int_equal(kw_atmodem_ops.list(&l), KW_OK);
	assert_int_equal(l.n, 2);    /* the pty, and /dev/null (a char device) */
	assert_string_equal(l.v[0], m.uri);
	kw_strlist_free(&l);
	unsetenv("KEYWARD_MODEM_PORTS");
	assert_int_equal(kw_atmodem_ops.list(&l), KW_OK);
	assert_int_equal(l.n, 0);
	unsetenv("KEYWARD_CONF");
	modem_stop(&m);
}

/* ---- the transport against scripted modems (reply styles of TS 27.007
 * and real modems, independent of keyward-vcard's interpreter) ---- */

typedef struct step {
	const char *expect;   /* prefix of the command line; NULL ends */
	const char *reply;    /* written verbatim; NULL = no reply */
} step;

typedef struct scripted {
	const step *steps;
	int master, slave;
	char link[96];
	char dir[64];
	pthread_t thr;
	volatile int stop;
	int mismatches;
} scripted;

static void *
scripted_thread(void *arg)
{
	scripted *m = arg;
	char line[4096];
	size_t len = 0, i = 0;
	struct pollfd pfd = { m->master, POLLIN, 0 };
	char ch;

	while (!m->stop) {
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		if (read(m->master, &ch, 1) != 1)
			break;
		if (ch == '\n')
			continue;
		if (ch != '\r') {
			if (len < sizeof(line) - 1)
				line[len++] = ch;
			continue;
		}
		line[len] = '\0';
		len = 0;
		if (m->steps[i].expect == NULL) {
			(void)!write(m->master, "\r\nERROR\r\n", 9);
			continue;
		}
		if (strncmp(line, m->steps[i].expect, strlen(m->steps[i].expect)) != 0) {
			fprintf(stderr, "scripted modem: got '%s', expected '%s'\n", line,
			    m->steps[i].expect);
			m->mismatches++;
		}
		if (m->steps[i].reply != NULL)
			(void)!write(m->master, m->steps[i].reply, strlen(m->steps[i].reply));
		i++;
	}
	return NULL;
}

static void
scripted_start(scripted *m, const step *steps)
{
	struct termios t;
	char name[128];

	memset(m, 0, sizeof(*m));
	m->steps = steps;
	snprintf(m->dir, sizeof(m->dir), "/tmp/kwat.XXXXXX");
	assert_non_null(mkdtemp(m->dir));
	snprintf(m->link, sizeof(m->link), "%s/modem", m->dir);
	setenv("KEYWARD_LOCK_DIR", m->dir, 1);
	assert_int_equal(openpty(&m->master, &m->slave, name, NULL, NULL), 0);
	assert_int_equal(tcgetattr(m->slave, &t), 0);
	cfmakeraw(&t);
	assert_int_equal(tcsetattr(m->slave, TCSANOW, &t), 0);
	assert_int_equal(symlink(name, m->link), 0);
	assert_int_equal(pthread_create(&m->thr, NULL, scripted_thread, m), 0);
}

static void
scripted_stop(scripted *m)
{
	m->stop = 1;
	pthread_join(m->thr, NULL);
	close(m->master);
	close(m->slave);
	unlink(m->link);
	rmdir(m->dir);
	assert_int_equal(m->mismatches, 0);
}

#define OPEN_STEPS(ccho_reply) \
	{ "AT", "AT\r\r\nOK\r\n" }, { "ATE0", "ATE0\r\r\nOK\r\n" }, \
	{ "AT+CMEE=1", "\r\nOK\r\n" }, { "AT+CCHO=\"A000000308000010000100\"", ccho_reply }

static kw_rv
scripted_open(const step *steps, kw_transport **t, scripted *m)
{
	char uri[128];

	scripted_start(m, steps);
	snprintf(uri, sizeof(uri), "at:%s", m->link);
	return kw_transport_open(uri, t);
}

static kw_rv
xmit(kw_transport *t, const char *hex, char *out, size_t outsz)
{
	uint8_t r[300];
	size_t n = sizeof(r);
	kw_buf cmd;
	kw_rv rv;

	kw_buf_init(&cmd, 0);
	assert_int_equal(kw_hex_decode(hex, &cmd), KW_OK);
	rv = kw_transport_transmit(t, cmd.data, cmd.len, r, &n);
	kw_buf_free(&cmd);
	out[0] = '\0';
	if (rv == KW_OK)
		assert_int_equal(kw_hex_encode(r, n, out, outsz), KW_OK);
	return rv;
}

/* Echo left on, spaces and no quotes, a text CME error, a lost session
 * (+CME ERROR: 21) reopened under a new id. */
static void
test_scripted_styles(void **state)
{
	static const step steps[] = {
		OPEN_STEPS("AT+CCHO=\"A000000308000010000100\"\r\r\n+CCHO:  17 \r\n\r\nOK\r\n"),
		{ "AT+CGLA=17,10,\"00FD000000\"", "\r\n+CREG: 2\r\n\r\n+CGLA: 10,0504039000\r\n\r\nOK\r\n" },
		{ "AT+CGLA=17,8,", "\r\n+CGLA: 6 , \"9000\"\r\n\r\nOK\r\n" },
		{ "AT+CGLA=17,", "\r\n+CME ERROR: 21\r\n" },
		{ "AT+CCHO=", "\r\n99\r\n\r\nOK\r\n" },
		{ "AT+CGLA=99,10,", "\r\n+CGLA: 4,\"9000\"\r\nOK\r\n" },
		{ "AT+CCHC=99", "\r\nOK\r\n" },
		{ NULL, NULL },
	};
	kw_transport *t = NULL;
	scripted m;
	char out[600];

	(void)state;
	assert_int_equal(scripted_open(steps, &t, &m), KW_OK);
	assert_int_equal(kw_transport_channel(t), 0);
	assert_int_equal(xmit(t, "00FD000000", out, sizeof(out)), KW_OK);
	assert_string_equal(out, "0504039000");
	assert_int_equal(xmit(t, "00000000", out, sizeof(out)), KW_ERR_PROTOCOL);   /* 6 != 4 */
	assert_int_equal(xmit(t, "00FD000000", out, sizeof(out)), KW_ERR_CARD_REMOVED);
	assert_int_equal(xmit(t, "00FD000000", out, sizeof(out)), KW_OK);
	assert_string_equal(out, "9000");
	kw_transport_free(&t);
	scripted_stop(&m);
}

static void
run_open_error(const char *ccho_reply, const step *more, kw_rv want)
{
	step steps[8] = { OPEN_STEPS(ccho_reply) };
	kw_transport *t = NULL;
	scripted m;
	size_t i;

	for (i = 0; more != NULL && more[i].expect != NULL; i++)
		steps[4 + i] = more[i];
	assert_int_equal(scripted_open(steps, &t, &m), want);
	assert_null(t);
	scripted_stop(&m);
}

static void
test_scripted_open_errors(void **state)
{
	static const step csim_error[] = { { "AT+CSIM=10,\"0070000001\"", "\r\nERROR\r\n" },
		{ NULL, NULL } };
	static const step csim_full[] = { { "AT+CSIM=10,", "\r\n+CSIM: 4,\"6A81\"\r\n\r\nOK\r\n" },
		{ NULL, NULL } };

	(void)state;
	run_open_error("\r\n+CME ERROR: 10\r\n", NULL, KW_ERR_NO_CARD);
	run_open_error("\r\n+CME ERROR: 22\r\n", NULL, KW_ERR_NOT_FOUND);
	run_open_error("\r\n+CME ERROR: SIM busy\r\n", NULL, KW_ERR_TRANSPORT);
	run_open_error("\r\nERROR\r\n", csim_error, KW_ERR_NOT_SUPPORTED);
	run_open_error("\r\n+CME ERROR: 4\r\n", csim_full, KW_ERR_CARD);
	run_open_error("\r\n+CCHO: 1\r\n\r\n+CCHO: 2\r\n\r\nOK\r\n", NULL, KW_ERR_PROTOCOL);
	run_open_error("\r\n+CCHO: x\r\n\r\nOK\r\n", NULL, KW_ERR_PROTOCOL);
	run_open_error("\r\nOK\r\n", NULL, KW_ERR_PROTOCOL);          /* no session id */
}

/* Bounded: an endless line, a flood of URCs, silence. */
static void
test_scripted_bounds(void **state)
{
	static char endless[KW_AT_MAX_LINE + 200], flood[64 * 8 + 1];
	step steps[6] = { OPEN_STEPS("\r\n+CCHO: 5\r\n\r\nOK\r\n") };
	kw_transport *t = NULL;
	scripted m;
	char out[600];
	int i;

	(void)state;
	memset(endless, 'A', sizeof(endless) - 1);
	for (i = 0; i < 64; i++)
		memcpy(flood + i * 8, "\r\nRING\r\n", 8);
	steps[4].expect = "AT+CGLA=5,";
	steps[4].reply = endless;
	assert_int_equal(scripted_open(steps, &t, &m), KW_OK);
	assert_int_equal(xmit(t, "00FD000000", out, sizeof(out)), KW_ERR_PROTOCOL);
	kw_transport_free(&t);
	scripted_stop(&m);
	steps[4].reply = flood;
	assert_int_equal(scripted_open(steps, &t, &m), KW_OK);
	assert_int_equal(xmit(t, "00FD000000", out, sizeof(out)), KW_ERR_PROTOCOL);
	kw_transport_free(&t);
	scripted_stop(&m);
	setenv("KEYWARD_MODEM_TIMEOUT_MS", "300", 1);
	steps[4].reply = NULL;
	assert_int_equal(scripted_open(steps, &t, &m), KW_OK);
	assert_int_equal(xmit(t, "00FD000000", out, sizeof(out)), KW_ERR_TIMEOUT);
	kw_transport_free(&t);
	scripted_stop(&m);
	unsetenv("KEYWARD_MODEM_TIMEOUT_MS");
}

/* The resync marker of a modem whose earlier markers answer late too: a
 * scripted modem answers the first marker only after the second was sent;
 * the client tells the two apart by their number of +CMEE lines. */
static void
test_scripted_late_markers(void **state)
{
	static const step steps[] = {
		OPEN_STEPS("\r\n+CCHO: 5\r\n\r\nOK\r\n"),
		{ "AT+CGLA=5,10,\"00FD000000\"", NULL },       /* silence: timeout */
		{ "AT+CMEE?", NULL },                          /* marker 1: silence */
		/* marker 2: first the late CGLA reply, marker 1's, then its own */
		{ "AT+CMEE?;+CMEE?", "\r\n+CGLA: 10,\"0504039000\"\r\n\r\nOK\r\n"
		    "\r\n+CMEE: 1\r\n\r\nOK\r\n"
		    "\r\n+CMEE: 1\r\n\r\n+CMEE: 1\r\n\r\nOK\r\n" },
		{ "AT+CGLA=5,8,\"00A40400\"", "\r\n+CGLA: 4,\"6A82\"\r\n\r\nOK\r\n" },
		{ NULL, NULL },
	};
	kw_transport *t = NULL;
	scripted m;
	char out[600];

	(void)state;
	setenv("KEYWARD_MODEM_TIMEOUT_MS", "300", 1);
	assert_int_equal(scripted_open(steps, &t, &m), KW_OK);
	assert_int_equal(xmit(t, "00FD000000", out, sizeof(out)), KW_ERR_TIMEOUT);
	/* the first resync gets no answer in time: the command is not sent */
	assert_int_equal(xmit(t, "00A40400", out, sizeof(out)), KW_ERR_TIMEOUT);
	assert_int_equal(xmit(t, "00A40400", out, sizeof(out)), KW_OK);
	assert_string_equal(out, "6A82");
	kw_transport_free(&t);
	scripted_stop(&m);
	unsetenv("KEYWARD_MODEM_TIMEOUT_MS");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_parse_ccho),
		cmocka_unit_test(test_parse_apdu),
		cmocka_unit_test(test_cme),
		cmocka_unit_test(test_parse_robust),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_bare_ccho),
		cmocka_unit_test(test_no_cgla),
		cmocka_unit_test(test_urc),
		cmocka_unit_test(test_slow),
		cmocka_unit_test(test_all_quirks),
		cmocka_unit_test(test_fault_garbage),
		cmocka_unit_test(test_fault_error),
		cmocka_unit_test(test_fault_noreply),
		cmocka_unit_test(test_fault_vanish),
		cmocka_unit_test(test_fault_csim),
		cmocka_unit_test(test_late_reply),
		cmocka_unit_test(test_late_reply_urc),
		cmocka_unit_test(test_late_reply_csim),
		cmocka_unit_test(test_scripted_late_markers),
		cmocka_unit_test(test_scripted_styles),
		cmocka_unit_test(test_scripted_open_errors),
		cmocka_unit_test(test_scripted_bounds),
		cmocka_unit_test(test_exclusive),
		cmocka_unit_test(test_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
