/* Internals shared by the kw_piv*.c files (not part of the API). */
#ifndef KW_PIV_INT_H
#define KW_PIV_INT_H

#include "kw_piv.h"

struct kw_piv {
	kw_transport *t;
	bool ext;          /* kw_piv_set_extended(): extended APDUs wanted */
	bool ext_refused;  /* the card refused one (6700): short from now on */
	bool chain_dirty;  /* a chain broke and SELECT failed: end it first */
	bool pin_verified; /* a VERIFY of the PIN succeeded since the last reset */
};

/* PIV instructions. */
enum {
	KW_PIV_INS_VERIFY = 0x20,
	KW_PIV_INS_CHANGE_REF = 0x24,
	KW_PIV_INS_RESET_RETRY = 0x2c,
	KW_PIV_INS_GENERATE = 0x47,
	KW_PIV_INS_GENERAL_AUTH = 0x87,
	KW_PIV_INS_SELECT = 0xa4,
	KW_PIV_INS_GET_DATA = 0xcb,
	KW_PIV_INS_PUT_DATA = 0xdb,
	KW_PIV_INS_YK_MOVE = 0xf6,
	KW_PIV_INS_YK_METADATA = 0xf7,
	KW_PIV_INS_YK_SERIAL = 0xf8,
	KW_PIV_INS_YK_ATTEST = 0xf9,
	KW_PIV_INS_YK_SET_RETRIES = 0xfa,
	KW_PIV_INS_YK_RESET = 0xfb,
	KW_PIV_INS_YK_VERSION = 0xfd,
	KW_PIV_INS_YK_IMPORT = 0xfe,
	KW_PIV_INS_YK_SET_MGMT = 0xff,
};

/* Largest object the client writes or reads back (YubiKey: 3052 bytes of
 * object data; other cards allow more, the APDU layer caps at 64 KiB). */
#define KW_PIV_OBJ_MAX 65535u

/* One command with CLA 00. With out != NULL the response data (Le 256,
 * more through GET RESPONSE) replaces out's contents; otherwise it is
 * wiped and dropped. *sw (optional) gets the status word, 0 on transport
 * errors. Returns the transport error or the SW mapped by kw_sw_to_rv. */
kw_rv kw_piv_cmd(kw_piv *p, uint8_t ins, uint8_t p1, uint8_t p2,
    const uint8_t *data, size_t len, kw_buf *out, uint16_t *sw);

/* Retry counter in a status word: 63Cx -> x, 6983 -> 0, else -1. */
int kw_piv_sw_tries(uint16_t sw);

/* Build a public key from the contents of a 7F49 template (RSA: 81 n,
 * 82 e; EC: 86 point) for algorithm alg. Card bytes: errors are
 * KW_ERR_FORMAT / TRUNCATED / TRAILING. */
kw_rv kw_piv_pubkey_decode(kw_view v, uint8_t alg, EVP_PKEY **out);

/* kw_piv_alg_of_pkey plus Ed25519 / X25519. */
uint8_t kw_piv_alg_of_key(const EVP_PKEY *key);

/* Size in bytes of an EC field element for alg (0 if not EC). */
size_t kw_piv_ec_size(uint8_t alg);

/* Checked single-byte TLV values. */
kw_rv kw_piv_tlv_u8(kw_view v, uint8_t *out);

#endif
