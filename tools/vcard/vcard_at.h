/* keyward-vcard modem mode: a 3GPP TS 27.007 AT command interpreter in
 * front of the UICC (vcard_at.c, I/O-free), and its pseudo-terminal
 * front-end (vcard_modem.c).
 *
 * Commands: AT, ATE0/ATE1, ATZ, ATI, AT+CGMI, AT+CGMM, AT+CPIN?,
 * AT+CMEE=0|1|2, AT+CCHO="AID" (MANAGE CHANNEL + SELECT; reply
 * `+CCHO: <sid>`, an opaque session id), AT+CGLA=<sid>,<len>,"<hex>"
 * (the channel of the session is put into CLA), AT+CCHC=<sid>,
 * AT+CSIM=<len>,"<hex>" (the APDU as given). <len> counts hex characters.
 *
 * Quirks: bare-ccho (reply `<sid>` alone), no-cgla (CCHO/CGLA/CCHC give
 * ERROR / +CME ERROR: 4, only CSIM works), urc (RING, +CREG:, +CMTI: lines
 * before and inside replies), slow (replies delayed and trickled).
 * AT+CMEE? and AT+CPIN? (queries; several may share one line, separated by
 * ';' as in V.250 5.4.2: one information line each, one final OK).
 * Faults, once, at the N-th APDU command (CGLA/CSIM): garbage (a line of
 * noise instead of the reply), error-mid (ERROR instead of the reply),
 * no-reply (silence), vanish (the port disappears), late (the command is
 * executed and its reply written only after a delay, --modem-late-ms). */
#ifndef VCARD_AT_H
#define VCARD_AT_H

#include <signal.h>

#include "vcard_io.h"

enum {
	VCARD_AT_Q_BARE_CCHO = 1u << 0,
	VCARD_AT_Q_NO_CGLA = 1u << 1,
	VCARD_AT_Q_URC = 1u << 2,
	VCARD_AT_Q_SLOW = 1u << 3,
};

enum {
	VCARD_AT_F_GARBAGE = 1u << 0,
	VCARD_AT_F_ERROR_MID = 1u << 1,
	VCARD_AT_F_NO_REPLY = 1u << 2,
	VCARD_AT_F_VANISH = 1u << 3,
	VCARD_AT_F_LATE = 1u << 4,
};

#define VCARD_AT_MAX_LINE 4096

typedef enum vcard_at_action {
	VCARD_AT_REPLY = 0,   /* write `out` */
	VCARD_AT_SILENT,      /* write nothing (no-reply fault) */
	VCARD_AT_VANISH,      /* close the port */
	VCARD_AT_LATE,        /* write `out` after the late delay (late fault) */
} vcard_at_action;

typedef struct vcard_at vcard_at;

/* trace may be NULL: every APDU given to the card is traced. */
kw_rv vcard_at_new(vcard_uicc *u, unsigned quirks, vcard_trace *trace, vcard_at **out);
void vcard_at_free(vcard_at **m);
/* Faults to inject once each when the APDU command count reaches `at`
 * (1 = the first CGLA/CSIM). */
void vcard_at_set_faults(vcard_at *m, unsigned faults, unsigned at);
/* Count only APDU commands with instruction ins (0-255; -1: all). */
void vcard_at_set_fault_ins(vcard_at *m, int ins);
/* One command line (without its CR) -> the bytes the modem writes. */
kw_rv vcard_at_line(vcard_at *m, const char *line, size_t len, kw_buf *out,
    vcard_at_action *act);
/* Card power cycle behind the modem: sessions closed. */
void vcard_at_reset(vcard_at *m);
/* "bare-ccho,urc" -> flags; KW_ERR_ARG names an unknown word. */
kw_rv vcard_at_parse_quirks(const char *s, unsigned *out);
kw_rv vcard_at_parse_faults(const char *s, unsigned *out);

typedef struct vcard_modem_cfg {
	const char *link;              /* symlink to create to the pty slave */
	unsigned quirks, faults, fault_at;
	unsigned late_ms;              /* delay of the late fault (0: 3000) */
	int fault_ins;                 /* count only this INS (-1 or 0 unset: all) */
	vcard_trace *trace;
	vcard_persist_fn persist;
	void *persist_arg;
	volatile sig_atomic_t *stop;
} vcard_modem_cfg;

/* Create the pty and its link, serve AT commands until *stop or a vanish
 * fault; removes the link. */
kw_rv vcard_modem_run(vcard_uicc *u, const vcard_modem_cfg *cfg);

#endif
