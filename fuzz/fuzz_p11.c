/* Fuzz target: C_* call sequences of the PKCS#11 module (pkcs11-module)
 * over the mock transport. The card behind the mock is keyward's virtual
 * token (tools/vcard), set up once: P-256 in 9A (with a certificate, PIN
 * once), P-256 in 9C (PIN always: the context-specific login), RSA-1024 in
 * 9D (with a certificate: decryption), P-256 in 9E (PIN never), P-384 in
 * the retired slot 82 (counted by a Key History object).
 * Each input starts from that state again (the card's persistent state is
 * restored in memory, no key is generated per input), with the module's
 * certificate cache in a private directory holding nothing, the entries
 * the module wrote for this card, or bytes from the input.
 *
 * Input: a header byte (bit 0: card answers may be replaced; bit 1: the
 * disk cache is on; bits 2-3 with it: 0 empty, 1 the module's own entries,
 * 2 those with input bytes XORed in, 3 an input chunk as the 9A entry),
 * then a 2-byte length and that many step bytes: (op, argument[, arg2])
 * picking a C_* call and its session, object, mechanism, attribute or PIN.
 * The rest of the input is a data stream: op data (ciphertexts, ECDH peer
 * points, object templates, chunks of 2-byte length + bytes) and, in
 * replace mode, before each APDU one byte (0: the vcard answers, else the
 * next chunk, incl. SW, is the answer). C_Initialize comes first,
 * C_Finalize last.
 *
 * Checks: nothing crashes, leaks or reads out of bounds; the module
 * returns a CKR_* value for everything; a decryption that succeeds on the
 * vcard's own answer gives back the plaintext that was encrypted. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "fuzz_util.h"
#include "kw_tlv.h"
#include "p11_int.h"
#include "vcard.h"

#define P11_MAX_STEPS 48
#define P11_MAX_HANDLES 8
#define P11_MAX_CACHE 4

/* The card as set up once, restored before every input. */
typedef struct p11_snap {
	uint32_t serial;
	uint8_t version[3];
	vc_pin pin, puk;
	uint8_t mgmt_alg, mgmt_touch, mgmt_key[VC_MGMT_MAXLEN];
	size_t mgmt_len;
	vc_key keys[VC_NSLOTS];        /* pkey: own reference */
	uint32_t tags[VC_MAX_OBJECTS];
	kw_buf data[VC_MAX_OBJECTS];
} p11_snap;

typedef struct p11_cache_file {
	char name[64];
	kw_buf bytes;
} p11_cache_file;

typedef struct p11_run {
	vcard_card *card;
	fz_in data;
	bool replace;
	CK_SESSION_HANDLE sessions[P11_MAX_HANDLES];
	CK_OBJECT_HANDLE objects[P11_MAX_HANDLES];
	size_t nobjects;
	CK_SLOT_ID slot;
	bool have_slot;
} p11_run;

static p11_run run;
static p11_snap snap;
static char cache_home[64], cache_dir[96];
static p11_cache_file cache_files[P11_MAX_CACHE];
static size_t ncache_files;
static EVP_PKEY *rsa_pub, *p256_peer, *p384_peer;   /* public halves for the harness */
static uint8_t p256_point[65], p384_point[97];
static uint8_t cert_9a[1024];
static size_t cert_9a_len;
static EVP_PKEY *import_rsa, *import_ec;             /* keys for C_CreateObject */

static kw_rv
card_answer(void *arg, kw_view cmd, kw_buf *resp)
{
	kw_buf r;
	kw_rv rv;

	(void)arg;
	if (run.replace && run.data.n > 0 && fz_u8(&run.data) != 0)
		return kw_buf_put_view(resp, fz_chunk(&run.data));
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

/* ---- setting the card up once ----------------------------------------- */

static bool
self_signed(EVP_PKEY *key, uint8_t *out, size_t cap, size_t *len)
{
	X509 *x = X509_new();
	X509_NAME *n;
	unsigned char *p = out;
	int dlen;
	bool ok = false;

	if (x == NULL || (n = X509_get_subject_name(x)) == NULL ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"fuzz",
	    -1, -1, 0) != 1 || X509_set_issuer_name(x, n) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 7) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 3650) == NULL ||
	    X509_set_pubkey(x, key) != 1 || X509_sign(x, key, EVP_sha256()) <= 0)
		goto out;
	if ((dlen = i2d_X509(x, NULL)) <= 0 || (size_t)dlen > cap || i2d_X509(x, &p) != dlen)
		goto out;
	*len = (size_t)dlen;
	ok = true;
