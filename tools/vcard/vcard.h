/* keyward-vcard: a virtual PIV token (NIST SP 800-73-4 + the YubiKey PIV
 * extensions), written from the specifications.
 *
 * The applet is an I/O-free core: vcard_card_process() takes one command
 * APDU and yields one response APDU (data + SW1 SW2). Front-ends (vpcd
 * socket today; UICC channels, AT modem, BLE later) only move bytes.
 *
 * This is a TEST token: its state file holds the private keys, PIN, PUK and
 * management key in clear. It is created with mode 0600. */
#ifndef VCARD_H
#define VCARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "kw_buf.h"
#include "kw_err.h"

/* Status words. */
#define VC_SW_OK              0x9000
#define VC_SW_WRONG_LENGTH    0x6700
#define VC_SW_SECURITY        0x6982
#define VC_SW_BLOCKED         0x6983
#define VC_SW_CONDITIONS      0x6985
#define VC_SW_WRONG_DATA      0x6A80
#define VC_SW_FUNC_NOT_SUPP   0x6A81
#define VC_SW_NOT_FOUND       0x6A82
#define VC_SW_NO_SPACE        0x6A84
#define VC_SW_WRONG_P1P2      0x6A86
#define VC_SW_REF_NOT_FOUND   0x6A88
#define VC_SW_INS_UNKNOWN     0x6D00
#define VC_SW_CLA_UNKNOWN     0x6E00
#define VC_SW_NO_PRECISE      0x6F00
#define VC_SW_LAST_CHAIN      0x6883

/* Algorithm identifiers (SP 800-78-4 table 6-2 + YubiKey). */
#define VC_ALG_3DES     0x03
#define VC_ALG_RSA3072  0x05
#define VC_ALG_RSA1024  0x06
#define VC_ALG_RSA2048  0x07
#define VC_ALG_AES128   0x08
#define VC_ALG_AES192   0x0A
#define VC_ALG_AES256   0x0C
#define VC_ALG_P256     0x11
#define VC_ALG_P384     0x14
#define VC_ALG_RSA4096  0x16
#define VC_ALG_ED25519  0xE0    /* firmware 5.7 */
#define VC_ALG_X25519   0xE1    /* firmware 5.7 */
#define VC_ALG_PIN      0xFF

/* PIN / touch policies (YubiKey). */
#define VC_PIN_DEFAULT  0
#define VC_PIN_NEVER    1
#define VC_PIN_ONCE     2
#define VC_PIN_ALWAYS   3
#define VC_TOUCH_DEFAULT 0
#define VC_TOUCH_NEVER  1
#define VC_TOUCH_ALWAYS 2
#define VC_TOUCH_CACHED 3

#define VC_ORIGIN_GENERATED 1
#define VC_ORIGIN_IMPORTED  2

#define VC_KEYREF_PIN   0x80
#define VC_KEYREF_PUK   0x81
#define VC_KEYREF_MGMT  0x9B
#define VC_SLOT_ATTEST  0xF9

#define VC_NSLOTS       25
#define VC_PIN_MAXLEN   8
#define VC_MGMT_MAXLEN  32
#define VC_OBJ_MAX      3063      /* largest object value, as a YubiKey 5 */
#define VC_CHAIN_MAX    65536     /* largest chained command data */
#define VC_MAX_OBJECTS  80

#define VC_DEFAULT_PIN  "123456"
#define VC_DEFAULT_PUK  "12345678"
#define VC_DEFAULT_TRIES 3

typedef struct vc_key {
	uint8_t slot;
	uint8_t alg;          /* 0: empty */
	uint8_t pin_policy;   /* resolved, never VC_PIN_DEFAULT once stored */
	uint8_t touch_policy; /* resolved */
	uint8_t origin;
	EVP_PKEY *pkey;
} vc_key;

typedef struct vc_object {
	uint32_t tag;         /* 0: unused entry */
	kw_buf data;          /* object content (the value of tag 53; for 7E/7F61 the whole TLV) */
} vc_object;

typedef struct vc_pin {
	uint8_t value[VC_PIN_MAXLEN]; /* FF padded */
	uint8_t tries;
	uint8_t max;
} vc_pin;

/* Volatile state of one session with the applet (selection, security
 * status, chains, pending response data). The card holds the current one;
 * a UICC front-end keeps one per logical channel (vcard_uicc.c). */
typedef struct vcard_session {
	bool selected;
	bool pin_verified;
	bool pin_fresh;        /* VERIFY succeeded and no PIN-always key used since */
	bool mgmt_authed;
	uint8_t mgmt_witness[16]; /* pending mutual-auth witness / challenge */
	size_t mgmt_witness_len;
	int mgmt_step;         /* 0 none, 1 witness sent, 2 challenge sent */
	kw_buf chain;          /* accumulated chained command data */
	uint8_t chain_hdr[4];
	bool chaining;
	kw_buf pending;        /* response data still to fetch by GET RESPONSE */
	uint8_t pending_ins;   /* INS of the command that produced it */
	bool pending_sensitive;
} vcard_session;

typedef struct vcard_card {
	/* persistent */
	uint32_t serial;
	uint8_t version[3];
	vc_pin pin;
	vc_pin puk;
	uint8_t mgmt_alg;
	uint8_t mgmt_touch;
	uint8_t mgmt_key[VC_MGMT_MAXLEN];
	size_t mgmt_len;
	vc_key keys[VC_NSLOTS];
	vc_object objects[VC_MAX_OBJECTS];

	/* volatile (cleared by power off / reset): the current session; a UICC
	 * front-end swaps one in per logical channel */
	vcard_session ses;
	uint8_t last_ins;      /* effective INS of the last exchange (for trace redaction) */
	bool last_sensitive;   /* last exchange carried a PIN-protected object */

	/* configuration */
	bool dirty;            /* persistent state changed since last save */
	EVP_PKEY *attest_ca_key;  /* optional, not owned */
	X509 *attest_ca_cert;     /* optional, not owned */
} vcard_card;

