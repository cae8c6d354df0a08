/* The PIV client (NIST SP 800-73-4) with the YubiKey extensions.
 * A kw_piv talks to one token over one kw_transport (not owned). Every call
 * is one logical operation; callers that need atomicity across calls hold
 * kw_transport_begin/end around them. */
#ifndef KW_PIV_H
#define KW_PIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "kw_buf.h"
#include "kw_secret.h"
#include "kw_transport.h"

/* Algorithm identifiers (SP 800-78 + YubiKey). */
enum {
	KW_PIV_ALG_3DES = 0x03,
	KW_PIV_ALG_RSA1024 = 0x06,
	KW_PIV_ALG_RSA2048 = 0x07,
	KW_PIV_ALG_RSA3072 = 0x05,
	KW_PIV_ALG_RSA4096 = 0x16,
	KW_PIV_ALG_AES128 = 0x08,
	KW_PIV_ALG_AES192 = 0x0A,
	KW_PIV_ALG_AES256 = 0x0C,
	KW_PIV_ALG_ECCP256 = 0x11,
	KW_PIV_ALG_ECCP384 = 0x14,
	KW_PIV_ALG_ED25519 = 0xE0,   /* YubiKey 5.7+ */
	KW_PIV_ALG_X25519 = 0xE1,    /* YubiKey 5.7+ */
};

/* Key references. */
enum {
	KW_PIV_REF_PIN = 0x80,
	KW_PIV_REF_PUK = 0x81,
	KW_PIV_REF_GLOBAL_PIN = 0x00,
	KW_PIV_SLOT_MGMT = 0x9B,
	KW_PIV_SLOT_AUTH = 0x9A,
	KW_PIV_SLOT_SIGN = 0x9C,
	KW_PIV_SLOT_KEYMGMT = 0x9D,
	KW_PIV_SLOT_CARDAUTH = 0x9E,
	KW_PIV_SLOT_RETIRED1 = 0x82,
	KW_PIV_SLOT_RETIRED20 = 0x95,
	KW_PIV_SLOT_ATTEST = 0xF9,
};

/* Data object tags. */
enum {
	KW_PIV_OBJ_DISCOVERY = 0x7E,
	KW_PIV_OBJ_CHUID = 0x5FC102,
	KW_PIV_OBJ_CCC = 0x5FC107,
	KW_PIV_OBJ_KEY_HISTORY = 0x5FC10C,
	KW_PIV_OBJ_PRINTED = 0x5FC109,
	KW_PIV_OBJ_ATTEST_CERT = 0x5FFF01,
	KW_PIV_OBJ_YK_ADMIN = 0x5FFF00,   /* YubiKey admin data */
	KW_PIV_OBJ_YK_PRINTED = 0x5FC109, /* PIN-protected management key */
};

/* PIN / touch policies (YubiKey). */
enum {
	KW_PIV_PIN_POLICY_DEFAULT = 0, KW_PIV_PIN_POLICY_NEVER = 1,
	KW_PIV_PIN_POLICY_ONCE = 2, KW_PIV_PIN_POLICY_ALWAYS = 3,
	KW_PIV_TOUCH_POLICY_DEFAULT = 0, KW_PIV_TOUCH_POLICY_NEVER = 1,
	KW_PIV_TOUCH_POLICY_ALWAYS = 2, KW_PIV_TOUCH_POLICY_CACHED = 3,
};

/* Key origin reported by GET METADATA. */
enum { KW_PIV_ORIGIN_GENERATED = 1, KW_PIV_ORIGIN_IMPORTED = 2 };

typedef struct kw_piv kw_piv;

typedef struct kw_piv_metadata {
	uint8_t alg;
	uint8_t pin_policy, touch_policy;
	uint8_t origin;          /* 0 if not reported */
	bool is_default;         /* PIN/PUK/management key still default */
	int retries_total, retries_left;   /* -1 if not reported */
	EVP_PKEY *pubkey;        /* NULL if not reported; owned by the struct */
} kw_piv_metadata;
void kw_piv_metadata_clear(kw_piv_metadata *md);

/* Key history object contents (5FC10C). */
typedef struct kw_piv_key_history {
	int on_card_certs;       /* tag C1 */
	int off_card_certs;      /* tag C2 */
	char url[256];           /* tag F3, may be empty */
} kw_piv_key_history;

