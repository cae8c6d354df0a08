/* keyward-vcard BLE front-end internals: the emulated device (vcble_dev.c,
 * D-Bus objects), the link (vcble_link.c, frames <-> applet) and the
 * token-side framing (vcble_frame.c). */
#ifndef VCBLE_INT_H
#define VCBLE_INT_H

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "vcble.h"

#define VCBLE_UUID_SERVICE "ee6c9b33-0da4-4fb6-a446-445547ae4cae"
#define VCBLE_UUID_CONTROL "1c7e4cc6-7ac1-4a3a-8c8d-2d1f2fa4e4f4"
#define VCBLE_UUID_STATUS  "51872751-126e-41c4-90a6-ea4253895892"
#define VCBLE_UUID_CPLEN   "320f2601-bde5-4ede-8af9-22e870a00cc5"

#define VCBLE_CMD_PING      0x81
#define VCBLE_CMD_KEEPALIVE 0x82
#define VCBLE_CMD_MSG       0x83
#define VCBLE_CMD_CANCEL    0xBE
#define VCBLE_CMD_ERROR     0xBF
#define VCBLE_ERR_INVALID_CMD 0x01
#define VCBLE_ERR_INVALID_LEN 0x03
#define VCBLE_ERR_INVALID_SEQ 0x04
#define VCBLE_ERR_BUSY        0x06
#define VCBLE_ERR_OTHER       0x7F

#define VCBLE_FRAME_MAX 512
#define VCBLE_MSG_MAX 65535
#define VCBLE_NOTIFY_CLIENTS 16   /* StartNotify sessions (one per bus client) */

/* Token-side reassembly of client frames. */
typedef struct vcble_asm {
	uint8_t cmd;
	size_t want;
	size_t seq;        /* next expected SEQ */
	bool active;
	kw_buf msg;
} vcble_asm;

enum { VCBLE_ASM_MORE = 0, VCBLE_ASM_DONE = 1 };

void vcble_asm_init(vcble_asm *a);
void vcble_asm_free(vcble_asm *a);
void vcble_asm_reset(vcble_asm *a);
/* VCBLE_ASM_MORE / VCBLE_ASM_DONE, or -ERROR code (VCBLE_ERR_*) with the
 * assembler reset. */
int vcble_asm_frame(vcble_asm *a, const uint8_t *p, size_t n, size_t cpl);

typedef struct vcble_dev vcble_dev;

enum { VCBLE_CHR_CONTROL, VCBLE_CHR_STATUS, VCBLE_CHR_CPLEN, VCBLE_NCHR };

typedef struct vcble_chr {
	vcble_dev *d;
	int kind;
} vcble_chr;

struct vcble_dev {
	vcard_card *card;
	const vcble_cfg *cfg;
	vcble_faults faults;
	sd_bus *bus;
	sd_event *ev;
	char addr[18];
	char dev_path[64], svc_path[96], cp_path[112], st_path[112], cpl_path[112];
	/* device state */
	int connected, resolved;
	/* notifications: StartNotify sessions (unique bus names; the status Value
	 * changes and PropertiesChanged goes to every listener on the bus) or one
	 * AcquireNotify socket (private to its owner) */
	char *notify_clients[VCBLE_NOTIFY_CLIENTS];
	unsigned n_notify_clients;
	int notify_fd, write_fd;           /* our ends of the acquired sockets, or -1 */
	sd_event_source *notify_src, *write_src;
	sd_bus_slot *owner_slot;           /* NameOwnerChanged: sessions of gone clients */
	kw_buf last_answer;                /* for the stray=acquire fault */
	vcble_chr chr[VCBLE_NCHR];
	sd_bus_slot *svc_slots[1 + VCBLE_NCHR];
	bool svc_exported;
	/* link */
	vcble_asm rx;
	bool skip_cont;       /* after a framing error: the broken message's CONT frames */
	uint8_t value[VCBLE_FRAME_MAX];   /* status Value (last notification) */
	size_t value_len;
	bool busy;
	kw_buf apdu;
	kw_buf ping;          /* a PING that came while busy: echoed after the answer */
	bool ping_pending;
	sd_event_source *work, *keepalive, *resolve, *stop_timer;
	unsigned frames_since_fault, notifs_since_fault;
	uint64_t frames_in, frames_out, bytes_in, bytes_out;
};

/* vcble_dev.c */
bool vcble_dev_notifying(const vcble_dev *d);
/* Close the acquired sockets and end all notify sessions (disconnect). */
void vcble_dev_release_all(vcble_dev *d);
kw_rv vcble_dev_export(vcble_dev *d);
void vcble_dev_unexport(vcble_dev *d);
void vcble_dev_set_connected(vcble_dev *d, bool on);
void vcble_dev_apply_faults(vcble_dev *d, const vcble_faults *f);
unsigned vcble_dev_cpl(const vcble_dev *d);

/* vcble_link.c */
/* A frame written to the control point; returns <0 (errno style) when the
 * write must fail (e.g. the fault disconnected the device). */
int vcble_link_write(vcble_dev *d, const uint8_t *p, size_t n);
/* Drop the exchange in progress (disconnect, cancel). */
void vcble_link_abort(vcble_dev *d);
/* A notify session began (stray=acquire fault). */
void vcble_link_notify_started(vcble_dev *d);

#endif
