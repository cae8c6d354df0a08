/* The emulated BlueZ objects: Adapter1, Device1, GattService1, the three
 * GattCharacteristic1 of keyward's profile, and the test control interface
 * org.keyward.VcardBle1. BlueZ's error names are used where BlueZ has them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kw_log.h"
#include "vcble_int.h"

#define IF_ADAPTER "org.bluez.Adapter1"
#define IF_DEVICE  "org.bluez.Device1"
#define IF_SERVICE "org.bluez.GattService1"
#define IF_CHAR    "org.bluez.GattCharacteristic1"
#define IF_CTL     "org.keyward.VcardBle1"
#define ADAPTER_PATH "/org/bluez/hci0"
#define CTL_PATH "/org/keyward/vcardble"

static const char *const chr_uuid[VCBLE_NCHR] = {
	VCBLE_UUID_CONTROL, VCBLE_UUID_STATUS, VCBLE_UUID_CPLEN
};

unsigned
vcble_dev_cpl(const vcble_dev *d)
{
	return vcble_cpl(d->faults.mtu);
}

static int
prop_str(sd_bus_message *reply, const char *s)
{
	return sd_bus_message_append(reply, "s", s);
}

static int
prop_bool(sd_bus_message *reply, bool b)
{
	return sd_bus_message_append(reply, "b", (int)b);
}

/* --- Adapter1 --- */

static int
adapter_get(sd_bus *bus, const char *path, const char *iface, const char *prop,
    sd_bus_message *reply, void *arg, sd_bus_error *e)
{
	vcble_dev *d = arg;

	(void)bus; (void)path; (void)iface; (void)e;
	if (strcmp(prop, "Address") == 0)
		return prop_str(reply, "00:1A:7D:DA:71:13");
	if (strcmp(prop, "AddressType") == 0)
		return prop_str(reply, "public");
	if (strcmp(prop, "Name") == 0 || strcmp(prop, "Alias") == 0)
		return prop_str(reply, "keyward-vcard-ble");
	if (strcmp(prop, "Powered") == 0)
		return prop_bool(reply, !d->faults.adapter_off);
	return prop_bool(reply, false);   /* Discoverable, Pairable, Discovering */
}

static const sd_bus_vtable adapter_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Address", "s", adapter_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("AddressType", "s", adapter_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Name", "s", adapter_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Alias", "s", adapter_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Powered", "b", adapter_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Discoverable", "b", adapter_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Pairable", "b", adapter_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Discovering", "b", adapter_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_VTABLE_END
};

/* --- Device1 --- */

static int
device_get(sd_bus *bus, const char *path, const char *iface, const char *prop,
    sd_bus_message *reply, void *arg, sd_bus_error *e)
{
	vcble_dev *d = arg;
	bool bonded = !d->faults.not_bonded;

	(void)bus; (void)path; (void)iface; (void)e;
	if (strcmp(prop, "Address") == 0)
		return prop_str(reply, d->addr);
	if (strcmp(prop, "AddressType") == 0)
		return prop_str(reply, "random");
	if (strcmp(prop, "Name") == 0 || strcmp(prop, "Alias") == 0)
		return prop_str(reply, "keyward vcard");
	if (strcmp(prop, "Adapter") == 0)
		return sd_bus_message_append(reply, "o", ADAPTER_PATH);
	if (strcmp(prop, "Paired") == 0 || strcmp(prop, "Trusted") == 0 ||
	    strcmp(prop, "Bonded") == 0)
		return prop_bool(reply, bonded);
	if (strcmp(prop, "Connected") == 0)
		return prop_bool(reply, d->connected);
	if (strcmp(prop, "ServicesResolved") == 0)
		return prop_bool(reply, d->resolved);
	if (strcmp(prop, "UUIDs") == 0)
		return d->faults.no_service ? sd_bus_message_append(reply, "as", 0) :
		    sd_bus_message_append(reply, "as", 1, VCBLE_UUID_SERVICE);
	return prop_bool(reply, false);   /* Blocked, LegacyPairing */
}

static void
emit(vcble_dev *d, const char *path, const char *iface, const char *p1, const char *p2)
{
	int r = sd_bus_emit_properties_changed(d->bus, path, iface, p1, p2, NULL);

	if (r < 0)
		kw_warn("vcard-ble: cannot signal %s.%s: %s", iface, p1, strerror(-r));
}