kw_rv kw_piv_new(kw_transport *t, kw_piv **out);
void kw_piv_free(kw_piv **p);
kw_transport *kw_piv_transport(kw_piv *p);

/* Extended-length APDUs for long commands and answers (GET DATA, GENERAL
 * AUTHENTICATE, GENERATE, metadata, attestation, and command data over 255
 * bytes): one exchange instead of chaining and GET RESPONSE. Off by
 * default; effective only on transports with KW_TRANSPORT_EXTENDED. The
 * first refusal (SW 6700: not executed) switches this object back to short
 * APDUs for good and resends the command short (unless the short command
 * gets 6700 too). A transport or framing error in the answer is returned
 * as it is: the command may have run, so it is never resent, and extended
 * APDUs stay on. After such an error inside a chained command the applet is
 * re-selected to end the chain on the card; if the card then reports the
 * PIN no longer verified, the command returns KW_ERR_CARD_RESET (logins
 * lost, card still there). kw_piv_extended() tells whether extended APDUs
 * are in use. */
void kw_piv_set_extended(kw_piv *p, bool on);
bool kw_piv_extended(const kw_piv *p);

/* SELECT the PIV application (AID A0 00 00 03 08). */
kw_rv kw_piv_select(kw_piv *p);

/* Data objects: out's contents are replaced by the value of tag 53 (for
 * the Discovery object 7E and BIT group 7F61: of that template). An absent
 * object is KW_ERR_NOT_FOUND (6A82); an empty one is KW_OK with out empty.
 * Tags: 7E, 7F61, 5FC100-5FFFFF. PUT DATA with len 0 empties the object. */
kw_rv kw_piv_get_data(kw_piv *p, uint32_t tag, kw_buf *out);
kw_rv kw_piv_put_data(kw_piv *p, uint32_t tag, const uint8_t *data, size_t len);

/* Map a key slot to its certificate object tag (0 if none). */
uint32_t kw_piv_slot_cert_tag(uint8_t slot);
bool kw_piv_slot_is_key(uint8_t slot);
/* Certificates: DER X.509 (decompressed when CertInfo says gzip; written
 * gzip-compressed when the plain object would exceed 3052 bytes, the
 * YubiKey limit). An absent or empty object is KW_ERR_NOT_FOUND. */
kw_rv kw_piv_read_cert(kw_piv *p, uint8_t slot, kw_buf *der);
kw_rv kw_piv_write_cert(kw_piv *p, uint8_t slot, const uint8_t *der, size_t len);
kw_rv kw_piv_delete_cert(kw_piv *p, uint8_t slot);
/* A cheap fingerprint of a certificate object's current contents: one
 * short GET DATA without GET RESPONSE; probe gets the first response chunk
 * and the status word as the card sent them. An absent object is
 * KW_ERR_NOT_FOUND. _expect gives the probe an object with these contents
 * (the value of tag 53) answers, to compare with later. */
kw_rv kw_piv_cert_probe(kw_piv *p, uint8_t slot, kw_buf *probe);
kw_rv kw_piv_cert_probe_expect(kw_view contents, kw_buf *probe);

/* Key History: writing requires url non-empty exactly when
 * off_card_certs > 0 (SP 800-73-4), and at most 20 keys in all. */
kw_rv kw_piv_read_key_history(kw_piv *p, kw_piv_key_history *kh);
kw_rv kw_piv_write_key_history(kw_piv *p, const kw_piv_key_history *kh);

/* PIN and PUK (6-8 bytes, no FF byte; padded with FF to 8). refs: VERIFY
 * 80 or 00; CHANGE REFERENCE 80, 81 or 00. tries_left gets the counter when
 * the card reports it (63Cx; 0 for 6983 blocked), else -1. */
kw_rv kw_piv_verify(kw_piv *p, uint8_t ref, const uint8_t *pin, size_t len, int *tries_left);
/* VERIFY without data: KW_OK if verified, KW_ERR_PIN_INCORRECT with tries. */
kw_rv kw_piv_pin_status(kw_piv *p, uint8_t ref, int *tries_left);
kw_rv kw_piv_change_reference(kw_piv *p, uint8_t ref, const uint8_t *old, size_t old_len,
    const uint8_t *new_, size_t new_len, int *tries_left);
