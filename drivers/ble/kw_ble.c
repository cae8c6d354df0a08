/* The BLE transport: finding, checking, connecting and watching a bonded
 * keyward token through BlueZ (kw_ble.h). Frames move in kw_ble_xfer.c. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ble/kw_ble_priv.h"
#include "kw_config.h"
#include "kw_log.h"
#include "kw_secret.h"

#define CONNECT_TIMEOUT_MS 10000
#define RESOLVE_TIMEOUT_MS 5000
#define CALL_TIMEOUT_US (3 * 1000000ull)

uint64_t
kw_ble_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ull + (uint64_t)ts.tv_nsec / 1000;
}

/* Frames waiting on the acquired notify socket. */
static kw_rv
read_notify_sock(kw_ble *b, int *got)
{
	uint8_t buf[KW_BLE_FRAG_MAX + 1];
	ssize_t n;
	int i;

	*got = 0;
	for (i = 0; i < 256; i++) {
		n = recv(b->nfd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			/* BlueZ closes it when the link goes down */
			kw_err("ble: %s: the notification socket was closed (disconnected)",
			    b->address);
			b->connected = false;
			b->gone = KW_ERR_CARD_REMOVED;
			break;
		}
		kw_ble_rx_frame(b, buf, (size_t)n);
		(*got)++;
	}
	kw_memzero(buf, sizeof(buf));
	return b->gone;
}

kw_rv
kw_ble_pump(kw_ble *b, uint64_t deadline_us)
{
	struct pollfd pfd[2];
	uint64_t now, bus_to = UINT64_MAX;
	int r, timeout_ms, nfds = 1, got = 0;

	if ((r = sd_bus_process(b->bus, NULL)) > 0)
		return b->gone;
	if (r < 0)
		goto lost;
	if (b->nfd >= 0 && (read_notify_sock(b, &got) != KW_OK || got > 0))
		return b->gone;
	now = kw_ble_now_us();
	if (now >= deadline_us)
		return KW_OK;
	pfd[0].fd = sd_bus_get_fd(b->bus);
	pfd[0].events = (short)sd_bus_get_events(b->bus);
	pfd[0].revents = 0;
	if (b->nfd >= 0) {
		pfd[1].fd = b->nfd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		nfds = 2;
	}
	(void)sd_bus_get_timeout(b->bus, &bus_to);
	if (bus_to != UINT64_MAX && bus_to < deadline_us)   /* sd-bus: absolute monotonic */
		deadline_us = bus_to > now ? bus_to : now;
	timeout_ms = (int)((deadline_us - now + 999) / 1000);
	r = poll(pfd, (nfds_t)nfds, timeout_ms);
	if (r >= 0 || errno == EINTR)
		return KW_OK;
	r = -errno;
lost:
	kw_err("ble: lost the D-Bus connection: %s", strerror(-r));
	b->gone = KW_ERR_SERVICE_GONE;
	return b->gone;
}

static bool
from_bluez(const kw_ble *b, sd_bus_message *m)
{
	const char *s = sd_bus_message_get_sender(m);

	return b->owner != NULL && s != NULL && strcmp(s, b->owner) == 0;
}

static void
mark_gone(kw_ble *b, const char *why)
{
	if (b->gone == KW_OK)
		kw_err("ble: %s: %s", b->address, why);
	b->connected = false;
	b->gone = KW_ERR_CARD_REMOVED;
}

static int
on_device_changed(sd_bus_message *m, void *arg, sd_bus_error *e)
{
	kw_ble *b = arg;
	kw_ble_change c;

	(void)e;
	if (!from_bluez(b, m) || kw_ble_change_parse(m, &c) != KW_OK ||
	    strcmp(c.iface, KW_BLE_IF_DEVICE) != 0)
		return 0;
	if (c.has_connected) {
		b->connected = c.connected;
		if (!c.connected)
			mark_gone(b, "disconnected");
	}
	if (c.has_resolved)
		b->resolved = c.resolved;
	return 0;
}