static int
on_resolved(sd_event_source *s, uint64_t usec, void *arg)
{
	vcble_dev *d = arg;

	(void)s; (void)usec;
	d->resolve = sd_event_source_unref(d->resolve);
	if (d->connected && !d->resolved) {
		d->resolved = 1;
		emit(d, d->dev_path, IF_DEVICE, "ServicesResolved", NULL);
	}
	return 0;
}

void
vcble_dev_set_connected(vcble_dev *d, bool on)
{
	if (on) {
		if (d->connected)
			return;
		d->connected = 1;
		emit(d, d->dev_path, IF_DEVICE, "Connected", NULL);
		/* services resolve a little later, as over the air */
		d->resolve = sd_event_source_unref(d->resolve);
		if (sd_event_add_time_relative(d->ev, &d->resolve, CLOCK_MONOTONIC, 20000, 1,
		    on_resolved, d) < 0)
			on_resolved(NULL, 0, d);
		return;
	}
	if (!d->connected)
		return;
	kw_info("vcard-ble: disconnected");
	d->connected = d->resolved = 0;
	d->resolve = sd_event_source_unref(d->resolve);
	vcble_link_abort(d);
	vcard_card_reset(d->card);
	vcble_dev_release_all(d);
	emit(d, d->dev_path, IF_DEVICE, "Connected", "ServicesResolved");
	if (d->svc_exported)
		emit(d, d->st_path, IF_CHAR, "Notifying", NULL);
}

static int
device_connect(sd_bus_message *m, void *arg, sd_bus_error *e)
{
	vcble_dev *d = arg;

	if (d->faults.adapter_off)
		return sd_bus_error_set(e, "org.bluez.Error.NotReady", "Resource Not Ready");
	if (d->faults.connect_fail)
		return sd_bus_error_set(e, "org.bluez.Error.Failed", "Page Timeout");
	vcble_dev_set_connected(d, true);
	return sd_bus_reply_method_return(m, NULL);
}

static int
device_disconnect(sd_bus_message *m, void *arg, sd_bus_error *e)
{
	(void)e;
	vcble_dev_set_connected(arg, false);
	return sd_bus_reply_method_return(m, NULL);
}

static int
device_pair(sd_bus_message *m, void *arg, sd_bus_error *e)
{
	vcble_dev *d = arg;

	(void)m;
	if (d->faults.not_bonded)
		return sd_bus_error_set(e, "org.bluez.Error.AuthenticationFailed",
		    "this test token cannot be paired");
	return sd_bus_error_set(e, "org.bluez.Error.AlreadyExists", "Already Exists");
}

