/* drivers/ble internals: BlueZ's object tree as the transport sees it, bus
 * helpers. The parsers read untrusted D-Bus messages and are unit-tested
 * (tests/unit/test_ble_objs.c). */
#ifndef KW_BLE_INT_H
#define KW_BLE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "kw_err.h"

#define KW_BLE_BLUEZ        "org.bluez"
#define KW_BLE_IF_ADAPTER   "org.bluez.Adapter1"
#define KW_BLE_IF_DEVICE    "org.bluez.Device1"
#define KW_BLE_IF_SERVICE   "org.bluez.GattService1"
#define KW_BLE_IF_CHAR      "org.bluez.GattCharacteristic1"
#define KW_BLE_IF_PROPS     "org.freedesktop.DBus.Properties"
#define KW_BLE_IF_OBJMGR    "org.freedesktop.DBus.ObjectManager"

#define KW_BLE_ADDR_LEN 17   /* AA:BB:CC:DD:EE:FF */

enum { KW_BLE_ADAPTER = 1, KW_BLE_DEVICE, KW_BLE_SERVICE, KW_BLE_CHAR };

typedef struct kw_ble_obj {
	char *path;
	int kind;
	char *address;     /* adapter, device */
	char *uuid;        /* service, characteristic (lower case) */
	char *parent;      /* device: Adapter; service: Device; char: Service */
	bool powered;      /* adapter */
	bool paired, trusted, bonded, has_bonded, connected, resolved;
	bool keyward;      /* device: UUIDs contain the keyward service */
} kw_ble_obj;

typedef struct kw_ble_objs {
	kw_ble_obj *v;
	size_t n;
} kw_ble_objs;

/* Parse a GetManagedObjects reply (a{oa{sa{sv}}}). Objects without one of
 * the four interfaces are skipped. */
kw_rv kw_ble_objs_parse(sd_bus_message *m, kw_ble_objs *out);
void kw_ble_objs_free(kw_ble_objs *o);
const kw_ble_obj *kw_ble_objs_get(const kw_ble_objs *o, int kind, const char *path);
/* A device by object path or by address (case-insensitive). */
const kw_ble_obj *kw_ble_objs_device(const kw_ble_objs *o, const char *name);
/* The child of `parent` of `kind` with `uuid` (services, characteristics). */
const kw_ble_obj *kw_ble_objs_child(const kw_ble_objs *o, int kind, const char *parent,
    const char *uuid);
const kw_ble_obj *kw_ble_objs_first_adapter(const kw_ble_objs *o);

/* Paired && Trusted && (Bonded where BlueZ reports it). */
bool kw_ble_dev_bonded(const kw_ble_obj *d);
/* Offers the keyward service, or its address is in `addrs` (a list
 * separated by commas, spaces or semicolons; NULL = none). */
bool kw_ble_dev_selected(const kw_ble_obj *d, const char *addrs);
/* AA:BB:CC:DD:EE:FF (hex digits either case). */
bool kw_ble_addr_valid(const char *s);

/* One PropertiesChanged signal (sa{sv}as), the properties we follow. The
 * value pointer points into the message. */
typedef struct kw_ble_change {
	char iface[64];
	bool has_connected, connected;
	bool has_resolved, resolved;
	bool has_value;
	const uint8_t *value;
	size_t value_len;
} kw_ble_change;

kw_rv kw_ble_change_parse(sd_bus_message *m, kw_ble_change *out);

/* Bus helpers (kw_ble_bus.c). */
kw_rv kw_ble_bus_open(sd_bus **out);
/* Map an sd-bus failure (negative errno and/or D-Bus error) to kw_rv. */
kw_rv kw_ble_bus_rv(int r, const sd_bus_error *e);
kw_rv kw_ble_bus_objects(sd_bus *bus, kw_ble_objs *out);
/* Call with a bound: method on org.bluez at path, no arguments. */
kw_rv kw_ble_bus_call0(sd_bus *bus, const char *path, const char *iface,
    const char *method, uint64_t timeout_us);
/* Read a characteristic value (ReadValue with empty options). */
kw_rv kw_ble_bus_read(sd_bus *bus, const char *path, uint8_t *out, size_t cap,
    size_t *out_len, uint64_t timeout_us);
/* WriteValue with options {"type": type}. */
kw_rv kw_ble_bus_write(sd_bus *bus, const char *path, const uint8_t *p, size_t n,
    const char *type, uint64_t timeout_us);
/* AcquireNotify / AcquireWrite (method) on a characteristic, empty options:
 * *fd (ours, close-on-exec) and the ATT MTU. KW_ERR_NOT_SUPPORTED when
 * BlueZ lacks the method or the characteristic does not allow it (no
 * notify / no write-without-response); KW_ERR_SHARING when another client
 * holds it (NotPermitted: acquired; InProgress: StartNotify sessions);
 * KW_ERR_CARD_REMOVED when not connected. `why` gets BlueZ's message. */
kw_rv kw_ble_bus_acquire(sd_bus *bus, const char *path, const char *method, int *fd,
    uint16_t *mtu, char *why, size_t why_len, uint64_t timeout_us);
/* A boolean property of org.bluez at path. */
kw_rv kw_ble_bus_get_bool(sd_bus *bus, const char *path, const char *iface,
    const char *prop, bool *out);
/* The unique name owning org.bluez (to check signal senders). */
kw_rv kw_ble_bus_owner(sd_bus *bus, char **out);
int kw_ble_env_ms(const char *name, int def, int min, int max);

#endif
