/* Unit tests for drivers/ble/kw_ble_objs.c: BlueZ object trees and
 * PropertiesChanged signals, built as sd-bus messages, parsed and
 * queried; device selection and bonding rules. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ble/kw_ble.h"
#include "ble/kw_ble_int.h"

static sd_bus *g_bus;
static int g_fd[2];

static int
setup(void **state)
{
	(void)state;
	/* a started (never authenticated) peer bus: enough to build messages */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, g_fd) != 0 || sd_bus_new(&g_bus) < 0 ||
	    sd_bus_set_fd(g_bus, g_fd[0], g_fd[0]) < 0 || sd_bus_start(g_bus) < 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sd_bus_close_unref(g_bus);
	close(g_fd[1]);
	return 0;
}

static sd_bus_message *
new_msg(void)
{
	sd_bus_message *m = NULL;

	assert_int_equal(sd_bus_message_new_signal(g_bus, &m, "/", "org.test", "T"), 0);
	return m;
}

static void
seal(sd_bus_message *m)
{
	assert_int_equal(sd_bus_message_seal(m, 1, 0), 0);
	assert_true(sd_bus_message_rewind(m, 1) >= 0);
}

static void
open_obj(sd_bus_message *m, const char *path)
{
	assert_true(sd_bus_message_open_container(m, 'e', "oa{sa{sv}}") >= 0);
	assert_true(sd_bus_message_append(m, "o", path) >= 0);
	assert_true(sd_bus_message_open_container(m, 'a', "{sa{sv}}") >= 0);
}

static void
close_obj(sd_bus_message *m)
{
	assert_true(sd_bus_message_close_container(m) >= 0);
	assert_true(sd_bus_message_close_container(m) >= 0);
}

static void
add_device(sd_bus_message *m, const char *path, const char *addr, int paired, int trusted,
    int bonded, const char *uuid)
{
	open_obj(m, path);
	assert_true(sd_bus_message_append(m, "{sa{sv}}", "org.freedesktop.DBus.Introspectable", 0) >= 0);
	assert_true(sd_bus_message_open_container(m, 'e', "sa{sv}") >= 0);
	assert_true(sd_bus_message_append(m, "s", KW_BLE_IF_DEVICE) >= 0);
	assert_true(sd_bus_message_open_container(m, 'a', "{sv}") >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "Address", "s", addr) >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "Adapter", "o", "/org/bluez/hci0") >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "Paired", "b", paired) >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "Trusted", "b", trusted) >= 0);
	if (bonded >= 0)
		assert_true(sd_bus_message_append(m, "{sv}", "Bonded", "b", bonded) >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "Connected", "b", 1) >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "RSSI", "n", (int16_t)-40) >= 0);
	/* a property with an unexpected type is skipped, not trusted */
	assert_true(sd_bus_message_append(m, "{sv}", "ServicesResolved", "s", "yes") >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "UUIDs", "as", 2,
	    "0000180f-0000-1000-8000-00805f9b34fb", uuid) >= 0);
	assert_true(sd_bus_message_close_container(m) >= 0);
	assert_true(sd_bus_message_close_container(m) >= 0);
	close_obj(m);
}

static void
add_gatt(sd_bus_message *m, const char *path, const char *iface, const char *uuid,
    const char *pname, const char *parent)
{
	open_obj(m, path);
	assert_true(sd_bus_message_append(m, "{sa{sv}}", iface, 2, "UUID", "s", uuid,
	    pname, "o", parent) >= 0);
	close_obj(m);
}

static sd_bus_message *
tree(int powered)
{
	sd_bus_message *m = new_msg();
	const char *dev = "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_01";
	const char *svc = "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_01/service0010";

	assert_true(sd_bus_message_open_container(m, 'a', "{oa{sa{sv}}}") >= 0);
	open_obj(m, "/org/bluez");
	assert_true(sd_bus_message_append(m, "{sa{sv}}", "org.bluez.AgentManager1", 0) >= 0);
	close_obj(m);
	open_obj(m, "/org/bluez/hci0");
	assert_true(sd_bus_message_append(m, "{sa{sv}}", KW_BLE_IF_ADAPTER, 2,
	    "Address", "s", "00:11:22:33:44:55", "Powered", "b", powered) >= 0);
	close_obj(m);
	add_device(m, dev, "AA:BB:CC:DD:EE:01", 1, 1, 1, KW_BLE_UUID_SERVICE);
	add_device(m, "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_02", "AA:BB:CC:DD:EE:02", 1, 0, -1,
	    "EE6C9B33-0DA4-4FB6-A446-445547AE4CAE");
	add_device(m, "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_03", "aa:bb:cc:dd:ee:03", 1, 1, -1,
	    "00001812-0000-1000-8000-00805f9b34fb");
	add_device(m, "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_04", "AA:BB:CC:DD:EE:04", 1, 1, 0,
	    KW_BLE_UUID_SERVICE);
	add_gatt(m, svc, KW_BLE_IF_SERVICE, "EE6C9B33-0DA4-4FB6-A446-445547AE4CAE", "Device", dev);
	add_gatt(m, "/x/c1", KW_BLE_IF_CHAR, KW_BLE_UUID_CONTROL, "Service", svc);
	add_gatt(m, "/x/c2", KW_BLE_IF_CHAR, KW_BLE_UUID_STATUS, "Service", svc);
	add_gatt(m, "/x/c3", KW_BLE_IF_CHAR, KW_BLE_UUID_CPLEN, "Service", svc);
	assert_true(sd_bus_message_close_container(m) >= 0);
	seal(m);
	return m;
}

