/* Parsing BlueZ's object tree (GetManagedObjects) and PropertiesChanged
 * signals: untrusted input from the bus, read with sd-bus's typed readers;
 * strings are copied bounded, unknown properties skipped. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ble/kw_ble.h"
#include "ble/kw_ble_int.h"

#define OBJS_MAX 4096
#define STR_MAX 512

static kw_rv
rv_of(int r)
{
	if (r == -ENOMEM)
		return KW_ERR_NOMEM;
	return r < 0 ? KW_ERR_FORMAT : KW_OK;
}

static kw_rv
dup_str(const char *s, char **out)
{
	free(*out);
	*out = NULL;
	if (strnlen(s, STR_MAX + 1) > STR_MAX)
		return KW_ERR_FORMAT;
	if ((*out = strdup(s)) == NULL)
		return KW_ERR_NOMEM;
	return KW_OK;
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int
iface_kind(const char *iface)
{
	if (strcmp(iface, KW_BLE_IF_ADAPTER) == 0)
		return KW_BLE_ADAPTER;
	if (strcmp(iface, KW_BLE_IF_DEVICE) == 0)
		return KW_BLE_DEVICE;
	if (strcmp(iface, KW_BLE_IF_SERVICE) == 0)
		return KW_BLE_SERVICE;
	if (strcmp(iface, KW_BLE_IF_CHAR) == 0)
		return KW_BLE_CHAR;
	return 0;
}

/* UUIDs (as): does it contain the keyward service? */
static kw_rv
read_uuids(sd_bus_message *m, bool *keyward)
{
	const char *s;
	int r;

	if ((r = sd_bus_message_enter_container(m, 'a', "s")) < 0)
		return rv_of(r);
	while ((r = sd_bus_message_read_basic(m, 's', &s)) > 0)
		if (strcasecmp(s, KW_BLE_UUID_SERVICE) == 0)
			*keyward = true;
	if (r < 0)
		return rv_of(r);
	return rv_of(sd_bus_message_exit_container(m));
}

static bool *
bool_prop(kw_ble_obj *o, const char *name)
{
	static const struct { const char *name; size_t off; } t[] = {
		{ "Powered", offsetof(kw_ble_obj, powered) },
		{ "Paired", offsetof(kw_ble_obj, paired) },
		{ "Trusted", offsetof(kw_ble_obj, trusted) },
		{ "Bonded", offsetof(kw_ble_obj, bonded) },
		{ "Connected", offsetof(kw_ble_obj, connected) },
		{ "ServicesResolved", offsetof(kw_ble_obj, resolved) },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(name, t[i].name) == 0)
			return (bool *)((char *)o + t[i].off);
	return NULL;
}

static char **
str_prop(kw_ble_obj *o, const char *name, char *type)
{
	*type = 's';
	if (strcmp(name, "Address") == 0)
		return &o->address;
	if (strcmp(name, "UUID") == 0)
		return &o->uuid;
	*type = 'o';
	if ((o->kind == KW_BLE_DEVICE && strcmp(name, "Adapter") == 0) ||
	    (o->kind == KW_BLE_SERVICE && strcmp(name, "Device") == 0) ||
	    (o->kind == KW_BLE_CHAR && strcmp(name, "Service") == 0))
		return &o->parent;
	return NULL;
}

/* One property: s v. */
static kw_rv
read_prop(sd_bus_message *m, kw_ble_obj *o)
{
	const char *name, *s;
	char type, sig[2] = { 0, 0 };
	bool *b;
	char **sp;
	int r, x;
	kw_rv rv;

	if ((r = sd_bus_message_read_basic(m, 's', &name)) <= 0)
		return r < 0 ? rv_of(r) : KW_ERR_FORMAT;
	if ((b = bool_prop(o, name)) != NULL &&
	    sd_bus_message_verify_type(m, 'v', "b") > 0) {
		if ((r = sd_bus_message_read(m, "v", "b", &x)) < 0)
			return rv_of(r);
		*b = x != 0;
		if (b == &o->bonded)
			o->has_bonded = true;
		return KW_OK;
	}
	if ((sp = str_prop(o, name, &type)) != NULL &&
	    (sig[0] = type, sd_bus_message_verify_type(m, 'v', sig) > 0)) {
		if ((r = sd_bus_message_read(m, "v", sig, &s)) < 0)
			return rv_of(r);
		if ((rv = dup_str(s, sp)) == KW_OK && sp == &o->uuid)
			lower(o->uuid);
		return rv;
	}
	if (o->kind == KW_BLE_DEVICE && strcmp(name, "UUIDs") == 0 &&
	    sd_bus_message_verify_type(m, 'v', "as") > 0) {
		if ((r = sd_bus_message_enter_container(m, 'v', "as")) < 0 ||
		    (rv = read_uuids(m, &o->keyward)) != KW_OK)
			return r < 0 ? rv_of(r) : rv;
		return rv_of(sd_bus_message_exit_container(m));
	}
	return rv_of(sd_bus_message_skip(m, "v"));
}