out:
	X509_free(x);
	return ok;
}

/* 70 L cert 71 01 00 FE 00, stored as the slot's certificate object. */
static bool
put_cert(vcard_card *c, uint8_t slot, uint32_t tag, uint8_t *der, size_t *der_len)
{
	vc_key *k = vc_key_slot(c, slot);
	kw_buf obj;
	bool ok;

	if (k == NULL || !self_signed(k->pkey, der, 1024, der_len))
		return false;
	kw_buf_init(&obj, 4096);
	ok = kw_tlv_put(&obj, 0x70, der, *der_len) == KW_OK &&
	    kw_buf_put(&obj, "\x71\x01\x00\xfe\x00", 5) == KW_OK &&
	    vc_obj_set(c, tag, obj.data, obj.len) == KW_OK;
	kw_buf_free(&obj);
	return ok;
}

static bool
make_key(vcard_card *c, uint8_t slot, uint8_t alg, uint8_t pin_policy)
{
	vc_key *k = vc_key_slot(c, slot);

	if (k == NULL || vc_key_make(k, alg) != KW_OK)
		return false;
	k->origin = VC_ORIGIN_GENERATED;
	k->pin_policy = pin_policy;
	k->touch_policy = VC_TOUCH_NEVER;
	return true;
}

static bool
ec_point(EVP_PKEY *k, uint8_t *out, size_t len)
{
	size_t n = 0;

	return EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, out, len, &n) == 1 &&
	    n == len;
}

static void
snap_take(const vcard_card *c)
{
	size_t i;

	snap.serial = c->serial;
	memcpy(snap.version, c->version, sizeof(snap.version));
	snap.pin = c->pin;
	snap.puk = c->puk;
	snap.mgmt_alg = c->mgmt_alg;
	snap.mgmt_touch = c->mgmt_touch;
	memcpy(snap.mgmt_key, c->mgmt_key, sizeof(snap.mgmt_key));
	snap.mgmt_len = c->mgmt_len;
	for (i = 0; i < VC_NSLOTS; i++) {
		snap.keys[i] = c->keys[i];
		if (snap.keys[i].pkey != NULL)
			EVP_PKEY_up_ref(snap.keys[i].pkey);
	}
	for (i = 0; i < VC_MAX_OBJECTS; i++) {
		snap.tags[i] = c->objects[i].tag;
		kw_buf_init(&snap.data[i], VC_OBJ_MAX + 16);
		(void)kw_buf_put_view(&snap.data[i], kw_buf_view(&c->objects[i].data));
	}
}

/* Back to the snapshot: only what differs is copied (keys are shared). */
static void
snap_restore(vcard_card *c)
{
	size_t i;

	c->serial = snap.serial;
	memcpy(c->version, snap.version, sizeof(c->version));
	c->pin = snap.pin;
	c->puk = snap.puk;
	c->mgmt_alg = snap.mgmt_alg;
	c->mgmt_touch = snap.mgmt_touch;
	memcpy(c->mgmt_key, snap.mgmt_key, sizeof(c->mgmt_key));
	c->mgmt_len = snap.mgmt_len;
	for (i = 0; i < VC_NSLOTS; i++) {
		if (c->keys[i].pkey != snap.keys[i].pkey) {
			EVP_PKEY_free(c->keys[i].pkey);
			if (snap.keys[i].pkey != NULL)
				EVP_PKEY_up_ref(snap.keys[i].pkey);
		}
		c->keys[i] = snap.keys[i];
	}
	for (i = 0; i < VC_MAX_OBJECTS; i++) {
		vc_object *o = &c->objects[i];

		o->tag = snap.tags[i];
		if (!kw_view_equal(kw_buf_view(&o->data), kw_buf_view(&snap.data[i]))) {
			kw_buf_reset(&o->data);
			(void)kw_buf_put_view(&o->data, kw_buf_view(&snap.data[i]));
		}
	}
	vcard_card_reset(c);
	c->last_ins = 0;
	c->last_sensitive = false;
	c->dirty = false;
}

