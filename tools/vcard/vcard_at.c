/* The AT command interpreter of keyward-vcard's modem mode (vcard_at.h).
 * 3GPP TS 27.007 8.17 (+CSIM), 8.45-8.47 (+CCHO, +CCHC, +CGLA), 9.1
 * (+CMEE). I/O-free: one line in, the modem's output bytes out. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kw_secret.h"
#include "vcard_at.h"

#define AT_SID_BASE 0x1a0   /* session ids are opaque: not the channel */
#define CME_NOT_ALLOWED 3
#define CME_NOT_SUPPORTED 4
#define CME_NOT_FOUND 22
#define CME_INVALID_INDEX 21
#define CME_INVALID_CHARS 25
#define CME_UNKNOWN 100

struct vcard_at {
	vcard_uicc *uicc;
	vcard_trace *trace;
	unsigned quirks, faults, fault_at;
	int fault_ins;           /* count only APDUs with this INS (-1: all) */
	unsigned long apdu_cmds;
	int cmee;
	bool echo;
	bool sid_open[VCARD_UICC_CHANNELS];
	unsigned urc_turn;
};

static const struct { const char *name; unsigned flag; } quirk_names[] = {
	{ "bare-ccho", VCARD_AT_Q_BARE_CCHO }, { "no-cgla", VCARD_AT_Q_NO_CGLA },
	{ "urc", VCARD_AT_Q_URC }, { "slow", VCARD_AT_Q_SLOW },
}, fault_names[] = {
	{ "garbage", VCARD_AT_F_GARBAGE }, { "error-mid", VCARD_AT_F_ERROR_MID },
	{ "no-reply", VCARD_AT_F_NO_REPLY }, { "vanish", VCARD_AT_F_VANISH },
	{ "late", VCARD_AT_F_LATE },
};

static kw_rv
parse_words(const char *s, const void *tab, size_t n, unsigned *out)
{
	const struct { const char *name; unsigned flag; } *t = tab;
	const char *p = s, *e;
	size_t i, len;

	*out = 0;
	while (*p != '\0') {
		e = strchr(p, ',');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		for (i = 0; i < n; i++)
			if (strlen(t[i].name) == len && strncmp(t[i].name, p, len) == 0)
				break;
		if (len > 0 && i == n)
			return KW_ERR_ARG;
		if (len > 0)
			*out |= t[i].flag;
		p += len + (e != NULL ? 1 : 0);
	}
	return KW_OK;
}

kw_rv
vcard_at_parse_quirks(const char *s, unsigned *out)
{
	return parse_words(s, quirk_names, sizeof(quirk_names) / sizeof(quirk_names[0]), out);
}

kw_rv
vcard_at_parse_faults(const char *s, unsigned *out)
{
	return parse_words(s, fault_names, sizeof(fault_names) / sizeof(fault_names[0]), out);
}

kw_rv
vcard_at_new(vcard_uicc *u, unsigned quirks, vcard_trace *trace, vcard_at **out)
{
	vcard_at *m;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return KW_ERR_NOMEM;
	m->uicc = u;
	m->trace = trace;
	m->quirks = quirks;
	m->fault_ins = -1;
	m->echo = true;
	*out = m;
	return KW_OK;
}

void
vcard_at_free(vcard_at **mp)
{
	if (mp == NULL || *mp == NULL)
		return;
	free(*mp);
	*mp = NULL;
}

void
vcard_at_set_faults(vcard_at *m, unsigned faults, unsigned at)
{
	m->faults = faults;
	m->fault_at = at == 0 ? 1 : at;
}

void
vcard_at_set_fault_ins(vcard_at *m, int ins)
{
	m->fault_ins = ins >= 0 && ins <= 0xff ? ins : -1;
}

void
vcard_at_reset(vcard_at *m)
{
	memset(m->sid_open, 0, sizeof(m->sid_open));
	vcard_uicc_reset(m->uicc);
}

static kw_rv
put_str(kw_buf *out, const char *s)
{
	return kw_buf_put(out, s, strlen(s));
}

