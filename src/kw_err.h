/* keyward's one error space for libkeyward and its drivers.
 * Functions return kw_rv; 0 is success. Status words become kw_rv in
 * kw_sw_to_rv() only; kw_rv becomes CK_RV in the PKCS#11 module only. */
#ifndef KW_ERR_H
#define KW_ERR_H

#include <stdint.h>

typedef enum kw_rv {
	KW_OK = 0,
	/* caller / local */
	KW_ERR_ARG,            /* invalid argument */
	KW_ERR_NOMEM,          /* allocation failed */
	KW_ERR_RANGE,          /* value or buffer too large for the target */
	KW_ERR_INTERNAL,       /* a bug: state that should be impossible */
	KW_ERR_NOT_SUPPORTED,  /* not supported by us or by the card */
	KW_ERR_IO,             /* local file or OS error */
	KW_ERR_CRYPTO,         /* OpenSSL failed */
	/* parsing untrusted bytes */
	KW_ERR_TRUNCATED,      /* input ended early */
	KW_ERR_FORMAT,         /* malformed input */
	KW_ERR_TRAILING,       /* unexpected trailing bytes */
	/* transport */
	KW_ERR_NO_SERVICE,     /* pcscd / modem / bluez not reachable */
	KW_ERR_SERVICE_GONE,   /* the service went away (pcscd restart, modem unplugged) */
	KW_ERR_NO_READER,      /* no such reader / port / device */
	KW_ERR_NO_CARD,        /* reader present, no card */
	KW_ERR_CARD_REMOVED,   /* card removed (or the link to it lost) during use */
	KW_ERR_CARD_RESET,     /* card reset under us (e.g. by another process): it is
	                        * still there, but its PIN and selection state is lost */
	KW_ERR_SHARING,        /* exclusively held by another process */
	KW_ERR_TIMEOUT,        /* no answer in time */
	KW_ERR_TRANSPORT,      /* other transport failure */
	KW_ERR_PROTOCOL,       /* the peer broke the protocol (bad framing, bad reply) */
	/* card status words */
	KW_ERR_NOT_FOUND,      /* 6A82 file/object/applet not found */
	KW_ERR_SECURITY,       /* 6982 security status not satisfied */
	KW_ERR_PIN_INCORRECT,  /* 63Cx: wrong PIN/PUK, retries left reported separately */
	KW_ERR_PIN_BLOCKED,    /* 6983 authentication method blocked */
	KW_ERR_CONDITIONS,     /* 6985 conditions of use not satisfied */
	KW_ERR_WRONG_DATA,     /* 6A80 incorrect data field */
	KW_ERR_WRONG_PARAMS,   /* 6A86/6B00 incorrect P1-P2 */
	KW_ERR_NO_SPACE,       /* 6A84 not enough memory on the card */
	KW_ERR_WRONG_LENGTH,   /* 6700 */
	KW_ERR_INS_UNKNOWN,    /* 6D00 / 6E00 */
	KW_ERR_CARD,           /* any other unexpected status word */
	KW_ERR_MAX
} kw_rv;

const char *kw_strerror(kw_rv rv);

/* Map an ISO 7816 status word to kw_rv (9000 and 61xx -> KW_OK). */
kw_rv kw_sw_to_rv(uint16_t sw);

#endif