static void
cache_clear(void)
{
	DIR *d = opendir(cache_dir);
	struct dirent *e;
	char path[256];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", cache_dir, e->d_name) <
		    sizeof(path))
			(void)unlink(path);
	}
	closedir(d);
}

static void
cache_write(const char *name, kw_view v)
{
	char path[256];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", cache_dir, name) >= sizeof(path))
		return;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return;
	if (v.len > 0 && write(fd, v.ptr, v.len) != (ssize_t)v.len)
		(void)unlink(path);
	close(fd);
}

/* The entries the module itself writes for this card (read back after a
 * first pass that reads the certificates). */
static void
cache_record(void)
{
	DIR *d = opendir(cache_dir);
	struct dirent *e;
	char path[256];
	uint8_t tmp[8192];
	ssize_t n;
	int fd;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && ncache_files < P11_MAX_CACHE) {
		p11_cache_file *f = &cache_files[ncache_files];

		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(f->name) ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", cache_dir, e->d_name) >=
		    sizeof(path) || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		n = read(fd, tmp, sizeof(tmp));
		close(fd);
		if (n <= 0)
			continue;
		strcpy(f->name, e->d_name);
		kw_buf_init(&f->bytes, sizeof(tmp));
		(void)kw_buf_put(&f->bytes, tmp, (size_t)n);
		ncache_files++;
	}
	closedir(d);
}

static void warm_up(void);

static void
cache_remove(void)
{
	cache_clear();
	(void)rmdir(cache_dir);
	(void)rmdir(cache_home);
}

static bool
card_setup(void)
{
	uint8_t der[1024];
	size_t len;
	vcard_card *c;

	if (vcard_card_new(&c) != KW_OK)
		return false;
	if (!make_key(c, 0x9A, VC_ALG_P256, VC_PIN_ONCE) ||
	    !make_key(c, 0x9C, VC_ALG_P256, VC_PIN_ALWAYS) ||
	    !make_key(c, 0x9D, VC_ALG_RSA1024, VC_PIN_ONCE) ||
	    !make_key(c, 0x9E, VC_ALG_P256, VC_PIN_NEVER) ||
	    !make_key(c, 0x82, VC_ALG_P384, VC_PIN_ONCE) ||
	    /* Key History: one retired key, so that a key search probes two
	     * retired slots, not twenty */
	    vc_obj_set(c, 0x5FC10C, (const uint8_t *)"\xc1\x01\x00\xc2\x01\x01\xfe\x00", 8) !=
	    KW_OK ||
	    !put_cert(c, 0x9A, 0x5FC105, cert_9a, &cert_9a_len) ||
	    !put_cert(c, 0x9D, 0x5FC10B, der, &len))
		return false;
	rsa_pub = vc_key_slot(c, 0x9D)->pkey;
	EVP_PKEY_up_ref(rsa_pub);
	/* Peers for ECDH, keys to import. */
	if ((p256_peer = EVP_EC_gen("P-256")) == NULL || (p384_peer = EVP_EC_gen("P-384")) == NULL ||
	    !ec_point(p256_peer, p256_point, sizeof(p256_point)) ||
	    !ec_point(p384_peer, p384_point, sizeof(p384_point)) ||
	    (import_ec = EVP_EC_gen("P-256")) == NULL ||
	    (import_rsa = EVP_RSA_gen(1024)) == NULL)
		return false;
	c->serial = 12345678;
	c->dirty = false;
	snap_take(c);
	run.card = c;
	return true;
}