kw_rv kw_piv_unblock_pin(kw_piv *p, const uint8_t *puk, size_t puk_len,
    const uint8_t *new_pin, size_t new_len, int *tries_left);
/* Reset the PIN's verified status on the card (VERIFY P1 = FF). */
kw_rv kw_piv_logout(kw_piv *p);

/* Management key mutual authentication (3DES, AES-128/192/256). */
kw_rv kw_piv_authenticate(kw_piv *p, uint8_t alg, const uint8_t *key, size_t key_len);

/* GENERAL AUTHENTICATE with a private key: RSA raw (input padded by the
 * caller to the modulus size; sign and decrypt alike; output exactly the
 * modulus size), ECDSA (input a hash, truncated/padded by the client to
 * the curve size; output DER ECDSA-Sig-Value) or Ed25519 (input the whole
 * message, at most 512 bytes; output the 64-byte signature). out's contents
 * are replaced and wiped on error (it may hold a decrypted key: free it
 * with kw_buf_free). */
kw_rv kw_piv_private_op(kw_piv *p, uint8_t slot, uint8_t alg,
    const uint8_t *in, size_t in_len, kw_buf *out);
/* ECDH: peer's uncompressed point in, shared secret (x coordinate) out;
 * X25519: the peer's 32-byte public key in, the 32-byte secret out. */
kw_rv kw_piv_ecdh(kw_piv *p, uint8_t slot, uint8_t alg,
    const uint8_t *point, size_t point_len, kw_buf *out);

/* GENERATE ASYMMETRIC KEY PAIR; policies 0 = default. */
kw_rv kw_piv_generate(kw_piv *p, uint8_t slot, uint8_t alg, uint8_t pin_policy,
    uint8_t touch_policy, EVP_PKEY **pubkey);

/* YubiKey extensions. */
kw_rv kw_piv_get_version(kw_piv *p, uint8_t version[3]);
kw_rv kw_piv_get_serial(kw_piv *p, uint32_t *serial);
/* GET METADATA (firmware 5.3+): md is overwritten (clear a previously
 * filled one first); an empty slot is KW_ERR_NOT_FOUND (6A88). */
kw_rv kw_piv_get_metadata(kw_piv *p, uint8_t slot, kw_piv_metadata *md);
/* IMPORT: RSA (public exponent 65537 only), EC P-256/P-384, Ed25519 or
 * X25519 (firmware 5.7+) private key. */
kw_rv kw_piv_import_key(kw_piv *p, uint8_t slot, const EVP_PKEY *key,
    uint8_t pin_policy, uint8_t touch_policy);
kw_rv kw_piv_attest(kw_piv *p, uint8_t slot, kw_buf *der);
kw_rv kw_piv_set_mgmt_key(kw_piv *p, uint8_t alg, const uint8_t *key, size_t len,
    bool require_touch);
kw_rv kw_piv_set_retries(kw_piv *p, uint8_t pin_tries, uint8_t puk_tries);
kw_rv kw_piv_reset(kw_piv *p);
/* MOVE / DELETE KEY (firmware 5.7+); not for the attestation slot F9. */
kw_rv kw_piv_move_key(kw_piv *p, uint8_t to_slot, uint8_t from_slot);
kw_rv kw_piv_delete_key(kw_piv *p, uint8_t slot);

/* Parsers of card data, exposed for tests and fuzzing (no APDUs). Errors:
 * KW_ERR_FORMAT / TRUNCATED / TRAILING / RANGE; outputs cleared on error. */
/* Contents of a certificate object (70, 71, 72, FE) -> DER certificate. */
kw_rv kw_piv_cert_parse(kw_view obj, kw_buf *der);
/* Contents of the Key History object (C1, C2, F3, FE). */
kw_rv kw_piv_key_history_parse(kw_view obj, kw_piv_key_history *kh);
/* GET METADATA response; md->pubkey is set when the card sent one. */
kw_rv kw_piv_metadata_parse(kw_view resp, kw_piv_metadata *md);

