/* Bus helpers for the BLE transport: which bus, bounded calls to org.bluez,
 * and the one mapping of sd-bus / BlueZ errors to kw_rv. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ble/kw_ble_int.h"
#include "kw_log.h"

int
kw_ble_env_ms(const char *name, int def, int min, int max)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return def;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max) {
		kw_warn("ble: ignoring %s='%.16s' (want %d..%d)", name, s, min, max);
		return def;
	}
	return (int)v;
}

kw_rv
kw_ble_bus_open(sd_bus **out)
{
	const char *env = getenv("KEYWARD_BLE_BUS");
	sd_bus *bus = NULL;
	int r;

	*out = NULL;
	if (env == NULL || *env == '\0' || strcmp(env, "system") == 0) {
		r = sd_bus_open_system(&bus);
	} else if (strcmp(env, "session") == 0) {
		r = sd_bus_open_user(&bus);
	} else {
		if ((r = sd_bus_new(&bus)) < 0)
			return KW_ERR_NOMEM;
		if ((r = sd_bus_set_address(bus, env)) >= 0 &&
		    (r = sd_bus_set_bus_client(bus, 1)) >= 0)
			r = sd_bus_start(bus);
	}
	if (r < 0) {
		kw_debug("ble: cannot connect to the D-Bus bus (%s): %s",
		    env != NULL ? "KEYWARD_BLE_BUS" : "system", strerror(-r));
		sd_bus_unref(bus);
		return r == -ENOMEM ? KW_ERR_NOMEM : KW_ERR_NO_SERVICE;
	}
	/* bound on calls without their own timeout (property reads) */
	(void)sd_bus_set_method_call_timeout(bus, 5 * 1000000ull);
	*out = bus;
	return KW_OK;
}

static bool
err_is(const sd_bus_error *e, const char *name)
{
	return e != NULL && sd_bus_error_has_name(e, name);
}

kw_rv
kw_ble_bus_rv(int r, const sd_bus_error *e)
{
	if (err_is(e, "org.freedesktop.DBus.Error.ServiceUnknown") ||
	    err_is(e, "org.freedesktop.DBus.Error.NameHasNoOwner"))
		return KW_ERR_NO_SERVICE;
	if (err_is(e, "org.freedesktop.DBus.Error.UnknownObject") ||
	    err_is(e, "org.freedesktop.DBus.Error.UnknownMethod") ||
	    err_is(e, "org.bluez.Error.NotConnected") ||
	    err_is(e, "org.bluez.Error.DoesNotExist"))
		return KW_ERR_CARD_REMOVED;
	if (err_is(e, "org.bluez.Error.NotPermitted") ||
	    err_is(e, "org.bluez.Error.NotAuthorized") ||
	    err_is(e, "org.bluez.Error.AuthenticationFailed"))
		return KW_ERR_SECURITY;
	if (err_is(e, "org.bluez.Error.NotReady"))
		return KW_ERR_NO_SERVICE;
	if (err_is(e, "org.bluez.Error.InProgress"))
		return KW_ERR_SHARING;
	if (err_is(e, "org.freedesktop.DBus.Error.NoReply") ||
	    err_is(e, "org.freedesktop.DBus.Error.Timeout") || r == -ETIMEDOUT)
		return KW_ERR_TIMEOUT;
	if (r == -ECONNRESET || r == -ENOTCONN || r == -ECHILD || r == -EPIPE)
		return KW_ERR_SERVICE_GONE;
	if (r == -ENOMEM)
		return KW_ERR_NOMEM;
	if (err_is(e, "org.bluez.Error.Failed"))
		return KW_ERR_TRANSPORT;
	return KW_ERR_TRANSPORT;
}

static kw_rv
call_fail(const char *what, const char *path, int r, sd_bus_error *e)
{
	kw_rv rv = kw_ble_bus_rv(r, e);

	kw_debug("ble: %s %.128s: %.128s", what, path,
	    sd_bus_error_is_set(e) ? e->message != NULL ? e->message : e->name : strerror(-r));
	sd_bus_error_free(e);
	return rv;
}

kw_rv
kw_ble_bus_objects(sd_bus *bus, kw_ble_objs *out)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *req = NULL, *reply = NULL;
	kw_rv rv;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = sd_bus_message_new_method_call(bus, &req, KW_BLE_BLUEZ, "/",
	    KW_BLE_IF_OBJMGR, "GetManagedObjects")) < 0)
		return kw_ble_bus_rv(r, NULL);
	/* enumerating slots must not start bluetoothd */
	(void)sd_bus_message_set_auto_start(req, 0);
	r = sd_bus_call(bus, req, 3 * 1000000ull, &e, &reply);
	sd_bus_message_unref(req);
	if (r < 0)
		return call_fail("GetManagedObjects", "/", r, &e);
	rv = kw_ble_objs_parse(reply, out);
	sd_bus_message_unref(reply);
	if (rv != KW_OK)
		kw_warn("ble: malformed object list from org.bluez: %s", kw_strerror(rv));
	return rv;
}

kw_rv
kw_ble_bus_call0(sd_bus *bus, const char *path, const char *iface, const char *method,
    uint64_t timeout_us)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *req = NULL, *reply = NULL;
	int r;

	if ((r = sd_bus_message_new_method_call(bus, &req, KW_BLE_BLUEZ, path, iface,
	    method)) < 0)
		return kw_ble_bus_rv(r, NULL);
	r = sd_bus_call(bus, req, timeout_us, &e, &reply);
	sd_bus_message_unref(req);
	sd_bus_message_unref(reply);
	return r < 0 ? call_fail(method, path, r, &e) : KW_OK;
}