/* Every APDU allocates a 64 KiB response buffer (kw_apdu.c); with ASan's
 * default 256 MB quarantine each one lands on fresh pages and page faults
 * cost more than the rest of an input. A 16 MB quarantine still keeps
 * the last ~250 of them poisoned. (Only used when built with ASan.) */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "quarantine_size_mb=16";
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* tmpfs if there is one: every input rewrites the cache directory */
	snprintf(cache_home, sizeof(cache_home), "%s/kw-fuzz-p11-XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(cache_home) == NULL)
		abort();
	atexit(cache_remove);
	snprintf(cache_dir, sizeof(cache_dir), "%s/keyward", cache_home);
	setenv("XDG_CACHE_HOME", cache_home, 1);
	setenv("KEYWARD_NO_CACHE", "1", 1);
	setenv("KEYWARD_TRANSPORTS", "mock:fuzz", 1);
	unsetenv("KEYWARD_MGMT_KEY");
	kwp11_test_set_open_hook(open_hook, NULL);
	if (!card_setup())
		abort();
	warm_up();
	return 0;
}

/* ---- the steps ---------------------------------------------------------- */

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
		if (C_GetSlotList((arg & 1) ? CK_TRUE : CK_FALSE, (arg & 2) ? NULL : slots, &n) ==
		    CKR_OK && n > 0 && (arg & 2) == 0) {
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
	else if (op == 2)
		(void)C_SetPIN(session_of(arg & 7), (CK_UTF8CHAR_PTR)"123456", 6,
		    (CK_UTF8CHAR_PTR)pin, strlen(pin));
	else
		(void)C_InitPIN(session_of(arg & 7), (CK_UTF8CHAR_PTR)pin, strlen(pin));
}

