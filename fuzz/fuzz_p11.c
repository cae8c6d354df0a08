/* Fuzz target: C_* call sequences of the PKCS#11 module (pkcs11-module)
 * over the mock transport. The card behind the mock is keyward's virtual
 * token (tools/vcard) provisioned with P-256 keys in 9A (with a
 * certificate), 9C and 9E, fresh for every input; the input may also
 * replace any of its answers.
 *
 * Input: a header byte (bit 0: answers may be replaced), then steps of
 * (op, argument) pairs picking a C_* call and its session, object,
 * mechanism, attribute or PIN; the steps end at a 0xFF op, after which
 * come the replacement answers: one byte per APDU (0: the vcard answers,
 * else the next chunk — 2-byte length + bytes incl. SW — is the answer).
 * C_Initialize comes first, C_Finalize last.
 *
 * Checks: nothing crashes, leaks or reads out of bounds; the module
 * returns a CKR_* value for everything. */
#include <stdlib.h>

#include <openssl/evp.h>

#include "fuzz_util.h"
#include "p11_int.h"
#include "vcard.h"

#define P11_MAX_STEPS 48
#define P11_MAX_HANDLES 8

static const uint8_t cert_object[] = {
	/* 70 { small self-signed certificate } 71 00 FE 00: the bytes matter
	 * only as far as the module's certificate parser is concerned. */
	0x70, 0x30, 0x30, 0x2e, 0x30, 0x1c, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x01,
	0x01, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
	0x30, 0x00, 0x30, 0x00, 0x30, 0x00, 0x30, 0x00, 0x30, 0x0a, 0x06, 0x08, 0x2a,
	0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x01, 0x00,
	0x71, 0x01, 0x00, 0xfe, 0x00,
};

typedef struct p11_run {
	vcard_card *card;
	fz_in answers;
	bool replace;
	CK_SESSION_HANDLE sessions[P11_MAX_HANDLES];
	CK_OBJECT_HANDLE objects[P11_MAX_HANDLES];
	size_t nobjects;
	CK_SLOT_ID slot;
	bool have_slot;
} p11_run;

static p11_run run;

static kw_rv
card_answer(void *arg, kw_view cmd, kw_buf *resp)
{
	kw_buf r;
	kw_rv rv;

	(void)arg;
	if (run.replace && run.answers.n > 0 && fz_u8(&run.answers) != 0)
		return kw_buf_put_view(resp, fz_chunk(&run.answers));
	kw_buf_init(&r, 0);
	rv = vcard_card_process(run.card, cmd.ptr, cmd.len, &r);
	if (rv == KW_OK)
		rv = kw_buf_put_view(resp, kw_buf_view(&r));
	kw_buf_free(&r);
	return rv;
}

static kw_rv
open_hook(const char *uri, kw_transport **t, void *arg)
{
	kw_rv rv;

	(void)arg;
	if (strcmp(uri, "mock:fuzz") != 0)
		return KW_ERR_NO_CARD;
	if ((rv = kw_transport_open_ops(&kw_mock_ops, "fuzz", t)) != KW_OK)
		return rv;
	kw_mock_set_handler((kw_mock *)kw_transport_ctx(*t), card_answer, NULL);
	return KW_OK;
}

static bool
card_setup(void)
{
	static const uint8_t slots[] = { 0x9A, 0x9C, 0x9E };
	size_t i;

	if (vcard_card_new(&run.card) != KW_OK)
		return false;
	for (i = 0; i < sizeof(slots); i++) {
		vc_key *k = vc_key_slot(run.card, slots[i]);

		if (k == NULL || vc_key_make(k, VC_ALG_P256) != KW_OK)
			return false;
		k->origin = VC_ORIGIN_GENERATED;
		k->pin_policy = slots[i] == 0x9E ? VC_PIN_NEVER :
		    slots[i] == 0x9C ? VC_PIN_ALWAYS : VC_PIN_ONCE;
		k->touch_policy = VC_TOUCH_NEVER;
	}
	return vc_obj_set(run.card, 0x5FC105, cert_object, sizeof(cert_object)) == KW_OK;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("KEYWARD_NO_CACHE", "1", 1);
	setenv("KEYWARD_TRANSPORTS", "mock:fuzz", 1);
	kwp11_test_set_open_hook(open_hook, NULL);
	return 0;
}

