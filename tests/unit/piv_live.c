/* piv_live: the whole PIV client (src/kw_piv*) against a live token over
 * PC/SC, for test_piv_vcard.sh (keyward-vcard under keyward-testenv, an
 * implementation written independently of this client). Destructive: the
 * token ends reset. Prints ok:/FAIL: lines; exit status 1 on any failure.
 *     piv_live READER [SERIAL] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "kw_piv.h"
#include "kw_transport.h"

static int fails;
static kw_piv *p;
static uint8_t version[3];
static uint8_t mgmt_alg = KW_PIV_ALG_3DES;
static uint8_t mgmt_key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
	1, 2, 3, 4, 5, 6, 7, 8 };
static size_t mgmt_len = 24;
static EVP_PKEY *gen9a, *gen9c, *imp9d, *imp82;

static void
check(int cond, const char *what, kw_rv rv)
{
	printf("%s: %s (%s)\n", cond ? "ok" : "FAIL", what, kw_strerror(rv));
	if (!cond)
		fails++;
}

static kw_rv
pin(const char *s)
{
	return kw_piv_verify(p, KW_PIV_REF_PIN, (const uint8_t *)s, strlen(s), NULL);
}

static kw_rv
auth(void)
{
	return kw_piv_authenticate(p, mgmt_alg, mgmt_key, mgmt_len);
}

static void
step_identity(const char *want_serial)
{
	kw_piv_metadata md;
	uint8_t v[3];
	uint32_t serial;
	int tries;
	kw_rv rv;

	rv = kw_piv_select(p);
	check(rv == KW_OK, "SELECT", rv);
	rv = kw_piv_get_version(p, v);
	check(rv == KW_OK && v[0] >= 4, "GET VERSION", rv);
	printf("   version %u.%u.%u\n", v[0], v[1], v[2]);
	memcpy(version, v, sizeof(version));
	rv = kw_piv_get_serial(p, &serial);
	check(rv == KW_OK && (want_serial == NULL || serial == strtoul(want_serial, NULL, 10)),
	    "GET SERIAL matches the token's", rv);
	rv = kw_piv_pin_status(p, KW_PIV_REF_PIN, &tries);
	check(rv == KW_ERR_PIN_INCORRECT && tries == 3, "PIN status: not verified, 3 tries", rv);
	rv = kw_piv_get_metadata(p, KW_PIV_REF_PIN, &md);
	check(rv == KW_OK && md.is_default && md.retries_total == 3 && md.retries_left == 3,
	    "PIN metadata: default, 3 of 3", rv);
	kw_piv_metadata_clear(&md);
	rv = kw_piv_get_metadata(p, KW_PIV_SLOT_MGMT, &md);
	check(rv == KW_OK && kw_piv_mgmt_key_len(md.alg) == 24 && md.is_default,
	    "management key metadata: default 24-byte key", rv);
	if (rv == KW_OK && kw_piv_mgmt_key_len(md.alg) == 24)
		mgmt_alg = md.alg;
	kw_piv_metadata_clear(&md);
}

static void
step_mgmt_auth(void)
{
	uint8_t wrong[24];
	kw_rv rv;

	memcpy(wrong, mgmt_key, sizeof(wrong));
	wrong[5] ^= 0x40;
	rv = kw_piv_authenticate(p, mgmt_alg, wrong, sizeof(wrong));
	check(rv == KW_ERR_SECURITY, "management key auth with a wrong key refused", rv);
	rv = auth();
	check(rv == KW_OK, "management key auth with the default key", rv);
}

static bool
same_pub(EVP_PKEY *a, EVP_PKEY *b)
{
	return a != NULL && b != NULL && EVP_PKEY_eq(a, b) == 1;
}

static void
step_generate(void)
{
	kw_piv_metadata md;
	kw_rv rv;

	rv = kw_piv_generate(p, 0x9a, KW_PIV_ALG_ECCP256, 0, 0, &gen9a);
	check(rv == KW_OK && kw_piv_alg_of_pkey(gen9a) == KW_PIV_ALG_ECCP256, "GENERATE P-256 in 9A", rv);
	rv = kw_piv_generate(p, 0x9c, KW_PIV_ALG_RSA2048, 0, 0, &gen9c);
	check(rv == KW_OK && kw_piv_alg_of_pkey(gen9c) == KW_PIV_ALG_RSA2048,
	    "GENERATE RSA-2048 in 9C", rv);
	rv = kw_piv_get_metadata(p, 0x9a, &md);
	check(rv == KW_OK && md.origin == KW_PIV_ORIGIN_GENERATED && same_pub(md.pubkey, gen9a),
	    "9A metadata: generated, same public key", rv);
	kw_piv_metadata_clear(&md);
	rv = kw_piv_get_metadata(p, 0x9c, &md);
	check(rv == KW_OK && md.alg == KW_PIV_ALG_RSA2048 && same_pub(md.pubkey, gen9c),
	    "9C metadata: RSA-2048, same public key", rv);
	kw_piv_metadata_clear(&md);
}

static int
pkey_verify(EVP_PKEY *k, const uint8_t *sig, size_t siglen, const uint8_t *h, size_t hlen)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k, NULL);
	int r = c != NULL && EVP_PKEY_verify_init(c) == 1 &&
	    EVP_PKEY_verify(c, sig, siglen, h, hlen) == 1;

	EVP_PKEY_CTX_free(c);
	return r;
}

/* Raw RSA with the public key: out = in^e mod n. */
static int
rsa_public_raw(EVP_PKEY *k, const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k, NULL);
	size_t n = 512;
	int r = c != NULL && EVP_PKEY_encrypt_init(c) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_NO_PADDING) == 1 &&
	    EVP_PKEY_encrypt(c, out, &n, in, len) == 1 && n == len;

	EVP_PKEY_CTX_free(c);
	return r;
}

