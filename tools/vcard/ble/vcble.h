/* keyward-vcard's BLE front-end: the virtual token as BlueZ presents a
 * remote Bluetooth LE device, on a D-Bus bus where this process owns the
 * name org.bluez (a private dbus-daemon in tests). It serves
 * ObjectManager, Adapter1 (/org/bluez/hci0), Device1, GattService1 and the
 * three GattCharacteristic1 objects of keyward's profile
 * (docs/ble-profile.md), and answers MSG frames with the applet
 * (vcard_card_process). Its framing code is its own, independent of the
 * client's (drivers/ble), so that a misreading does not hide on both sides.
 *
 * Faults (--faults LIST, or at run time through org.keyward.VcardBle1 at
 * /org/keyward/vcardble, SetFaults(s)), comma separated:
 *   mtu=N               ATT MTU (control-point length N-3, within 20..512)
 *   drop-notify=N       drop the Nth notification from now (once)
 *   disconnect-after=N  disconnect when the Nth frame from now arrives (once)
 *   disconnect-on-ins=HH  disconnect when a command APDU with INS HH (hex)
 *                       has arrived, before it is processed (once)
 *   delay=MS            processing time of each APDU (KEEPALIVEs meanwhile)
 *   keepalive=MS        KEEPALIVE interval while busy (default 250; 0: none)
 *   not-bonded          Paired/Trusted/Bonded false
 *   adapter-off         adapter Powered false, Connect refused
 *   no-service          the keyward GATT service is absent
 *   connect-fail        Connect fails (device out of range)
 *   ignore-cancel       CANCEL does not stop the APDU in progress (its answer
 *                       comes late, after the client gave up)
 *   no-acquire          an older BlueZ: AcquireNotify/AcquireWrite are unknown
 *                       methods (clients must fall back to StartNotify, whose
 *                       notifications every process on the bus receives)
 *   no-wwr              the control point lacks write-without-response:
 *                       AcquireWrite is NotSupported and a WriteValue of type
 *                       "command" is lost (as an ATT server ignores it)
 *   stray=KIND          unsolicited frames from the token (repeatable):
 *                       ping (a PING echo of a nonce nobody sent, before each
 *                       MSG answer), cont (a lone CONT frame before each MSG
 *                       answer), acquire (the last answer again when a notify
 *                       session starts, like a late answer to a previous
 *                       holder)
 *   none                clear everything (mtu stays)
 * The control interface also has Disconnect(), GetStats() -> (tttt)
 * frames in, frames out, bytes in, bytes out, and ResetStats(). */
#ifndef VCBLE_H
#define VCBLE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "vcard_io.h"

typedef struct vcble_faults {
	unsigned mtu;
	unsigned drop_notify;
	unsigned disconnect_after;
	unsigned disconnect_ins;      /* 0x100 | INS when set */
	unsigned delay_ms;
	unsigned keepalive_ms;
	bool not_bonded, adapter_off, no_service, connect_fail, ignore_cancel;
	bool no_acquire, no_wwr;
	unsigned stray;               /* VCBLE_STRAY_* bits */
} vcble_faults;

enum {
	VCBLE_STRAY_PING = 1u << 0,
	VCBLE_STRAY_CONT = 1u << 1,
	VCBLE_STRAY_ACQUIRE = 1u << 2,
};

/* Parse a fault list into f (which keeps what the list does not name,
 * except that "none" clears all but mtu). KW_ERR_ARG with a message in
 * err on a bad item. */
kw_rv vcble_faults_parse(const char *list, vcble_faults *f, char *err, size_t errsz);
void vcble_faults_default(vcble_faults *f);
/* Control-point length for an ATT MTU. */
unsigned vcble_cpl(unsigned mtu);

typedef struct vcble_cfg {
	const char *bus;              /* D-Bus address, "session" or "system" */
	const char *address;          /* device address AA:BB:CC:DD:EE:FF */
	vcble_faults faults;
	vcard_trace *trace;           /* may be NULL */
	vcard_persist_fn persist;     /* may be NULL */
	void *persist_arg;
	volatile sig_atomic_t *stop;  /* set by a signal handler */
} vcble_cfg;

/* Serve the card on the bus until *stop. KW_ERR_NO_SERVICE when the bus
 * cannot be reached, KW_ERR_SHARING when org.bluez is already owned. */
kw_rv vcble_run(vcard_card *c, const vcble_cfg *cfg);

#endif