/* a{sv} of one interface. */
static kw_rv
read_props(sd_bus_message *m, kw_ble_obj *o)
{
	kw_rv rv;
	int r;

	if ((r = sd_bus_message_enter_container(m, 'a', "{sv}")) < 0)
		return rv_of(r);
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		if ((rv = read_prop(m, o)) != KW_OK)
			return rv;
		if ((r = sd_bus_message_exit_container(m)) < 0)
			return rv_of(r);
	}
	if (r < 0)
		return rv_of(r);
	return rv_of(sd_bus_message_exit_container(m));
}

/* a{sa{sv}} of one object; o->kind is set by the first known interface. */
static kw_rv
read_ifaces(sd_bus_message *m, kw_ble_obj *o)
{
	const char *iface;
	int r, kind;
	kw_rv rv;

	if ((r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}")) < 0)
		return rv_of(r);
	while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
		if ((r = sd_bus_message_read_basic(m, 's', &iface)) <= 0)
			return KW_ERR_FORMAT;
		kind = iface_kind(iface);
		if (kind != 0 && o->kind == 0)
			o->kind = kind;
		if (kind != 0 && kind == o->kind)
			rv = read_props(m, o);
		else
			rv = rv_of(sd_bus_message_skip(m, "a{sv}"));
		if (rv != KW_OK)
			return rv;
		if ((r = sd_bus_message_exit_container(m)) < 0)
			return rv_of(r);
	}
	if (r < 0)
		return rv_of(r);
	return rv_of(sd_bus_message_exit_container(m));
}

static void
obj_clear(kw_ble_obj *o)
{
	free(o->path);
	free(o->address);
	free(o->uuid);
	free(o->parent);
	memset(o, 0, sizeof(*o));
}

static kw_rv
objs_push(kw_ble_objs *objs, kw_ble_obj *o)
{
	kw_ble_obj *nv;

	if (objs->n >= OBJS_MAX)
		return KW_ERR_RANGE;
	if ((nv = realloc(objs->v, (objs->n + 1) * sizeof(*nv))) == NULL)
		return KW_ERR_NOMEM;
	objs->v = nv;
	objs->v[objs->n++] = *o;
	memset(o, 0, sizeof(*o));
	return KW_OK;
}

kw_rv
kw_ble_objs_parse(sd_bus_message *m, kw_ble_objs *out)
{
	kw_ble_obj o;
	const char *path;
	kw_rv rv = KW_ERR_FORMAT;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&o, 0, sizeof(o));
	if ((r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}")) < 0)
		goto fail;
	while ((r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
		if ((r = sd_bus_message_read_basic(m, 'o', &path)) <= 0) {
			rv = KW_ERR_FORMAT;
			goto fail;
		}
		if ((rv = dup_str(path, &o.path)) != KW_OK || (rv = read_ifaces(m, &o)) != KW_OK)
			goto fail;
		if ((r = sd_bus_message_exit_container(m)) < 0) {
			rv = rv_of(r);
			goto fail;
		}
		if (o.kind != 0 && (rv = objs_push(out, &o)) != KW_OK)
			goto fail;
		obj_clear(&o);
	}
	if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0) {
		rv = rv_of(r);
		goto fail;
	}
	return KW_OK;
fail:
	obj_clear(&o);
	kw_ble_objs_free(out);
	return rv;
}

void
kw_ble_objs_free(kw_ble_objs *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		obj_clear(&o->v[i]);
	free(o->v);
	o->v = NULL;
	o->n = 0;
}

const kw_ble_obj *
kw_ble_objs_get(const kw_ble_objs *o, int kind, const char *path)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (o->v[i].kind == kind && path != NULL && strcmp(o->v[i].path, path) == 0)
			return &o->v[i];
	return NULL;
}

