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
 * Every reply line is parsed by kw_at.c; URCs are skipped; a command has
 * a time bound (KEYWARD_MODEM_TIMEOUT_MS, default 20000): no reply ->
 * KW_ERR_TIMEOUT; the port vanishing -> KW_ERR_SERVICE_GONE (sticky);
 * garbage or overlong lines -> KW_ERR_PROTOCOL; +CME ERROR: n -> the kw_rv
 * of kw_at_cme_rv() with its text logged.
 *
 * `list` reports "at:<port>" for each configured port that exists
 * (kw_config.h: modem_port, KEYWARD_MODEM_PORTS). */
#ifndef KW_ATMODEM_H
#define KW_ATMODEM_H

#include <stdint.h>

#include "kw_transport.h"

extern const kw_transport_ops kw_atmodem_ops;

#define KW_ATMODEM_TIMEOUT_MS 20000

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
