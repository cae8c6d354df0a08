/* The one mapping of keyward's kw_rv to PKCS#11 return values. */
#include "p11_int.h"

CK_RV
kwp11_rv(kw_rv rv)
{
	switch (rv) {
	case KW_OK:
		return CKR_OK;
	case KW_ERR_ARG:
		return CKR_ARGUMENTS_BAD;
	case KW_ERR_NOMEM:
		return CKR_HOST_MEMORY;
	case KW_ERR_RANGE:
		return CKR_DATA_LEN_RANGE;
	case KW_ERR_NOT_SUPPORTED:
	case KW_ERR_INS_UNKNOWN:
		return CKR_FUNCTION_NOT_SUPPORTED;
	case KW_ERR_CARD_REMOVED:
		return CKR_DEVICE_REMOVED;
	case KW_ERR_CARD_RESET:
		return CKR_DEVICE_ERROR;   /* sessions kept (kwp11_token_fail) */
	case KW_ERR_NO_CARD:
	case KW_ERR_NO_READER:
		return CKR_TOKEN_NOT_PRESENT;
	case KW_ERR_NO_SERVICE:
	case KW_ERR_SERVICE_GONE:
		return CKR_DEVICE_REMOVED;
	case KW_ERR_SHARING:
		/* in use by another process past the bounded wait: the call can be
		 * retried; nothing is wrong with the token (a universal code, legal
		 * for every function) */
		return CKR_FUNCTION_FAILED;
	case KW_ERR_TIMEOUT:
	case KW_ERR_TRANSPORT:
	case KW_ERR_PROTOCOL:
	case KW_ERR_TRUNCATED:
	case KW_ERR_FORMAT:
	case KW_ERR_TRAILING:
	case KW_ERR_CARD:
	case KW_ERR_WRONG_LENGTH:
	case KW_ERR_WRONG_PARAMS:
		return CKR_DEVICE_ERROR;
	case KW_ERR_SECURITY:
		return CKR_USER_NOT_LOGGED_IN;
	case KW_ERR_PIN_INCORRECT:
		return CKR_PIN_INCORRECT;
	case KW_ERR_PIN_BLOCKED:
		return CKR_PIN_LOCKED;
	case KW_ERR_CONDITIONS:
		return CKR_FUNCTION_REJECTED;
	case KW_ERR_WRONG_DATA:
		return CKR_DATA_INVALID;
	case KW_ERR_NO_SPACE:
		return CKR_DEVICE_MEMORY;
	case KW_ERR_NOT_FOUND:
		return CKR_KEY_HANDLE_INVALID;
	case KW_ERR_IO:
	case KW_ERR_CRYPTO:
	case KW_ERR_INTERNAL:
	case KW_ERR_MAX:
		break;
	}
	return CKR_GENERAL_ERROR;
}