static void
step_sign(void)
{
	uint8_t h[32], block[256], back[256];
	kw_buf out;
	kw_rv rv;

	memset(h, 0x5c, sizeof(h));
	kw_buf_init(&out, 0);
	rv = pin("123456");
	check(rv == KW_OK, "VERIFY PIN", rv);
	rv = kw_piv_private_op(p, 0x9a, KW_PIV_ALG_ECCP256, h, sizeof(h), &out);
	check(rv == KW_OK && pkey_verify(gen9a, out.data, out.len, h, sizeof(h)),
	    "ECDSA P-256 with 9A verifies", rv);
	/* 9C asks for the PIN before every use (YubiKey default). */
	memset(block, 0xff, sizeof(block));
	block[0] = 0x00;
	block[1] = 0x01;
	block[256 - 33] = 0x00;
	memcpy(block + 256 - 32, h, 32);
	(void)pin("123456");
	rv = kw_piv_private_op(p, 0x9c, KW_PIV_ALG_RSA2048, block, sizeof(block), &out);
	check(rv == KW_OK && out.len == 256 && rsa_public_raw(gen9c, out.data, 256, back) &&
	    memcmp(back, block, 256) == 0, "RSA-2048 raw signature with 9C (chained APDU)", rv);
	kw_buf_free(&out);
}

/* Firmware 5.7+: RSA-3072 and RSA-4096 (a 4096-bit signature is a command
 * of three chained APDUs and an answer of three pieces). */
static void
step_big_rsa(void)
{
	static const struct { uint8_t slot, alg; size_t n; } v[] = {
		{ 0x85, KW_PIV_ALG_RSA3072, 384 }, { 0x86, KW_PIV_ALG_RSA4096, 512 },
	};
	uint8_t block[512], back[512];
	EVP_PKEY *k = NULL;
	kw_buf out;
	size_t i;
	kw_rv rv;

	if (version[0] < 5 || (version[0] == 5 && version[1] < 7)) {
		printf("   (RSA-3072/4096 need firmware 5.7: skipped)\n");
		return;
	}
	kw_buf_init(&out, 0);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		(void)auth();
		rv = kw_piv_generate(p, v[i].slot, v[i].alg, KW_PIV_PIN_POLICY_ONCE, 0, &k);
		check(rv == KW_OK && kw_piv_alg_of_pkey(k) == v[i].alg,
		    i == 0 ? "GENERATE RSA-3072" : "GENERATE RSA-4096", rv);
		memset(block, 0x33, sizeof(block));
		block[0] = 0;
		(void)pin("123456");
		rv = kw_piv_private_op(p, v[i].slot, v[i].alg, block, v[i].n, &out);
		check(rv == KW_OK && out.len == v[i].n && rsa_public_raw(k, out.data, v[i].n, back) &&
		    memcmp(back, block, v[i].n) == 0, "  ... raw RSA with it", rv);
		EVP_PKEY_free(k);
		k = NULL;
	}
	kw_buf_free(&out);
}