static int
on_removed(sd_bus_message *m, void *arg, sd_bus_error *e)
{
	kw_ble *b = arg;
	const char *path;

	(void)e;
	if (from_bluez(b, m) && sd_bus_message_read_basic(m, 'o', &path) > 0 &&
	    (strcmp(path, b->dev_path) == 0 ||
	    (b->st_path != NULL && strcmp(path, b->st_path) == 0)))
		mark_gone(b, "device or service removed");
	return 0;
}

/* Status notifications on the fallback path (PropertiesChanged). */
static int
on_status(sd_bus_message *m, void *arg, sd_bus_error *e)
{
	kw_ble *b = arg;
	kw_ble_change c;

	(void)e;
	if (!from_bluez(b, m) || kw_ble_change_parse(m, &c) != KW_OK ||
	    strcmp(c.iface, KW_BLE_IF_CHAR) != 0 || !c.has_value)
		return 0;
	kw_ble_rx_frame(b, c.value, c.value_len);
	return 0;
}

static kw_rv
subscribe(kw_ble *b, sd_bus_slot **slot, const char *path, const char *iface,
    const char *member, sd_bus_message_handler_t fn)
{
	int r = sd_bus_match_signal(b->bus, slot, NULL, path, iface, member, fn, b);

	return r < 0 ? kw_ble_bus_rv(r, NULL) : KW_OK;
}

kw_rv
kw_ble_watch_status(kw_ble *b)
{
	if (b->st_slot != NULL)
		return KW_OK;
	return subscribe(b, &b->st_slot, b->st_path, KW_BLE_IF_PROPS, "PropertiesChanged",
	    on_status);
}

static void
ble_close(void *ctx)
{
	kw_ble *b = ctx;

	if (b == NULL)
		return;
	kw_ble_session_close(b);
	if (b->bus != NULL && b->notify_started && b->gone == KW_OK)
		(void)kw_ble_bus_call0(b->bus, b->st_path, KW_BLE_IF_CHAR, "StopNotify",
		    500000);
	sd_bus_slot_unref(b->dev_slot);
	sd_bus_slot_unref(b->st_slot);
	sd_bus_slot_unref(b->rm_slot);
	sd_bus_flush_close_unref(b->bus);
	kw_ble_rx_free(&b->rx);
	free(b->owner);
	free(b->dev_path);
	free(b->cp_path);
	free(b->st_path);
	free(b->cpl_path);
	free(b);
}

/* The device, its adapter, and the refusals (no adapter, off, not bonded). */
static kw_rv
check_device(kw_ble *b, const kw_ble_objs *o, const char *name)
{
	const kw_ble_obj *d, *a;

	if (kw_ble_objs_first_adapter(o) == NULL) {
		kw_err("ble: no Bluetooth adapter");
		return KW_ERR_NO_READER;
	}
	if ((d = kw_ble_objs_device(o, name)) == NULL) {
		kw_err("ble: BlueZ knows no device %.128s (pair it first)", name);
		return KW_ERR_NO_READER;
	}
	a = kw_ble_objs_get(o, KW_BLE_ADAPTER, d->parent);
	if (a != NULL && !a->powered) {
		kw_err("ble: adapter %.128s is powered off", a->path);
		return KW_ERR_NO_SERVICE;
	}
	snprintf(b->address, sizeof(b->address), "%.17s", d->address != NULL ? d->address : "?");
	if (!kw_ble_dev_bonded(d)) {
		kw_err("ble: device %s is not bonded (pair and trust it first: "
		    "bluetoothctl pair/trust); refusing it", b->address);
		return KW_ERR_SECURITY;
	}
	if ((b->dev_path = strdup(d->path)) == NULL)
		return KW_ERR_NOMEM;
	b->connected = d->connected;
	b->resolved = d->resolved;
	return KW_OK;
}

