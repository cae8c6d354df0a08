/* AT line parsing for the modem transport (kw_at.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "atmodem/kw_at.h"

static bool
v_printable(kw_view v)
{
	size_t i;

	for (i = 0; i < v.len; i++)
		if ((v.ptr[i] < 0x20 && v.ptr[i] != '\t') || v.ptr[i] >= 0x7f)
			return false;
	return true;
}

static kw_view
v_trim(kw_view v)
{
	while (v.len > 0 && (v.ptr[0] == ' ' || v.ptr[0] == '\t')) {
		v.ptr++;
		v.len--;
	}
	while (v.len > 0 && (v.ptr[v.len - 1] == ' ' || v.ptr[v.len - 1] == '\t'))
		v.len--;
	return v;
}

static bool
v_is(kw_view v, const char *s)
{
	return v.len == strlen(s) && memcmp(v.ptr, s, v.len) == 0;
}

/* Case-insensitive prefix test; on success *rest is what follows. */
static bool
v_prefix(kw_view v, const char *pfx, kw_view *rest)
{
	size_t n = strlen(pfx);

	if (v.len < n || strncasecmp((const char *)v.ptr, pfx, n) != 0)
		return false;
	if (rest != NULL)
		*rest = kw_view_make(v.ptr + n, v.len - n);
	return true;
}

/* Up to `max` decimal digits; consumes them. */
static kw_rv
v_get_dec(kw_view *v, unsigned max, unsigned long *out)
{
	unsigned long x = 0;
	unsigned n = 0;

	*out = 0;
	while (n < v->len && isdigit(v->ptr[n])) {
		if (n == max)
			return KW_ERR_FORMAT;
		x = x * 10 + (unsigned long)(v->ptr[n] - '0');
		n++;
	}
	if (n == 0)
		return KW_ERR_FORMAT;
	*out = x;
	return kw_view_skip(v, n);
}

static bool
all_digits(kw_view v)
{
	size_t i;

	if (v.len == 0 || v.len > 10)
		return false;
	for (i = 0; i < v.len; i++)
		if (!isdigit(v.ptr[i]))
			return false;
	return true;
}

static bool
looks_like_urc(kw_view v)
{
	size_t i;

	if (v.len == 0)
		return false;
	if (v.ptr[0] == '+' || v.ptr[0] == '^' || v.ptr[0] == '*' || v.ptr[0] == '#')
		return true;
	if (!isupper(v.ptr[0]))
		return false;
	for (i = 0; i < v.len; i++)
		if (!isalnum(v.ptr[i]) && strchr(" _:,.\"'-/", v.ptr[i]) == NULL)
			return false;
	return true;
}

static int
parse_cme(kw_view rest)
{
	unsigned long n;

	rest = v_trim(rest);
	if (v_get_dec(&rest, 5, &n) != KW_OK || !kw_view_empty(&rest))
		return -1;
	return (int)n;
}

kw_at_kind
kw_at_classify(kw_view line, const kw_at_expect *ex, int *cme)
{
	kw_view v = v_trim(line), rest;

	*cme = 0;
	if (line.len > KW_AT_MAX_LINE || !v_printable(line))
		return KW_AT_GARBAGE;
	if (v.len == 0)
		return KW_AT_EMPTY;
	if (v_is(v, "OK"))
		return KW_AT_OK;
	if (v_is(v, "ERROR") || v_prefix(v, "+CMS ERROR:", NULL))
		return KW_AT_ERROR;
	if (v_prefix(v, "+CME ERROR:", &rest)) {
		*cme = parse_cme(rest);
		return KW_AT_CME;
	}
	if (v_prefix(v, "AT", NULL))
		return KW_AT_ECHO;   /* our command (or a part of it) echoed */
	if (ex != NULL && ex->prefix != NULL && v_prefix(v, ex->prefix, NULL))
		return KW_AT_INFO;
	if (ex != NULL && ex->bare_number && all_digits(v))
		return KW_AT_INFO;
	if (looks_like_urc(v))
		return KW_AT_URC;
	return KW_AT_GARBAGE;
}

kw_rv
kw_at_parse_ccho(kw_view line, unsigned long *sid)
{
	kw_view v = v_trim(line), rest;
	kw_rv rv;

	*sid = 0;
	if (v_prefix(v, "+CCHO:", &rest))
		v = v_trim(rest);
	if ((rv = v_get_dec(&v, 10, sid)) != KW_OK)
		return rv;
	if (*sid > 0xFFFFFFFFul) {
		*sid = 0;
		return KW_ERR_RANGE;
	}
	if (!kw_view_empty(&v)) {
		*sid = 0;
		return KW_ERR_TRAILING;
	}
	return KW_OK;
}