static void
test_parse_tree(void **state)
{
	sd_bus_message *m = tree(1);
	kw_ble_objs o;
	const kw_ble_obj *a, *d, *s, *c;

	(void)state;
	assert_int_equal(kw_ble_objs_parse(m, &o), KW_OK);
	assert_int_equal(o.n, 9);   /* /org/bluez has none of the four interfaces */
	a = kw_ble_objs_first_adapter(&o);
	assert_non_null(a);
	assert_true(a->powered);
	assert_string_equal(a->address, "00:11:22:33:44:55");
	d = kw_ble_objs_device(&o, "aa:bb:cc:dd:ee:01");
	assert_non_null(d);
	assert_ptr_equal(d, kw_ble_objs_device(&o, "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_01"));
	assert_true(d->keyward && d->connected && !d->resolved);
	assert_true(kw_ble_dev_bonded(d));
	assert_string_equal(d->parent, "/org/bluez/hci0");
	assert_ptr_equal(kw_ble_objs_get(&o, KW_BLE_ADAPTER, d->parent), a);
	s = kw_ble_objs_child(&o, KW_BLE_SERVICE, d->path, KW_BLE_UUID_SERVICE);
	assert_non_null(s);
	assert_string_equal(s->uuid, KW_BLE_UUID_SERVICE);     /* lower-cased */
	c = kw_ble_objs_child(&o, KW_BLE_CHAR, s->path, KW_BLE_UUID_CPLEN);
	assert_non_null(c);
	assert_string_equal(c->path, "/x/c3");
	assert_null(kw_ble_objs_child(&o, KW_BLE_CHAR, "/nope", KW_BLE_UUID_CPLEN));
	assert_null(kw_ble_objs_device(&o, "AA:BB:CC:DD:EE:99"));
	kw_ble_objs_free(&o);
	assert_int_equal(o.n, 0);
	sd_bus_message_unref(m);
}

static void
test_selection(void **state)
{
	sd_bus_message *m = tree(0);
	kw_ble_objs o;
	const kw_ble_obj *d2, *d3, *d4;

	(void)state;
	assert_int_equal(kw_ble_objs_parse(m, &o), KW_OK);
	assert_false(kw_ble_objs_first_adapter(&o)->powered);
	d2 = kw_ble_objs_device(&o, "AA:BB:CC:DD:EE:02");
	d3 = kw_ble_objs_device(&o, "AA:BB:CC:DD:EE:03");
	d4 = kw_ble_objs_device(&o, "AA:BB:CC:DD:EE:04");
	assert_true(d2->keyward);             /* upper-case UUID matches */
	assert_false(kw_ble_dev_bonded(d2));  /* paired, not trusted */
	assert_false(d3->keyward);
	assert_true(kw_ble_dev_bonded(d3));   /* no Bonded property: paired+trusted */
	assert_false(kw_ble_dev_bonded(d4));  /* Bonded false wins */
	assert_false(kw_ble_dev_selected(d3, NULL));
	assert_false(kw_ble_dev_selected(d3, "AA:BB:CC:DD:EE:0"));
	assert_false(kw_ble_dev_selected(d3, "AA:BB:CC:DD:EE:033"));
	assert_true(kw_ble_dev_selected(d3, "11:22:33:44:55:66, AA:BB:CC:DD:EE:03"));
	assert_true(kw_ble_dev_selected(d3, "aa:bb:cc:dd:ee:03"));
	assert_true(kw_ble_dev_selected(d2, NULL));
	kw_ble_objs_free(&o);
	sd_bus_message_unref(m);
}