static void
step_import(void)
{
	kw_piv_metadata md;
	kw_rv rv;

	imp9d = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	imp82 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	(void)auth();
	rv = kw_piv_import_key(p, 0x9d, imp9d, KW_PIV_PIN_POLICY_ONCE, 0);
	check(rv == KW_OK, "IMPORT P-256 into 9D", rv);
	rv = kw_piv_import_key(p, 0x82, imp82, KW_PIV_PIN_POLICY_ONCE, 0);
	check(rv == KW_OK, "IMPORT RSA-2048 into 82 (retired 1)", rv);
	rv = kw_piv_get_metadata(p, 0x9d, &md);
	check(rv == KW_OK && md.origin == KW_PIV_ORIGIN_IMPORTED && md.pin_policy ==
	    KW_PIV_PIN_POLICY_ONCE && same_pub(md.pubkey, imp9d),
	    "9D metadata: imported, PIN once, same public key", rv);
	kw_piv_metadata_clear(&md);
	rv = kw_piv_get_metadata(p, 0x82, &md);
	check(rv == KW_OK && same_pub(md.pubkey, imp82), "82 metadata: same public key", rv);
	kw_piv_metadata_clear(&md);
}

static void
step_decrypt_derive(void)
{
	static const char msg[] = "old mail stays readable";
	EVP_PKEY *peer = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY_CTX *c;
	uint8_t ct[256], pt[100], z[32];
	size_t n = sizeof(ct), ptn = sizeof(pt), zn = sizeof(z);
	kw_buf out;
	kw_rv rv;

	kw_buf_init(&out, 0);
	c = EVP_PKEY_CTX_new(imp82, NULL);
	(void)(EVP_PKEY_encrypt_init(c) == 1 && EVP_PKEY_encrypt(c, ct, &n, (const uint8_t *)msg,
	    sizeof(msg)) == 1);
	EVP_PKEY_CTX_free(c);
	(void)pin("123456");
	rv = kw_piv_private_op(p, 0x82, KW_PIV_ALG_RSA2048, ct, n, &out);
	check(rv == KW_OK && out.len == 256 && out.data[0] == 0 && out.data[1] == 2 &&
	    memcmp(out.data + 256 - sizeof(msg), msg, sizeof(msg)) == 0,
	    "RSA decrypt with retired slot 82", rv);
	(void)EVP_PKEY_get_octet_string_param(peer, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &ptn);
	rv = kw_piv_ecdh(p, 0x9d, KW_PIV_ALG_ECCP256, pt, ptn, &out);
	c = EVP_PKEY_CTX_new(peer, NULL);
	(void)(EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer(c, imp9d) == 1 &&
	    EVP_PKEY_derive(c, z, &zn) == 1);
	EVP_PKEY_CTX_free(c);
	check(rv == KW_OK && out.len == zn && memcmp(out.data, z, zn) == 0,
	    "ECDH with 9D equals OpenSSL's", rv);
	EVP_PKEY_free(peer);
	kw_buf_free(&out);
}

static void
step_attest(void)
{
	const uint8_t *q;
	X509 *x = NULL;
	kw_buf der;
	kw_rv rv;

	kw_buf_init(&der, 0);
	rv = kw_piv_attest(p, 0x9a, &der);
	q = der.data;
	if (rv == KW_OK)
		x = d2i_X509(NULL, &q, (long)der.len);
	check(rv == KW_OK && x != NULL && same_pub(X509_get0_pubkey(x), gen9a),
	    "ATTEST 9A: certificate for the generated key", rv);
	X509_free(x);
	rv = kw_piv_attest(p, 0x9d, &der);
	check(rv != KW_OK, "ATTEST 9D refused (imported key)", rv);
	rv = kw_piv_read_cert(p, KW_PIV_SLOT_ATTEST, &der);
	check(rv == KW_OK && der.len > 100, "F9 attestation certificate readable", rv);
	kw_buf_free(&der);
}

/* A self-signed certificate with a comment of `extra` bytes. */
static X509 *
make_cert(size_t extra)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_EXTENSION *ext = NULL;
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	unsigned char *blob = calloc(1, extra + 1);
	size_t i;

	for (i = 0; i < extra; i++)
		blob[i] = (unsigned char)('a' + i % 26);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"keyward piv_live", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (extra > 0) {
		ASN1_OCTET_STRING_set(os, blob, (int)extra);
		ext = X509_EXTENSION_create_by_NID(NULL, NID_netscape_comment, 0, os);
		X509_add_ext(x, ext, -1);
	}
	X509_sign(x, k, EVP_sha256());
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	free(blob);
	EVP_PKEY_free(k);
	return x;
}

