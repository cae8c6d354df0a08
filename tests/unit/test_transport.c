/* kw_transport.c and kw_mock.c: the registry, URI parsing, optional ops,
 * and the mock transport in script and handler modes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kw_mock.h"
#include "kw_transport.h"

static void
test_open_by_uri(void **state)
{
	kw_transport *t = (kw_transport *)1;
	uint8_t atr[KW_MAX_ATR];
	size_t n = sizeof(atr);

	(void)state;
	assert_int_equal(kw_transport_open("mock:card one", &t), KW_OK);
	assert_string_equal(kw_transport_name(t), "mock:card one");
	assert_ptr_equal(kw_transport_get_ops(t), &kw_mock_ops);
	assert_non_null(kw_mock_of(t));
	assert_true(kw_transport_has_flag(t, KW_TRANSPORT_EXTENDED));
	assert_int_equal(kw_transport_channel(t), 0);
	assert_int_equal(kw_transport_begin(t), KW_OK);
	assert_int_equal(kw_transport_end(t), KW_OK);
	assert_int_equal(kw_transport_present(t), KW_OK);
	assert_int_equal(kw_transport_reset(t), KW_ERR_NOT_SUPPORTED);
	assert_int_equal(kw_transport_get_atr(t, atr, &n), KW_OK);
	assert_int_equal(n, 5);
	assert_memory_equal(atr, "\x3b\x80\x80\x01\x01", 5);
	kw_mock_set_atr(kw_mock_of(t), (const uint8_t *)"\x3b\x00", 2);
	n = 1;
	assert_int_equal(kw_transport_get_atr(t, atr, &n), KW_ERR_RANGE);
	n = sizeof(atr);
	assert_int_equal(kw_transport_get_atr(t, atr, &n), KW_OK);
	assert_int_equal(n, 2);
	assert_int_equal(kw_transport_apdu_count(t), 0);
	kw_transport_free(&t);
	assert_null(t);
	kw_transport_free(&t);
	kw_transport_free(NULL);
}

static void
test_open_errors(void **state)
{
	static const kw_transport_ops no_transmit = { .scheme = "x", .open = NULL };
	kw_transport *t = (kw_transport *)1;

	(void)state;
	assert_int_equal(kw_transport_open("mock", &t), KW_ERR_ARG);
	assert_null(t);
	assert_int_equal(kw_transport_open(":x", &t), KW_ERR_ARG);
	assert_int_equal(kw_transport_open("averyveryverylongscheme:x", &t), KW_ERR_ARG);
	assert_int_equal(kw_transport_open("nosuch:x", &t), KW_ERR_NOT_SUPPORTED);
	assert_int_equal(kw_transport_open(NULL, &t), KW_ERR_ARG);
	assert_int_equal(kw_transport_open_ops(NULL, "x", &t), KW_ERR_ARG);
	assert_int_equal(kw_transport_open_ops(&no_transmit, "x", &t), KW_ERR_ARG);
	assert_int_equal(kw_transport_open_ops(&kw_mock_ops, NULL, &t), KW_ERR_ARG);
	assert_null(t);
	assert_ptr_equal(kw_transport_find_ops("mock"), &kw_mock_ops);
	assert_null(kw_transport_find_ops("nosuch"));
}

static void
test_mock_script(void **state)
{
	kw_transport *t;
	kw_mock *m;
	uint8_t r[8];
	size_t n;

	(void)state;
	assert_int_equal(kw_transport_open("mock:s", &t), KW_OK);
	m = kw_mock_of(t);
	assert_int_equal(kw_mock_expect(m, "00A4 0400", "9000"), KW_OK);
	assert_int_equal(kw_mock_expect(m, NULL, "6A82"), KW_OK);
	assert_int_equal(kw_mock_expect_err(m, "0001", KW_ERR_CARD_REMOVED), KW_OK);
	assert_int_equal(kw_mock_expect(m, "00", "010203040506070809"), KW_OK);
	assert_int_equal(kw_mock_expect(m, "zz", "9000"), KW_ERR_FORMAT);
	assert_int_equal(kw_mock_pending(m), 4);
	n = sizeof(r);
	assert_int_equal(kw_transport_transmit(t, (const uint8_t *)"\x00\xa4\x04\x00", 4, r, &n),
	    KW_OK);
	assert_int_equal(n, 2);
	assert_memory_equal(r, "\x90\x00", 2);
	n = sizeof(r);
	assert_int_equal(kw_transport_transmit(t, (const uint8_t *)"\x12", 1, r, &n), KW_OK);
	assert_memory_equal(r, "\x6a\x82", 2);
	n = sizeof(r);
	assert_int_equal(kw_transport_transmit(t, (const uint8_t *)"\x00\x01", 2, r, &n),
	    KW_ERR_CARD_REMOVED);
	n = sizeof(r);   /* 9 bytes do not fit in 8 */
	assert_int_equal(kw_transport_transmit(t, (const uint8_t *)"\x00", 1, r, &n), KW_ERR_RANGE);
	assert_int_equal(kw_mock_pending(m), 0);
	assert_int_equal(kw_mock_mismatches(m), 0);
	/* Past the end of the script: the card is gone. */
	n = sizeof(r);
	assert_int_equal(kw_transport_transmit(t, (const uint8_t *)"\x00", 1, r, &n),
	    KW_ERR_CARD_REMOVED);
	assert_int_equal(kw_mock_mismatches(m), 1);
	/* A command that does not match. */
	assert_int_equal(kw_mock_expect(m, "00B0", "9000"), KW_OK);
	n = sizeof(r);
	assert_int_equal(kw_transport_transmit(t, (const uint8_t *)"\x00\xb1", 2, r, &n),
	    KW_ERR_PROTOCOL);
	assert_int_equal(kw_mock_mismatches(m), 2);
	assert_int_equal(kw_transport_apdu_count(t), 6);
	kw_transport_free(&t);
}