/* "\r\n<line>\r\n", the verbose result format (V1). */
static kw_rv
put_line(kw_buf *out, const char *s)
{
	kw_rv rv;

	if ((rv = put_str(out, "\r\n")) == KW_OK && (rv = put_str(out, s)) == KW_OK)
		rv = put_str(out, "\r\n");
	return rv;
}

static kw_rv
put_urc(vcard_at *m, kw_buf *out)
{
	static const char *const urcs[] = {
		"RING", "+CREG: 1,\"00C3\",\"0012A4F1\",7", "+CMTI: \"SM\",3",
		"+CGREG: 5", "NO CARRIER",
	};

	if ((m->quirks & VCARD_AT_Q_URC) == 0)
		return KW_OK;
	return put_line(out, urcs[m->urc_turn++ % (sizeof(urcs) / sizeof(urcs[0]))]);
}

static kw_rv
put_error(vcard_at *m, kw_buf *out, int cme)
{
	static const struct { int code; const char *text; } texts[] = {
		{ CME_NOT_ALLOWED, "operation not allowed" },
		{ CME_NOT_SUPPORTED, "operation not supported" },
		{ CME_INVALID_INDEX, "invalid index" },
		{ CME_NOT_FOUND, "not found" },
		{ CME_INVALID_CHARS, "invalid characters in text string" },
		{ CME_UNKNOWN, "unknown" },
	};
	char line[64];
	size_t i;

	if (m->cmee == 0 || cme < 0)
		return put_line(out, "ERROR");
	if (m->cmee == 1) {
		snprintf(line, sizeof(line), "+CME ERROR: %d", cme);
		return put_line(out, line);
	}
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]) - 1 && texts[i].code != cme; i++)
		;
	snprintf(line, sizeof(line), "+CME ERROR: %s", texts[i].text);
	return put_line(out, line);
}

/* An info line, maybe with a URC before it and inside the reply, then OK. */
static kw_rv
put_reply(vcard_at *m, kw_buf *out, const char *info)
{
	kw_rv rv = put_urc(m, out);

	if (rv == KW_OK && info != NULL)
		rv = put_line(out, info);
	if (rv == KW_OK && info != NULL && (m->urc_turn % 2) == 1)
		rv = put_urc(m, out);
	if (rv == KW_OK)
		rv = put_line(out, "OK");
	return rv;
}

/* One APDU to the card, traced. */
static kw_rv
card_apdu(vcard_at *m, const uint8_t *cmd, size_t len, kw_buf *resp)
{
	vcard_card *c = vcard_uicc_card(m->uicc);
	kw_rv rv = vcard_uicc_process(m->uicc, cmd, len, resp);

	if (rv != KW_OK)
		return rv;
	if (c->last_sensitive)
		vcard_trace_exchange_redacted(m->trace, cmd, len, resp->data, resp->len);
	else
		vcard_trace_exchange(m->trace, cmd, len, resp->data, resp->len, c->last_ins);
	return KW_OK;
}

static uint16_t
resp_sw(const kw_buf *r)
{
	return r->len >= 2 ? (uint16_t)((r->data[r->len - 2] << 8) | r->data[r->len - 1]) : 0;
}

/* Parse a decimal number of at most 6 digits. */
static bool
get_num(const char **p, unsigned long *v)
{
	unsigned n = 0;

	*v = 0;
	while (isdigit((unsigned char)**p) && n < 6) {
		*v = *v * 10 + (unsigned long)(**p - '0');
		(*p)++;
		n++;
	}
	return n > 0 && !isdigit((unsigned char)**p);
}

/* "hex" (quoted) into b; *hexlen gets the character count. */
static bool
get_quoted_hex(const char **p, kw_buf *b, size_t *hexlen)
{
	const char *s = *p, *e;
	char tmp[VCARD_AT_MAX_LINE];
	size_t n, i;

	if (*s != '"' || (e = strchr(s + 1, '"')) == NULL)
		return false;
	n = (size_t)(e - s - 1);
	if (n == 0 || n % 2 != 0 || n >= sizeof(tmp))
		return false;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[1 + i]))
			return false;
	memcpy(tmp, s + 1, n);
	tmp[n] = '\0';
	*hexlen = n;
	*p = e + 1;
	return kw_hex_decode(tmp, b) == KW_OK;
}