static void
cert_roundtrip(uint8_t slot, size_t extra, const char *what)
{
	X509 *x = make_cert(extra);
	unsigned char *d = NULL;
	int len = i2d_X509(x, &d);
	kw_buf back;
	kw_rv rv;

	kw_buf_init(&back, 0);
	(void)auth();
	rv = kw_piv_write_cert(p, slot, d, (size_t)len);
	check(rv == KW_OK, what, rv);
	rv = kw_piv_read_cert(p, slot, &back);
	check(rv == KW_OK && back.len == (size_t)len && memcmp(back.data, d, back.len) == 0,
	    "  ... and reads back the same", rv);
	OPENSSL_free(d);
	X509_free(x);
	kw_buf_free(&back);
}

static void
step_objects(void)
{
	kw_piv_key_history kh = { 1, 0, "" }, back;
	kw_piv_chuid ch;
	kw_piv_discovery disc;
	kw_buf der;
	kw_rv rv;

	cert_roundtrip(0x9a, 0, "write certificate 9A");
	cert_roundtrip(0x9c, 4000, "write 4 KB certificate 9C (gzip-compressed)");
	cert_roundtrip(0x82, 0, "write certificate 82 (object 5FC10D)");
	kw_buf_init(&der, 0);
	(void)auth();
	rv = kw_piv_delete_cert(p, 0x82);
	check(rv == KW_OK, "delete certificate 82", rv);
	rv = kw_piv_read_cert(p, 0x82, &der);
	check(rv == KW_ERR_NOT_FOUND, "  ... then it is absent", rv);
	kw_buf_free(&der);
	rv = kw_piv_write_key_history(p, &kh);
	check(rv == KW_OK, "write Key History 5FC10C", rv);
	rv = kw_piv_read_key_history(p, &back);
	check(rv == KW_OK && back.on_card_certs == 1 && back.off_card_certs == 0,
	    "read Key History back", rv);
	rv = kw_piv_read_chuid(p, &ch);
	check(rv == KW_OK || rv == KW_ERR_NOT_FOUND, "CHUID parses (or is absent)", rv);
	rv = kw_piv_read_discovery(p, &disc);
	check(rv == KW_OK || rv == KW_ERR_NOT_FOUND, "Discovery object parses (or is absent)", rv);
}

static void
step_pins(void)
{
	int tries = -1;
	kw_rv rv;

	rv = kw_piv_change_reference(p, KW_PIV_REF_PIN, (const uint8_t *)"123456", 6,
	    (const uint8_t *)"654321", 6, &tries);
	check(rv == KW_OK, "CHANGE REFERENCE DATA (PIN)", rv);
	rv = kw_piv_verify(p, KW_PIV_REF_PIN, (const uint8_t *)"123456", 6, &tries);
	check(rv == KW_ERR_PIN_INCORRECT && tries == 2, "old PIN refused, 2 tries left", rv);
	rv = pin("654321");
	check(rv == KW_OK, "new PIN accepted", rv);
	while (kw_piv_verify(p, KW_PIV_REF_PIN, (const uint8_t *)"000000", 6, &tries) ==
	    KW_ERR_PIN_INCORRECT && tries > 0)
		;
	rv = pin("654321");
	check(rv == KW_ERR_PIN_BLOCKED, "PIN blocked after wrong tries", rv);
	rv = kw_piv_unblock_pin(p, (const uint8_t *)"12345678", 8, (const uint8_t *)"123456", 6,
	    &tries);
	check(rv == KW_OK, "RESET RETRY COUNTER with the PUK", rv);
	rv = pin("123456");
	check(rv == KW_OK, "PIN works again", rv);
}

