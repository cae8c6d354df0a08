/* PC/SC return codes to kw_rv: the only place this mapping lives. */
#include <PCSC/winscard.h>

#include "kw_pcsc.h"

static kw_rv
pcsc_service_rv(bool established)
{
	return established ? KW_ERR_SERVICE_GONE : KW_ERR_NO_SERVICE;
}

kw_rv
kw_pcsc_rv(long rc, bool established)
{
	switch ((LONG)rc) {
	case SCARD_S_SUCCESS:
		return KW_OK;
	case SCARD_E_NO_SERVICE:
	case SCARD_F_COMM_ERROR:
		return pcsc_service_rv(established);
	case SCARD_E_SERVICE_STOPPED:
		return KW_ERR_SERVICE_GONE;
	case SCARD_E_INVALID_HANDLE:
		/* Our handles are valid unless pcscd restarted under us. */
		return established ? KW_ERR_SERVICE_GONE : KW_ERR_ARG;
	case SCARD_W_REMOVED_CARD:
		return KW_ERR_CARD_REMOVED;
	case SCARD_W_RESET_CARD:
	case SCARD_W_UNPOWERED_CARD:
		return KW_ERR_CARD_RESET;   /* still there, state lost */
	case SCARD_E_NO_SMARTCARD:
		return KW_ERR_NO_CARD;
	case SCARD_E_UNKNOWN_READER:
	case SCARD_E_READER_UNAVAILABLE:
	case SCARD_E_NO_READERS_AVAILABLE:
		return KW_ERR_NO_READER;
	case SCARD_E_SHARING_VIOLATION:
		return KW_ERR_SHARING;
	case SCARD_E_TIMEOUT:
	case SCARD_F_WAITED_TOO_LONG:
		return KW_ERR_TIMEOUT;
	case SCARD_E_NO_MEMORY:
		return KW_ERR_NOMEM;
	case SCARD_E_INSUFFICIENT_BUFFER:
		return KW_ERR_RANGE;
	case SCARD_E_INVALID_PARAMETER:
	case SCARD_E_INVALID_VALUE:
		return KW_ERR_ARG;
	case SCARD_W_UNRESPONSIVE_CARD:
	case SCARD_W_UNSUPPORTED_CARD:
	case SCARD_E_PROTO_MISMATCH:
	case SCARD_E_NOT_READY:
		return KW_ERR_TRANSPORT;
	case SCARD_E_UNSUPPORTED_FEATURE:
		return KW_ERR_NOT_SUPPORTED;
	default:
		return KW_ERR_TRANSPORT;
	}
}

const char *
kw_pcsc_code_name(long rc)
{
	static const struct {
		LONG rc;
		const char *name;
	} names[] = {
		{ SCARD_S_SUCCESS, "SCARD_S_SUCCESS" },
		{ SCARD_E_NO_SERVICE, "SCARD_E_NO_SERVICE" },
		{ SCARD_E_SERVICE_STOPPED, "SCARD_E_SERVICE_STOPPED" },
		{ SCARD_F_COMM_ERROR, "SCARD_F_COMM_ERROR" },
		{ SCARD_E_INVALID_HANDLE, "SCARD_E_INVALID_HANDLE" },
		{ SCARD_W_REMOVED_CARD, "SCARD_W_REMOVED_CARD" },
		{ SCARD_W_RESET_CARD, "SCARD_W_RESET_CARD" },
		{ SCARD_W_UNPOWERED_CARD, "SCARD_W_UNPOWERED_CARD" },
		{ SCARD_W_UNRESPONSIVE_CARD, "SCARD_W_UNRESPONSIVE_CARD" },
		{ SCARD_E_NO_SMARTCARD, "SCARD_E_NO_SMARTCARD" },
		{ SCARD_E_UNKNOWN_READER, "SCARD_E_UNKNOWN_READER" },
		{ SCARD_E_READER_UNAVAILABLE, "SCARD_E_READER_UNAVAILABLE" },
		{ SCARD_E_NO_READERS_AVAILABLE, "SCARD_E_NO_READERS_AVAILABLE" },
		{ SCARD_E_SHARING_VIOLATION, "SCARD_E_SHARING_VIOLATION" },
		{ SCARD_E_TIMEOUT, "SCARD_E_TIMEOUT" },
		{ SCARD_E_CANCELLED, "SCARD_E_CANCELLED" },
		{ SCARD_E_INSUFFICIENT_BUFFER, "SCARD_E_INSUFFICIENT_BUFFER" },
		{ SCARD_E_PROTO_MISMATCH, "SCARD_E_PROTO_MISMATCH" },
		{ SCARD_E_NOT_TRANSACTED, "SCARD_E_NOT_TRANSACTED" },
		{ SCARD_E_INVALID_PARAMETER, "SCARD_E_INVALID_PARAMETER" },
		{ SCARD_E_NO_MEMORY, "SCARD_E_NO_MEMORY" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].rc == (LONG)rc)
			return names[i].name;
	return "SCARD_(other)";
}