static int
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode hex into out (cap bytes); every character must be a hex digit. */
static kw_rv
decode_hex(kw_view hex, uint8_t *out, size_t cap, size_t *len)
{
	size_t i;
	int hi, lo;

	*len = 0;
	if (hex.len % 2 != 0)
		return KW_ERR_FORMAT;
	if (hex.len / 2 > cap)
		return KW_ERR_RANGE;
	for (i = 0; i < hex.len; i += 2) {
		if ((hi = hexval(hex.ptr[i])) < 0 || (lo = hexval(hex.ptr[i + 1])) < 0)
			return KW_ERR_FORMAT;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*len = hex.len / 2;
	return KW_OK;
}

kw_rv
kw_at_parse_apdu(kw_view line, const char *prefix, uint8_t *resp, size_t *resp_len)
{
	kw_view v = v_trim(line), hex;
	unsigned long n;
	size_t cap = *resp_len, got;
	bool quoted;
	kw_rv rv;

	*resp_len = 0;
	if (!v_prefix(v, prefix, &v))
		return KW_ERR_FORMAT;
	v = v_trim(v);
	if ((rv = v_get_dec(&v, 5, &n)) != KW_OK)
		return rv;
	if (v.len == 0 || v.ptr[0] != ',')
		return KW_ERR_FORMAT;
	v = v_trim(kw_view_make(v.ptr + 1, v.len - 1));
	quoted = v.len > 0 && v.ptr[0] == '"';
	if (quoted) {
		if (v.len < 2 || v.ptr[v.len - 1] != '"')
			return KW_ERR_FORMAT;
		hex = kw_view_make(v.ptr + 1, v.len - 2);
	} else {
		hex = v;
	}
	if (n != hex.len || hex.len < 4)
		return KW_ERR_FORMAT;
	if ((rv = decode_hex(hex, resp, cap, &got)) != KW_OK) {
		memset(resp, 0, cap);
		return rv;
	}
	*resp_len = got;
	return KW_OK;
}

kw_rv
kw_at_format_apdu(char *out, size_t outsz, bool cgla, unsigned long sid,
    const uint8_t *apdu, size_t len)
{
	int k;
	kw_rv rv;

	if (outsz > 0)
		out[0] = '\0';
	if (len < 4 || len > KW_AT_MAX_APDU)
		return KW_ERR_RANGE;
	if (cgla)
		k = snprintf(out, outsz, "AT+CGLA=%lu,%zu,\"", sid, len * 2);
	else
		k = snprintf(out, outsz, "AT+CSIM=%zu,\"", len * 2);
	if (k < 0 || (size_t)k + len * 2 + 2 > outsz)
		return KW_ERR_RANGE;
	if ((rv = kw_hex_encode(apdu, len, out + k, outsz - (size_t)k)) != KW_OK)
		return rv;
	out[(size_t)k + len * 2] = '"';
	out[(size_t)k + len * 2 + 1] = '\0';
	return KW_OK;
}

kw_rv
kw_at_cme_rv(int cme, const char **text)
{
	static const struct { int code; kw_rv rv; const char *text; } tab[] = {
		{ 0, KW_ERR_TRANSPORT, "phone failure" },
		{ 3, KW_ERR_CONDITIONS, "operation not allowed" },
		{ 4, KW_ERR_NOT_SUPPORTED, "operation not supported" },
		{ 5, KW_ERR_CONDITIONS, "PH-SIM PIN required" },
		{ 10, KW_ERR_NO_CARD, "SIM not inserted" },
		{ 11, KW_ERR_CONDITIONS, "SIM PIN required (unlock the SIM first)" },
		{ 12, KW_ERR_CONDITIONS, "SIM PUK required" },
		{ 13, KW_ERR_CARD_REMOVED, "SIM failure" },
		{ 14, KW_ERR_SHARING, "SIM busy" },
		{ 15, KW_ERR_NO_CARD, "SIM wrong" },
		{ 21, KW_ERR_CARD_REMOVED, "invalid index (the logical channel is gone)" },
		{ 22, KW_ERR_NOT_FOUND, "not found (no such application on the SIM)" },
		{ 24, KW_ERR_RANGE, "text string too long" },
		{ 25, KW_ERR_ARG, "invalid characters in text string" },
		{ 50, KW_ERR_ARG, "incorrect parameters" },
		{ 100, KW_ERR_TRANSPORT, "unknown error" },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].code == cme) {
			*text = tab[i].text;
			return tab[i].rv;
		}
	*text = cme < 0 ? "error (text)" : "error";
	return KW_ERR_TRANSPORT;
}
