/* drivers/pcsc against a fake SCard* layer (test_pcsc_fake.c): error
 * mapping, open/transmit, removal (also during a transmit), reset by another
 * process, pcscd stop and restart, bounded transactions, enumeration and
 * the hotplug monitor. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kw_transport.h"
#include "pcsc/kw_pcsc.h"
#include "test_pcsc_fake.h"

/* This test links the pcsc driver alone, so it brings its own registry. */
const kw_transport_ops *const kw_builtin_transports[] = { &kw_pcsc_ops, NULL };

#define R0 "Yubico keyward vcard 00 00"
#define R1 "Yubico keyward vcard 00 01"
#define R2 "Empty Reader 00 00"

static int
setup(void **state)
{
	(void)state;
	fake_init();
	unsetenv("KEYWARD_PCSC_LOCK_TIMEOUT_MS");
	return 0;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static kw_rv
xmit(kw_transport *t, const char *what)
{
	uint8_t cmd[] = { 0x00, 0xa4, 0x04, 0x00, 0x05, 0xa0, 0x00, 0x00, 0x03, 0x08 };
	uint8_t resp[258];
	size_t rlen = sizeof(resp);

	(void)what;
	return kw_transport_transmit(t, cmd, sizeof(cmd), resp, &rlen);
}

static void
test_error_mapping(void **state)
{
	static const struct {
		LONG rc;
		bool est;
		kw_rv rv;
	} m[] = {
		{ SCARD_S_SUCCESS, true, KW_OK },
		{ SCARD_E_NO_SERVICE, false, KW_ERR_NO_SERVICE },
		{ SCARD_E_NO_SERVICE, true, KW_ERR_SERVICE_GONE },
		{ SCARD_E_SERVICE_STOPPED, false, KW_ERR_SERVICE_GONE },
		{ SCARD_E_SERVICE_STOPPED, true, KW_ERR_SERVICE_GONE },
		{ SCARD_F_COMM_ERROR, true, KW_ERR_SERVICE_GONE },
		{ SCARD_E_INVALID_HANDLE, true, KW_ERR_SERVICE_GONE },
		{ SCARD_E_INVALID_HANDLE, false, KW_ERR_ARG },
		{ SCARD_W_REMOVED_CARD, true, KW_ERR_CARD_REMOVED },
		{ SCARD_W_RESET_CARD, true, KW_ERR_CARD_RESET },
		{ SCARD_W_UNPOWERED_CARD, true, KW_ERR_CARD_RESET },
		{ SCARD_E_NO_SMARTCARD, true, KW_ERR_NO_CARD },
		{ SCARD_E_UNKNOWN_READER, true, KW_ERR_NO_READER },
		{ SCARD_E_READER_UNAVAILABLE, true, KW_ERR_NO_READER },
		{ SCARD_E_NO_READERS_AVAILABLE, false, KW_ERR_NO_READER },
		{ SCARD_E_SHARING_VIOLATION, true, KW_ERR_SHARING },
		{ SCARD_E_TIMEOUT, true, KW_ERR_TIMEOUT },
		{ SCARD_E_NO_MEMORY, true, KW_ERR_NOMEM },
		{ SCARD_E_INSUFFICIENT_BUFFER, true, KW_ERR_RANGE },
		{ SCARD_W_UNRESPONSIVE_CARD, true, KW_ERR_TRANSPORT },
		{ SCARD_E_PROTO_MISMATCH, true, KW_ERR_TRANSPORT },
		{ SCARD_E_UNSUPPORTED_FEATURE, true, KW_ERR_NOT_SUPPORTED },
		{ (LONG)0x80100099, true, KW_ERR_TRANSPORT },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		if (kw_pcsc_rv(m[i].rc, m[i].est) != m[i].rv)
			fail_msg("%s (est=%d): got %s", kw_pcsc_code_name(m[i].rc), m[i].est,
			    kw_strerror(kw_pcsc_rv(m[i].rc, m[i].est)));
	}
	assert_string_equal(kw_pcsc_code_name(SCARD_W_RESET_CARD), "SCARD_W_RESET_CARD");
	assert_string_equal(kw_pcsc_code_name((LONG)0x80100099), "SCARD_(other)");
}

static void
test_open_errors(void **state)
{
	kw_transport *t = NULL;

	(void)state;
	fake_add_reader(R0, true);
	fake_add_reader(R2, false);
	assert_int_equal(kw_transport_open("pcsc:No Such Reader", &t), KW_ERR_NO_READER);
	assert_null(t);
	assert_int_equal(kw_transport_open("pcsc:" R2, &t), KW_ERR_NO_CARD);
	assert_int_equal(kw_transport_open("pcsc:", &t), KW_ERR_ARG);
	fake_set_service(false);
	assert_int_equal(kw_transport_open("pcsc:" R0, &t), KW_ERR_NO_SERVICE);
	/* Every context that was established was released again. */
	assert_int_equal(fake_get()->release + 1, fake_get()->establish);
}

static void
test_transmit(void **state)
{
	uint8_t cmd[] = { 0x00, 0xcb, 0x3f, 0xff, 0x05, 0x5c, 0x03, 0x5f, 0xc1, 0x02, 0x00 };
	uint8_t resp[300], atr[KW_MAX_ATR];
	size_t rlen = sizeof(resp), alen = sizeof(atr);
	kw_transport *t = NULL;

	(void)state;
	fake_add_reader(R0, true);
	assert_int_equal(kw_transport_open("pcsc:" R0, &t), KW_OK);
	assert_string_equal(kw_transport_name(t), "pcsc:" R0);
	fake_set_response("5303010203" "9000");
	assert_int_equal(kw_transport_transmit(t, cmd, sizeof(cmd), resp, &rlen), KW_OK);
	assert_int_equal(rlen, 7);
	assert_memory_equal(resp, "\x53\x03\x01\x02\x03\x90\x00", 7);
	assert_int_equal(fake_get()->last_cmd_len, sizeof(cmd));
	assert_memory_equal(fake_get()->last_cmd, cmd, sizeof(cmd));
	assert_ptr_equal(fake_get()->last_pci, SCARD_PCI_T1);
	assert_int_equal(kw_transport_apdu_count(t), 1);
	/* A response larger than the caller's buffer is an error, not a cut. */
	rlen = 4;
	assert_int_equal(kw_transport_transmit(t, cmd, sizeof(cmd), resp, &rlen), KW_ERR_RANGE);
	/* A response without a status word breaks the protocol. */
	fake_set_response("90");
	rlen = sizeof(resp);
	assert_int_equal(kw_transport_transmit(t, cmd, sizeof(cmd), resp, &rlen),
	    KW_ERR_PROTOCOL);
	assert_int_equal(kw_transport_get_atr(t, atr, &alen), KW_OK);
	assert_int_equal(alen, 18);
	assert_int_equal(atr[0], 0x3b);
	assert_int_equal(kw_transport_present(t), KW_OK);
	assert_int_equal(kw_transport_reset(t), KW_OK);
	assert_int_equal(fake_get()->last_reconnect_init, SCARD_RESET_CARD);
	kw_transport_free(&t);
	assert_null(t);
	assert_int_equal(fake_get()->disconnect, 1);
	assert_int_equal(fake_get()->release, fake_get()->establish);
	assert_int_equal(fake_open_objects(), 0);
}

static void
test_t0(void **state)
{
	kw_transport *t = NULL;

	(void)state;
	fake_add_reader(R0, true);
	fake_set_proto(SCARD_PROTOCOL_T0);
	assert_int_equal(kw_transport_open("pcsc:" R0, &t), KW_OK);
	assert_int_equal(xmit(t, "select"), KW_OK);
	assert_ptr_equal(fake_get()->last_pci, SCARD_PCI_T0);
	kw_transport_free(&t);
}

static void
test_card_removed(void **state)
{
	kw_transport *t = NULL;
	int r;

	(void)state;
	r = fake_add_reader(R0, true);
	assert_int_equal(kw_transport_open("pcsc:" R0, &t), KW_OK);
	assert_int_equal(xmit(t, "select"), KW_OK);
	fake_set_card(r, false);
	assert_int_equal(xmit(t, "select"), KW_ERR_CARD_REMOVED);
	assert_int_equal(xmit(t, "select"), KW_ERR_NO_CARD);
	assert_int_equal(kw_transport_present(t), KW_ERR_NO_CARD);
	/* A card comes back: the transport reconnects by itself. */
	fake_set_card(r, true);
	assert_int_equal(kw_transport_present(t), KW_OK);
	assert_int_equal(xmit(t, "select"), KW_OK);
	assert_int_equal(fake_get()->connect, 4);
	/* Removed and reinserted between two calls: still reported once. */
	fake_set_card(r, false);
	fake_set_card(r, true);
	assert_int_equal(kw_transport_present(t), KW_ERR_CARD_REMOVED);
	assert_int_equal(xmit(t, "select"), KW_OK);
	kw_transport_free(&t);
}

/* The card pulled during a command (issue 9): pcscd answers the transmit
 * SCARD_E_NOT_TRANSACTED and reports the removal only at its next poll.
 * The transport says KW_ERR_CARD_REMOVED on that very call, within the
 * settle bound, whether pcscd already knows (lag 0) or not yet. */
static void
test_pulled_in_transmit(void **state)
{
	static const unsigned lags[] = { 0, 250 };
	kw_transport *t = NULL;
	long t0, dt;
	size_t i;
	int r;

	(void)state;
	r = fake_add_reader(R0, true);
	for (i = 0; i < sizeof(lags) / sizeof(lags[0]); i++) {
		fake_set_card(r, true);
		assert_int_equal(kw_transport_open("pcsc:" R0, &t), KW_OK);
		assert_int_equal(xmit(t, "select"), KW_OK);
		fake_pull_in_transmit(r, lags[i]);
		t0 = now_ms();
		assert_int_equal(xmit(t, "sign"), KW_ERR_CARD_REMOVED);
		dt = now_ms() - t0;
		assert_true(dt >= (long)lags[i]);
		assert_true(dt < KW_PCSC_SETTLE_MS + 200);
		assert_int_equal(kw_transport_present(t), KW_ERR_NO_CARD);
		kw_transport_free(&t);
	}
}

/* The same error with the card still there (a glitch): a transport error,
 * after waiting for pcscd at most the settle bound; the handle stays
 * connected and the next command goes through. */
static void
test_transmit_glitch(void **state)
{
	kw_transport *t = NULL;
	long t0, dt;

	(void)state;
	fake_add_reader(R0, true);
	assert_int_equal(kw_transport_open("pcsc:" R0, &t), KW_OK);
	fake_set_transmit_rc(SCARD_E_NOT_TRANSACTED);
	t0 = now_ms();
	assert_int_equal(xmit(t, "sign"), KW_ERR_TRANSPORT);
	dt = now_ms() - t0;
	assert_true(dt >= KW_PCSC_SETTLE_MS - 50 && dt < KW_PCSC_SETTLE_MS + 1000);
	assert_int_equal(kw_transport_present(t), KW_OK);
	assert_int_equal(xmit(t, "select"), KW_OK);
	assert_int_equal(fake_get()->connect, 1);
	/* an answer without a status word (what Debian's vpcd gives when the
	 * card's socket closes): the same check, then a protocol error */
	fake_set_response("90");
	assert_int_equal(xmit(t, "sign"), KW_ERR_PROTOCOL);
	fake_set_response("9000");
	assert_int_equal(xmit(t, "select"), KW_OK);
	kw_transport_free(&t);
}

static void
test_reset_by_other(void **state)
{
	kw_transport *t = NULL;
	int r;

	(void)state;
	r = fake_add_reader(R0, true);
	assert_int_equal(kw_transport_open("pcsc:" R0, &t), KW_OK);
	fake_reset_by_other(r);
	assert_int_equal(xmit(t, "select"), KW_ERR_CARD_RESET);
	assert_int_equal(fake_get()->reconnect, 1);
	assert_int_equal(fake_get()->last_reconnect_init, SCARD_LEAVE_CARD);
	assert_int_equal(xmit(t, "select"), KW_OK);
	/* The same during begin: reported once, then the transaction works. */
	fake_reset_by_other(r);
	assert_int_equal(kw_transport_begin(t), KW_ERR_CARD_RESET);
	assert_int_equal(kw_transport_begin(t), KW_OK);
	assert_int_equal(kw_transport_end(t), KW_OK);
	kw_transport_free(&t);
}

static void
test_service_restart(void **state)
{
	kw_transport *t = NULL;

	(void)state;
	fake_add_reader(R0, true);
	assert_int_equal(kw_transport_open("pcsc:" R0, &t), KW_OK);
	fake_restart_service();
	assert_int_equal(xmit(t, "select"), KW_ERR_SERVICE_GONE);
	/* Sticky: the transport does not pretend to work again. */
	assert_int_equal(xmit(t, "select"), KW_ERR_SERVICE_GONE);
	assert_int_equal(kw_transport_begin(t), KW_ERR_SERVICE_GONE);
	assert_int_equal(kw_transport_present(t), KW_ERR_SERVICE_GONE);
	kw_transport_free(&t);
	assert_int_equal(kw_transport_open("pcsc:" R0, &t), KW_OK);
	assert_int_equal(xmit(t, "select"), KW_OK);
	/* pcscd stopped, not restarted. */
	fake_set_service(false);
	assert_int_equal(xmit(t, "select"), KW_ERR_SERVICE_GONE);
	kw_transport_free(&t);
	assert_int_equal(kw_transport_open("pcsc:" R0, &t), KW_ERR_NO_SERVICE);
}

static void
test_transaction_nesting(void **state)
{
	kw_transport *t = NULL;
	unsigned threads;

	(void)state;
	fake_add_reader(R0, true);
	assert_int_equal(kw_transport_open("pcsc:" R0, &t), KW_OK);
	threads = fake_threads_created();
	assert_int_equal(kw_transport_begin(t), KW_OK);
	/* nobody else holds the reader: one sharing check, no watchdog thread */
	assert_int_equal(fake_get()->getattrib, 1);
	assert_int_equal(fake_threads_created(), threads);
	assert_int_equal(kw_transport_begin(t), KW_OK);
	assert_int_equal(xmit(t, "select"), KW_OK);
	assert_int_equal(kw_transport_end(t), KW_OK);
	assert_int_equal(fake_get()->end, 0);
	assert_int_equal(kw_transport_end(t), KW_OK);
	assert_int_equal(fake_get()->begin, 1);
	assert_int_equal(fake_get()->end, 1);
	/* A transaction lost to a reset inside an outer one: the inner begin
	 * takes a new one and the pairs still balance. */
	assert_int_equal(kw_transport_begin(t), KW_OK);
	fake_reset_by_other(0);
	assert_int_equal(xmit(t, "select"), KW_ERR_CARD_RESET);
	assert_int_equal(kw_transport_begin(t), KW_OK);
	assert_int_equal(fake_get()->begin, 3);
	assert_int_equal(kw_transport_end(t), KW_OK);
	assert_int_equal(fake_get()->end, 1);
	assert_int_equal(kw_transport_end(t), KW_OK);
	assert_int_equal(fake_get()->end, 2);
	assert_int_equal(kw_transport_end(t), KW_OK);
	assert_int_equal(fake_get()->end, 2);
	/* An unbalanced end is harmless. */
	assert_int_equal(kw_transport_end(t), KW_OK);
	assert_int_equal(fake_get()->end, 2);
	/* Closing inside a transaction ends it. */
	assert_int_equal(kw_transport_begin(t), KW_OK);
	kw_transport_free(&t);
	assert_int_equal(fake_get()->end, 3);
}

static void
test_transaction_bounded(void **state)
{
	kw_transport *t = NULL;
	unsigned threads;
	long t0;

	(void)state;
	setenv("KEYWARD_PCSC_LOCK_TIMEOUT_MS", "100", 1);
	fake_add_reader(R0, true);
	assert_int_equal(kw_transport_open("pcsc:" R0, &t), KW_OK);
	fake_set_locked_by_other(true);
	t0 = now_ms();
	threads = fake_threads_created();
	assert_int_equal(kw_transport_begin(t), KW_ERR_SHARING);
	assert_true(now_ms() - t0 >= 90);
	assert_true(now_ms() - t0 < 2000);
	/* held: the wait ran under the watchdog thread */
	assert_int_equal(fake_threads_created(), threads + 1);
	/* The other process lets go: the next operation reconnects and works. */
	fake_set_locked_by_other(false);
	assert_int_equal(kw_transport_begin(t), KW_OK);
	assert_int_equal(xmit(t, "select"), KW_OK);
	assert_int_equal(kw_transport_end(t), KW_OK);
	/* A warm reset waits for the reader too: bounded as well. */
	fake_set_locked_by_other(true);
	t0 = now_ms();
	assert_int_equal(kw_transport_reset(t), KW_ERR_SHARING);
	assert_true(now_ms() - t0 < 2000);
	/* So does the reconnect after another process reset the card. */
	fake_set_locked_by_other(false);
	assert_int_equal(xmit(t, "select"), KW_OK);
	fake_reset_by_other(0);
	fake_set_locked_by_other(true);
	assert_int_equal(xmit(t, "select"), KW_ERR_CARD_RESET);
	fake_set_locked_by_other(false);
	assert_int_equal(xmit(t, "select"), KW_OK);
	kw_transport_free(&t);
	assert_int_equal(fake_open_objects(), 0);
}

static void
test_connect_bounded(void **state)
{
	kw_transport *t = NULL;
	long t0;
	int i;

	(void)state;
	setenv("KEYWARD_PCSC_LOCK_TIMEOUT_MS", "100", 1);
	fake_add_reader(R0, true);
	fake_set_locked_by_other(true);
	t0 = now_ms();
	assert_int_equal(kw_transport_open("pcsc:" R0, &t), KW_ERR_SHARING);
	assert_null(t);
	assert_true(now_ms() - t0 >= 90);
	assert_true(now_ms() - t0 < 2000);
	/* The abandoned connect still waits inside "pcscd". */
	assert_true(fake_open_objects() >= 1);
	fake_set_locked_by_other(false);
	/* ... and cleans up after itself once it returns. */
	for (i = 0; i < 2000 && fake_open_objects() != 0; i++)
		usleep(1000);
	assert_int_equal(fake_open_objects(), 0);
	assert_int_equal(kw_transport_open("pcsc:" R0, &t), KW_OK);
	/* Held again while open but disconnected (after a removal): bounded
	 * too, and the transport recovers with a new context. */
	fake_set_card(0, false);
	fake_set_card(0, true);
	fake_set_locked_by_other(true);
	assert_int_equal(xmit(t, "select"), KW_ERR_CARD_REMOVED);
	assert_int_equal(xmit(t, "select"), KW_ERR_SHARING);
	fake_set_locked_by_other(false);
	assert_int_equal(xmit(t, "select"), KW_OK);
	kw_transport_free(&t);
	for (i = 0; i < 2000 && fake_open_objects() != 0; i++)
		usleep(1000);
	assert_int_equal(fake_open_objects(), 0);
}

static bool
has(const kw_strlist *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

static void
test_list(void **state)
{
	kw_strlist l = { 0 };

	(void)state;
	assert_int_equal(kw_pcsc_ops.list(&l), KW_OK);
	assert_int_equal(l.n, 0);
	assert_int_equal(kw_pcsc_list_readers(&l), KW_OK);
	assert_int_equal(l.n, 0);
	fake_add_reader(R0, true);
	fake_add_reader(R2, false);
	fake_add_reader(R1, true);
	assert_int_equal(kw_transport_list_all(&l), KW_OK);
	assert_int_equal(l.n, 2);
	assert_true(has(&l, "pcsc:" R0));
	assert_true(has(&l, "pcsc:" R1));
	kw_strlist_free(&l);
	assert_int_equal(kw_pcsc_list_readers(&l), KW_OK);
	assert_int_equal(l.n, 3);
	assert_true(has(&l, R2));
	kw_strlist_free(&l);
	/* A configured SIM reader is the uicc transport's, not a pcsc token. */
	setenv("KEYWARD_UICC_READERS", R1, 1);
	assert_int_equal(kw_pcsc_ops.list(&l), KW_OK);
	assert_int_equal(l.n, 1);
	assert_true(has(&l, "pcsc:" R0));
	kw_strlist_free(&l);
	assert_int_equal(kw_pcsc_list_key_readers(&l), KW_OK);
	assert_int_equal(l.n, 2);
	assert_false(has(&l, R1));
	kw_strlist_free(&l);
	unsetenv("KEYWARD_UICC_READERS");
	/* A reader plugged in while the list is read: retried, not cut. */
	fake_grow_during_list("Late Reader 00 00");
	assert_int_equal(kw_pcsc_list_readers(&l), KW_OK);
	assert_int_equal(l.n, 4);
	assert_true(has(&l, "Late Reader 00 00"));
	kw_strlist_free(&l);
	fake_set_service(false);
	assert_int_equal(kw_pcsc_ops.list(&l), KW_ERR_NO_SERVICE);
	assert_int_equal(kw_transport_list_all(&l), KW_OK);
	assert_int_equal(l.n, 0);
	assert_int_equal(fake_get()->release, fake_get()->establish - 2);
}

static void
test_monitor(void **state)
{
	kw_pcsc_monitor *m = NULL;
	bool changed = true;
	int r0, r1;
	long t0;

	(void)state;
	r0 = fake_add_reader(R0, false);
	assert_int_equal(kw_pcsc_monitor_new(&m), KW_OK);
	assert_int_equal(kw_pcsc_monitor_wait(m, 0, &changed), KW_OK);
	assert_false(changed);
	t0 = now_ms();
	assert_int_equal(kw_pcsc_monitor_wait(m, 50, &changed), KW_OK);
	assert_false(changed);
	assert_true(now_ms() - t0 >= 45);
	/* An insertion between two waits is not missed. */
	fake_set_card(r0, true);
	assert_int_equal(kw_pcsc_monitor_wait(m, 1000, &changed), KW_OK);
	assert_true(changed);
	assert_int_equal(kw_pcsc_monitor_wait(m, 0, &changed), KW_OK);
	assert_false(changed);
	/* Removed and reinserted quickly: still an event. */
	fake_set_card(r0, false);
	fake_set_card(r0, true);
	assert_int_equal(kw_pcsc_monitor_wait(m, 0, &changed), KW_OK);
	assert_true(changed);
	/* A reader appears, then goes away. */
	r1 = fake_add_reader(R1, true);
	assert_int_equal(kw_pcsc_monitor_wait(m, 1000, &changed), KW_OK);
	assert_true(changed);
	assert_int_equal(kw_pcsc_monitor_wait(m, 0, &changed), KW_OK);
	assert_false(changed);
	fake_remove_reader(r1);
	assert_int_equal(kw_pcsc_monitor_wait(m, 1000, &changed), KW_OK);
	assert_true(changed);
	assert_int_equal(kw_pcsc_monitor_wait(m, -1, &changed), KW_ERR_ARG);
	/* pcscd gone under the monitor. */
	fake_restart_service();
	assert_int_equal(kw_pcsc_monitor_wait(m, 10, &changed), KW_ERR_SERVICE_GONE);
	kw_pcsc_monitor_free(&m);
	assert_null(m);
}

static void *
cancel_later(void *arg)
{
	usleep(50 * 1000);
	kw_pcsc_monitor_cancel(arg);
	return NULL;
}

static void
test_monitor_cancel(void **state)
{
	kw_pcsc_monitor *m = NULL;
	bool changed = true;
	pthread_t th;
	long t0;

	(void)state;
	fake_add_reader(R0, true);
	assert_int_equal(kw_pcsc_monitor_new(&m), KW_OK);
	assert_int_equal(pthread_create(&th, NULL, cancel_later, m), 0);
	t0 = now_ms();
	assert_int_equal(kw_pcsc_monitor_wait(m, 10000, &changed), KW_OK);
	assert_false(changed);
	assert_true(now_ms() - t0 < 5000);
	pthread_join(th, NULL);
	kw_pcsc_monitor_free(&m);
	/* The stateless helper times out without a change. */
	assert_int_equal(kw_pcsc_wait_change(20, &changed), KW_OK);
	assert_false(changed);
	fake_set_service(false);
	assert_int_equal(kw_pcsc_wait_change(20, &changed), KW_ERR_NO_SERVICE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_error_mapping, setup),
		cmocka_unit_test_setup(test_open_errors, setup),
		cmocka_unit_test_setup(test_transmit, setup),
		cmocka_unit_test_setup(test_t0, setup),
		cmocka_unit_test_setup(test_card_removed, setup),
		cmocka_unit_test_setup(test_pulled_in_transmit, setup),
		cmocka_unit_test_setup(test_transmit_glitch, setup),
		cmocka_unit_test_setup(test_reset_by_other, setup),
		cmocka_unit_test_setup(test_service_restart, setup),
		cmocka_unit_test_setup(test_transaction_nesting, setup),
		cmocka_unit_test_setup(test_transaction_bounded, setup),
		cmocka_unit_test_setup(test_connect_bounded, setup),
		cmocka_unit_test_setup(test_list, setup),
		cmocka_unit_test_setup(test_monitor, setup),
		cmocka_unit_test_setup(test_monitor_cancel, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