static kw_rv
reply_apdu(vcard_at *m, const char *cmd, const kw_buf *r, kw_buf *out)
{
	char *line;
	size_t n = strlen(cmd) + 16 + r->len * 2 + 4;
	int k;
	kw_rv rv = KW_ERR_NOMEM;

	if ((line = malloc(n)) == NULL)
		return rv;
	k = snprintf(line, n, "%s: %zu,\"", cmd, r->len * 2);
	if (k > 0 && kw_hex_encode(r->data, r->len, line + k, n - (size_t)k - 2) == KW_OK) {
		strcat(line, "\"");
		rv = put_reply(m, out, line);
	}
	kw_freezero(line, n);
	return rv;
}

/* Is this APDU command the one where a fault strikes? */
static unsigned
fault_now(vcard_at *m, uint8_t ins)
{
	unsigned f;

	if (m->fault_ins >= 0 && ins != (uint8_t)m->fault_ins)
		return 0;   /* only commands with that instruction count */
	if (++m->apdu_cmds < m->fault_at || m->faults == 0)
		return 0;
	f = m->faults & (~m->faults + 1);   /* lowest pending fault, once */
	m->faults &= ~f;
	return f;
}

static kw_rv
do_fault(unsigned f, kw_buf *out, vcard_at_action *act)
{
	static const uint8_t noise[] = "\r\n\x01\xfe#@!garbage\x7f+CGL\r\n";

	if (f == VCARD_AT_F_GARBAGE)
		return kw_buf_put(out, noise, sizeof(noise) - 1);
	if (f == VCARD_AT_F_ERROR_MID)
		return put_line(out, "ERROR");
	*act = f == VCARD_AT_F_NO_REPLY ? VCARD_AT_SILENT : VCARD_AT_VANISH;
	return KW_OK;
}

static int
sid_channel(vcard_at *m, unsigned long sid)
{
	unsigned long ch;

	if (sid < AT_SID_BASE || (sid - AT_SID_BASE) % 7 != 0)
		return -1;
	ch = (sid - AT_SID_BASE) / 7;
	return ch > 0 && ch < VCARD_UICC_CHANNELS && m->sid_open[ch] ? (int)ch : -1;
}

/* Set channel n into CLA (both forms), as a modem does for +CGLA. */
static uint8_t
cla_with_channel(uint8_t cla, int n)
{
	uint8_t chain = cla & 0x10, prop = cla & 0x80;
	uint8_t sm = (cla & 0x40) ? ((cla & 0x20) ? 2 : 0) : (uint8_t)((cla >> 2) & 3);

	if (n <= 3)
		return (uint8_t)(prop | chain | (uint8_t)(sm << 2) | (uint8_t)n);
	return (uint8_t)(prop | 0x40 | (sm ? 0x20 : 0) | chain | (uint8_t)(n - 4));
}

