/* The AT modem transport ("at:/dev/ttyUSB2", or a pty path): a key applet
 * on the SIM reached through a cellular modem's AT command port
 * (3GPP TS 27.007).
 *
 * open: the port is opened raw at 115200 8N1 and held exclusively (flock
 * on the port and a /run/lock/LCK..<name> file; KEYWARD_LOCK_DIR
 * overrides the directory); a port ModemManager holds (EBUSY, or its
 * process has the port open) is refused with KW_ERR_SHARING and a message
 * naming the udev rule that makes ModemManager leave it alone
 * (ENV{ID_MM_PORT_IGNORE}="1", udev/70-keyward.rules). Then ATE0,
 * AT+CMEE=1 and AT+CCHO="<PIV AID>" -> an opaque session id; APDUs go as
 * AT+CGLA=<sid>,<len>,"<hex>" and the `channel` op reports 0 (the modem
 * puts the channel into CLA). When +CCHO/+CGLA are missing (ERROR or
 * +CME ERROR: 4), keyward's own MANAGE CHANNEL goes through AT+CSIM and
 * the `channel` op reports the real channel. close: AT+CCHC (or MANAGE
 * CHANNEL close through +CSIM).
 *
 * Every reply line is parsed by kw_at.c; URCs are skipped. Every command
 * has a time bound: a command that reaches the SIM (+CGLA, +CSIM, +CCHO,
 * +CCHC) KEYWARD_MODEM_TIMEOUT_MS (default KW_ATMODEM_TIMEOUT_MS, 5 s); the
 * modem's own commands (AT, ATE0, +CMEE, the resync marker) at most
 * KW_ATMODEM_CTRL_TIMEOUT_MS (2 s), so a dead modem fails the open in 2 s;
 * GENERATE ASYMMETRIC KEY PAIR (INS 47) KW_ATMODEM_KEYGEN_TIMEOUT_MS (60 s)
 * or the user's bound if longer. No reply -> KW_ERR_TIMEOUT; the port
 * vanishing -> KW_ERR_SERVICE_GONE (sticky); garbage or overlong lines ->
 * KW_ERR_PROTOCOL; +CME ERROR: n -> the kw_rv of kw_at_cme_rv() with its
 * text logged. After a command that ended without its final result code
 * (timeout, garbage) the next command is preceded by a resynchronisation:
 * a marker query (AT+CMEE?, repeated 1-4 times on one line so that each
 * marker's reply is told from an earlier one's) whose reply ends everything
 * that came before it, a late +CGLA reply included; nothing before it is
 * taken for an answer.
 *
 * `list` reports "at:<port>" for each configured port that exists
 * (kw_config.h: modem_port, KEYWARD_MODEM_PORTS). */
#ifndef KW_ATMODEM_H
#define KW_ATMODEM_H

#include <stdint.h>

#include "kw_transport.h"

extern const kw_transport_ops kw_atmodem_ops;

/* Per-command bounds (see above). 5 s: a SIM-class chip signs with
 * RSA-2048 in 0.5-1.5 s and with P-256 in 0.1-0.3 s, a modem adds tens of
 * ms per command; 5 s is three times the slowest normal operation, and a
 * modem that stops answering costs a user 5 s per operation, not a minute. */
#define KW_ATMODEM_TIMEOUT_MS 5000
#define KW_ATMODEM_CTRL_TIMEOUT_MS 2000
#define KW_ATMODEM_KEYGEN_TIMEOUT_MS 60000

/* The serial port: open + lock + termios, and bounded line I/O. */
typedef struct kw_at_port kw_at_port;

kw_rv kw_at_port_open(const char *path, kw_at_port **out);
void kw_at_port_close(kw_at_port **p);
/* Drop unread input (before a command, after a failed one). */
void kw_at_port_flush(kw_at_port *p);
kw_rv kw_at_port_write(kw_at_port *p, const char *s, size_t n, int64_t deadline_ms);
/* One line (CR or LF terminated, terminator removed) into line[cap]. */
kw_rv kw_at_port_read_line(kw_at_port *p, char *line, size_t cap, size_t *len,
    int64_t deadline_ms);
kw_rv kw_at_port_alive(kw_at_port *p);
/* Monotonic milliseconds. */
int64_t kw_at_now_ms(void);

#endif
