/* Fuzz target: PIV client calls (src/kw_piv*.c) over the mock transport,
 * every card answer taken from the input.
 *
 * Input: a program (1-byte length, then byte pairs: a call, then its
 * argument whose bits pick slot, algorithm, object), then the card's answers as chunks
 * (2-byte length + response bytes incl. SW). Calls: SELECT, GET DATA,
 * read certificate, GENERATE (7F49 parsing), attestation, metadata,
 * private-key operation and ECDH, management-key mutual authentication,
 * PIN verify/status, version/serial, Key History, CHUID/Discovery/admin
 * data, the PIN-protected management key (read, and write's
 * read-modify-write of admin data), PIN change/unblock, certificate and
 * Key History writes, management key, retries, MOVE KEY, reset.
 *
 * Checks: outputs documented as cleared on error are; nothing crashes,
 * leaks or reads out of bounds under ASan/UBSan. */
#include <stdlib.h>

#include <openssl/evp.h>

#include "fuzz_util.h"
#include "kw_piv.h"
#include "kw_secret.h"

#define CLIENT_MAX_CALLS 16

static const uint8_t slots[] = { 0x9A, 0x9C, 0x9D, 0x9E, 0x82, 0x95, 0xF9, 0x9B };
static const uint8_t key_algs[] = {
	KW_PIV_ALG_RSA1024, KW_PIV_ALG_RSA2048, KW_PIV_ALG_RSA3072, KW_PIV_ALG_RSA4096,
	KW_PIV_ALG_ECCP256, KW_PIV_ALG_ECCP384, KW_PIV_ALG_ED25519, KW_PIV_ALG_X25519,
};
static const uint8_t mgmt_algs[] = {
	KW_PIV_ALG_3DES, KW_PIV_ALG_AES128, KW_PIV_ALG_AES192, KW_PIV_ALG_AES256,
};
static const uint32_t objects[] = {
	KW_PIV_OBJ_DISCOVERY, KW_PIV_OBJ_CHUID, KW_PIV_OBJ_CCC, KW_PIV_OBJ_KEY_HISTORY,
	KW_PIV_OBJ_PRINTED, KW_PIV_OBJ_ATTEST_CERT, KW_PIV_OBJ_YK_ADMIN, 0x7F61,
};
static const uint8_t mgmt_key[32] = {
	1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
	1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
};

static void
call_data(kw_piv *p, uint8_t op)
{
	static uint8_t input[512] = { 0x00, 0x01, 0xFF };
	kw_buf out;
	size_t len;
	uint8_t alg;
	kw_rv rv;

	kw_buf_init(&out, KW_MAX_RESPONSE);
	switch (op % 4) {
	case 0:
		(void)kw_piv_get_data(p, objects[(op >> 2) % 8], &out);
		break;
	case 1:
		(void)kw_buf_put(&out, "stale", 5);
		rv = kw_piv_read_cert(p, slots[(op >> 2) % 8], &out);
		/* Argument errors return early (out untouched); card errors clear. */
		if (rv != KW_OK && rv != KW_ERR_ARG && out.len != 0)
			abort();
		break;
	case 2:
		(void)kw_piv_attest(p, slots[(op >> 2) % 8], &out);
		break;
	default:
		(void)kw_buf_put(&out, "stale", 5);
		alg = key_algs[(op >> 5) % 8];
		len = kw_piv_alg_is_rsa(alg) ? (size_t)kw_piv_alg_bits(alg) / 8 :
		    (op & 0x10) ? 32 : 20;
		rv = kw_piv_private_op(p, slots[(op >> 2) % 8], alg, input, len, &out);
		if (rv != KW_OK && kw_piv_slot_is_key(slots[(op >> 2) % 8]) && out.len != 0)
			abort();
		break;
	}
	kw_buf_free(&out);
}

static void
call_key(kw_piv *p, uint8_t op)
{
	static const uint8_t point[65] = { 0x04 };
	kw_piv_metadata md;
	EVP_PKEY *pub = NULL;
	kw_buf out;
	kw_rv rv;

	switch (op % 3) {
	case 0:
		rv = kw_piv_generate(p, slots[(op >> 2) % 8], key_algs[(op >> 5) % 8],
		    (op >> 1) & 3, (op >> 3) & 3, &pub);
		if (rv != KW_OK && pub != NULL)
			abort();
		EVP_PKEY_free(pub);
		break;
	case 1:
		memset(&md, 0, sizeof(md));
		rv = kw_piv_get_metadata(p, slots[(op >> 2) % 8], &md);
		if (rv != KW_OK && md.pubkey != NULL)
			abort();
		kw_piv_metadata_clear(&md);
		break;
	default:
		kw_buf_init(&out, 1024);
		(void)kw_piv_ecdh(p, slots[(op >> 2) % 8], key_algs[(op >> 5) % 8], point,
		    (op & 0x10) ? 65 : 32, &out);
		kw_buf_free(&out);
		break;
	}
}