static void
op_find(uint8_t arg)
{
	static const CK_OBJECT_CLASS classes[] = {
		CKO_CERTIFICATE, CKO_PUBLIC_KEY, CKO_PRIVATE_KEY, CKO_SECRET_KEY,
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

static const CK_MECHANISM_TYPE hashes[] = { CKM_SHA_1, CKM_SHA256, CKM_SHA384, CKM_SHA512 };
static const CK_RSA_PKCS_MGF_TYPE mgfs[] = {
	CKG_MGF1_SHA1, CKG_MGF1_SHA256, CKG_MGF1_SHA384, CKG_MGF1_SHA512,
};

static void
op_sign(uint8_t sub, uint8_t arg, uint8_t arg2)
{
	static const CK_MECHANISM_TYPE mechs[] = {
		CKM_ECDSA, CKM_ECDSA_SHA256, CKM_RSA_PKCS, CKM_SHA256_RSA_PKCS,
		CKM_RSA_X_509, CKM_SHA384_RSA_PKCS_PSS, CKM_RSA_PKCS_PSS, CKM_ECDSA_SHA384,
	};
	static uint8_t in[300] = { 1, 2, 3 };
	uint8_t out[1024];
	CK_ULONG outlen = (arg & 0x40) ? 1 : sizeof(out);
	CK_RSA_PKCS_PSS_PARAMS pss = {
		hashes[arg2 % 4], mgfs[(arg2 >> 2) % 4], (CK_ULONG)(arg2 >> 4) * 4,
	};
	CK_MECHANISM m = { mechs[arg % 8], NULL, 0 };
	CK_SESSION_HANDLE s = session_of(arg2 >> 4);
	CK_ULONG inlen = 1 + (CK_ULONG)(arg2 & 0x0F) * 16;

	if (m.mechanism == CKM_RSA_PKCS_PSS || m.mechanism == CKM_SHA384_RSA_PKCS_PSS) {
		m.pParameter = &pss;
		m.ulParameterLen = sizeof(pss);
		if (m.mechanism == CKM_RSA_PKCS_PSS)
			inlen = EVP_MD_get_size(kwp11_mech_md(pss.hashAlg));
	}
	/* sub 1: init only (C_Login(CKU_CONTEXT_SPECIFIC) may come next), sub 2:
	 * finish the active operation */
	if (sub != 2 && C_SignInit(s, &m, object_of(arg >> 4)) != CKR_OK)
		return;
	if (sub == 1)
		return;
	if (arg & 0x80) {
		if (C_SignUpdate(s, in, inlen) == CKR_OK)
			(void)C_SignFinal(s, out, &outlen);
	} else {
		(void)C_Sign(s, in, inlen, out, &outlen);
	}
}

/* A ciphertext for the RSA key: encrypted here (padding by arg), or input
 * bytes. Returns its length (the key's size) or 0. */
static size_t
ciphertext(uint8_t arg, const CK_RSA_PKCS_OAEP_PARAMS *oaep, kw_view label, uint8_t *out)
{
	EVP_PKEY_CTX *ctx;
	kw_view msg = fz_chunk8(&run.data);
	size_t n = 128;
	int pad = (arg & 3) == 0 ? RSA_PKCS1_PADDING : (arg & 3) == 1 ? RSA_PKCS1_OAEP_PADDING :
	    RSA_NO_PADDING;
	uint8_t raw[128] = { 0 };
	const uint8_t *m = msg.ptr;
	size_t mlen = msg.len;

	if ((arg & 3) == 3) {
		kw_view v = fz_bytes(&run.data, 128);

		memset(out, 0, 128);
		if (v.len > 0)
			memcpy(out + 128 - v.len, v.ptr, v.len);
		return 128;
	}
	if (pad == RSA_NO_PADDING) {
		if (mlen > 0)
			memcpy(raw + 128 - (mlen > 127 ? 127 : mlen), m, mlen > 127 ? 127 : mlen);
		m = raw;
		mlen = 128;
	}
	if ((ctx = EVP_PKEY_CTX_new(rsa_pub, NULL)) == NULL)
		return 0;
	if (EVP_PKEY_encrypt_init(ctx) <= 0 || EVP_PKEY_CTX_set_rsa_padding(ctx, pad) <= 0 ||
	    (pad == RSA_PKCS1_OAEP_PADDING &&
	    (EVP_PKEY_CTX_set_rsa_oaep_md(ctx, kwp11_mech_md(oaep->hashAlg)) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, kwp11_mgf_md(oaep->mgf)) <= 0 ||
	    (label.len > 0 && EVP_PKEY_CTX_set0_rsa_oaep_label(ctx,
	    OPENSSL_memdup(label.ptr, label.len), (int)label.len) <= 0))) ||
	    EVP_PKEY_encrypt(ctx, out, &n, m != NULL ? m : raw, mlen) <= 0)
		n = 0;
	EVP_PKEY_CTX_free(ctx);
	return n;
}

static void
op_decrypt(uint8_t arg, uint8_t arg2)
{
	static const CK_MECHANISM_TYPE mechs[] = {
		CKM_RSA_PKCS, CKM_RSA_PKCS_OAEP, CKM_RSA_X_509, CKM_ECDSA,
	};
	uint8_t ct[128], out[256];
	kw_view label = (arg2 & 0x40) ? fz_chunk8(&run.data) : kw_view_make(NULL, 0);
	CK_RSA_PKCS_OAEP_PARAMS oaep = {
		hashes[arg2 % 4], mgfs[(arg2 >> 2) % 4], CKZ_DATA_SPECIFIED,
		(void *)label.ptr, label.len,
	};
	CK_MECHANISM m = { mechs[(arg >> 2) % 4], NULL, 0 };
	CK_SESSION_HANDLE s = session_of(arg2 >> 5);
	CK_ULONG outlen = (arg & 0x40) ? 8 : sizeof(out);
	size_t n;
	CK_RV rv;

	if ((arg & 0x20) && oaep.mgf == CKG_MGF1_SHA1)
		oaep.mgf = 0x77;   /* invalid */
	if (m.mechanism == CKM_RSA_PKCS_OAEP) {
		m.pParameter = &oaep;
		m.ulParameterLen = (arg & 0x10) ? sizeof(oaep) - 1 : sizeof(oaep);
	}
	if ((n = ciphertext(arg, &oaep, label, ct)) == 0)
		return;
	if (C_DecryptInit(s, &m, object_of(arg2 & 0x1F)) != CKR_OK)
		return;
	if (arg & 0x80) {
		CK_ULONG part = 0;

		if (C_DecryptUpdate(s, ct, 64, out, &part) != CKR_OK ||
		    C_DecryptUpdate(s, ct + 64, n - 64, out, &part) != CKR_OK)
			return;
		rv = C_DecryptFinal(s, out, &outlen);
	} else {
		rv = C_Decrypt(s, ct, n, (arg & 0x40) && (arg2 & 0x80) ? NULL : out, &outlen);
	}
	if (rv == CKR_BUFFER_TOO_SMALL || (rv == CKR_OK && (arg & 0x40) && (arg2 & 0x80))) {
		outlen = sizeof(out);
		(void)C_Decrypt(s, ct, n, out, &outlen);
	}
}

static void
op_derive(uint8_t arg, uint8_t arg2)
{
	uint8_t pt[2 + 97];
	CK_ECDH1_DERIVE_PARAMS p = { CKD_NULL, 0, NULL, 0, pt };
	CK_MECHANISM m = { CKM_ECDH1_DERIVE, &p, sizeof(p) };
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG vlen = (CK_ULONG)(arg2 & 0x3F);
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_SENSITIVE, (arg2 & 0x40) ? &yes : &no, sizeof(CK_BBOOL) },
		{ CKA_EXTRACTABLE, (arg2 & 0x80) ? &no : &yes, sizeof(CK_BBOOL) },
		{ CKA_VALUE_LEN, &vlen, sizeof(vlen) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
	};
	CK_ULONG nt = (arg & 0x20) ? 6 : vlen != 0 ? 5 : 4;
	const uint8_t *src = (arg & 1) ? p384_point : p256_point;
	size_t len = (arg & 1) ? sizeof(p384_point) : sizeof(p256_point);
	CK_SESSION_HANDLE s = session_of(arg >> 6);
	CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
	uint8_t val[128];
	CK_ATTRIBUTE get = { CKA_VALUE, val, sizeof(val) };

	switch ((arg >> 1) % 4) {
	case 0:   /* raw uncompressed point */
		memcpy(pt, src, len);
		p.ulPublicDataLen = len;
		break;
	case 1:   /* DER OCTET STRING around it */
		pt[0] = 0x04;
		pt[1] = (uint8_t)len;
		memcpy(pt + 2, src, len);
		p.ulPublicDataLen = len + 2;
		break;
	case 2: { /* input bytes */
		kw_view v = fz_bytes(&run.data, fz_u8(&run.data) % sizeof(pt));

		if (v.len > 0)
			memcpy(pt, v.ptr, v.len);
		p.ulPublicDataLen = v.len;
		p.pPublicData = v.len > 0 ? pt : NULL;
		break;
	}
	default:  /* the point with one byte changed */
		memcpy(pt, src, len);
		pt[fz_u8(&run.data) % len] ^= (uint8_t)(1u << (arg2 & 7));
		p.ulPublicDataLen = len;
		break;
	}
	if (arg & 0x10)
		p.kdf = CKD_SHA256_KDF;
	if (C_DeriveKey(s, &m, object_of(arg2 & 0x8F), t, nt, &key) != CKR_OK)
		return;
	(void)C_GetAttributeValue(s, key, &get, 1);
	if (arg & 0x08)
		(void)C_DestroyObject(s, key);
}

