/* The BLE transport's per-device context (kw_ble.c opens and watches the
 * device, kw_ble_xfer.c moves frames). */
#ifndef KW_BLE_PRIV_H
#define KW_BLE_PRIV_H

#include "ble/kw_ble.h"
#include "ble/kw_ble_frame.h"
#include "ble/kw_ble_int.h"

/* How notifications reach us: acquired socket (private), or the fallback
 * StartNotify + PropertiesChanged (broadcast on the bus). */
enum { KW_BLE_ACQ_AUTO, KW_BLE_ACQ_REQUIRE, KW_BLE_ACQ_OFF };
/* How frames are written: AcquireWrite where offered, else WriteValue
 * "request" (auto); always WriteValue "request"; WriteValue "command". */
enum { KW_BLE_WR_AUTO, KW_BLE_WR_REQUEST, KW_BLE_WR_COMMAND };

typedef struct kw_lock kw_lock;

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
	int idle_ms, total_ms, lock_ms;
	int acquire_mode, write_mode;
	kw_ble_stats stats;
	/* the session: begin..end (kw_ble_session.c) */
	unsigned depth;           /* begin/end nesting */
	kw_lock *lock;            /* the cross-process lock, held for the session */
	char lock_name[96];
	char tag[17];             /* this transport's identity in the lock file note */
	int nfd, wfd;             /* AcquireNotify / AcquireWrite sockets, or -1 */
	size_t nmtu;              /* ATT MTU reported by AcquireNotify */
	bool fallback;            /* StartNotify + PropertiesChanged (sticky) */
	bool notify_started;      /* fallback: StartNotify done */
	bool no_wwr;              /* AcquireWrite refused as unsupported (sticky) */
	/* the exchange */
	int phase;                /* idle, sending a request, waiting for its answer */
	uint8_t want_cmd;         /* the request's command: MSG, or PING (resync) */
	uint8_t nonce[8];         /* the resync PING's nonce */
} kw_ble;

#define KW_BLE_LOCK_TIMEOUT_MS 15000

/* Dispatch queued bus messages; wait at most until deadline (CLOCK_MONOTONIC
 * µs) for one more. KW_OK also on timeout; errors when the bus is gone. */
kw_rv kw_ble_pump(kw_ble *b, uint64_t deadline_us);
uint64_t kw_ble_now_us(void);

/* One frame from the token (acquired socket or PropertiesChanged): kept
 * only while a request is outstanding and only when it can belong to its
 * answer; everything else is counted as a stray and dropped. */
void kw_ble_rx_frame(kw_ble *b, const uint8_t *p, size_t n);

/* Follow the status characteristic's PropertiesChanged (the fallback). */
kw_rv kw_ble_watch_status(kw_ble *b);

/* kw_ble_session.c: begin/end (lock + private data path), close. */
kw_rv kw_ble_begin(void *ctx);
kw_rv kw_ble_end(void *ctx);
void kw_ble_session_close(kw_ble *b);
/* The session's frame path: resynchronise with the token (PING nonce,
 * discard up to its echo). kw_ble_xfer.c. */
kw_rv kw_ble_resync(kw_ble *b);

kw_rv kw_ble_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
    size_t *resp_len);

#endif
