#include <stddef.h>

#include "kw_err.h"

static const char *const kw_err_text[KW_ERR_MAX] = {
	[KW_OK] = "success",
	[KW_ERR_ARG] = "invalid argument",
	[KW_ERR_NOMEM] = "out of memory",
	[KW_ERR_RANGE] = "value out of range",
	[KW_ERR_INTERNAL] = "internal error",
	[KW_ERR_NOT_SUPPORTED] = "not supported",
	[KW_ERR_IO] = "input/output error",
	[KW_ERR_CRYPTO] = "cryptographic operation failed",
	[KW_ERR_TRUNCATED] = "data truncated",
	[KW_ERR_FORMAT] = "malformed data",
	[KW_ERR_TRAILING] = "unexpected trailing data",
	[KW_ERR_NO_SERVICE] = "service not available",
	[KW_ERR_SERVICE_GONE] = "service went away",
	[KW_ERR_NO_READER] = "no such reader or device",
	[KW_ERR_NO_CARD] = "no card present",
	[KW_ERR_CARD_REMOVED] = "card removed",
	[KW_ERR_CARD_RESET] = "card reset by another process",
	[KW_ERR_SHARING] = "device in exclusive use by another process",
	[KW_ERR_TIMEOUT] = "timed out",
	[KW_ERR_TRANSPORT] = "transport error",
	[KW_ERR_PROTOCOL] = "protocol error",
	[KW_ERR_NOT_FOUND] = "not found",
	[KW_ERR_SECURITY] = "security status not satisfied",
	[KW_ERR_PIN_INCORRECT] = "incorrect PIN",
	[KW_ERR_PIN_BLOCKED] = "PIN blocked",
	[KW_ERR_CONDITIONS] = "conditions of use not satisfied",
	[KW_ERR_WRONG_DATA] = "incorrect data",
	[KW_ERR_WRONG_PARAMS] = "incorrect parameters",
	[KW_ERR_NO_SPACE] = "not enough memory on the card",
	[KW_ERR_WRONG_LENGTH] = "wrong length",
	[KW_ERR_INS_UNKNOWN] = "instruction not supported by the card",
	[KW_ERR_CARD] = "card error",
};

const char *
kw_strerror(kw_rv rv)
{
	if ((int)rv < 0 || rv >= KW_ERR_MAX || kw_err_text[rv] == NULL)
		return "unknown error";
	return kw_err_text[rv];
}

kw_rv
kw_sw_to_rv(uint16_t sw)
{
	if (sw == 0x9000 || (sw & 0xff00) == 0x6100)
		return KW_OK;
	if ((sw & 0xfff0) == 0x63c0)
		return KW_ERR_PIN_INCORRECT;
	switch (sw) {
	case 0x6a82: return KW_ERR_NOT_FOUND;
	case 0x6982: return KW_ERR_SECURITY;
	case 0x6983: return KW_ERR_PIN_BLOCKED;
	case 0x6984: return KW_ERR_CONDITIONS; /* reference data not usable */
	case 0x6985: return KW_ERR_CONDITIONS;
	case 0x6a80: return KW_ERR_WRONG_DATA;
	case 0x6a84: return KW_ERR_NO_SPACE;
	case 0x6a86: case 0x6b00: return KW_ERR_WRONG_PARAMS;
	case 0x6a88: return KW_ERR_NOT_FOUND; /* referenced data not found */
	case 0x6700: return KW_ERR_WRONG_LENGTH;
	case 0x6d00: case 0x6e00: case 0x6a81: return KW_ERR_INS_UNKNOWN;
	default: return KW_ERR_CARD;
	}
}