static CK_SESSION_HANDLE
session_of(uint8_t arg)
{
	return (arg & 0x80) ? (CK_SESSION_HANDLE)arg : run.sessions[arg % P11_MAX_HANDLES];
}

static CK_OBJECT_HANDLE
object_of(uint8_t arg)
{
	return run.nobjects == 0 || (arg & 0x80) ? (CK_OBJECT_HANDLE)arg :
	    run.objects[arg % run.nobjects];
}

static void
op_session(uint8_t op, uint8_t arg)
{
	CK_SLOT_ID slots[4];
	CK_ULONG n = 4;
	CK_TOKEN_INFO ti;
	CK_SESSION_INFO si;
	CK_FLAGS fl = CKF_SERIAL_SESSION | ((arg & 1) ? CKF_RW_SESSION : 0);

	switch (op) {
	case 0:
		if (C_GetSlotList((arg & 1) ? CK_TRUE : CK_FALSE, slots, &n) == CKR_OK && n > 0) {
			run.slot = slots[0];
			run.have_slot = true;
		}
		break;
	case 1:
		(void)C_GetTokenInfo(run.have_slot ? run.slot : arg, &ti);
		break;
	case 2:
		(void)C_OpenSession(run.have_slot ? run.slot : arg, fl, NULL, NULL,
		    &run.sessions[(arg >> 1) % P11_MAX_HANDLES]);
		break;
	case 3:
		(void)C_CloseSession(session_of(arg));
		break;
	default:
		(void)C_GetSessionInfo(session_of(arg), &si);
		break;
	}
}

static void
op_login(uint8_t op, uint8_t arg)
{
	static const char *pins[] = { "123456", "654321", "12345678", "1" };
	const char *pin = pins[(arg >> 3) % 4];
	CK_USER_TYPE user = (arg & 0x40) ? CKU_SO : (arg & 0x20) ? CKU_CONTEXT_SPECIFIC : CKU_USER;

	if (op == 0)
		(void)C_Login(session_of(arg & 7), user, (CK_UTF8CHAR_PTR)pin, strlen(pin));
	else if (op == 1)
		(void)C_Logout(session_of(arg & 7));
	else
		(void)C_SetPIN(session_of(arg & 7), (CK_UTF8CHAR_PTR)"123456", 6,
		    (CK_UTF8CHAR_PTR)pin, strlen(pin));
}

static void
op_find(uint8_t arg)
{
	static const CK_OBJECT_CLASS classes[] = {
		CKO_CERTIFICATE, CKO_PUBLIC_KEY, CKO_PRIVATE_KEY, CKO_DATA,
	};
	CK_OBJECT_CLASS cls = classes[arg % 4];
	uint8_t id = (uint8_t)(1 + (arg >> 2) % 4);
	CK_ATTRIBUTE t[2] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, &id, 1 },
	};
	CK_SESSION_HANDLE s = session_of(arg >> 5);
	CK_ULONG n = 0;

	if (C_FindObjectsInit(s, t, (arg & 0x10) ? 2 : 1) != CKR_OK)
		return;
	if (C_FindObjects(s, run.objects, P11_MAX_HANDLES, &n) == CKR_OK)
		run.nobjects = n;
	(void)C_FindObjectsFinal(s);
}

static void
op_attr(uint8_t arg, uint8_t arg2)
{
	static const CK_ATTRIBUTE_TYPE types[] = {
		CKA_CLASS, CKA_ID, CKA_LABEL, CKA_VALUE, CKA_KEY_TYPE, CKA_MODULUS,
		CKA_PUBLIC_EXPONENT, CKA_EC_POINT, CKA_EC_PARAMS, CKA_SUBJECT, CKA_ISSUER,
		CKA_SERIAL_NUMBER, CKA_ALWAYS_AUTHENTICATE, CKA_SIGN, CKA_PRIVATE,
		CKA_PUBLIC_KEY_INFO,
	};
	uint8_t buf[2][1024];
	CK_ATTRIBUTE t[2] = {
		{ types[arg % 16], buf[0], (arg & 0x10) ? 4 : sizeof(buf[0]) },
		{ types[(arg >> 4) % 16], (arg & 0x20) ? NULL : buf[1], sizeof(buf[1]) },
	};

	(void)C_GetAttributeValue(session_of(arg2 >> 4), object_of(arg2 & 0x8F), t, 2);
}