/* C_CreateObject: a certificate (the card's own, changed, or input bytes)
 * or a private key (RSA or EC components, possibly changed). */
static void
op_create(uint8_t arg, uint8_t arg2)
{
	static const char *rsa_names[8] = {
		OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
		OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
		OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	static const CK_ATTRIBUTE_TYPE rsa_types[8] = {
		CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2,
		CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT,
	};
	uint8_t p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
	uint8_t vals[8][160], certbuf[1024];
	CK_ATTRIBUTE t[12];
	CK_OBJECT_CLASS cls = (arg & 1) ? CKO_PRIVATE_KEY : CKO_CERTIFICATE;
	CK_KEY_TYPE kt = (arg & 2) ? CKK_EC : CKK_RSA;
	CK_CERTIFICATE_TYPE ct = (arg & 0x40) ? CKC_X_509_ATTR_CERT : CKC_X_509;
	uint8_t id = (uint8_t)(1 + (arg >> 2) % 5);
	CK_ULONG n = 0, i;
	CK_OBJECT_HANDLE h;
	BIGNUM *bn = NULL;

	t[n++] = (CK_ATTRIBUTE){ CKA_CLASS, &cls, sizeof(cls) };
	if ((arg & 0x20) == 0)
		t[n++] = (CK_ATTRIBUTE){ CKA_ID, &id, 1 };
	if (cls == CKO_CERTIFICATE) {
		kw_view v;

		t[n++] = (CK_ATTRIBUTE){ CKA_CERTIFICATE_TYPE, &ct, sizeof(ct) };
		if (arg & 0x10) {
			v = fz_chunk(&run.data);
		} else {
			memcpy(certbuf, cert_9a, cert_9a_len);
			if (arg2 != 0)
				certbuf[fz_u16(&run.data) % cert_9a_len] ^= arg2;
			v = kw_view_make(certbuf, cert_9a_len);
		}
		t[n++] = (CK_ATTRIBUTE){ CKA_VALUE, (void *)v.ptr, v.len };
	} else {
		t[n++] = (CK_ATTRIBUTE){ CKA_KEY_TYPE, &kt, sizeof(kt) };
		if (kt == CKK_EC) {
			t[n++] = (CK_ATTRIBUTE){ CKA_EC_PARAMS, p256,
			    (arg2 & 0x80) ? sizeof(p256) - 1 : sizeof(p256) };
			if (EVP_PKEY_get_bn_param(import_ec, OSSL_PKEY_PARAM_PRIV_KEY, &bn) == 1) {
				int l = BN_bn2bin(bn, vals[0]);

				t[n++] = (CK_ATTRIBUTE){ CKA_VALUE, vals[0], (CK_ULONG)l };
			}
		} else {
			for (i = 0; i < 8 && i != (CK_ULONG)(arg2 >> 5) + 1; i++) {
				int l = 0;

				if (EVP_PKEY_get_bn_param(import_rsa, rsa_names[i], &bn) == 1 &&
				    BN_num_bytes(bn) <= (int)sizeof(vals[i]))
					l = BN_bn2bin(bn, vals[i]);
				BN_clear_free(bn);
				bn = NULL;
				t[n++] = (CK_ATTRIBUTE){ rsa_types[i], vals[i], (CK_ULONG)l };
			}
		}
		if ((arg2 & 0x1F) != 0 && n > 3) {
			CK_ATTRIBUTE *a = &t[3 + (arg2 & 0x1F) % (n - 3)];

			if (a->ulValueLen > 0)
				((uint8_t *)a->pValue)[fz_u8(&run.data) % a->ulValueLen] ^= 0x5A;
		}
	}
	BN_clear_free(bn);
	(void)C_CreateObject(session_of(arg >> 7), t, n, &h);
}

static void
op_keygen(uint8_t arg)
{
	static const uint8_t p256[] = {
		0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
	};
	static const uint8_t p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
	uint8_t id = (uint8_t)(1 + arg % 4);
	CK_BBOOL yes = CK_TRUE;
	CK_MECHANISM m = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_ATTRIBUTE pub[] = {
		{ CKA_EC_PARAMS, (arg & 4) ? (void *)p384 : (void *)p256,
		  (arg & 4) ? sizeof(p384) : sizeof(p256) },
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
	uint8_t rnd[16];

	switch ((arg >> 1) % 6) {
	case 0: (void)C_GetMechanismList(slot, mechs, &n); break;
	case 1: (void)C_GetMechanismInfo(slot, (arg & 0x40) ? CKM_ECDH1_DERIVE : CKM_ECDSA, &mi);
		break;
	case 2: (void)C_GetSlotInfo(slot, &si); break;
	case 3: (void)C_DestroyObject(session_of(arg >> 5), object_of(arg >> 4)); break;
	case 4: (void)C_GenerateRandom(session_of(arg >> 5), rnd, sizeof(rnd)); break;
	default: (void)C_CloseAllSessions(slot); break;
	}
}

static void
run_steps(fz_in *in)
{
	unsigned steps = 0;
	uint8_t op, arg;

	if (C_Initialize(NULL) != CKR_OK)
		return;
	while (in->n > 0 && steps++ < P11_MAX_STEPS) {
		op = fz_u8(in);
		arg = fz_u8(in);
		switch ((op & 0x0F) % 11) {
		case 0: op_session((uint8_t)(op >> 4) % 5, arg); break;
		case 1: op_login((uint8_t)(op >> 4) % 4, arg); break;
		case 2: op_find(arg); break;
		case 3: op_attr(arg, fz_u8(in)); break;
		case 4: op_sign((uint8_t)(op >> 4) % 3, arg, fz_u8(in)); break;
		case 5: op_decrypt(arg, fz_u8(in)); break;
		case 6: op_derive(arg, fz_u8(in)); break;
		case 7: op_create(arg, fz_u8(in)); break;
		case 8: op_keygen(arg); break;
		default: op_misc(arg); break;
		}
	}
	(void)C_Finalize(NULL);
}

/* Once at start-up: read every certificate with the cache on, so that the
 * entries the module writes for this card can be offered to later inputs. */
static void
warm_up(void)
{
	/* slots, open, find public keys, find certificates */
	static const uint8_t steps[] = { 0x00, 0x00, 0x20, 0x00, 0x02, 0x01, 0x02, 0x00 };
	fz_in in = fz_make(steps, sizeof(steps));

	run.replace = false;
	run.data = fz_make(NULL, 0);
	setenv("KEYWARD_NO_CACHE", "0", 1);
	cache_clear();
	run_steps(&in);
	cache_record();
	snap_restore(run.card);
}

static void
cache_prepare(uint8_t hdr)
{
	size_t i;

	cache_clear();
	setenv("KEYWARD_NO_CACHE", (hdr & 2) ? "0" : "1", 1);
	if ((hdr & 2) == 0)
		return;
	switch ((hdr >> 2) & 3) {
	case 0:
		break;
	case 1:
	case 2:
		for (i = 0; i < ncache_files; i++) {
			kw_buf b;

			kw_buf_init(&b, 16384);
			(void)kw_buf_put_view(&b, kw_buf_view(&cache_files[i].bytes));
			if (((hdr >> 2) & 3) == 2 && b.len > 0) {
				uint16_t at = fz_u16(&run.data);

				b.data[at % b.len] ^= fz_u8(&run.data);
				if (at & 0x8000)
					b.len = at % b.len;
			}
			cache_write(cache_files[i].name, kw_buf_view(&b));
			kw_buf_free(&b);
		}
		break;
	default:
		for (i = 0; i < ncache_files; i++)
			if (strstr(cache_files[i].name, "-9a.") != NULL)
				cache_write(cache_files[i].name, fz_chunk(&run.data));
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in = fz_make(data, size), steps;
	kw_view sv;
	uint8_t hdr;

	memset(run.sessions, 0, sizeof(run.sessions));
	run.nobjects = 0;
	run.have_slot = false;
	snap_restore(run.card);
	hdr = fz_u8(&in);
	run.replace = (hdr & 1) != 0;
	sv = fz_chunk(&in);
	steps = fz_make(sv.ptr, sv.len);
	run.data = in;
	cache_prepare(hdr);
	run_steps(&steps);
	return 0;
}