/* Connect if needed and wait (bounded) until services are resolved. */
static kw_rv
connect_device(kw_ble *b)
{
	uint64_t deadline;
	kw_rv rv;
	bool v;

	if (!b->connected) {
		rv = kw_ble_bus_call0(b->bus, b->dev_path, KW_BLE_IF_DEVICE, "Connect",
		    (uint64_t)kw_ble_env_ms("KEYWARD_BLE_CONNECT_TIMEOUT_MS",
		    CONNECT_TIMEOUT_MS, 100, 120000) * 1000);
		if (rv != KW_OK) {
			kw_err("ble: cannot connect to %s: %s", b->address, kw_strerror(rv));
			return rv == KW_ERR_SERVICE_GONE || rv == KW_ERR_NO_SERVICE ? rv : KW_ERR_NO_CARD;
		}
	}
	/* state after subscribing: no change can be missed */
	if ((rv = kw_ble_bus_get_bool(b->bus, b->dev_path, KW_BLE_IF_DEVICE, "Connected",
	    &b->connected)) != KW_OK ||
	    (rv = kw_ble_bus_get_bool(b->bus, b->dev_path, KW_BLE_IF_DEVICE,
	    "ServicesResolved", &v)) != KW_OK)
		return rv;
	b->resolved = b->resolved || v;
	b->gone = KW_OK;
	deadline = kw_ble_now_us() + RESOLVE_TIMEOUT_MS * 1000ull;
	while (b->connected && !b->resolved && kw_ble_now_us() < deadline)
		if ((rv = kw_ble_pump(b, deadline)) != KW_OK)
			return rv;
	if (!b->connected) {
		kw_err("ble: %s disconnected while connecting", b->address);
		return KW_ERR_NO_CARD;
	}
	if (!b->resolved) {
		kw_err("ble: %s: services not resolved within %d ms", b->address,
		    RESOLVE_TIMEOUT_MS);
		return KW_ERR_TIMEOUT;
	}
	return KW_OK;
}

static kw_rv
dup_path(const kw_ble_obj *o, char **out)
{
	return (*out = strdup(o->path)) != NULL ? KW_OK : KW_ERR_NOMEM;
}

/* The keyward service and its three characteristics. */
static kw_rv
find_service(kw_ble *b)
{
	kw_ble_objs o;
	const kw_ble_obj *s, *cp, *st, *cpl;
	kw_rv rv;

	if ((rv = kw_ble_bus_objects(b->bus, &o)) != KW_OK)
		return rv;
	s = kw_ble_objs_child(&o, KW_BLE_SERVICE, b->dev_path, KW_BLE_UUID_SERVICE);
	cp = s != NULL ? kw_ble_objs_child(&o, KW_BLE_CHAR, s->path, KW_BLE_UUID_CONTROL) : NULL;
	st = s != NULL ? kw_ble_objs_child(&o, KW_BLE_CHAR, s->path, KW_BLE_UUID_STATUS) : NULL;
	cpl = s != NULL ? kw_ble_objs_child(&o, KW_BLE_CHAR, s->path, KW_BLE_UUID_CPLEN) : NULL;
	if (s == NULL || cp == NULL || st == NULL || cpl == NULL) {
		kw_err("ble: %s offers no keyward service (%s)", b->address,
		    s == NULL ? "service " KW_BLE_UUID_SERVICE " missing" : "characteristic missing");
		rv = KW_ERR_NOT_SUPPORTED;
		goto out;
	}
	if ((rv = dup_path(cp, &b->cp_path)) == KW_OK && (rv = dup_path(st, &b->st_path)) == KW_OK)
		rv = dup_path(cpl, &b->cpl_path);
out:
	kw_ble_objs_free(&o);
	return rv;
}

/* The control-point length (per connection: the MTU may differ). */
static kw_rv
start_link(kw_ble *b)
{
	uint8_t v[8];
	size_t n;
	kw_rv rv;

	if ((rv = kw_ble_bus_read(b->bus, b->cpl_path, v, sizeof(v), &n, CALL_TIMEOUT_US)) != KW_OK) {
		kw_err("ble: %s: cannot read the control-point length: %s", b->address,
		    kw_strerror(rv));
		return rv;
	}
	b->frag = n == 2 ? ((size_t)v[0] << 8) | v[1] : 0;
	if (b->frag < KW_BLE_FRAG_MIN || b->frag > KW_BLE_FRAG_MAX) {
		kw_err("ble: %s: bad control-point length (%zu bytes, value %zu)", b->address,
		    n, b->frag);
		return KW_ERR_PROTOCOL;
	}
	kw_ble_rx_init(&b->rx, b->frag);
	b->stats.frag = b->frag;
	return KW_OK;
}