static kw_rv
cmd_ccho(vcard_at *m, const char *p, kw_buf *out)
{
	static const uint8_t open_ch[] = { 0x00, 0x70, 0x00, 0x00, 0x01 };
	uint8_t sel[5 + 16 + 1];
	kw_buf aid, r;
	size_t hexlen;
	char line[32];
	int ch;
	kw_rv rv;

	kw_buf_init(&aid, 64);
	kw_buf_init(&r, VC_CHAIN_MAX + 2);
	if (!get_quoted_hex(&p, &aid, &hexlen) || *p != '\0' || aid.len < 5 || aid.len > 16) {
		rv = put_error(m, out, CME_INVALID_CHARS);
		goto done;
	}
	if ((rv = card_apdu(m, open_ch, sizeof(open_ch), &r)) != KW_OK)
		goto done;
	if (resp_sw(&r) != 0x9000 || r.len != 3) {
		rv = put_error(m, out, CME_NOT_ALLOWED);
		goto done;
	}
	ch = r.data[0];
	sel[0] = cla_with_channel(0x00, ch);
	sel[1] = 0xA4;
	sel[2] = 0x04;
	sel[3] = 0x00;
	sel[4] = (uint8_t)aid.len;
	memcpy(sel + 5, aid.data, aid.len);
	sel[5 + aid.len] = 0x00;
	if ((rv = card_apdu(m, sel, 6 + aid.len, &r)) != KW_OK)
		goto done;
	if (resp_sw(&r) != 0x9000 && (resp_sw(&r) & 0xFF00) != 0x6100) {
		uint8_t close_ch[4] = { 0x00, 0x70, 0x80, (uint8_t)ch };

		rv = card_apdu(m, close_ch, 4, &r);
		if (rv == KW_OK)
			rv = put_error(m, out, CME_NOT_FOUND);
		goto done;
	}
	m->sid_open[ch] = true;
	snprintf(line, sizeof(line), (m->quirks & VCARD_AT_Q_BARE_CCHO) ? "%d" : "+CCHO: %d",
	    AT_SID_BASE + 7 * ch);
	rv = put_reply(m, out, line);
done:
	kw_buf_free(&aid);
	kw_buf_free(&r);
	return rv;
}

static kw_rv
cmd_cchc(vcard_at *m, const char *p, kw_buf *out)
{
	uint8_t close_ch[4] = { 0x00, 0x70, 0x80, 0x00 };
	unsigned long sid;
	kw_buf r;
	int ch;
	kw_rv rv;

	if (!get_num(&p, &sid) || *p != '\0' || (ch = sid_channel(m, sid)) < 0)
		return put_error(m, out, CME_INVALID_INDEX);
	close_ch[3] = (uint8_t)ch;
	kw_buf_init(&r, 16);
	rv = card_apdu(m, close_ch, 4, &r);
	m->sid_open[ch] = false;
	kw_buf_free(&r);
	return rv != KW_OK ? rv : put_reply(m, out, NULL);
}

/* +CGLA (sid != NULL) or +CSIM. */
static kw_rv
cmd_apdu(vcard_at *m, const char *p, bool cgla, kw_buf *out, vcard_at_action *act)
{
	unsigned long sid = 0, len;
	size_t hexlen;
	kw_buf apdu, r;
	unsigned f;
	int ch = 0;
	kw_rv rv;

	kw_buf_init(&apdu, VCARD_AT_MAX_LINE);
	kw_buf_init(&r, VC_CHAIN_MAX + 2);
	if (cgla && (!get_num(&p, &sid) || *p++ != ',' || (ch = sid_channel(m, sid)) < 0)) {
		rv = put_error(m, out, CME_INVALID_INDEX);
		goto done;
	}
	if (!get_num(&p, &len) || *p++ != ',' || !get_quoted_hex(&p, &apdu, &hexlen) ||
	    *p != '\0' || len != hexlen || apdu.len < 4) {
		rv = put_error(m, out, CME_INVALID_CHARS);
		goto done;
	}
	if ((f = fault_now(m, apdu.data[1])) != 0 && f != VCARD_AT_F_LATE) {
		rv = do_fault(f, out, act);
		goto done;
	}
	if (f == VCARD_AT_F_LATE)
		*act = VCARD_AT_LATE;   /* executed now, answered late */
	if (cgla)
		apdu.data[0] = cla_with_channel(apdu.data[0], ch);
	if ((rv = card_apdu(m, apdu.data, apdu.len, &r)) == KW_OK)
		rv = reply_apdu(m, cgla ? "+CGLA" : "+CSIM", &r, out);
done:
	kw_buf_free(&apdu);
	kw_buf_free(&r);
	return rv;
}

