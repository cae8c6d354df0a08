/* The BLE transport ("ble:<address>" or "ble:<BlueZ device path>"): PIV
 * APDUs to a bonded Bluetooth LE token through BlueZ's D-Bus API, in
 * keyward's GATT profile (docs/ble-profile.md).
 *
 * Devices: a bonded device (Paired and Trusted, and Bonded where BlueZ has
 * the property) whose UUIDs contain the keyward service, or whose address
 * is configured (`ble_device = ADDR` in keyward.conf, kw_config.h, or
 * KEYWARD_BLE_DEVICES, comma/space separated). Others are refused.
 * list() returns "ble:AA:BB:CC:DD:EE:FF" URIs.
 *
 * Sessions (begin..end, kw_ble_session.c): one process at a time under a
 * lock file (KEYWARD_LOCK_DIR, else /run/lock: keyward-ble-<ADDR>[-<bus>]),
 * and BlueZ's AcquireNotify (+ AcquireWrite where the control point allows
 * write without response) so that answers reach only us; StartNotify with
 * a warning where BlueZ lacks AcquireNotify (docs/ble-profile.md 6-7).
 *
 * Errors: no system bus / no bluetoothd -> KW_ERR_NO_SERVICE; no adapter or
 * unknown device -> KW_ERR_NO_READER; adapter powered off -> KW_ERR_NO_SERVICE;
 * device not bonded -> KW_ERR_SECURITY; device unreachable -> KW_ERR_NO_CARD;
 * no keyward service -> KW_ERR_NOT_SUPPORTED; disconnect at any moment ->
 * KW_ERR_CARD_REMOVED (sticky: close and reopen, which reconnects); no
 * frame or KEEPALIVE in time -> KW_ERR_TIMEOUT (a CANCEL is sent); broken
 * framing or an ERROR frame -> KW_ERR_PROTOCOL; the token held by another
 * process (lock, or BlueZ's acquired sockets) past the bound ->
 * KW_ERR_SHARING. Every reason is logged.
 *
 * Environment:
 *   KEYWARD_BLE_BUS      system (default) | session | a D-Bus address (tests)
 *   KEYWARD_BLE_DEVICES  addresses of bonded keyward tokens (besides those
 *                        announcing the service UUID); replaces keyward.conf's
 *                        ble_device list
 *   KEYWARD_BLE_TIMEOUT_MS  idle bound between frames/KEEPALIVEs (2000)
 *   KEYWARD_BLE_WRITE    auto (default: AcquireWrite where the control point
 *                        has write-without-response, else write requests) |
 *                        request (always WriteValue with response) | command
 *                        (WriteValue without response, CANCEL excepted)
 *   KEYWARD_BLE_ACQUIRE  auto (default: AcquireNotify, StartNotify with a
 *                        warning where BlueZ lacks it) | require (refuse
 *                        the broadcast fallback) | off (force it)
 *   KEYWARD_BLE_LOCK_TIMEOUT_MS  wait for another process's use (15000)
 *
 * One transport is used by one thread at a time; each has its own bus
 * connection. */
#ifndef KW_BLE_H
#define KW_BLE_H

#include "kw_transport.h"

/* keyward's GATT profile (lower case, as BlueZ reports UUIDs). */
#define KW_BLE_UUID_SERVICE "ee6c9b33-0da4-4fb6-a446-445547ae4cae"
#define KW_BLE_UUID_CONTROL "1c7e4cc6-7ac1-4a3a-8c8d-2d1f2fa4e4f4"
#define KW_BLE_UUID_STATUS  "51872751-126e-41c4-90a6-ea4253895892"
#define KW_BLE_UUID_CPLEN   "320f2601-bde5-4ede-8af9-22e870a00cc5"

extern const kw_transport_ops kw_ble_ops;

/* Frames and bytes moved by an open BLE transport (benchmarks). */
typedef struct kw_ble_stats {
	uint64_t frames_out, frames_in, bytes_out, bytes_in, keepalives;
	uint64_t strays;          /* frames dropped: no request outstanding, not its answer */
	uint64_t resyncs;         /* PING resynchronisations */
	size_t frag;
	bool private_notify;      /* answers came on an acquired socket (AcquireNotify) */
	bool acquired_write;      /* frames went out on an acquired socket (AcquireWrite) */
} kw_ble_stats;

void kw_ble_get_stats(void *ctx, kw_ble_stats *out);

#endif