/* Settings from the environment, the tag and the lock name. */
static kw_rv
ble_setup(kw_ble *b)
{
	const char *w = getenv("KEYWARD_BLE_WRITE"), *a = getenv("KEYWARD_BLE_ACQUIRE");
	uint8_t rnd[8];
	sd_id128_t id;
	char addr[KW_BLE_ADDR_LEN + 1];
	size_t i;

	b->nfd = b->wfd = -1;
	b->idle_ms = kw_ble_env_ms("KEYWARD_BLE_TIMEOUT_MS", 2000, 100, 600000);
	b->lock_ms = kw_ble_env_ms("KEYWARD_BLE_LOCK_TIMEOUT_MS", KW_BLE_LOCK_TIMEOUT_MS, 0,
	    600000);
	b->total_ms = 60000;
	b->write_mode = KW_BLE_WR_AUTO;
	if (w != NULL && strcmp(w, "request") == 0)
		b->write_mode = KW_BLE_WR_REQUEST;
	else if (w != NULL && strcmp(w, "command") == 0)
		b->write_mode = KW_BLE_WR_COMMAND;
	else if (w != NULL && *w != '\0' && strcmp(w, "auto") != 0)
		kw_warn("ble: ignoring KEYWARD_BLE_WRITE='%.16s' (auto, request or command)", w);
	b->acquire_mode = KW_BLE_ACQ_AUTO;
	if (a != NULL && strcmp(a, "require") == 0)
		b->acquire_mode = KW_BLE_ACQ_REQUIRE;
	else if (a != NULL && strcmp(a, "off") == 0)
		b->acquire_mode = KW_BLE_ACQ_OFF;
	else if (a != NULL && *a != '\0' && strcmp(a, "auto") != 0)
		kw_warn("ble: ignoring KEYWARD_BLE_ACQUIRE='%.16s' (auto, require or off)", a);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return KW_ERR_CRYPTO;
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(b->tag + 2 * i, 3, "%02x", rnd[i]);
	/* one lock per device and bus (tests run private buses side by side) */
	for (i = 0; i < KW_BLE_ADDR_LEN && b->address[i] != '\0'; i++)
		addr[i] = b->address[i] == ':' ? '_' : b->address[i];
	addr[i] = '\0';
	if (getenv("KEYWARD_BLE_BUS") != NULL && *getenv("KEYWARD_BLE_BUS") != '\0' &&
	    strcmp(getenv("KEYWARD_BLE_BUS"), "system") != 0 &&
	    sd_bus_get_bus_id(b->bus, &id) >= 0)
		snprintf(b->lock_name, sizeof(b->lock_name), "keyward-ble-%s-%02x%02x%02x%02x%02x%02x",
		    addr, id.bytes[0], id.bytes[1], id.bytes[2], id.bytes[3], id.bytes[4],
		    id.bytes[5]);
	else
		snprintf(b->lock_name, sizeof(b->lock_name), "keyward-ble-%s", addr);
	return KW_OK;
}