static void
call_auth(kw_piv *p, uint8_t op)
{
	static const uint8_t pin[] = "123456";
	uint8_t alg = mgmt_algs[(op >> 2) % 4];
	int tries = -2;
	kw_rv rv;

	switch (op % 3) {
	case 0:
		(void)kw_piv_authenticate(p, alg, mgmt_key, kw_piv_mgmt_key_len(alg));
		break;
	case 1:
		rv = kw_piv_verify(p, KW_PIV_REF_PIN, pin, 6, &tries);
		if (tries < -1 || (rv == KW_OK && tries > 15))
			abort();
		break;
	default:
		(void)kw_piv_pin_status(p, (op & 4) ? KW_PIV_REF_PUK : KW_PIV_REF_PIN, &tries);
		break;
	}
}

static void
call_objects(kw_piv *p, uint8_t op)
{
	kw_piv_key_history kh;
	kw_piv_chuid ch;
	kw_piv_discovery d;
	kw_piv_admin a;
	kw_secret key = KW_SECRET_EMPTY;
	uint8_t version[3];
	uint32_t serial;

	switch (op % 8) {
	case 0: (void)kw_piv_read_key_history(p, &kh); break;
	case 1: (void)kw_piv_read_chuid(p, &ch); break;
	case 2: (void)kw_piv_read_discovery(p, &d); break;
	case 3: (void)kw_piv_read_admin(p, &a); break;
	case 4:
		memset(&key, 0, sizeof(key));
		if (kw_piv_read_protected_mgmt_key(p, &key) != KW_OK && key.ptr != NULL)
			abort();
		kw_secret_free(&key);
		break;
	case 5:
		(void)kw_piv_write_protected_mgmt_key(p, (op & 8) ? mgmt_key : NULL,
		    (op & 8) ? 24 : 0);
		break;
	case 6: (void)kw_piv_get_version(p, version); break;
	default: (void)kw_piv_get_serial(p, &serial); break;
	}
}

/* Writes and administration: the card's answers are status words (63Cx
 * counters, 6Cxx, 61xx with data nobody asked for ...). */
static void
call_admin(kw_piv *p, uint8_t op)
{
	static const uint8_t pin[] = "123456", puk[] = "12345678";
	static const uint8_t der[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	kw_piv_key_history kh = { 1, (op & 8) ? 1 : 0, "" };
	int tries = -2;

	if (op & 8)
		memcpy(kh.url, "https://x.example/kh", 21);
	switch (op % 8) {
	case 0:
		(void)kw_piv_change_reference(p, (op & 8) ? KW_PIV_REF_PUK : KW_PIV_REF_PIN,
		    pin, 6, puk, 8, &tries);
		if (tries < -1 || tries > 15)
			abort();
		break;
	case 1:
		(void)kw_piv_unblock_pin(p, puk, 8, pin, 6, &tries);
		if (tries < -1 || tries > 15)
			abort();
		break;
	case 2:
		(void)kw_piv_write_cert(p, slots[(op >> 3) % 8], der, sizeof(der));
		break;
	case 3:
		(void)kw_piv_write_key_history(p, &kh);
		break;
	case 4:
		(void)kw_piv_set_mgmt_key(p, mgmt_algs[(op >> 3) % 4], mgmt_key,
		    kw_piv_mgmt_key_len(mgmt_algs[(op >> 3) % 4]), (op & 0x20) != 0);
		break;
	case 5:
		(void)kw_piv_set_retries(p, 5, 5);
		break;
	case 6:
		(void)kw_piv_move_key(p, slots[(op >> 3) % 8], slots[(op >> 5) % 8]);
		break;
	default:
		(void)kw_piv_reset(p);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = fz_make(data, size);
	kw_view prog_bytes = fz_chunk8(&in);
	fz_in prog = fz_make(prog_bytes.ptr, prog_bytes.len);
	kw_transport *t = NULL;
	kw_piv *p = NULL;
	fz_card card;
	unsigned calls = 0;
	uint8_t op, arg;

	memset(&card, 0, sizeof(card));
	card.in = in;
	card.limit = 4096;
	if (fz_card_open(&kw_mock_ops, &card, &t) != KW_OK)
		return 0;
	if (kw_piv_new(t, &p) != KW_OK)
		goto done;
	while (prog.n > 0 && calls++ < CLIENT_MAX_CALLS) {
		op = fz_u8(&prog);
		arg = fz_u8(&prog);
		switch (op % 6) {
		case 0: (void)kw_piv_select(p); break;
		case 1: call_data(p, arg); break;
		case 2: call_key(p, arg); break;
		case 3: call_auth(p, arg); break;
		case 4: call_objects(p, arg); break;
		default: call_admin(p, arg); break;
		}
	}
done:
	kw_piv_free(&p);
	kw_transport_free(&t);
	return 0;
}
