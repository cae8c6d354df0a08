/* A small fake PIV card for the PKCS#11 module's unit tests: answers the
 * APDUs the module sends (SELECT, YubiKey version/serial/metadata, GET
 * DATA of certificates, VERIFY/CHANGE/RESET RETRY, GENERAL AUTHENTICATE
 * with real OpenSSL keys) over the mock transport, counts them, and can be
 * "removed". Plus helpers shared by the test programs. */
#ifndef TEST_P11_FAKE_H
#define TEST_P11_FAKE_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "p11_int.h"

typedef struct p11f_key {
	uint8_t slot, alg, pin_policy, origin;
	EVP_PKEY *key;
	uint8_t *cert;
	size_t cert_len;
} p11f_key;

typedef struct p11f_card {
	char uri[32];
	uint32_t serial;
	bool removed;             /* transmit fails, reopen gives no card */
	bool not_piv;             /* no PIV applet: SELECT gives 6A82 */
	bool reset_once;          /* the next command fails as reset (card stays) */
	bool drop_once;           /* the next command fails as a lost link (card back at once) */
	bool no_metadata;         /* answer 6D00 to GET METADATA */
	int key_history;          /* >0: a Key History object with this C1 count */
	bool no_serial;           /* not a YubiKey: no F8/FD; a CHUID with this GUID */
	uint8_t guid[16];
	char pin[9], puk[9];
	int pin_tries, puk_tries;
	bool pin_ok;              /* PIN verified */
	bool pin_fresh;           /* verified since the last private-key use */
	p11f_key keys[24];
	size_t nkeys;
	uint8_t chain[4096];      /* chained command data */
	size_t chain_len;
	uint8_t pending[8192];    /* response data left for GET RESPONSE */
	size_t pending_len;
	unsigned gen_auth_delay_ms;  /* a slow GENERAL AUTHENTICATE (touch, slow token) */
	volatile int in_gen_auth;  /* set while that delay runs */
	/* counters */
	unsigned apdus, verifies, selects, get_data, metadata, gen_auth, logouts;
} p11f_card;

/* Two cards, "mock:a" and "mock:b"; KEYWARD_TRANSPORTS is set to them. */
extern p11f_card p11f_cards[2];

void p11f_reset(void);            /* fresh cards, no keys, hook installed */
void p11f_free(void);
/* Add a key (2048: RSA-2048, 384: P-384, 0: P-256) to card c; with a
 * self-signed cert. */
p11f_key *p11f_add_key(p11f_card *c, uint8_t slot, int rsa_bits, uint8_t pin_policy,
    bool with_cert);
/* Standard token: 9A RSA-2048+cert, 9C P-256+cert (PIN always), 9D
 * RSA-2048 without cert, 82 P-256+cert (retired). */
void p11f_standard(p11f_card *c);
/* Replace a key's certificate by a new one for the same key. */
void p11f_new_cert(p11f_key *k);
EVP_PKEY *p11f_rsa2048(void);      /* cached test keys (slow to make) */

/* Module helpers for tests */
CK_SLOT_ID p11f_slot_of(int card);          /* after C_Initialize */
CK_SESSION_HANDLE p11f_open(int card, bool rw);
CK_OBJECT_HANDLE p11f_find(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, uint8_t id);
CK_ULONG p11f_count(CK_SESSION_HANDLE s, CK_ATTRIBUTE *t, CK_ULONG n);

#endif