static kw_rv
ble_open(const char *rest, void **ctx)
{
	kw_ble *b;
	kw_ble_objs o = { 0 };
	kw_rv rv;

	*ctx = NULL;
	if (rest[0] != '/' && !kw_ble_addr_valid(rest)) {
		kw_err("ble: '%.64s' is neither an address nor a BlueZ device path", rest);
		return KW_ERR_ARG;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return KW_ERR_NOMEM;
	b->nfd = b->wfd = -1;
	if ((rv = kw_ble_bus_open(&b->bus)) != KW_OK ||
	    (rv = kw_ble_bus_owner(b->bus, &b->owner)) != KW_OK ||
	    (rv = kw_ble_bus_objects(b->bus, &o)) != KW_OK) {
		if (rv == KW_ERR_NO_SERVICE)
			kw_err("ble: BlueZ (org.bluez) is not reachable on the bus");
		goto fail;
	}
	if ((rv = check_device(b, &o, rest)) != KW_OK ||
	    (rv = subscribe(b, &b->dev_slot, b->dev_path, KW_BLE_IF_PROPS, "PropertiesChanged",
	    on_device_changed)) != KW_OK ||
	    (rv = subscribe(b, &b->rm_slot, "/", KW_BLE_IF_OBJMGR, "InterfacesRemoved",
	    on_removed)) != KW_OK ||
	    (rv = ble_setup(b)) != KW_OK ||
	    (rv = connect_device(b)) != KW_OK || (rv = find_service(b)) != KW_OK ||
	    (rv = start_link(b)) != KW_OK)
		goto fail;
	kw_ble_objs_free(&o);
	kw_debug("ble: %s connected, control-point length %zu", b->address, b->frag);
	*ctx = b;
	return KW_OK;
fail:
	kw_ble_objs_free(&o);
	ble_close(b);
	return rv;
}

static kw_rv
ble_present(void *ctx)
{
	kw_ble *b = ctx;
	int i;

	for (i = 0; i < 64 && b->gone == KW_OK; i++)
		if (sd_bus_process(b->bus, NULL) <= 0)
			break;
	if (b->gone == KW_OK && sd_bus_is_open(b->bus) <= 0)
		b->gone = KW_ERR_SERVICE_GONE;
	if (b->gone == KW_OK && !b->connected)
		b->gone = KW_ERR_CARD_REMOVED;
	return b->gone;
}

/* The configured token addresses (kw_config: ble_device =, or
 * KEYWARD_BLE_DEVICES) as one comma-separated string; NULL when none. */
static kw_rv
ble_configured(char **out)
{
	kw_config cfg;
	size_t i, len = 1;
	char *s;
	kw_rv rv;

	*out = NULL;
	if ((rv = kw_config_load(&cfg)) != KW_OK)
		return rv;
	for (i = 0; i < cfg.ble_devices.n; i++)
		len += strlen(cfg.ble_devices.v[i]) + 1;
	if (cfg.ble_devices.n > 0 && (s = calloc(1, len)) != NULL) {
		for (i = 0; i < cfg.ble_devices.n; i++) {
			strcat(s, cfg.ble_devices.v[i]);
			strcat(s, ",");
		}
		*out = s;
	} else if (cfg.ble_devices.n > 0) {
		rv = KW_ERR_NOMEM;
	}
	kw_config_free(&cfg);
	return rv;
}

static kw_rv
ble_list(kw_strlist *out)
{
	sd_bus *bus = NULL;
	kw_ble_objs o = { 0 };
	char *addrs = NULL;
	const kw_ble_obj *d, *a;
	char uri[4 + KW_BLE_ADDR_LEN + 1];
	size_t i;
	kw_rv rv;

	if ((rv = ble_configured(&addrs)) != KW_OK || (rv = kw_ble_bus_open(&bus)) != KW_OK ||
	    (rv = kw_ble_bus_objects(bus, &o)) != KW_OK)
		goto out;
	for (i = 0; i < o.n && rv == KW_OK; i++) {
		d = &o.v[i];
		if (d->kind != KW_BLE_DEVICE || d->address == NULL ||
		    !kw_ble_addr_valid(d->address) || !kw_ble_dev_selected(d, addrs))
			continue;
		a = kw_ble_objs_get(&o, KW_BLE_ADAPTER, d->parent);
		if (!kw_ble_dev_bonded(d) || (a != NULL && !a->powered)) {
			kw_debug("ble: skipping %s (%s)", d->address,
			    !kw_ble_dev_bonded(d) ? "not bonded" : "adapter off");
			continue;
		}
		snprintf(uri, sizeof(uri), "ble:%s", d->address);
		rv = kw_strlist_add(out, uri);
	}
out:
	free(addrs);
	kw_ble_objs_free(&o);
	sd_bus_flush_close_unref(bus);
	return rv;
}

void
kw_ble_get_stats(void *ctx, kw_ble_stats *out)
{
	const kw_ble *b = ctx;

	*out = b->stats;
}

const kw_transport_ops kw_ble_ops = {
	.scheme = "ble",
	.flags = KW_TRANSPORT_EXTENDED,
	.list = ble_list,
	.open = ble_open,
	.close = ble_close,
	.transmit = kw_ble_transmit,
	.begin = kw_ble_begin,
	.end = kw_ble_end,
	.present = ble_present,
};