static void
op_crypto(uint8_t arg, uint8_t arg2)
{
	static const CK_MECHANISM_TYPE mechs[] = {
		CKM_ECDSA, CKM_ECDSA_SHA256, CKM_RSA_PKCS, CKM_SHA256_RSA_PKCS,
		CKM_RSA_X_509, CKM_RSA_PKCS_OAEP, CKM_RSA_PKCS_PSS, CKM_ECDSA_SHA384,
	};
	static uint8_t in[300] = { 1, 2, 3 };
	uint8_t out[1024];
	CK_ULONG outlen = (arg & 0x40) ? 1 : sizeof(out);
	CK_MECHANISM m = { mechs[arg % 8], NULL, 0 };
	CK_SESSION_HANDLE s = session_of(arg2 >> 4);
	CK_ULONG inlen = 1 + (CK_ULONG)(arg2 & 0x0F) * 16;

	if (arg & 0x08) {
		if (C_DecryptInit(s, &m, object_of(arg >> 4)) == CKR_OK)
			(void)C_Decrypt(s, in, 256, (arg & 0x80) ? NULL : out, &outlen);
	} else if (C_SignInit(s, &m, object_of(arg >> 4)) == CKR_OK) {
		if (arg & 0x80) {
			if (C_SignUpdate(s, in, inlen) == CKR_OK)
				(void)C_SignFinal(s, out, &outlen);
		} else {
			(void)C_Sign(s, in, inlen, out, &outlen);
		}
	}
}

static void
op_keygen(uint8_t arg)
{
	static const uint8_t p256[] = {
		0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
	};
	uint8_t id = (uint8_t)(1 + arg % 4);
	CK_BBOOL yes = CK_TRUE;
	CK_MECHANISM m = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_ATTRIBUTE pub[] = {
		{ CKA_EC_PARAMS, (void *)p256, sizeof(p256) },
		{ CKA_ID, &id, 1 },
		{ CKA_TOKEN, &yes, sizeof(yes) },
	};
	CK_ATTRIBUTE priv[] = {
		{ CKA_ID, &id, 1 },
		{ CKA_SIGN, &yes, sizeof(yes) },
	};
	CK_OBJECT_HANDLE hpub, hpriv;

	(void)C_GenerateKeyPair(session_of(arg >> 4), &m, pub, 3, priv, 2, &hpub, &hpriv);
}

static void
op_misc(uint8_t arg)
{
	CK_MECHANISM_TYPE mechs[32];
	CK_MECHANISM_INFO mi;
	CK_ULONG n = (arg & 1) ? 1 : 32;
	CK_SLOT_INFO si;
	CK_SLOT_ID slot = run.have_slot ? run.slot : 0;

	switch ((arg >> 1) % 4) {
	case 0: (void)C_GetMechanismList(slot, mechs, &n); break;
	case 1: (void)C_GetMechanismInfo(slot, CKM_ECDSA, &mi); break;
	case 2: (void)C_GetSlotInfo(slot, &si); break;
	default: (void)C_CloseAllSessions(slot); break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = fz_make(data, size);
	unsigned steps = 0;
	uint8_t op, arg;

	memset(&run, 0, sizeof(run));
	if (!card_setup())
		goto done;
	run.replace = (fz_u8(&in) & 1) != 0;
	/* The steps end at 0xFF; the rest are replacement answers. */
	{
		const uint8_t *end = memchr(in.p, 0xFF, in.n);
		size_t nsteps = end != NULL ? (size_t)(end - in.p) : in.n;

		run.answers = end != NULL ? fz_make(end + 1, in.n - nsteps - 1) :
		    fz_make(NULL, 0);
		in.n = nsteps;
	}
	if (C_Initialize(NULL) != CKR_OK)
		goto done;
	while (in.n > 0 && steps++ < P11_MAX_STEPS) {
		op = fz_u8(&in);
		arg = fz_u8(&in);
		switch (op % 8) {
		case 0: op_session((uint8_t)(op >> 3) % 5, arg); break;
		case 1: op_login((uint8_t)(op >> 3) % 3, arg); break;
		case 2: op_find(arg); break;
		case 3: op_attr(arg, fz_u8(&in)); break;
		case 4: op_crypto(arg, fz_u8(&in)); break;
		case 5: op_keygen(arg); break;
		default: op_misc(arg); break;
		}
	}
	(void)C_Finalize(NULL);
done:
	vcard_card_free(&run.card);
	return 0;
}