/* One decoded command (after chaining). */
typedef struct vc_cmd {
	uint8_t cla, ins, p1, p2;
	kw_view data;
	size_t le;        /* 0 if absent, else 1..65536 */
	bool le_present;
	bool extended;
} vc_cmd;

/* --- vcard_card.c --- */
/* A fresh token (defaults like a new YubiKey 5), without the F9 key. */
kw_rv vcard_card_new(vcard_card **out);
void vcard_card_free(vcard_card **c);
/* Process one command APDU; resp receives data || SW1 SW2. */
kw_rv vcard_card_process(vcard_card *c, const uint8_t *cmd, size_t len, kw_buf *resp);
/* Power off / reset: clears every volatile state. */
void vcard_card_reset(vcard_card *c);
/* Session objects for front-ends with several sessions (logical channels). */
void vcard_session_init(vcard_session *s);
void vcard_session_reset(vcard_session *s);  /* wipes, keeps storage */
void vcard_session_free(vcard_session *s);
/* Exchange the card's current session with *s. */
void vcard_card_swap_session(vcard_card *c, vcard_session *s);
/* The ATR (a YubiKey 5 style ATR). */
const uint8_t *vcard_card_atr(size_t *len);
bool vcard_version_at_least(const vcard_card *c, int maj, int min, int pat);

/* --- vcard_pin.c --- */
uint16_t vc_pin_verify(vcard_card *c, const vc_cmd *cmd);
uint16_t vc_pin_change(vcard_card *c, const vc_cmd *cmd);
uint16_t vc_pin_reset_retry(vcard_card *c, const vc_cmd *cmd);
uint16_t vc_pin_set_retries(vcard_card *c, const vc_cmd *cmd);
void vc_pin_set_default(vc_pin *p, const char *value, uint8_t tries);
bool vc_pin_is_default(const vc_pin *p, const char *value);

/* --- vcard_mgmt.c --- */
uint16_t vc_mgmt_authenticate(vcard_card *c, const vc_cmd *cmd, kw_buf *out);
uint16_t vc_mgmt_set_key(vcard_card *c, const vc_cmd *cmd);
void vc_mgmt_set_default(vcard_card *c);
bool vc_mgmt_is_default(const vcard_card *c);

/* --- vcard_keys.c --- */
vc_key *vc_key_slot(vcard_card *c, uint8_t slot);
bool vc_alg_is_rsa(uint8_t alg);
bool vc_alg_is_ec(uint8_t alg);      /* NIST P-256 / P-384 */
bool vc_alg_is_25519(uint8_t alg);   /* Ed25519 / X25519 */
bool vc_alg_is_key(uint8_t alg);     /* any asymmetric slot algorithm */
uint8_t vc_default_pin_policy(uint8_t slot);
uint16_t vc_key_generate(vcard_card *c, const vc_cmd *cmd, kw_buf *out);
uint16_t vc_key_import(vcard_card *c, const vc_cmd *cmd);
uint16_t vc_key_authenticate(vcard_card *c, const vc_cmd *cmd, kw_buf *out);
uint16_t vc_key_move(vcard_card *c, const vc_cmd *cmd);
/* 7F49 contents (81/82 for RSA, 86 for EC) without the 7F49 header. */
kw_rv vc_key_public_tlvs(const vc_key *k, kw_buf *out);
/* Generate a key pair of alg into slot (no access checks). */
kw_rv vc_key_make(vc_key *k, uint8_t alg);
void vc_key_clear(vc_key *k);

/* --- vcard_objects.c --- */
uint16_t vc_obj_get_data(vcard_card *c, const vc_cmd *cmd, kw_buf *out);
uint16_t vc_obj_put_data(vcard_card *c, const vc_cmd *cmd);
vc_object *vc_obj_find(vcard_card *c, uint32_t tag);
/* Does GET/PUT DATA data (5C tag ...) name a PIN-protected object? */
bool vc_obj_data_is_protected(kw_view data);
kw_rv vc_obj_set(vcard_card *c, uint32_t tag, const uint8_t *p, size_t n);
void vc_obj_delete(vcard_card *c, uint32_t tag);

/* --- vcard_yk.c --- */
uint16_t vc_yk_version(vcard_card *c, const vc_cmd *cmd, kw_buf *out);
uint16_t vc_yk_serial(vcard_card *c, const vc_cmd *cmd, kw_buf *out);
uint16_t vc_yk_metadata(vcard_card *c, const vc_cmd *cmd, kw_buf *out);
uint16_t vc_yk_reset(vcard_card *c, const vc_cmd *cmd);

/* --- vcard_attest.c --- */
uint16_t vc_attest(vcard_card *c, const vc_cmd *cmd, kw_buf *out);
/* Create the F9 key and its certificate (5FFF01), issued by the configured
 * CA or self-signed. */
kw_rv vc_attest_init(vcard_card *c);

/* --- vcard_state.c --- */
kw_rv vcard_state_save(const vcard_card *c, const char *path);
/* KW_ERR_NOT_FOUND if the file does not exist. */
kw_rv vcard_state_load(vcard_card *c, const char *path);
kw_rv vcard_state_encode(const vcard_card *c, kw_buf *out);
kw_rv vcard_state_decode(vcard_card *c, kw_view in);

/* --- crypto helpers (vcard_mgmt.c) --- */
kw_rv vc_random(uint8_t *p, size_t n);

#endif