static kw_rv
echo(void *arg, kw_view cmd, kw_buf *resp)
{
	int *calls = arg;
	kw_rv rv;

	(*calls)++;
	if (cmd.len > 0 && cmd.ptr[0] == 0xff)
		return KW_ERR_TIMEOUT;
	if ((rv = kw_buf_put_view(resp, cmd)) != KW_OK)
		return rv;
	return kw_buf_put(resp, "\x90\x00", 2);
}

static void
test_mock_handler(void **state)
{
	kw_transport *t;
	uint8_t r[8];
	size_t n;
	int calls = 0;

	(void)state;
	assert_int_equal(kw_transport_open("mock:h", &t), KW_OK);
	kw_mock_set_handler(kw_mock_of(t), echo, &calls);
	n = sizeof(r);
	assert_int_equal(kw_transport_transmit(t, (const uint8_t *)"\x01\x02", 2, r, &n), KW_OK);
	assert_int_equal(n, 4);
	assert_memory_equal(r, "\x01\x02\x90\x00", 4);
	n = sizeof(r);
	assert_int_equal(kw_transport_transmit(t, (const uint8_t *)"\xff", 1, r, &n), KW_ERR_TIMEOUT);
	n = 3;
	assert_int_equal(kw_transport_transmit(t, (const uint8_t *)"\x01\x02", 2, r, &n),
	    KW_ERR_RANGE);
	assert_int_equal(calls, 3);
	kw_transport_free(&t);
}

static void
test_strlist(void **state)
{
	kw_strlist l = { NULL, 0 };

	(void)state;
	assert_int_equal(kw_strlist_add(&l, "mock:a"), KW_OK);
	assert_int_equal(kw_strlist_add(&l, "pcsc:b"), KW_OK);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[1], "pcsc:b");
	assert_null(l.v[2]);
	kw_strlist_free(&l);
	assert_null(l.v);
	assert_int_equal(l.n, 0);
	kw_strlist_free(&l);
}

/* list_slots falls back to list; a transport without monitor ops says
 * so; one with them is reached through the generic monitor. */
static int mon_waits, mon_cancels, mon_frees;

static kw_rv
t_list(kw_strlist *out)
{
	return kw_strlist_add(out, "tst:one");
}

static kw_rv
t_list_slots(kw_strlist *out)
{
	return kw_strlist_add(out, "tst:slot");
}

static kw_rv
t_mon_new(void **m)
{
	*m = &mon_waits;
	return KW_OK;
}

static kw_rv
t_mon_wait(void *m, int ms, bool *changed)
{
	(void)ms;
	*changed = true;
	(*(int *)m)++;
	return KW_OK;
}

static kw_rv
t_mon_cancel(void *m)
{
	(void)m;
	mon_cancels++;
	return KW_OK;
}

static void
t_mon_free(void *m)
{
	(void)m;
	mon_frees++;
}

static void
test_list_and_monitor(void **state)
{
	kw_transport_ops ops = { .scheme = "tst", .list = t_list };
	kw_transport_monitor *m = NULL;
	kw_strlist l = { NULL, 0 };
	bool changed = true;

	(void)state;
	assert_int_equal(kw_transport_list_slots(&ops, &l), KW_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "tst:one");
	ops.list_slots = t_list_slots;
	assert_int_equal(kw_transport_list_slots(&ops, &l), KW_OK);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[1], "tst:slot");
	kw_strlist_free(&l);
	assert_int_equal(kw_transport_monitor_new(&ops, &m), KW_ERR_NOT_SUPPORTED);
	assert_null(m);
	assert_int_equal(kw_transport_monitor_new(&kw_mock_ops, &m), KW_ERR_NOT_SUPPORTED);
	assert_int_equal(kw_transport_monitor_wait(NULL, 10, &changed), KW_ERR_ARG);
	assert_false(changed);
	ops.monitor_new = t_mon_new;
	ops.monitor_wait = t_mon_wait;
	assert_int_equal(kw_transport_monitor_new(&ops, &m), KW_ERR_NOT_SUPPORTED);  /* all four */
	ops.monitor_cancel = t_mon_cancel;
	ops.monitor_free = t_mon_free;
	assert_int_equal(kw_transport_monitor_new(&ops, &m), KW_OK);
	assert_int_equal(kw_transport_monitor_wait(m, 10, &changed), KW_OK);
	assert_true(changed);
	assert_int_equal(mon_waits, 1);
	assert_int_equal(kw_transport_monitor_cancel(m), KW_OK);
	assert_int_equal(mon_cancels, 1);
	kw_transport_monitor_free(&m);
	assert_null(m);
	assert_int_equal(mon_frees, 1);
	kw_transport_monitor_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_by_uri),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_mock_script),
		cmocka_unit_test(test_mock_handler),
		cmocka_unit_test(test_strlist),
		cmocka_unit_test(test_list_and_monitor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
