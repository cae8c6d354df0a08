/* AT command lines of the modem transport (3GPP TS 27.007), parsed with
 * bounded, I/O-free code: every modem line is untrusted and read through a
 * kw_view. Used by kw_atmodem.c; unit-tested on its own. */
#ifndef KW_AT_H
#define KW_AT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kw_buf.h"

/* Longest line accepted from the modem (a +CGLA reply of a 258-byte
 * response is ~540 characters; an echoed command ~560). */
#define KW_AT_MAX_LINE 1100u
/* Longest APDU carried in one +CGLA / +CSIM (short APDUs only). */
#define KW_AT_MAX_APDU 261u
#define KW_AT_MAX_RESP 258u

typedef enum kw_at_kind {
	KW_AT_EMPTY = 0,   /* blank line */
	KW_AT_OK,          /* final: OK */
	KW_AT_ERROR,       /* final: ERROR (and the other V1 failure codes) */
	KW_AT_CME,         /* final: +CME ERROR: n (n, or -1 for a text) */
	KW_AT_INFO,        /* the information line the command expects */
	KW_AT_ECHO,        /* our own command echoed back */
	KW_AT_URC,         /* an unsolicited result code: skip it */
	KW_AT_GARBAGE,     /* anything else: a protocol error */
} kw_at_kind;

/* What the caller expects from the command it sent. */
typedef struct kw_at_expect {
	const char *cmd;     /* the command sent (for echo), may be NULL */
	const char *prefix;  /* info line prefix such as "+CGLA:", or NULL */
	bool bare_number;    /* a bare decimal number is the info line (+CCHO) */
} kw_at_expect;

kw_at_kind kw_at_classify(kw_view line, const kw_at_expect *ex, int *cme);

/* "+CCHO: <sid>" or a bare "<sid>" -> the session id (opaque). */
kw_rv kw_at_parse_ccho(kw_view line, unsigned long *sid);
/* "<prefix> <len>,"<hex>"" (quotes optional) -> response bytes; <len>
 * must equal the number of hex characters. *resp_len: capacity in, length
 * out. */
kw_rv kw_at_parse_apdu(kw_view line, const char *prefix, uint8_t *resp, size_t *resp_len);
/* AT+CGLA=<sid>,<len>,"<hex>" (cgla) or AT+CSIM=<len>,"<hex>". */
kw_rv kw_at_format_apdu(char *out, size_t outsz, bool cgla, unsigned long sid,
    const uint8_t *apdu, size_t len);
/* The TS 27.007 9.2 meaning of a +CME ERROR code and the kw_rv for it. */
kw_rv kw_at_cme_rv(int cme, const char **text);

#endif