static const sd_bus_vtable device_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("Connect", "", "", device_connect, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Disconnect", "", "", device_disconnect, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Pair", "", "", device_pair, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_PROPERTY("Address", "s", device_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("AddressType", "s", device_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Name", "s", device_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Alias", "s", device_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Adapter", "o", device_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Paired", "b", device_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Trusted", "b", device_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Bonded", "b", device_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Blocked", "b", device_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("LegacyPairing", "b", device_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Connected", "b", device_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("ServicesResolved", "b", device_get, 0,
	    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("UUIDs", "as", device_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_VTABLE_END
};

/* --- GattService1 --- */

static int
service_get(sd_bus *bus, const char *path, const char *iface, const char *prop,
    sd_bus_message *reply, void *arg, sd_bus_error *e)
{
	vcble_dev *d = arg;

	(void)bus; (void)path; (void)iface; (void)e;
	if (strcmp(prop, "UUID") == 0)
		return prop_str(reply, VCBLE_UUID_SERVICE);
	if (strcmp(prop, "Device") == 0)
		return sd_bus_message_append(reply, "o", d->dev_path);
	return prop_bool(reply, true);    /* Primary */
}

static const sd_bus_vtable service_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("UUID", "s", service_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Device", "o", service_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Primary", "b", service_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_VTABLE_END
};

/* --- GattCharacteristic1 --- */

static int
chr_value(const vcble_chr *c, sd_bus_message *reply)
{
	uint8_t cpl[2];
	unsigned n = vcble_dev_cpl(c->d);

	switch (c->kind) {
	case VCBLE_CHR_STATUS:
		return sd_bus_message_append_array(reply, 'y', c->d->value, c->d->value_len);
	case VCBLE_CHR_CPLEN:
		cpl[0] = (uint8_t)(n >> 8);
		cpl[1] = (uint8_t)n;
		return sd_bus_message_append_array(reply, 'y', cpl, 2);
	default:
		return sd_bus_message_append_array(reply, 'y', NULL, 0);
	}
}

static int
chr_get(sd_bus *bus, const char *path, const char *iface, const char *prop,
    sd_bus_message *reply, void *arg, sd_bus_error *e)
{
	vcble_chr *c = arg;
	static const char *const flags[VCBLE_NCHR] = { "write", "notify", "read" };

	(void)bus; (void)path; (void)iface; (void)e;
	if (strcmp(prop, "Flags") == 0 && c->kind == VCBLE_CHR_CONTROL && !c->d->faults.no_wwr)
		return sd_bus_message_append(reply, "as", 2, "write", "write-without-response");
	if (strcmp(prop, "UUID") == 0)
		return prop_str(reply, chr_uuid[c->kind]);
	if (strcmp(prop, "Service") == 0)
		return sd_bus_message_append(reply, "o", c->d->svc_path);
	if (strcmp(prop, "Value") == 0)
		return chr_value(c, reply);
	if (strcmp(prop, "Notifying") == 0)
		return prop_bool(reply, c->kind == VCBLE_CHR_STATUS && vcble_dev_notifying(c->d));
	if (strcmp(prop, "NotifyAcquired") == 0)
		return prop_bool(reply, c->kind == VCBLE_CHR_STATUS && c->d->notify_fd >= 0);
	if (strcmp(prop, "WriteAcquired") == 0)
		return prop_bool(reply, c->kind == VCBLE_CHR_CONTROL && c->d->write_fd >= 0);
	if (strcmp(prop, "MTU") == 0)
		return sd_bus_message_append(reply, "q", (uint16_t)c->d->faults.mtu);
	return sd_bus_message_append(reply, "as", 1, flags[c->kind]);   /* Flags */
}

static int
not_connected(const vcble_chr *c, sd_bus_error *e)
{
	(void)c;
	return sd_bus_error_set(e, "org.bluez.Error.NotConnected", "Not connected");
}

static int
chr_read(sd_bus_message *m, void *arg, sd_bus_error *e)
{
	vcble_chr *c = arg;
	sd_bus_message *reply = NULL;
	int r;

	if (!c->d->connected)
		return not_connected(c, e);
	if (c->kind == VCBLE_CHR_CONTROL)
		return sd_bus_error_set(e, "org.bluez.Error.NotPermitted", "Read not permitted");
	if ((r = sd_bus_message_skip(m, "a{sv}")) < 0 ||
	    (r = sd_bus_message_new_method_return(m, &reply)) < 0 ||
	    (r = chr_value(c, reply)) < 0 || (r = sd_bus_send(NULL, reply, NULL)) < 0) {
		sd_bus_message_unref(reply);
		return r;
	}
	sd_bus_message_unref(reply);
	return 1;
}

/* WriteValue options a{sv}: "type" must be one BlueZ knows; others ignored. */
static int
write_options(sd_bus_message *m, bool *ok, bool *cmd)
{
	const char *key, *type;
	int r;

	*ok = true;
	*cmd = false;
	if ((r = sd_bus_message_enter_container(m, 'a', "{sv}")) < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		if ((r = sd_bus_message_read(m, "s", &key)) < 0)
			return r;
		if (strcmp(key, "type") == 0 && sd_bus_message_verify_type(m, 'v', "s") > 0) {
			if ((r = sd_bus_message_read(m, "v", "s", &type)) < 0)
				return r;
			*ok = strcmp(type, "request") == 0 || strcmp(type, "command") == 0 ||
			    strcmp(type, "reliable") == 0;
			*cmd = strcmp(type, "command") == 0;
		} else if ((r = sd_bus_message_skip(m, "v")) < 0) {
			return r;
		}
		if ((r = sd_bus_message_exit_container(m)) < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

static int
chr_write(sd_bus_message *m, void *arg, sd_bus_error *e)
{
	vcble_chr *c = arg;
	const void *p;
	size_t n;
	bool ok, cmd;
	int r;

	if (!c->d->connected)
		return not_connected(c, e);
	if (c->kind != VCBLE_CHR_CONTROL)
		return sd_bus_error_set(e, "org.bluez.Error.NotPermitted", "Write not permitted");
	if ((r = sd_bus_message_read_array(m, 'y', &p, &n)) < 0 ||
	    (r = write_options(m, &ok, &cmd)) < 0)
		return r;
	if (!ok)
		return sd_bus_error_set(e, "org.bluez.Error.InvalidArguments", "Invalid write type");
	if (c->d->write_fd >= 0)
		return sd_bus_error_set(e, "org.bluez.Error.NotPermitted", "Write acquired");
	if (cmd && c->d->faults.no_wwr) {
		/* an ATT Write Command the server does not support: silently lost */
		kw_info("vcard-ble: write without response not supported: frame lost");
		return sd_bus_reply_method_return(m, NULL);
	}
	if (n > vcble_dev_cpl(c->d))
		return sd_bus_error_set(e, "org.bluez.Error.InvalidValueLength",
		    "Invalid Length");
	if (vcble_link_write(c->d, p, n) < 0)
		return not_connected(c, e);
	return sd_bus_reply_method_return(m, NULL);
}

bool
vcble_dev_notifying(const vcble_dev *d)
{
	return d->n_notify_clients > 0 || d->notify_fd >= 0;
}

static int
find_client(const vcble_dev *d, const char *name)
{
	unsigned i;

	for (i = 0; i < d->n_notify_clients; i++)
		if (strcmp(d->notify_clients[i], name) == 0)
			return (int)i;
	return -1;
}

static void
drop_client(vcble_dev *d, unsigned i)
{
	free(d->notify_clients[i]);
	d->notify_clients[i] = d->notify_clients[--d->n_notify_clients];
	d->notify_clients[d->n_notify_clients] = NULL;
}

static void
notifying_changed(vcble_dev *d, bool before)
{
	if (before != vcble_dev_notifying(d))
		emit(d, d->st_path, IF_CHAR, "Notifying", NULL);
}

/* A client left the bus: its StartNotify session ends (as in BlueZ). */
static int
on_owner_changed(sd_bus_message *m, void *arg, sd_bus_error *e)
{
	vcble_dev *d = arg;
	const char *name, *old, *new;
	bool before = vcble_dev_notifying(d);
	int i;

	(void)e;
	if (sd_bus_message_read(m, "sss", &name, &old, &new) < 0 || new[0] != '\0' ||
	    (i = find_client(d, name)) < 0)
		return 0;
	drop_client(d, (unsigned)i);
	notifying_changed(d, before);
	return 0;
}

/* StartNotify / StopNotify: one session per bus client (sender). */
static int
chr_notify(sd_bus_message *m, void *arg, sd_bus_error *e)
{
	vcble_chr *c = arg;
	vcble_dev *d = c->d;
	bool start = strcmp(sd_bus_message_get_member(m), "StartNotify") == 0;
	bool before = vcble_dev_notifying(d);
	const char *sender = sd_bus_message_get_sender(m);
	int i;

	if (!d->connected)
		return not_connected(c, e);
	if (c->kind != VCBLE_CHR_STATUS)
		return sd_bus_error_set(e, "org.bluez.Error.NotSupported", "Not Supported");
	if (sender == NULL)
		sender = "";
	i = find_client(d, sender);
	if (start) {
		if (d->notify_fd >= 0)
			return sd_bus_error_set(e, "org.bluez.Error.NotPermitted", "Notify acquired");
		if (i < 0) {
			if (d->n_notify_clients >= VCBLE_NOTIFY_CLIENTS)
				return sd_bus_error_set(e, "org.bluez.Error.Failed",
				    "Failed allocate notify session");
			if ((d->notify_clients[d->n_notify_clients] = strdup(sender)) == NULL)
				return -ENOMEM;
			d->n_notify_clients++;
			vcble_link_notify_started(d);
		}
	} else if (d->notify_fd >= 0) {
		vcble_dev_release_all(d);      /* StopNotify ends an acquired session too */
	} else if (i < 0) {
		return sd_bus_error_set(e, "org.bluez.Error.Failed", "No notify session started");
	} else {
		drop_client(d, (unsigned)i);
	}
	notifying_changed(d, before);
	return sd_bus_reply_method_return(m, NULL);
}

/* Our end of an acquired socket: the client closed its end (EOF/HUP), or
 * (write socket) frames arrive, one per packet. */
static int
on_sock(sd_event_source *s, int fd, uint32_t revents, void *arg)
{
	vcble_dev *d = arg;
	uint8_t buf[VCBLE_FRAME_MAX + 1];
	bool is_write = fd == d->write_fd, before = vcble_dev_notifying(d);
	ssize_t n;
	int i;

	(void)s;
	for (i = 0; i < 64 && (revents & EPOLLIN); i++) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			break;                     /* EOF: closed by the client */
		if (!is_write)
			continue;                  /* nothing is written to a notify socket */
		if ((size_t)n > vcble_dev_cpl(d)) {
			kw_warn("vcard-ble: %zd-byte write on the acquired socket: dropped", n);
			continue;
		}
		if (vcble_link_write(d, buf, (size_t)n) < 0 || fd != d->write_fd)
			return 0;                  /* disconnected meanwhile */
	}
	if (i == 64)
		return 0;                          /* more later: keep the loop fair */
	if (is_write) {
		d->write_src = sd_event_source_disable_unref(d->write_src);
		close(d->write_fd);
		d->write_fd = -1;
		emit(d, d->cp_path, IF_CHAR, "WriteAcquired", NULL);
	} else {
		d->notify_src = sd_event_source_disable_unref(d->notify_src);
		close(d->notify_fd);
		d->notify_fd = -1;
		emit(d, d->st_path, IF_CHAR, "NotifyAcquired", NULL);
		notifying_changed(d, before);
	}
	return 0;
}

void
vcble_dev_release_all(vcble_dev *d)
{
	bool before = vcble_dev_notifying(d);

	while (d->n_notify_clients > 0)
		drop_client(d, d->n_notify_clients - 1);
	d->notify_src = sd_event_source_disable_unref(d->notify_src);
	d->write_src = sd_event_source_disable_unref(d->write_src);
	if (d->notify_fd >= 0) {
		close(d->notify_fd);
		d->notify_fd = -1;
		if (d->svc_exported)
			emit(d, d->st_path, IF_CHAR, "NotifyAcquired", NULL);
	}
	if (d->write_fd >= 0) {
		close(d->write_fd);
		d->write_fd = -1;
		if (d->svc_exported)
			emit(d, d->cp_path, IF_CHAR, "WriteAcquired", NULL);
	}
	if (d->svc_exported && d->bus != NULL)
		notifying_changed(d, before);
}

/* AcquireNotify / AcquireWrite (a{sv}) -> (h fd, q mtu), as BlueZ does it:
 * a SOCK_SEQPACKET socketpair, one packet per notification / write without
 * response; closing the fd ends the session. */
static int
chr_acquire(sd_bus_message *m, void *arg, sd_bus_error *e)
{
	vcble_chr *c = arg;
	vcble_dev *d = c->d;
	bool notify = strcmp(sd_bus_message_get_member(m), "AcquireNotify") == 0;
	bool before = vcble_dev_notifying(d);
	int fds[2], r;

	if (d->faults.no_acquire)
		return sd_bus_error_setf(e, "org.freedesktop.DBus.Error.UnknownMethod",
		    "Unknown method %s (this BlueZ is too old)", sd_bus_message_get_member(m));
	if ((r = sd_bus_message_skip(m, "a{sv}")) < 0)
		return r;
	if (!d->connected)
		return sd_bus_error_set(e, "org.bluez.Error.Failed", "Not connected");
	if (notify ? c->kind != VCBLE_CHR_STATUS :
	    c->kind != VCBLE_CHR_CONTROL || d->faults.no_wwr)
		return sd_bus_error_set(e, "org.bluez.Error.NotSupported", "Not Supported");
	if (notify && d->notify_fd >= 0)
		return sd_bus_error_set(e, "org.bluez.Error.NotPermitted", "Notify acquired");
	if (notify && d->n_notify_clients > 0)
		return sd_bus_error_set(e, "org.bluez.Error.InProgress", "In Progress");
	if (!notify && d->write_fd >= 0)
		return sd_bus_error_set(e, "org.bluez.Error.NotPermitted", "Write acquired");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
		return sd_bus_error_set_errno(e, errno);
	if (sd_event_add_io(d->ev, notify ? &d->notify_src : &d->write_src, fds[0], EPOLLIN,
	    on_sock, d) < 0) {
		close(fds[0]);
		close(fds[1]);
		return sd_bus_error_set(e, "org.bluez.Error.Failed", "io");
	}
	if (notify)
		d->notify_fd = fds[0];
	else
		d->write_fd = fds[0];
	r = sd_bus_reply_method_return(m, "hq", fds[1], (uint16_t)d->faults.mtu);
	close(fds[1]);
	emit(d, notify ? d->st_path : d->cp_path, IF_CHAR,
	    notify ? "NotifyAcquired" : "WriteAcquired", NULL);
	if (notify) {
		notifying_changed(d, before);
		vcble_link_notify_started(d);
	}
	return r;
}

static const sd_bus_vtable chr_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("ReadValue", "a{sv}", "ay", chr_read, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("WriteValue", "aya{sv}", "", chr_write, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("StartNotify", "", "", chr_notify, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("StopNotify", "", "", chr_notify, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("AcquireNotify", "a{sv}", "hq", chr_acquire, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("AcquireWrite", "a{sv}", "hq", chr_acquire, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_PROPERTY("UUID", "s", chr_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Service", "o", chr_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Value", "ay", chr_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Notifying", "b", chr_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("NotifyAcquired", "b", chr_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("WriteAcquired", "b", chr_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Flags", "as", chr_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("MTU", "q", chr_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_VTABLE_END
};

/* --- org.keyward.VcardBle1 (test control) --- */

static int
ctl_set_faults(sd_bus_message *m, void *arg, sd_bus_error *e)
{
	vcble_dev *d = arg;
	vcble_faults f = d->faults;
	const char *list;
	char err[96];
	int r;

	if ((r = sd_bus_message_read(m, "s", &list)) < 0)
		return r;
	if (vcble_faults_parse(list, &f, err, sizeof(err)) != KW_OK)
		return sd_bus_error_set(e, "org.freedesktop.DBus.Error.InvalidArgs", err);
	vcble_dev_apply_faults(d, &f);
	return sd_bus_reply_method_return(m, NULL);
}

static int
ctl_stats(sd_bus_message *m, void *arg, sd_bus_error *e)
{
	vcble_dev *d = arg;

	(void)e;
	if (strcmp(sd_bus_message_get_member(m), "ResetStats") == 0) {
		d->frames_in = d->frames_out = d->bytes_in = d->bytes_out = 0;
		return sd_bus_reply_method_return(m, NULL);
	}
	return sd_bus_reply_method_return(m, "tttt", d->frames_in, d->frames_out, d->bytes_in,
	    d->bytes_out);
}

static const sd_bus_vtable ctl_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("SetFaults", "s", "", ctl_set_faults, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Disconnect", "", "", device_disconnect, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("GetStats", "", "tttt", ctl_stats, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("ResetStats", "", "", ctl_stats, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

static kw_rv
export_service(vcble_dev *d)
{
	const char *paths[VCBLE_NCHR] = { d->cp_path, d->st_path, d->cpl_path };
	int i, r;

	if (d->svc_exported)
		return KW_OK;
	r = sd_bus_add_object_vtable(d->bus, &d->svc_slots[0], d->svc_path, IF_SERVICE,
	    service_vtable, d);
	for (i = 0; i < VCBLE_NCHR && r >= 0; i++) {
		d->chr[i].d = d;
		d->chr[i].kind = i;
		r = sd_bus_add_object_vtable(d->bus, &d->svc_slots[1 + i], paths[i], IF_CHAR,
		    chr_vtable, &d->chr[i]);
	}
	d->svc_exported = true;
	if (r < 0)
		return KW_ERR_INTERNAL;
	(void)sd_bus_emit_interfaces_added(d->bus, d->svc_path, IF_SERVICE, NULL);
	for (i = 0; i < VCBLE_NCHR; i++)
		(void)sd_bus_emit_interfaces_added(d->bus, paths[i], IF_CHAR, NULL);
	return KW_OK;
}

static void
unexport_service(vcble_dev *d)
{
	const char *paths[VCBLE_NCHR] = { d->cp_path, d->st_path, d->cpl_path };
	int i;

	if (!d->svc_exported)
		return;
	vcble_dev_release_all(d);
	for (i = 0; i < VCBLE_NCHR; i++)
		(void)sd_bus_emit_interfaces_removed(d->bus, paths[i], IF_CHAR, NULL);
	(void)sd_bus_emit_interfaces_removed(d->bus, d->svc_path, IF_SERVICE, NULL);
	for (i = 0; i < 1 + VCBLE_NCHR; i++)
		d->svc_slots[i] = sd_bus_slot_unref(d->svc_slots[i]);
	d->svc_exported = false;
}

void
vcble_dev_apply_faults(vcble_dev *d, const vcble_faults *f)
{
	bool bond_changed = f->not_bonded != d->faults.not_bonded;
	bool power_changed = f->adapter_off != d->faults.adapter_off;

	d->faults = *f;
	d->frames_since_fault = d->notifs_since_fault = 0;
	kw_info("vcard-ble: faults: mtu=%u drop-notify=%u disconnect-after=%u "
	    "disconnect-on-ins=%02X delay=%u keepalive=%u%s%s%s%s%s", f->mtu, f->drop_notify,
	    f->disconnect_after, f->disconnect_ins & 0xFF, f->delay_ms,
	    f->keepalive_ms, f->not_bonded ? " not-bonded" : "",
	    f->adapter_off ? " adapter-off" : "", f->no_service ? " no-service" : "",
	    f->connect_fail ? " connect-fail" : "", f->ignore_cancel ? " ignore-cancel" : "");
	if (f->no_service)
		unexport_service(d);
	else if (d->bus != NULL && export_service(d) != KW_OK)
		kw_err("vcard-ble: cannot export the GATT service");
	if (bond_changed)
		(void)sd_bus_emit_properties_changed(d->bus, d->dev_path, IF_DEVICE, "Paired",
		    "Trusted", "Bonded", NULL);
	if (power_changed) {
		(void)sd_bus_emit_properties_changed(d->bus, ADAPTER_PATH, IF_ADAPTER,
		    "Powered", NULL);
		if (f->adapter_off)
			vcble_dev_set_connected(d, false);
	}
}

kw_rv
vcble_dev_export(vcble_dev *d)
{
	char suffix[18];
	size_t i;

	for (i = 0; d->addr[i] != '\0' && i < sizeof(suffix) - 1; i++)
		suffix[i] = d->addr[i] == ':' ? '_' : d->addr[i];
	suffix[i] = '\0';
	snprintf(d->dev_path, sizeof(d->dev_path), ADAPTER_PATH "/dev_%s", suffix);
	snprintf(d->svc_path, sizeof(d->svc_path), "%s/service0010", d->dev_path);
	snprintf(d->cp_path, sizeof(d->cp_path), "%s/char0011", d->svc_path);
	snprintf(d->st_path, sizeof(d->st_path), "%s/char0013", d->svc_path);
	snprintf(d->cpl_path, sizeof(d->cpl_path), "%s/char0016", d->svc_path);
	if (sd_bus_match_signal(d->bus, &d->owner_slot, "org.freedesktop.DBus",
	    "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameOwnerChanged",
	    on_owner_changed, d) < 0 ||
	    sd_bus_add_object_manager(d->bus, NULL, "/") < 0 ||
	    sd_bus_add_object_vtable(d->bus, NULL, ADAPTER_PATH, IF_ADAPTER, adapter_vtable, d) < 0 ||
	    sd_bus_add_object_vtable(d->bus, NULL, d->dev_path, IF_DEVICE, device_vtable, d) < 0 ||
	    sd_bus_add_object_vtable(d->bus, NULL, CTL_PATH, IF_CTL, ctl_vtable, d) < 0)
		return KW_ERR_INTERNAL;
	if (!d->faults.no_service)
		return export_service(d);
	return KW_OK;
}

void
vcble_dev_unexport(vcble_dev *d)
{
	size_t i;

	d->svc_exported = false;      /* no signals from here on */
	vcble_dev_release_all(d);
	d->owner_slot = sd_bus_slot_unref(d->owner_slot);
	for (i = 0; i < 1 + VCBLE_NCHR; i++)
		d->svc_slots[i] = sd_bus_slot_unref(d->svc_slots[i]);
	d->svc_exported = false;
}