static void
test_parse_malformed(void **state)
{
	sd_bus_message *m = new_msg();
	kw_ble_objs o;

	(void)state;
	assert_true(sd_bus_message_append(m, "as", 1, "x") >= 0);
	seal(m);
	assert_int_equal(kw_ble_objs_parse(m, &o), KW_ERR_FORMAT);
	assert_null(o.v);
	sd_bus_message_unref(m);
	/* an empty tree is fine */
	m = new_msg();
	assert_true(sd_bus_message_append(m, "a{oa{sa{sv}}}", 0) >= 0);
	seal(m);
	assert_int_equal(kw_ble_objs_parse(m, &o), KW_OK);
	assert_int_equal(o.n, 0);
	assert_null(kw_ble_objs_first_adapter(&o));
	sd_bus_message_unref(m);
}

static void
test_addr_valid(void **state)
{
	(void)state;
	assert_true(kw_ble_addr_valid("AA:BB:CC:DD:EE:FF"));
	assert_true(kw_ble_addr_valid("0a:1b:2c:3d:4e:5f"));
	assert_false(kw_ble_addr_valid("AA:BB:CC:DD:EE:F"));
	assert_false(kw_ble_addr_valid("AA:BB:CC:DD:EE:FF:"));
	assert_false(kw_ble_addr_valid("AA-BB-CC-DD-EE-FF"));
	assert_false(kw_ble_addr_valid("AA:BB:CC:DD:EE:FG"));
	assert_false(kw_ble_addr_valid(""));
}

static void
test_changed(void **state)
{
	sd_bus_message *m = new_msg();
	kw_ble_change c;
	const uint8_t frame[4] = { 0x82, 0, 1, 1 };

	(void)state;
	assert_true(sd_bus_message_append(m, "s", KW_BLE_IF_CHAR) >= 0);
	assert_true(sd_bus_message_open_container(m, 'a', "{sv}") >= 0);
	assert_true(sd_bus_message_append(m, "{sv}", "Notifying", "b", 1) >= 0);
	assert_true(sd_bus_message_open_container(m, 'e', "sv") >= 0);
	assert_true(sd_bus_message_append(m, "s", "Value") >= 0);
	assert_true(sd_bus_message_open_container(m, 'v', "ay") >= 0);
	assert_true(sd_bus_message_append_array(m, 'y', frame, sizeof(frame)) >= 0);
	assert_true(sd_bus_message_close_container(m) >= 0);
	assert_true(sd_bus_message_close_container(m) >= 0);
	assert_true(sd_bus_message_close_container(m) >= 0);
	assert_true(sd_bus_message_append(m, "as", 0) >= 0);
	seal(m);
	assert_int_equal(kw_ble_change_parse(m, &c), KW_OK);
	assert_string_equal(c.iface, KW_BLE_IF_CHAR);
	assert_true(c.has_value);
	assert_int_equal(c.value_len, 4);
	assert_memory_equal(c.value, frame, 4);
	assert_false(c.has_connected);
	sd_bus_message_unref(m);

	m = new_msg();
	assert_true(sd_bus_message_append(m, "sa{sv}as", KW_BLE_IF_DEVICE, 3,
	    "Connected", "b", 0, "ServicesResolved", "b", 1, "Value", "s", "no", 0) >= 0);
	seal(m);
	assert_int_equal(kw_ble_change_parse(m, &c), KW_OK);
	assert_true(c.has_connected && !c.connected && c.has_resolved && c.resolved);
	assert_false(c.has_value);   /* wrong type: ignored */
	sd_bus_message_unref(m);

	m = new_msg();
	assert_true(sd_bus_message_append(m, "u", 5) >= 0);
	seal(m);
	assert_int_equal(kw_ble_change_parse(m, &c), KW_ERR_FORMAT);
	sd_bus_message_unref(m);
}

static void
test_rv_mapping(void **state)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;

	(void)state;
	sd_bus_error_set(&e, "org.bluez.Error.NotConnected", "Not connected");
	assert_int_equal(kw_ble_bus_rv(-EIO, &e), KW_ERR_CARD_REMOVED);
	sd_bus_error_free(&e);
	sd_bus_error_set(&e, "org.freedesktop.DBus.Error.ServiceUnknown", "x");
	assert_int_equal(kw_ble_bus_rv(-EIO, &e), KW_ERR_NO_SERVICE);
	sd_bus_error_free(&e);
	sd_bus_error_set(&e, "org.bluez.Error.NotPermitted", "x");
	assert_int_equal(kw_ble_bus_rv(-EIO, &e), KW_ERR_SECURITY);
	sd_bus_error_free(&e);
	assert_int_equal(kw_ble_bus_rv(-ETIMEDOUT, NULL), KW_ERR_TIMEOUT);
	assert_int_equal(kw_ble_bus_rv(-ECONNRESET, NULL), KW_ERR_SERVICE_GONE);
	assert_int_equal(kw_ble_bus_rv(-EIO, NULL), KW_ERR_TRANSPORT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_tree),
		cmocka_unit_test(test_selection),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_addr_valid),
		cmocka_unit_test(test_changed),
		cmocka_unit_test(test_rv_mapping),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
