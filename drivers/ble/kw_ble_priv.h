/* The BLE transport's per-device context (kw_ble.c opens and watches the
 * device, kw_ble_xfer.c moves frames). */
#ifndef KW_BLE_PRIV_H
#define KW_BLE_PRIV_H

#include "ble/kw_ble.h"
#include "ble/kw_ble_frame.h"
#include "ble/kw_ble_int.h"

typedef struct kw_ble {
	sd_bus *bus;
	char *owner;          /* unique name of org.bluez: signals from others are ignored */
	char *dev_path, *cp_path, *st_path, *cpl_path;
	char address[KW_BLE_ADDR_LEN + 1];
	size_t frag;
	kw_ble_rx rx;
	kw_rv rx_err;         /* first framing error of the current exchange */
	bool connected, resolved;
	kw_rv gone;           /* sticky: KW_OK while the device is usable */
	bool keepalive;       /* a KEEPALIVE arrived since last checked */
	bool resync;          /* an exchange was abandoned: PING before the next */
	unsigned pings;
	sd_bus_slot *dev_slot, *st_slot, *rm_slot;
	int idle_ms, total_ms;
	const char *write_type;   /* "request" (default) or "command" for MSG frames */
	kw_ble_stats stats;
} kw_ble;

/* Dispatch queued bus messages; wait at most until deadline (CLOCK_MONOTONIC
 * µs) for one more. KW_OK also on timeout; errors when the bus is gone. */
kw_rv kw_ble_pump(kw_ble *b, uint64_t deadline_us);
uint64_t kw_ble_now_us(void);

kw_rv kw_ble_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
    size_t *resp_len);

#endif