static void
step_yk_admin(void)
{
	uint8_t newkey[32];
	kw_piv_metadata md;
	kw_secret s = KW_SECRET_EMPTY;
	kw_rv rv;

	(void)auth();
	(void)pin("123456");
	rv = kw_piv_set_retries(p, 5, 4);
	check(rv == KW_OK, "SET RETRIES 5/4", rv);
	rv = kw_piv_get_metadata(p, KW_PIV_REF_PIN, &md);
	check(rv == KW_OK && md.retries_total == 5 && md.retries_left == 5,
	    "PIN metadata shows 5 of 5", rv);
	kw_piv_metadata_clear(&md);
	RAND_bytes(newkey, sizeof(newkey));
	(void)auth();
	rv = kw_piv_set_mgmt_key(p, KW_PIV_ALG_AES256, newkey, sizeof(newkey), false);
	check(rv == KW_OK, "SET MANAGEMENT KEY (AES-256)", rv);
	mgmt_alg = KW_PIV_ALG_AES256;
	memcpy(mgmt_key, newkey, sizeof(newkey));
	mgmt_len = sizeof(newkey);
	rv = auth();
	check(rv == KW_OK, "AES-256 management key auth", rv);
	rv = kw_piv_write_protected_mgmt_key(p, newkey, sizeof(newkey));
	check(rv == KW_OK, "store the management key PIN-protected", rv);
	(void)pin("123456");
	rv = kw_piv_read_protected_mgmt_key(p, &s);
	check(rv == KW_OK && s.len == 32 && memcmp(s.ptr, newkey, 32) == 0,
	    "read it back after VERIFY", rv);
	kw_secret_free(&s);
	(void)auth();
	rv = kw_piv_move_key(p, 0x84, 0x9d);
	check(rv == KW_OK || rv == KW_ERR_INS_UNKNOWN || rv == KW_ERR_NOT_SUPPORTED,
	    "MOVE KEY 9D -> 84 (firmware 5.7+) or cleanly refused", rv);
	if (rv == KW_OK) {
		rv = kw_piv_delete_key(p, 0x84);
		check(rv == KW_OK, "DELETE KEY 84", rv);
	}
}

static void
step_reset(void)
{
	kw_piv_metadata md;
	int tries = -1, n;
	kw_rv rv;

	rv = kw_piv_reset(p);
	check(rv != KW_OK, "RESET refused while PIN and PUK work", rv);
	for (n = 0; n < 10 && kw_piv_verify(p, KW_PIV_REF_PIN, (const uint8_t *)"000000", 6,
	    &tries) == KW_ERR_PIN_INCORRECT; n++)
		;
	for (n = 0; n < 10 && kw_piv_unblock_pin(p, (const uint8_t *)"00000000", 8,
	    (const uint8_t *)"123456", 6, &tries) == KW_ERR_PIN_INCORRECT; n++)
		;
	rv = kw_piv_reset(p);
	check(rv == KW_OK, "RESET after blocking PIN and PUK", rv);
	rv = kw_piv_get_metadata(p, 0x9a, &md);
	check(rv == KW_ERR_NOT_FOUND, "after reset 9A is empty", rv);
	kw_piv_metadata_clear(&md);
	rv = pin("123456");
	check(rv == KW_OK, "after reset the default PIN works", rv);
	rv = kw_piv_authenticate(p, KW_PIV_ALG_AES256, mgmt_key, 32);
	check(rv != KW_OK, "after reset the AES-256 key is gone", rv);
}

int
main(int argc, char **argv)
{
	kw_transport *t = NULL;
	char uri[512];
	kw_rv rv;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fprintf(stderr, "usage: piv_live READER [SERIAL]  (destructive: resets the token)\n");
		return 2;
	}
	snprintf(uri, sizeof(uri), "pcsc:%s", argv[1]);
	if ((rv = kw_transport_open(uri, &t)) != KW_OK || (rv = kw_piv_new(t, &p)) != KW_OK) {
		fprintf(stderr, "piv_live: %s: %s\n", uri, kw_strerror(rv));
		return 1;
	}
	step_identity(argc > 2 ? argv[2] : NULL);
	step_mgmt_auth();
	step_generate();
	step_sign();
	step_big_rsa();
	step_import();
	step_decrypt_derive();
	step_attest();
	step_objects();
	step_pins();
	step_yk_admin();
	step_reset();
	printf("%d failure(s), %llu APDUs\n", fails, (unsigned long long)kw_transport_apdu_count(t));
	EVP_PKEY_free(gen9a);
	EVP_PKEY_free(gen9c);
	EVP_PKEY_free(imp9d);
	EVP_PKEY_free(imp82);
	kw_piv_free(&p);
	kw_transport_free(&t);
	return fails == 0 ? 0 : 1;
}
