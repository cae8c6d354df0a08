/* keyward-vcard BLE front-end: bus connection, the name org.bluez, and the
 * event loop (vcble.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kw_log.h"
#include "vcble_int.h"

static kw_rv
bus_open(const char *addr, sd_bus **out)
{
	sd_bus *bus = NULL;
	int r;

	*out = NULL;
	if (addr == NULL || strcmp(addr, "session") == 0) {
		r = sd_bus_open_user(&bus);
	} else if (strcmp(addr, "system") == 0) {
		r = sd_bus_open_system(&bus);
	} else {
		if ((r = sd_bus_new(&bus)) < 0)
			return KW_ERR_NOMEM;
		if ((r = sd_bus_set_address(bus, addr)) >= 0 &&
		    (r = sd_bus_set_bus_client(bus, 1)) >= 0)
			r = sd_bus_start(bus);
	}
	if (r < 0) {
		kw_err("vcard-ble: cannot connect to the bus %.128s: %s",
		    addr != NULL ? addr : "session", strerror(-r));
		sd_bus_unref(bus);
		return KW_ERR_NO_SERVICE;
	}
	*out = bus;
	return KW_OK;
}

static int
on_stop_check(sd_event_source *s, uint64_t usec, void *arg)
{
	vcble_dev *d = arg;

	(void)usec;
	if (d->cfg->stop != NULL && *d->cfg->stop)
		return sd_event_exit(d->ev, 0);
	if (sd_event_source_set_time_relative(s, 100000) < 0)
		return 0;
	return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static kw_rv
setup(vcble_dev *d)
{
	kw_rv rv;
	int r;

	if ((rv = bus_open(d->cfg->bus, &d->bus)) != KW_OK)
		return rv;
	if ((r = sd_event_new(&d->ev)) < 0 ||
	    (r = sd_bus_attach_event(d->bus, d->ev, 0)) < 0)
		return KW_ERR_NOMEM;
	if ((rv = vcble_dev_export(d)) != KW_OK) {
		kw_err("vcard-ble: cannot export the BlueZ objects");
		return rv;
	}
	if ((r = sd_bus_request_name(d->bus, "org.bluez", 0)) < 0) {
		kw_err("vcard-ble: cannot own org.bluez on the bus: %s", strerror(-r));
		return KW_ERR_SHARING;
	}
	if ((r = sd_event_add_time_relative(d->ev, &d->stop_timer, CLOCK_MONOTONIC, 100000, 0,
	    on_stop_check, d)) < 0 ||
	    (r = sd_event_source_set_enabled(d->stop_timer, SD_EVENT_ONESHOT)) < 0)
		return KW_ERR_INTERNAL;
	return KW_OK;
}

kw_rv
vcble_run(vcard_card *c, const vcble_cfg *cfg)
{
	vcble_dev d;
	kw_rv rv;
	int r;

	memset(&d, 0, sizeof(d));
	d.card = c;
	d.cfg = cfg;
	d.faults = cfg->faults;
	snprintf(d.addr, sizeof(d.addr), "%.17s", cfg->address);
	d.notify_fd = d.write_fd = -1;
	vcble_asm_init(&d.rx);
	kw_buf_init(&d.apdu, VCBLE_MSG_MAX);
	kw_buf_init(&d.last_answer, VCBLE_MSG_MAX);
	kw_buf_init(&d.ping, VCBLE_MSG_MAX);
	if ((rv = setup(&d)) != KW_OK)
		goto out;
	kw_info("vcard-ble: device %s on the bus as org.bluez, control-point length %u",
	    d.addr, vcble_dev_cpl(&d));
	r = sd_event_loop(d.ev);
	rv = r < 0 ? KW_ERR_INTERNAL : KW_OK;
out:
	vcble_link_abort(&d);
	d.resolve = sd_event_source_disable_unref(d.resolve);
	d.stop_timer = sd_event_source_disable_unref(d.stop_timer);
	vcble_dev_unexport(&d);
	if (d.bus != NULL) {
		(void)sd_bus_release_name(d.bus, "org.bluez");
		sd_bus_flush_close_unref(d.bus);
	}
	sd_event_unref(d.ev);
	vcble_asm_free(&d.rx);
	kw_buf_free(&d.apdu);
	kw_buf_free(&d.ping);
	kw_buf_free(&d.last_answer);
	vcard_card_reset(c);
	return rv;
}
