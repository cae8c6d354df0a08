/* Fuzz target: APDU formatting and redaction for the logs (src/kw_log.c,
 * kw_apdu_format), on any bytes and any output size.
 *
 * Input: a flags byte (bit 0: a response, bit 1: take the INS from the
 * command itself as kw_apdu.c and the vcard trace do), the INS of the
 * command, an output size, then the APDU bytes.
 *
 * Checks: the output is NUL-terminated inside the given size; when the INS
 * carries secrets (VERIFY, CHANGE REFERENCE, RESET RETRY, GENERAL
 * AUTHENTICATE, IMPORT, SET MANAGEMENT KEY) no 4-byte window of the
 * command data / response data appears in hex in the output, whatever
 * the output size. */
#include <stdlib.h>

#include "fuzz_util.h"
#include "kw_log.h"

#define LOG_OUT_MAX 512

static void
hex4(const uint8_t *p, char out[9])
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < 4; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0f];
	}
	out[8] = '\0';
}

/* The secret part: command data after the 4-byte header, response data
 * before the 2-byte status word. */
static void
check_redacted(const uint8_t *p, size_t len, int is_response, const char *out)
{
	size_t start = is_response ? 0 : 4, end = is_response ? (len >= 2 ? len - 2 : 0) : len;
	const char *rest = out;
	char win[9];
	size_t i;

	/* Skip the header the format keeps for commands. */
	if (!is_response)
		rest = strlen(out) >= 8 ? out + 8 : out + strlen(out);
	for (i = start; i + 4 <= end; i++) {
		hex4(p + i, win);
		if (strstr(rest, win) != NULL)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[LOG_OUT_MAX + 16];
	fz_in in = fz_make(data, size);
	uint8_t flags = fz_u8(&in), ins = fz_u8(&in), ins_cmd[2] = { 0, 0 };
	size_t outsz = fz_u8(&in) * 2u + 1;
	kw_view apdu = fz_bytes(&in, in.n);
	int is_response = flags & 1;
	const uint8_t *p = apdu.len > 0 ? apdu.ptr : (const uint8_t *)"";

	if (!is_response && (flags & 2) && apdu.len >= 2)
		ins = apdu.ptr[1];
	memset(out, 0x5A, sizeof(out));
	(void)kw_apdu_format(p, apdu.len, is_response, ins, out, outsz);
	if (memchr(out, '\0', outsz) == NULL || out[outsz] != 0x5A)
		abort();
	ins_cmd[1] = ins;
	if (kw_apdu_is_secret(ins_cmd, sizeof(ins_cmd)))
		check_redacted(p, apdu.len, is_response, out);
	/* The full-size form too. */
	(void)kw_apdu_format(p, apdu.len, is_response, ins, out, LOG_OUT_MAX);
	if (kw_apdu_is_secret(ins_cmd, sizeof(ins_cmd)))
		check_redacted(p, apdu.len, is_response, out);
	return 0;
}