/* Identification objects (SP 800-73-4 part 1). */
#define KW_PIV_FASCN_LEN 25
typedef struct kw_piv_chuid {
	uint8_t fascn[KW_PIV_FASCN_LEN]; /* tag 30 (required) */
	uint8_t guid[16];                /* tag 34 (required) */
	uint8_t uuid[16];                /* tag 36, valid if has_uuid */
	bool has_uuid;
	char expiry[9];                  /* tag 35 YYYYMMDD, "" if absent */
} kw_piv_chuid;

typedef struct kw_piv_ccc {
	uint8_t card_id[21];             /* tag F0 */
} kw_piv_ccc;

typedef struct kw_piv_discovery {
	uint8_t aid[16];                 /* tag 4F, starts with A0 00 00 03 08 */
	size_t aid_len;
	uint16_t pin_policy;             /* tag 5F2F, two bytes */
} kw_piv_discovery;

/* FASC-N from 32 decimal digits in field order: agency code (4), system
 * code (4), credential number (6), CS (1), ICI (1), person identifier (10),
 * organizational category (1), organizational identifier (4), POA (1). */
kw_rv kw_piv_fascn_encode(const char *digits, uint8_t out[KW_PIV_FASCN_LEN]);
kw_rv kw_piv_chuid_parse(kw_view obj, kw_piv_chuid *c);
/* CHUID contents: 30 FASC-N, 34 GUID, 35 expiry (8 digits), 3E (empty:
 * unsigned), FE. Write it with kw_piv_put_data(KW_PIV_OBJ_CHUID). */
kw_rv kw_piv_chuid_build(const uint8_t fascn[KW_PIV_FASCN_LEN], const uint8_t guid[16],
    const char *expiry, kw_buf *out);
kw_rv kw_piv_ccc_parse(kw_view obj, kw_piv_ccc *c);
/* CCC contents with card identifier A0 00 00 01 16 FF 02 || card_id. */
kw_rv kw_piv_ccc_build(const uint8_t card_id[14], kw_buf *out);
kw_rv kw_piv_discovery_parse(kw_view obj, kw_piv_discovery *d);
/* GET DATA + parse; KW_ERR_NOT_FOUND when the object is absent or empty. */
kw_rv kw_piv_read_chuid(kw_piv *p, kw_piv_chuid *c);
kw_rv kw_piv_read_discovery(kw_piv *p, kw_piv_discovery *d);

/* YubiKey admin data (5FFF00) and PIN-protected management key (5FC109,
 * 88 { 89 key }), compatible with the Yubico tools. */
enum { KW_PIV_ADMIN_PUK_BLOCKED = 0x01, KW_PIV_ADMIN_MGMT_PROTECTED = 0x02 };
typedef struct kw_piv_admin {
	uint8_t flags;           /* tag 81, 0 if absent */
	bool has_salt;           /* tag 82 (PIN-derived key, legacy) */
	uint32_t pin_timestamp;  /* tag 83, 0 if absent */
} kw_piv_admin;
kw_rv kw_piv_admin_parse(kw_view obj, kw_piv_admin *a);
kw_rv kw_piv_read_admin(kw_piv *p, kw_piv_admin *a);
kw_rv kw_piv_protected_mgmt_key_parse(kw_view obj, kw_secret *key);
/* Needs a verified PIN. key (empty, or holding a secret, which is wiped
 * first) gets the key; it is empty on error. Free with kw_secret_free. */
kw_rv kw_piv_read_protected_mgmt_key(kw_piv *p, kw_secret *key);
/* Needs management-key authentication. Stores the key and sets the admin
 * flag; key NULL / len 0 removes it and clears the flag. */
kw_rv kw_piv_write_protected_mgmt_key(kw_piv *p, const uint8_t *key, size_t len);

/* Algorithm helpers. */
bool kw_piv_alg_is_rsa(uint8_t alg);
bool kw_piv_alg_is_ec(uint8_t alg);          /* P-256 / P-384 only */
bool kw_piv_alg_is_25519(uint8_t alg);       /* Ed25519 / X25519 */
int kw_piv_alg_bits(uint8_t alg);          /* key size, 0 if unknown */
size_t kw_piv_mgmt_key_len(uint8_t alg);   /* 0 if not a management-key alg */
/* The algorithm of a public key (RSA size or EC curve), 0 if unsupported. */
uint8_t kw_piv_alg_of_pkey(const EVP_PKEY *key);

#endif
