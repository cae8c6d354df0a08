/* keyward-vcard front-end pieces: the APDU trace and the vpcd socket
 * front-end (pcsc-lite's virtual reader driver, vsmartcard-vpcd). */
#ifndef VCARD_IO_H
#define VCARD_IO_H

#include <signal.h>
#include <stdbool.h>

#include "vcard.h"
#include "vcard_uicc.h"

typedef struct vcard_trace vcard_trace;

/* Append to path (created 0600 if absent). */
kw_rv vcard_trace_open(vcard_trace **t, const char *path);
/* One exchange: "> <command>" and "< <response>", secrets redacted.
 * resp_ins: the INS the response data belongs to (for GET RESPONSE, the
 * INS of the command that produced the data). t may be NULL. */
void vcard_trace_exchange(vcard_trace *t, const uint8_t *cmd, size_t cmd_len,
    const uint8_t *resp, size_t resp_len, uint8_t resp_ins);
/* The same for an exchange whose data is secret as a whole (a PIN-protected
 * object such as 5FC109, where PIN-protected management keys live): only
 * the command header and the status word are written. */
void vcard_trace_exchange_redacted(vcard_trace *t, const uint8_t *cmd, size_t cmd_len,
    const uint8_t *resp, size_t resp_len);
void vcard_trace_close(vcard_trace **t);

/* Called after every command that changed persistent state. */
typedef kw_rv (*vcard_persist_fn)(vcard_card *c, void *arg);

/* Faults of the vpcd front-end (--vpcd-faults), each once, at the at-th
 * command APDU with instruction ins (CLA ignored; GET RESPONSE counts as
 * C0): pull (the card is pulled when the command arrives: the socket closes,
 * nothing executed), pull-after (executed, then pulled before answering),
 * garble (executed, answered with a 1-byte frame). After a pull the card
 * stays out for hold_ms (default 3000), then comes back. */
enum {
	VCARD_VPCD_F_PULL = 1u << 0,
	VCARD_VPCD_F_PULL_AFTER = 1u << 1,
	VCARD_VPCD_F_GARBLE = 1u << 2,
};

typedef struct vcard_vpcd_faults {
	unsigned what;     /* one VCARD_VPCD_F_* (0: none) */
	unsigned ins, at, hold_ms;
} vcard_vpcd_faults;

/* "pull=87,at=2,hold-ms=500" -> faults; KW_ERR_ARG on an unknown word. */
kw_rv vcard_vpcd_parse_faults(const char *s, vcard_vpcd_faults *out);

typedef struct vcard_vpcd_cfg {
	const char *host;
	const char *port;
	bool once;                    /* return when the connection closes */
	vcard_trace *trace;           /* may be NULL */
	vcard_persist_fn persist;     /* may be NULL */
	void *persist_arg;
	volatile sig_atomic_t *stop;  /* set by a signal handler */
	vcard_uicc *uicc;             /* UICC mode: commands go through it */
	vcard_vpcd_faults faults;
} vcard_vpcd_cfg;

/* Connect to vpcd and serve the card until *stop (or, with once, until the
 * connection closes). Reconnects every 200 ms otherwise. */
kw_rv vcard_vpcd_run(vcard_card *c, const vcard_vpcd_cfg *cfg);

#endif