const kw_ble_obj *
kw_ble_objs_device(const kw_ble_objs *o, const char *name)
{
	size_t i;
	const kw_ble_obj *d;

	for (i = 0; i < o->n; i++) {
		d = &o->v[i];
		if (d->kind != KW_BLE_DEVICE)
			continue;
		if (name[0] == '/' ? strcmp(d->path, name) == 0 :
		    (d->address != NULL && strcasecmp(d->address, name) == 0))
			return d;
	}
	return NULL;
}

const kw_ble_obj *
kw_ble_objs_child(const kw_ble_objs *o, int kind, const char *parent, const char *uuid)
{
	size_t i;
	const kw_ble_obj *c;

	for (i = 0; i < o->n; i++) {
		c = &o->v[i];
		if (c->kind == kind && c->parent != NULL && c->uuid != NULL &&
		    strcmp(c->parent, parent) == 0 && strcasecmp(c->uuid, uuid) == 0)
			return c;
	}
	return NULL;
}

const kw_ble_obj *
kw_ble_objs_first_adapter(const kw_ble_objs *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (o->v[i].kind == KW_BLE_ADAPTER)
			return &o->v[i];
	return NULL;
}

bool
kw_ble_dev_bonded(const kw_ble_obj *d)
{
	return d->paired && d->trusted && (!d->has_bonded || d->bonded);
}

bool
kw_ble_addr_valid(const char *s)
{
	size_t i;

	if (strlen(s) != KW_BLE_ADDR_LEN)
		return false;
	for (i = 0; i < KW_BLE_ADDR_LEN; i++) {
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

bool
kw_ble_dev_selected(const kw_ble_obj *d, const char *addrs)
{
	const char *p = addrs;
	size_t n;

	if (d->keyward)
		return true;
	if (addrs == NULL || d->address == NULL)
		return false;
	while (*p != '\0') {
		p += strspn(p, ", ;\t\n");
		n = strcspn(p, ", ;\t\n");
		if (n == KW_BLE_ADDR_LEN && strncasecmp(p, d->address, n) == 0 &&
		    d->address[n] == '\0')
			return true;
		p += n;
	}
	return false;
}

/* PropertiesChanged: s a{sv} as. */
static kw_rv
change_prop(sd_bus_message *m, kw_ble_change *c)
{
	const char *name;
	const void *p;
	size_t n;
	int r, x;

	if ((r = sd_bus_message_read_basic(m, 's', &name)) <= 0)
		return KW_ERR_FORMAT;
	if ((strcmp(name, "Connected") == 0 || strcmp(name, "ServicesResolved") == 0) &&
	    sd_bus_message_verify_type(m, 'v', "b") > 0) {
		if ((r = sd_bus_message_read(m, "v", "b", &x)) < 0)
			return rv_of(r);
		if (name[0] == 'C') {
			c->has_connected = true;
			c->connected = x != 0;
		} else {
			c->has_resolved = true;
			c->resolved = x != 0;
		}
		return KW_OK;
	}
	if (strcmp(name, "Value") == 0 && sd_bus_message_verify_type(m, 'v', "ay") > 0) {
		if ((r = sd_bus_message_enter_container(m, 'v', "ay")) < 0 ||
		    (r = sd_bus_message_read_array(m, 'y', &p, &n)) < 0 ||
		    (r = sd_bus_message_exit_container(m)) < 0)
			return rv_of(r);
		c->has_value = true;
		c->value = p;
		c->value_len = n;
		return KW_OK;
	}
	return rv_of(sd_bus_message_skip(m, "v"));
}

kw_rv
kw_ble_change_parse(sd_bus_message *m, kw_ble_change *c)
{
	const char *iface;
	kw_rv rv;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = sd_bus_message_read_basic(m, 's', &iface)) <= 0 ||
	    strnlen(iface, sizeof(c->iface)) >= sizeof(c->iface))
		return KW_ERR_FORMAT;
	memcpy(c->iface, iface, strlen(iface) + 1);
	if ((r = sd_bus_message_enter_container(m, 'a', "{sv}")) < 0)
		return rv_of(r);
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		if ((rv = change_prop(m, c)) != KW_OK)
			return rv;
		if ((r = sd_bus_message_exit_container(m)) < 0)
			return rv_of(r);
	}
	if (r < 0)
		return rv_of(r);
	return rv_of(sd_bus_message_exit_container(m));
}
