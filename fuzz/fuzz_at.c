/* Fuzz target: the AT modem reply parser (drivers/atmodem/kw_at.c).
 *
 * Input: modem output; split at '\n' (a trailing '\r' is left in, as a
 * modem's CR LF would be after a bare split) into lines of at most
 * KW_AT_MAX_LINE bytes, as the transport reads them. Each line is
 * classified under the expectations the transport uses (+CCHO, +CGLA,
 * +CSIM, +CCHC with our command's echo) and parsed as a +CCHO session id
 * and as a +CGLA / +CSIM APDU reply into buffers of several capacities.
 *
 * Checks: a parsed reply fits the capacity and is at most KW_AT_MAX_RESP
 * bytes; a failed parse reports length 0; +CME codes map to an error with
 * a text; an APDU we format is a line the classifier calls our echo. */
#include <stdlib.h>

#include "atmodem/kw_at.h"
#include "fuzz_util.h"

static const kw_at_expect expects[] = {
	{ "AT+CCHO=\"A000000308\"", "+CCHO:", true },
	{ "AT+CGLA=1,10,\"00A4040005A000000308\"", "+CGLA:", false },
	{ "AT+CSIM=10,\"00A4040005A000000308\"", "+CSIM:", false },
	{ "AT+CCHC=1", NULL, false },
	{ NULL, NULL, false },
};

static void
parse_apdu(kw_view line, const char *prefix)
{
	static const size_t caps[] = { KW_AT_MAX_RESP, 2, 0 };
	uint8_t resp[KW_AT_MAX_RESP + 16];
	size_t i, len;
	kw_rv rv;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		len = caps[i];
		rv = kw_at_parse_apdu(line, prefix, resp, &len);
		if (rv == KW_OK && (len > caps[i] || len > KW_AT_MAX_RESP))
			abort();
	}
}

static void
one_line(kw_view line)
{
	const char *text = NULL;
	unsigned long sid;
	size_t i;
	int cme = 0;

	for (i = 0; i < sizeof(expects) / sizeof(expects[0]); i++) {
		if (kw_at_classify(line, &expects[i], &cme) == KW_AT_CME) {
			if (kw_at_cme_rv(cme, &text) == KW_OK || text == NULL)
				abort();
		}
	}
	if (kw_at_parse_ccho(line, &sid) != KW_OK && sid != 0)
		abort();
	parse_apdu(line, "+CGLA:");
	parse_apdu(line, "+CSIM:");
}

/* Our own command line, formatted from fuzzer bytes, must read as echo. */
static void
check_format(kw_view apdu, bool cgla, unsigned long sid)
{
	char line[2 * KW_AT_MAX_APDU + 64];
	kw_at_expect ex = { line, cgla ? "+CGLA:" : "+CSIM:", false };
	int cme;

	if (kw_at_format_apdu(line, sizeof(line), cgla, sid, apdu.ptr, apdu.len) != KW_OK)
		return;
	if (kw_at_classify(kw_view_make(line, strlen(line)), &ex, &cme) != KW_AT_ECHO)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kw_view all = kw_view_make(data, size), line;
	const uint8_t *nl;
	size_t n;

	while (all.len > 0) {
		nl = memchr(all.ptr, '\n', all.len);
		n = nl != NULL ? (size_t)(nl - all.ptr) : all.len;
		line = kw_view_make(all.ptr, n > KW_AT_MAX_LINE ? KW_AT_MAX_LINE : n);
		one_line(line);
		all.ptr += n < all.len ? n + 1 : n;
		all.len -= n < all.len ? n + 1 : n;
	}
	if (size >= 2)
		check_format(kw_view_make(data + 2, size - 2 > KW_AT_MAX_APDU ? KW_AT_MAX_APDU :
		    size - 2), data[0] & 1, data[1]);
	return 0;
}