kw_rv
kw_ble_bus_read(sd_bus *bus, const char *path, uint8_t *out, size_t cap, size_t *out_len,
    uint64_t timeout_us)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *req = NULL, *reply = NULL;
	const void *p;
	size_t n;
	kw_rv rv = KW_ERR_NOMEM;
	int r;

	*out_len = 0;
	if ((r = sd_bus_message_new_method_call(bus, &req, KW_BLE_BLUEZ, path,
	    KW_BLE_IF_CHAR, "ReadValue")) < 0 ||
	    (r = sd_bus_message_append(req, "a{sv}", 0)) < 0)
		goto out;
	if ((r = sd_bus_call(bus, req, timeout_us, &e, &reply)) < 0) {
		rv = call_fail("ReadValue", path, r, &e);
		goto out;
	}
	rv = KW_ERR_PROTOCOL;
	if ((r = sd_bus_message_read_array(reply, 'y', &p, &n)) < 0 || n > cap)
		goto out;
	memcpy(out, p, n);
	*out_len = n;
	rv = KW_OK;
out:
	sd_bus_message_unref(req);
	sd_bus_message_unref(reply);
	return rv;
}

kw_rv
kw_ble_bus_write(sd_bus *bus, const char *path, const uint8_t *p, size_t n, const char *type,
    uint64_t timeout_us)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *req = NULL, *reply = NULL;
	kw_rv rv = KW_ERR_NOMEM;
	int r;

	if ((r = sd_bus_message_new_method_call(bus, &req, KW_BLE_BLUEZ, path,
	    KW_BLE_IF_CHAR, "WriteValue")) < 0 ||
	    (r = sd_bus_message_append_array(req, 'y', p, n)) < 0 ||
	    (r = sd_bus_message_append(req, "a{sv}", 1, "type", "s", type)) < 0)
		goto out;
	if ((r = sd_bus_call(bus, req, timeout_us, &e, &reply)) < 0) {
		rv = call_fail("WriteValue", path, r, &e);
		goto out;
	}
	rv = KW_OK;
out:
	sd_bus_message_unref(req);
	sd_bus_message_unref(reply);
	return rv;
}

kw_rv
kw_ble_bus_get_bool(sd_bus *bus, const char *path, const char *iface, const char *prop,
    bool *out)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r, x = 0;

	*out = false;
	r = sd_bus_get_property_trivial(bus, KW_BLE_BLUEZ, path, iface, prop, &e, 'b', &x);
	if (r < 0)
		return call_fail(prop, path, r, &e);
	*out = x != 0;
	return KW_OK;
}

kw_rv
kw_ble_bus_owner(sd_bus *bus, char **out)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *s;
	int r;

	*out = NULL;
	r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
	    "org.freedesktop.DBus", "GetNameOwner", &e, &reply, "s", KW_BLE_BLUEZ);
	if (r < 0)
		return call_fail("GetNameOwner", KW_BLE_BLUEZ, r, &e);
	r = sd_bus_message_read(reply, "s", &s);
	if (r > 0)
		*out = strdup(s);
	sd_bus_message_unref(reply);
	if (r <= 0)
		return KW_ERR_PROTOCOL;
	return *out != NULL ? KW_OK : KW_ERR_NOMEM;
}

static kw_rv
acquire_rv(int r, const sd_bus_error *e)
{
	if (err_is(e, "org.freedesktop.DBus.Error.UnknownMethod") ||
	    err_is(e, "org.bluez.Error.NotSupported"))
		return KW_ERR_NOT_SUPPORTED;
	if (err_is(e, "org.bluez.Error.NotPermitted") || err_is(e, "org.bluez.Error.InProgress"))
		return KW_ERR_SHARING;
	if (err_is(e, "org.bluez.Error.Failed") && e->message != NULL &&
	    strstr(e->message, "Not connected") != NULL)
		return KW_ERR_CARD_REMOVED;
	return kw_ble_bus_rv(r, e);
}

kw_rv
kw_ble_bus_acquire(sd_bus *bus, const char *path, const char *method, int *fd, uint16_t *mtu,
    char *why, size_t why_len, uint64_t timeout_us)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *req = NULL, *reply = NULL;
	kw_rv rv = KW_ERR_NOMEM;
	int r, got = -1;

	*fd = -1;
	*mtu = 0;
	if (why_len > 0)
		why[0] = '\0';
	if ((r = sd_bus_message_new_method_call(bus, &req, KW_BLE_BLUEZ, path, KW_BLE_IF_CHAR,
	    method)) < 0 || (r = sd_bus_message_append(req, "a{sv}", 0)) < 0)
		goto out;
	if ((r = sd_bus_call(bus, req, timeout_us, &e, &reply)) < 0) {
		rv = acquire_rv(r, &e);
		if (why_len > 0)
			snprintf(why, why_len, "%.60s: %.80s", e.name != NULL ? e.name : "error",
			    e.message != NULL ? e.message : strerror(-r));
		sd_bus_error_free(&e);
		goto out;
	}
	rv = KW_ERR_PROTOCOL;
	if ((r = sd_bus_message_read(reply, "hq", &got, mtu)) <= 0 || got < 0)
		goto out;
	/* the reply owns its fd: keep a duplicate */
	if ((*fd = fcntl(got, F_DUPFD_CLOEXEC, 3)) < 0) {
		rv = KW_ERR_IO;
		goto out;
	}
	rv = KW_OK;
out:
	sd_bus_message_unref(req);
	sd_bus_message_unref(reply);
	return rv;
}