/* "AT+CMEE?;+CPIN?": read-only queries, several per line (V.250 5.4.2). */
static bool
is_query_line(const char *s)
{
	const char *p = s + 2;
	size_t n;

	if (strncasecmp(s, "AT", 2) != 0 || *p == '\0')
		return false;
	for (;;) {
		n = strncasecmp(p, "+CMEE?", 6) == 0 || strncasecmp(p, "+CPIN?", 6) == 0 ? 6 : 0;
		if (n == 0)
			return false;
		p += n;
		if (*p == '\0')
			return true;
		if (*p++ != ';')
			return false;
	}
}

static kw_rv
cmd_queries(vcard_at *m, const char *s, kw_buf *out)
{
	const char *p;
	char line[32];
	kw_rv rv = put_urc(m, out);

	for (p = s + 2; rv == KW_OK && *p != '\0'; p += *p == ';' ? 1 : 0) {
		if (strncasecmp(p, "+CMEE?", 6) == 0)
			snprintf(line, sizeof(line), "+CMEE: %d", m->cmee);
		else
			snprintf(line, sizeof(line), "+CPIN: READY");
		rv = put_line(out, line);
		p += 6;
	}
	if (rv == KW_OK)
		rv = put_line(out, "OK");
	return rv;
}

static bool
has_prefix(const char *s, const char *pfx, const char **rest)
{
	size_t n = strlen(pfx);

	if (strncasecmp(s, pfx, n) != 0)
		return false;
	*rest = s + n;
	return true;
}

static kw_rv
dispatch(vcard_at *m, const char *s, kw_buf *out, vcard_at_action *act)
{
	const char *p;
	bool no_la = (m->quirks & VCARD_AT_Q_NO_CGLA) != 0;

	if (strcasecmp(s, "AT") == 0 || strcasecmp(s, "ATZ") == 0)
		return put_reply(m, out, NULL);
	if (strcasecmp(s, "ATE0") == 0 || strcasecmp(s, "ATE1") == 0) {
		m->echo = s[3] == '1';
		return put_reply(m, out, NULL);
	}
	if (strcasecmp(s, "ATI") == 0 || strcasecmp(s, "AT+CGMI") == 0)
		return put_reply(m, out, "keyward virtual modem");
	if (strcasecmp(s, "AT+CGMM") == 0)
		return put_reply(m, out, "keyward-vcard");
	if (is_query_line(s))
		return cmd_queries(m, s, out);
	if (has_prefix(s, "AT+CMEE=", &p) && (*p >= '0' && *p <= '2') && p[1] == '\0') {
		m->cmee = *p - '0';
		return put_reply(m, out, NULL);
	}
	if (has_prefix(s, "AT+CCHO=", &p))
		return no_la ? put_error(m, out, CME_NOT_SUPPORTED) : cmd_ccho(m, p, out);
	if (has_prefix(s, "AT+CCHC=", &p))
		return no_la ? put_error(m, out, CME_NOT_SUPPORTED) : cmd_cchc(m, p, out);
	if (has_prefix(s, "AT+CGLA=", &p))
		return no_la ? put_error(m, out, CME_NOT_SUPPORTED) : cmd_apdu(m, p, true, out, act);
	if (has_prefix(s, "AT+CSIM=", &p))
		return cmd_apdu(m, p, false, out, act);
	return put_error(m, out, -1);
}

kw_rv
vcard_at_line(vcard_at *m, const char *line, size_t len, kw_buf *out, vcard_at_action *act)
{
	char s[VCARD_AT_MAX_LINE + 1];
	size_t i;
	kw_rv rv;

	*act = VCARD_AT_REPLY;
	kw_buf_reset(out);
	if (m->echo && (rv = kw_buf_put(out, line, len)) == KW_OK)
		rv = put_str(out, "\r");
	else
		rv = KW_OK;
	if (rv != KW_OK)
		return rv;
	if (len == 0)
		return KW_OK;   /* an empty line is ignored */
	if (len > VCARD_AT_MAX_LINE || memchr(line, '\0', len) != NULL)
		return put_error(m, out, -1);
	for (i = 0; i < len; i++)
		s[i] = line[i];
	s[len] = '\0';
	return dispatch(m, s, out, act);
}
