/* keyward-pkcs11: the S/MIME ECDH recipient path (RFC 5753) as NSS and
 * OpenSSL's pkcs11-provider drive it: C_DeriveKey(CKM_ECDH1_DERIVE) with
 * CKD_NULL and the X9.63 KDFs, raw and DER peer points, the secret-key
 * templates; AES key unwrap (C_Decrypt, C_UnwrapKey) with the derived
 * key; P-256 and P-384; and that the derived keys are wiped on destroy,
 * session close and finalize and never written to the disk cache.
 * Known answers: ANSI X9.63 (NIST CAVS) and `openssl kdf ... X963KDF`,
 * RFC 3394 and RFC 5649. The fake card (test_p11_fake.c) does the ECDH
 * with real OpenSSL keys. Links with -Wl,--wrap=kw_secret_free. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "test_p11_fake.h"

/* ---- kw_secret_free spy: which secret values were released ---- */
void __real_kw_secret_free(kw_secret *s);
void __wrap_kw_secret_free(kw_secret *s);

static uint8_t watch[64];
static size_t watch_len;
static int watch_freed;

void
__wrap_kw_secret_free(kw_secret *s)
{
	if (watch_len > 0 && s != NULL && s->ptr != NULL && s->len == watch_len &&
	    memcmp(s->ptr, watch, watch_len) == 0)
		watch_freed++;
	__real_kw_secret_free(s);
	if (s != NULL)
		assert_null(s->ptr);
}

static void
watch_set(const uint8_t *v, size_t n)
{
	assert_true(n <= sizeof(watch));
	memcpy(watch, v, n);
	watch_len = n;
	watch_freed = 0;
}

static int
setup(void **state)
{
	(void)state;
	p11f_reset();
	p11f_standard(&p11f_cards[0]);
	p11f_add_key(&p11f_cards[0], 0x83, 384, KW_PIV_PIN_POLICY_ONCE, true);   /* P-384 */
	setenv("KEYWARD_NO_CACHE", "1", 1);
	watch_len = 0;
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	(void)C_Finalize(NULL);
	return 0;
}

static size_t
unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	unsigned b;

	for (; h[0] != '\0' && h[1] != '\0'; h += 2) {
		assert_int_equal(sscanf(h, "%2x", &b), 1);
		out[n++] = (uint8_t)b;
	}
	return n;
}

/* ---- X9.63 KDF known answers ---- */

static void
test_kdf_kat(void **state)
{
	static const struct { CK_ULONG kdf; const char *out; } kat[] = {
		/* openssl kdf -keylen 32 -kdfopt digest:SHAx -kdfopt hexkey:00..1f
		 *   -kdfopt hexinfo:301e...74 X963KDF */
		{ CKD_SHA1_KDF, "e4d6e8b4816cbe6e64cc8d2411882797f45444e825d199a095f9ffab18d50e12" },
		{ CKD_SHA224_KDF, "2a6a27a61d1a335e973b550b2ddfa04e4fba9d268ee75351b4147b4d0966e253" },
		{ CKD_SHA256_KDF, "171fb8336ac1ea030b7dfedf6a8237f15cc9f5f1835042557ead748a5377977f" },
		{ CKD_SHA384_KDF, "e8f44668045ddc0d2d747ca68eb1370ee569149d118ffdda19859842ea31775c" },
		{ CKD_SHA512_KDF, "b8eeed28a5db3352ff29a30a89772bb70bc4c13b3dca31f718c86f773da8f507" },
	};
	uint8_t z[32], info[64], want[32], got[32];
	size_t zl = unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", z);
	size_t il = unhex("301e300b060960864801650304010505a00f040d6b6579776172642d74657374", info);
	const EVP_MD *md;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		assert_int_equal(kwp11_kdf_md(kat[i].kdf, &md), CKR_OK);
		assert_non_null(md);
		assert_int_equal(unhex(kat[i].out, want), 32);
		assert_int_equal(kwp11_x963_kdf(md, z, zl, info, il, got, 32), KW_OK);
		assert_memory_equal(got, want, 32);
	}
	/* ANSI X9.63 test vector (NIST CAVS, SHA-256, no shared info) */
	zl = unhex("96c05619d56c328ab95fe84b18264b08725b85e33fd34f08", z);
	unhex("443024c3dae66b95e6f5670601558f71", want);
	assert_int_equal(kwp11_kdf_md(CKD_SHA256_KDF, &md), CKR_OK);
	assert_int_equal(kwp11_x963_kdf(md, z, zl, NULL, 0, got, 16), KW_OK);
	assert_memory_equal(got, want, 16);
	/* CKD_NULL has no hash; unknown and the ASN.1/concatenate KDFs refused */
	assert_int_equal(kwp11_kdf_md(CKD_NULL, &md), CKR_OK);
	assert_null(md);
	assert_int_equal(kwp11_kdf_md(CKD_SHA1_KDF_ASN1, &md), CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(kwp11_kdf_md(0x99, &md), CKR_MECHANISM_PARAM_INVALID);
	/* shared data is bounded */
	assert_int_equal(kwp11_kdf_md(CKD_SHA256_KDF, &md), CKR_OK);
	{
		static uint8_t big[KWP11_SHARED_DATA_MAX + 1];
		assert_int_equal(kwp11_x963_kdf(md, z, zl, big, sizeof(big), got, 16), KW_ERR_ARG);
		assert_int_equal(kwp11_x963_kdf(md, z, zl, big, sizeof(big) - 1, got, 16), KW_OK);
	}
}

/* ---- peer point parsing ---- */

static void
test_point_parse(void **state)
{
	uint8_t buf[200];
	kw_view pt;
	size_t i;

	(void)state;
	memset(buf, 0, sizeof(buf));
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	/* raw P-256: 65 bytes starting 04 */
	buf[0] = 0x04;
	assert_int_equal(kwp11_ecdh_peer_point(buf, 65, 32, &pt), CKR_OK);
	assert_ptr_equal(pt.ptr, buf);
	assert_int_equal(pt.len, 65);
	/* a raw point whose X starts with 41 (= its own length byte) is still
	 * raw: the length decides, not the bytes */
	buf[1] = 0x41;
	buf[2] = 0x04;
	assert_int_equal(kwp11_ecdh_peer_point(buf, 65, 32, &pt), CKR_OK);
	assert_ptr_equal(pt.ptr, buf);
	/* DER: 04 41 04 X Y (67 bytes) */
	assert_int_equal(kwp11_ecdh_peer_point(buf, 67, 32, &pt), CKR_OK);
	assert_ptr_equal(pt.ptr, buf + 2);
	assert_int_equal(pt.len, 65);
	/* DER with a wrong length octet, wrong tag, or a non-04 point */
	buf[1] = 0x40;
	assert_int_equal(kwp11_ecdh_peer_point(buf, 67, 32, &pt), CKR_MECHANISM_PARAM_INVALID);
	buf[1] = 0x41;
	buf[0] = 0x03;
	assert_int_equal(kwp11_ecdh_peer_point(buf, 67, 32, &pt), CKR_MECHANISM_PARAM_INVALID);
	buf[0] = 0x04;
	buf[2] = 0x02;
	assert_int_equal(kwp11_ecdh_peer_point(buf, 67, 32, &pt), CKR_MECHANISM_PARAM_INVALID);
	/* compressed, or a raw point not starting with 04 */
	buf[0] = 0x02;
	assert_int_equal(kwp11_ecdh_peer_point(buf, 33, 32, &pt), CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(kwp11_ecdh_peer_point(buf, 65, 32, &pt), CKR_MECHANISM_PARAM_INVALID);
	/* other lengths: too short, one off, trailing bytes, the other curve */
	buf[0] = 0x04;
	assert_int_equal(kwp11_ecdh_peer_point(buf, 64, 32, &pt), CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(kwp11_ecdh_peer_point(buf, 66, 32, &pt), CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(kwp11_ecdh_peer_point(buf, 68, 32, &pt), CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(kwp11_ecdh_peer_point(buf, 97, 32, &pt), CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(kwp11_ecdh_peer_point(buf, 2, 32, &pt), CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(kwp11_ecdh_peer_point(NULL, 65, 32, &pt), CKR_MECHANISM_PARAM_INVALID);
	/* P-384: raw 97, DER 04 61 04 ... (99) */
	assert_int_equal(kwp11_ecdh_peer_point(buf, 97, 48, &pt), CKR_OK);
	assert_int_equal(pt.len, 97);
	buf[1] = 0x61;
	buf[2] = 0x04;
	assert_int_equal(kwp11_ecdh_peer_point(buf, 99, 48, &pt), CKR_OK);
	assert_ptr_equal(pt.ptr, buf + 2);
	assert_int_equal(kwp11_ecdh_peer_point(buf, 65, 48, &pt), CKR_MECHANISM_PARAM_INVALID);
	/* P-521 sized (long-form DER length 81 85) */
	buf[1] = 0x81;
	buf[2] = 0x85;
	buf[3] = 0x04;
	assert_int_equal(kwp11_ecdh_peer_point(buf, 136, 66, &pt), CKR_OK);
	assert_ptr_equal(pt.ptr, buf + 3);
	assert_int_equal(pt.len, 133);
}

/* ---- AES key wrap known answers ---- */

static void
unwrap_kat(CK_MECHANISM_TYPE mt, const char *kek_hex, const char *in_hex, const char *out_hex)
{
	uint8_t k[32], in[64], want[64];
	size_t kl = unhex(kek_hex, k), il = unhex(in_hex, in), wl = unhex(out_hex, want);
	CK_MECHANISM m = { mt, NULL, 0 };
	kw_secret kek = { 0 };
	kw_buf out;

	kw_buf_init(&out, 256);
	assert_int_equal(kw_secret_set(&kek, k, kl), KW_OK);
	assert_int_equal(kwp11_aes_unwrap(&m, &kek, in, il, &out), CKR_OK);
	assert_int_equal(out.len, wl);
	assert_memory_equal(out.data, want, wl);
	/* one bit flipped anywhere: integrity check fails, nothing returned */
	in[il / 2] ^= 0x10;
	assert_int_equal(kwp11_aes_unwrap(&m, &kek, in, il, &out), CKR_ENCRYPTED_DATA_INVALID);
	assert_int_equal(out.len, 0);
	kw_buf_free(&out);
	kw_secret_free(&kek);
}

static void
test_keywrap_kat(void **state)
{
	uint8_t k[16], pt[24], ct[40];
	CK_MECHANISM m = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	kw_secret kek = { 0 };
	EVP_CIPHER_CTX *ctx;
	kw_buf out;
	int n = 0;

	(void)state;
	/* RFC 3394 4.1, 4.3, 4.6 */
	unwrap_kat(CKM_AES_KEY_WRAP, "000102030405060708090a0b0c0d0e0f",
	    "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5",
	    "00112233445566778899aabbccddeeff");
	unwrap_kat(CKM_AES_KEY_WRAP, "000102030405060708090a0b0c0d0e0f1011121314151617",
	    "96778b25ae6ca435f92b5b97c050aed2468ab8a17ad84e5d",
	    "00112233445566778899aabbccddeeff");
	unwrap_kat(CKM_AES_KEY_WRAP,
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	    "28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21",
	    "00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f");
	/* RFC 5649 section 6 */
	unwrap_kat(CKM_AES_KEY_WRAP_KWP, "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8",
	    "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a",
	    "c37b7e6492584340bed12207808941155068f738");
	/* CKM_AES_KEY_WRAP_PAD: PKCS#7 padding inside RFC 3394 (a 16-byte
	 * key gets 8 bytes of 08) */
	memset(k, 0x5a, sizeof(k));
	memset(pt, 0x33, 16);
	memset(pt + 16, 0x08, 8);
	assert_non_null(ctx = EVP_CIPHER_CTX_new());
	EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	assert_int_equal(EVP_EncryptInit_ex2(ctx, EVP_aes_128_wrap(), k, NULL, NULL), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, ct, &n, pt, 24), 1);
	assert_int_equal(n, 32);
	EVP_CIPHER_CTX_free(ctx);
	kw_buf_init(&out, 256);
	assert_int_equal(kw_secret_set(&kek, k, 16), KW_OK);
	assert_int_equal(kwp11_aes_unwrap(&m, &kek, ct, 32, &out), CKR_OK);
	assert_int_equal(out.len, 16);
	assert_memory_equal(out.data, pt, 16);
	/* the same input through plain CKM_AES_KEY_WRAP keeps the padding */
	m.mechanism = CKM_AES_KEY_WRAP;
	assert_int_equal(kwp11_aes_unwrap(&m, &kek, ct, 32, &out), CKR_OK);
	assert_int_equal(out.len, 24);
	/* lengths: short, not a multiple of 8; bad IV parameter; bad KEK */
	assert_int_equal(kwp11_aes_unwrap(&m, &kek, ct, 8, &out), CKR_ENCRYPTED_DATA_LEN_RANGE);
	assert_int_equal(kwp11_aes_unwrap(&m, &kek, ct, 31, &out), CKR_ENCRYPTED_DATA_LEN_RANGE);
	m.pParameter = pt;
	m.ulParameterLen = 4;
	assert_int_equal(kwp11_aes_unwrap(&m, &kek, ct, 32, &out), CKR_MECHANISM_PARAM_INVALID);
	m.ulParameterLen = 8;   /* a wrong IV: the check fails */
	assert_int_equal(kwp11_aes_unwrap(&m, &kek, ct, 32, &out), CKR_ENCRYPTED_DATA_INVALID);
	m.pParameter = NULL;
	m.ulParameterLen = 0;
	kw_secret_free(&kek);
	assert_int_equal(kw_secret_set(&kek, k, 15), KW_OK);
	assert_int_equal(kwp11_aes_unwrap(&m, &kek, ct, 32, &out), CKR_KEY_TYPE_INCONSISTENT);
	kw_secret_free(&kek);
	kw_buf_free(&out);
}

/* ---- through the C_* functions ---- */

static CK_SESSION_HANDLE
user_session(void)
{
	CK_SESSION_HANDLE s = p11f_open(0, false);

	assert_int_equal(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)"123456", 6), CKR_OK);
	return s;
}

static EVP_PKEY *
card_key(uint8_t slot)
{
	size_t i;

	for (i = 0; i < p11f_cards[0].nkeys; i++)
		if (p11f_cards[0].keys[i].slot == slot)
			return p11f_cards[0].keys[i].key;
	fail();
	return NULL;
}

/* Z = ECDH(peer, card key) computed by the test with OpenSSL */
static size_t
ref_z(EVP_PKEY *peer, EVP_PKEY *card, uint8_t *z, size_t max)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(peer, NULL);
	size_t n = max;

	assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
	assert_int_equal(EVP_PKEY_derive_set_peer(ctx, card), 1);
	assert_int_equal(EVP_PKEY_derive(ctx, z, &n), 1);
	EVP_PKEY_CTX_free(ctx);
	return n;
}

/* The reference KEK with OpenSSL's own ECDH-with-KDF (the way openssl cms
 * computes it), independent of p11_kdf.c. */
static void
ref_kek(EVP_PKEY *peer, EVP_PKEY *card, const EVP_MD *md, const uint8_t *info, size_t ilen,
    uint8_t *out, size_t outlen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(peer, NULL);
	size_t n = outlen;

	assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_ecdh_kdf_type(ctx, EVP_PKEY_ECDH_KDF_X9_63), 1);
	assert_int_equal(EVP_PKEY_CTX_set_ecdh_kdf_md(ctx, md), 1);
	assert_int_equal(EVP_PKEY_CTX_set_ecdh_kdf_outlen(ctx, (int)outlen), 1);
	if (ilen > 0)
		assert_int_equal(EVP_PKEY_CTX_set0_ecdh_kdf_ukm(ctx, OPENSSL_memdup(info, ilen),
		    (int)ilen), 1);
	assert_int_equal(EVP_PKEY_derive_set_peer(ctx, card), 1);
	assert_int_equal(EVP_PKEY_derive(ctx, out, &n), 1);
	assert_int_equal(n, outlen);
	EVP_PKEY_CTX_free(ctx);
}

/* The template NSS gives (PK11_PubDeriveWithKDF for an S/MIME recipient) */
static const CK_OBJECT_CLASS c_secret = CKO_SECRET_KEY;
static const CK_KEY_TYPE k_aes = CKK_AES;
static const CK_BBOOL b_true = CK_TRUE, b_false = CK_FALSE;

static CK_OBJECT_HANDLE
derive(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE base, CK_ULONG kdf, const uint8_t *info,
    size_t ilen, const uint8_t *pt, size_t ptlen, CK_KEY_TYPE kt, CK_ULONG vlen, CK_RV want)
{
	CK_ECDH1_DERIVE_PARAMS p = { kdf, ilen, (CK_BYTE_PTR)info, ptlen, (CK_BYTE_PTR)pt };
	CK_MECHANISM m = { CKM_ECDH1_DERIVE, &p, sizeof(p) };
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, (void *)&c_secret, sizeof(c_secret) },
		{ CKA_KEY_TYPE, (void *)&kt, sizeof(kt) },
		{ CKA_WRAP, (void *)&b_true, 1 },
		{ CKA_VALUE_LEN, &vlen, sizeof(vlen) },
	};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	assert_int_equal(C_DeriveKey(s, &m, base, t, vlen > 0 ? 4 : 3, &h), want);
	return h;
}

static size_t
get_value(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, uint8_t *v, size_t max)
{
	CK_ATTRIBUTE a = { CKA_VALUE, v, max };

	assert_int_equal(C_GetAttributeValue(s, h, &a, 1), CKR_OK);
	return a.ulValueLen;
}

static size_t
der_point(EVP_PKEY *peer, uint8_t *out, bool der)
{
	size_t n = 0;

	assert_true(EVP_PKEY_get_octet_string_param(peer, OSSL_PKEY_PARAM_PUB_KEY,
	    out + (der ? 2 : 0), 200, &n));
	if (!der)
		return n;
	out[0] = 0x04;
	out[1] = (uint8_t)n;
	return n + 2;
}

/* The whole recipient path for one curve: derive as NSS (raw point,
 * sha1kdf and sha256kdf, CKK_AES 16/24/32), C_Decrypt(CKM_AES_KEY_WRAP)
 * of a wrapped content key, C_UnwrapKey, destroy. */
static void
recipient_path(uint8_t slot, uint8_t id, const char *curve)
{
	static const uint8_t info[] = {   /* an ECC-CMS-SharedInfo, 23 bytes */
		0x30, 0x15, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
		0x01, 0x05, 0xa2, 0x06, 0x04, 0x04, 0x00, 0x00, 0x00, 0x80,
	};
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE base = p11f_find(s, CKO_PRIVATE_KEY, id), dk, uk;
	EVP_PKEY *peer = EVP_EC_gen(curve), *card = card_key(slot);
	uint8_t pt[200], kek[32], got[64], cek[32], wrapped[48], out[48];
	size_t ptlen, i;
	CK_ULONG outlen;
	CK_MECHANISM kw = { CKM_AES_KEY_WRAP, NULL, 0 };
	CK_ATTRIBUTE ut[] = {
		{ CKA_CLASS, (void *)&c_secret, sizeof(c_secret) },
		{ CKA_KEY_TYPE, (void *)&k_aes, sizeof(k_aes) },
		{ CKA_DECRYPT, (void *)&b_true, 1 },
	};
	EVP_CIPHER_CTX *ctx;
	int n;
	static const struct { CK_ULONG kdf; const EVP_MD *(*md)(void); size_t len; bool der; } c[] = {
		{ CKD_SHA1_KDF, EVP_sha1, 16, false }, { CKD_SHA256_KDF, EVP_sha256, 16, true },
		{ CKD_SHA256_KDF, EVP_sha256, 32, false }, { CKD_SHA384_KDF, EVP_sha384, 24, true },
		{ CKD_SHA512_KDF, EVP_sha512, 32, false }, { CKD_SHA224_KDF, EVP_sha224, 16, false },
	};

	assert_non_null(peer);
	assert_int_not_equal(base, CK_INVALID_HANDLE);
	memset(cek, 0xc5, sizeof(cek));
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		ptlen = der_point(peer, pt, c[i].der);
		dk = derive(s, base, c[i].kdf, info, sizeof(info), pt, ptlen, CKK_AES, c[i].len, CKR_OK);
		ref_kek(peer, card, c[i].md(), info, sizeof(info), kek, c[i].len);
		assert_int_equal(get_value(s, dk, got, sizeof(got)), c[i].len);
		assert_memory_equal(got, kek, c[i].len);
		/* wrap a 16-byte content key with the reference KEK */
		assert_non_null(ctx = EVP_CIPHER_CTX_new());
		EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
		assert_int_equal(EVP_EncryptInit_ex2(ctx, c[i].len == 16 ? EVP_aes_128_wrap() :
		    c[i].len == 24 ? EVP_aes_192_wrap() : EVP_aes_256_wrap(), kek, NULL, NULL), 1);
		assert_int_equal(EVP_EncryptUpdate(ctx, wrapped, &n, cek, 16), 1);
		assert_int_equal(n, 24);
		EVP_CIPHER_CTX_free(ctx);
		/* C_Decrypt: length query, too small, then 24 bytes in, 16 out */
		assert_int_equal(C_DecryptInit(s, &kw, dk), CKR_OK);
		assert_int_equal(C_Decrypt(s, wrapped, 24, NULL, &outlen), CKR_OK);
		assert_int_equal(outlen, 16);
		outlen = 8;
		assert_int_equal(C_Decrypt(s, wrapped, 24, out, &outlen), CKR_BUFFER_TOO_SMALL);
		outlen = sizeof(out);
		assert_int_equal(C_Decrypt(s, wrapped, 24, out, &outlen), CKR_OK);
		assert_int_equal(outlen, 16);
		assert_memory_equal(out, cek, 16);
		/* a corrupted one fails and ends the operation */
		wrapped[3] ^= 1;
		assert_int_equal(C_DecryptInit(s, &kw, dk), CKR_OK);
		outlen = sizeof(out);
		assert_int_equal(C_Decrypt(s, wrapped, 24, out, &outlen), CKR_ENCRYPTED_DATA_INVALID);
		assert_int_equal(C_Decrypt(s, wrapped, 24, out, &outlen), CKR_OPERATION_NOT_INITIALIZED);
		wrapped[3] ^= 1;
		/* multi-part */
		assert_int_equal(C_DecryptInit(s, &kw, dk), CKR_OK);
		outlen = sizeof(out);
		assert_int_equal(C_DecryptUpdate(s, wrapped, 10, out, &outlen), CKR_OK);
		outlen = sizeof(out);
		assert_int_equal(C_DecryptUpdate(s, wrapped + 10, 14, out, &outlen), CKR_OK);
		outlen = sizeof(out);
		assert_int_equal(C_DecryptFinal(s, out, &outlen), CKR_OK);
		assert_int_equal(outlen, 16);
		assert_memory_equal(out, cek, 16);
		/* C_UnwrapKey: a new session key holding the content key */
		uk = CK_INVALID_HANDLE;
		assert_int_equal(C_UnwrapKey(s, &kw, dk, wrapped, 24, ut, 3, &uk), CKR_OK);
		assert_int_equal(get_value(s, uk, got, sizeof(got)), 16);
		assert_memory_equal(got, cek, 16);
		wrapped[20] ^= 1;
		assert_int_equal(C_UnwrapKey(s, &kw, dk, wrapped, 24, ut, 3, &uk), CKR_WRAPPED_KEY_INVALID);
		assert_int_equal(C_UnwrapKey(s, &kw, dk, wrapped, 24, ut, 0, &uk),
		    CKR_TEMPLATE_INCOMPLETE);
		assert_int_equal(C_DestroyObject(s, dk), CKR_OK);
		assert_int_equal(C_DecryptInit(s, &kw, dk), CKR_KEY_HANDLE_INVALID);
	}
	EVP_PKEY_free(peer);
	assert_int_equal(C_CloseSession(s), CKR_OK);
}

static void
test_p256_recipient(void **state)
{
	(void)state;
	recipient_path(0x82, 5, "P-256");
}

static void
test_p384_recipient(void **state)
{
	(void)state;
	recipient_path(0x83, 6, "P-384");
}

static void
test_derive_null_and_templates(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE base = p11f_find(s, CKO_PRIVATE_KEY, 5), dk;
	EVP_PKEY *peer = EVP_EC_gen("P-256");
	uint8_t pt[70], z[48], got[64], info[4] = { 1, 2, 3, 4 };
	size_t ptlen = der_point(peer, pt, false), zl;
	CK_ECDH1_DERIVE_PARAMS p = { CKD_NULL, 0, NULL, ptlen, pt };
	CK_MECHANISM m = { CKM_ECDH1_DERIVE, &p, sizeof(p) };
	CK_ULONG vlen = 16;
	CK_ATTRIBUTE tok[] = { { CKA_TOKEN, (void *)&b_true, 1 } };
	CK_ATTRIBUTE val[] = { { CKA_VALUE, got, 16 } };
	CK_ATTRIBUTE unk[] = { { CKA_MODULUS, got, 4 } };
	CK_ATTRIBUTE sens[] = { { CKA_SENSITIVE, (void *)&b_true, 1 },
		{ CKA_DECRYPT, (void *)&b_false, 1 },
		{ CKA_KEY_TYPE, (void *)&k_aes, sizeof(k_aes) }, { CKA_VALUE_LEN, &vlen, sizeof(vlen) } };
	CK_ATTRIBUTE q[] = { { CKA_VALUE, got, sizeof(got) }, { CKA_DECRYPT, got + 60, 1 },
		{ CKA_KEY_TYPE, got, sizeof(CK_KEY_TYPE) }, { CKA_TOKEN, got + 61, 1 } };
	CK_MECHANISM kw = { CKM_AES_KEY_WRAP, NULL, 0 };
	CK_KEY_TYPE kt;

	(void)state;
	zl = ref_z(peer, card_key(0x82), z, sizeof(z));
	assert_int_equal(zl, 32);
	/* CKD_NULL: the raw Z, whole (generic secret without a length) or its
	 * leftmost bytes */
	dk = derive(s, base, CKD_NULL, NULL, 0, pt, ptlen, CKK_GENERIC_SECRET, 0, CKR_OK);
	assert_int_equal(get_value(s, dk, got, sizeof(got)), 32);
	assert_memory_equal(got, z, 32);
	dk = derive(s, base, CKD_NULL, NULL, 0, pt, ptlen, CKK_AES, 16, CKR_OK);
	assert_int_equal(get_value(s, dk, got, sizeof(got)), 16);
	assert_memory_equal(got, z, 16);
	/* CKD_NULL with shared data; AES without a length or with a bad one; a
	 * KDF without a length; longer than Z under CKD_NULL */
	derive(s, base, CKD_NULL, info, 4, pt, ptlen, CKK_AES, 16, CKR_MECHANISM_PARAM_INVALID);
	derive(s, base, CKD_NULL, NULL, 0, pt, ptlen, CKK_AES, 0, CKR_TEMPLATE_INCOMPLETE);
	derive(s, base, CKD_NULL, NULL, 0, pt, ptlen, CKK_AES, 20, CKR_TEMPLATE_INCONSISTENT);
	derive(s, base, CKD_SHA256_KDF, info, 4, pt, ptlen, CKK_GENERIC_SECRET, 0,
	    CKR_TEMPLATE_INCOMPLETE);
	derive(s, base, CKD_NULL, NULL, 0, pt, ptlen, CKK_GENERIC_SECRET, 33,
	    CKR_TEMPLATE_INCONSISTENT);
	/* generic secret through a KDF: any length up to the bound */
	dk = derive(s, base, CKD_SHA256_KDF, info, 4, pt, ptlen, CKK_GENERIC_SECRET, 48, CKR_OK);
	assert_int_equal(get_value(s, dk, got, sizeof(got)), 48);
	derive(s, base, CKD_SHA256_KDF, info, 4, pt, ptlen, CKK_GENERIC_SECRET,
	    KWP11_SECRET_MAX + 1, CKR_ATTRIBUTE_VALUE_INVALID);
	/* the shared data is bounded; a pointer-less length is refused */
	p.kdf = CKD_SHA256_KDF;
	p.ulSharedDataLen = KWP11_SHARED_DATA_MAX + 1;
	p.pSharedData = got;
	assert_int_equal(C_DeriveKey(s, &m, base, sens, 4, &dk), CKR_MECHANISM_PARAM_INVALID);
	p.ulSharedDataLen = 4;
	p.pSharedData = NULL;
	assert_int_equal(C_DeriveKey(s, &m, base, sens, 4, &dk), CKR_MECHANISM_PARAM_INVALID);
	p.pSharedData = info;
	p.kdf = CKD_SHA1_KDF_ASN1;
	assert_int_equal(C_DeriveKey(s, &m, base, sens, 4, &dk), CKR_MECHANISM_PARAM_INVALID);
	p.kdf = CKD_SHA256_KDF;
	/* token objects, unknown attributes, a 3DES key: refused */
	assert_int_equal(C_DeriveKey(s, &m, base, tok, 1, &dk), CKR_TEMPLATE_INCONSISTENT);
	assert_int_equal(C_DeriveKey(s, &m, base, val, 1, &dk), CKR_TEMPLATE_INCONSISTENT);
	assert_int_equal(C_DeriveKey(s, &m, base, unk, 1, &dk), CKR_ATTRIBUTE_TYPE_INVALID);
	kt = CKK_DES3;
	sens[2].pValue = &kt;
	assert_int_equal(C_DeriveKey(s, &m, base, sens, 4, &dk), CKR_TEMPLATE_INCONSISTENT);
	sens[2].pValue = (void *)&k_aes;
	/* sensitive, no decrypt: value hidden, C_Decrypt refused, attributes */
	assert_int_equal(C_DeriveKey(s, &m, base, sens, 4, &dk), CKR_OK);
	assert_int_equal(C_GetAttributeValue(s, dk, q, 4), CKR_ATTRIBUTE_SENSITIVE);
	assert_int_equal(q[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(got[60], CK_FALSE);
	memcpy(&kt, got, sizeof(kt));
	assert_int_equal(kt, CKK_AES);
	assert_int_equal(got[61], CK_FALSE);
	assert_int_equal(C_DecryptInit(s, &kw, dk), CKR_KEY_FUNCTION_NOT_PERMITTED);
	/* a wrong-curve point, and RSA / PIN-always base keys */
	p.ulPublicDataLen = 97;
	assert_int_equal(C_DeriveKey(s, &m, base, sens + 2, 2, &dk), CKR_MECHANISM_PARAM_INVALID);
	p.ulPublicDataLen = ptlen;
	assert_int_equal(C_DeriveKey(s, &m, p11f_find(s, CKO_PRIVATE_KEY, 1), sens + 2, 2, &dk),
	    CKR_KEY_TYPE_INCONSISTENT);
	assert_int_equal(C_DeriveKey(s, &m, p11f_find(s, CKO_PRIVATE_KEY, 2), sens + 2, 2, &dk),
	    CKR_KEY_FUNCTION_NOT_PERMITTED);
	/* another session of the process may use the key (NSS does), and a
	 * key made in that other session dies when it closes */
	{
		CK_SESSION_HANDLE s2 = p11f_open(0, false);
		CK_OBJECT_HANDLE dk2;
		uint8_t v2[32];

		dk = derive(s, base, CKD_SHA256_KDF, info, 4, pt, ptlen, CKK_AES, 16, CKR_OK);
		assert_int_equal(C_DecryptInit(s2, &kw, dk), CKR_OK);
		assert_int_equal(C_DecryptFinal(s2, NULL, &vlen), CKR_ENCRYPTED_DATA_LEN_RANGE);
		dk2 = derive(s2, base, CKD_SHA256_KDF, info, 4, pt, ptlen, CKK_AES, 16, CKR_OK);
		assert_int_equal(get_value(s, dk2, v2, sizeof(v2)), 16);
		assert_int_equal(C_CloseSession(s2), CKR_OK);
		assert_int_equal(C_DecryptInit(s, &kw, dk2), CKR_KEY_HANDLE_INVALID);
		assert_int_equal(get_value(s, dk, v2, sizeof(v2)), 16);
	}
	EVP_PKEY_free(peer);
}

/* The derived key's value is released through kw_secret_free (which
 * wipes) on C_DestroyObject, on C_CloseSession and on C_Finalize. */
static void
test_wipe(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE base = p11f_find(s, CKO_PRIVATE_KEY, 5), dk;
	EVP_PKEY *peer = EVP_EC_gen("P-256");
	uint8_t pt[70], v[32];
	size_t ptlen = der_point(peer, pt, false);
	int round;

	(void)state;
	for (round = 0; round < 3; round++) {
		dk = derive(s, base, CKD_SHA256_KDF, pt, 8, pt, ptlen, CKK_AES, 32, CKR_OK);
		assert_int_equal(get_value(s, dk, v, sizeof(v)), 32);
		watch_set(v, 32);
		switch (round) {
		case 0:
			assert_int_equal(C_DestroyObject(s, dk), CKR_OK);
			break;
		case 1:
			assert_int_equal(C_CloseSession(s), CKR_OK);
			s = user_session();
			break;
		default:
			assert_int_equal(C_Finalize(NULL), CKR_OK);
			break;
		}
		assert_int_equal(watch_freed, 1);
	}
	watch_len = 0;
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	EVP_PKEY_free(peer);
}

/* With the disk cache on, a derived key's value appears in no file. */
static bool
file_has(const char *path, const uint8_t *v, size_t n)
{
	uint8_t buf[65536];
	size_t len, i;
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	for (i = 0; i + n <= len; i++)
		if (memcmp(buf + i, v, n) == 0)
			return true;
	return false;
}

static void
test_not_cached(void **state)
{
	char dir[64], sub[96], path[400];
	CK_ATTRIBUTE all[1];
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE dk;
	EVP_PKEY *peer = EVP_EC_gen("P-256");
	uint8_t pt[70], v[32];
	size_t ptlen = der_point(peer, pt, false);
	struct dirent *e;
	DIR *d;
	int files = 0;

	(void)state;
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	snprintf(dir, sizeof(dir), "/tmp/kwp11-ecdh-%ld", (long)getpid());
	setenv("XDG_CACHE_HOME", dir, 1);
	unsetenv("KEYWARD_NO_CACHE");
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	s = user_session();
	assert_int_equal(p11f_count(s, all, 0), 14);   /* every object loaded: certs cached */
	dk = derive(s, p11f_find(s, CKO_PRIVATE_KEY, 5), CKD_SHA1_KDF, pt, 8, pt, ptlen, CKK_AES, 32,
	    CKR_OK);
	assert_int_equal(get_value(s, dk, v, sizeof(v)), 32);
	assert_int_equal(C_Finalize(NULL), CKR_OK);
	snprintf(sub, sizeof(sub), "%s/keyward", dir);
	assert_non_null(d = opendir(sub));
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", sub, e->d_name);
		assert_false(file_has(path, v, 32));
		assert_false(file_has(path, v, 8));
		unlink(path);
		files++;
	}
	closedir(d);
	assert_true(files > 0);   /* the cache was really written */
	rmdir(sub);
	rmdir(dir);
	setenv("KEYWARD_NO_CACHE", "1", 1);
	assert_int_equal(C_Initialize(NULL), CKR_OK);
	EVP_PKEY_free(peer);
}

/* The mechanisms are listed with the right flags */
static void
test_mechanisms(void **state)
{
	CK_MECHANISM_INFO mi;
	CK_SLOT_ID slot = p11f_slot_of(0);

	(void)state;
	assert_int_equal(C_GetMechanismInfo(slot, CKM_AES_KEY_WRAP, &mi), CKR_OK);
	assert_true((mi.flags & CKF_DECRYPT) && (mi.flags & CKF_UNWRAP));
	assert_false(mi.flags & (CKF_ENCRYPT | CKF_WRAP | CKF_HW));
	assert_int_equal(mi.ulMinKeySize, 16);
	assert_int_equal(mi.ulMaxKeySize, 32);
	assert_int_equal(C_GetMechanismInfo(slot, CKM_AES_KEY_WRAP_PAD, &mi), CKR_OK);
	assert_int_equal(C_GetMechanismInfo(slot, CKM_AES_KEY_WRAP_KWP, &mi), CKR_OK);
	assert_int_equal(C_GetMechanismInfo(slot, CKM_ECDH1_DERIVE, &mi), CKR_OK);
	assert_true(mi.flags & CKF_DERIVE);
	assert_int_equal(mi.ulMaxKeySize, 384);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kdf_kat),
		cmocka_unit_test(test_point_parse),
		cmocka_unit_test(test_keywrap_kat),
		cmocka_unit_test_setup_teardown(test_p256_recipient, setup, teardown),
		cmocka_unit_test_setup_teardown(test_p384_recipient, setup, teardown),
		cmocka_unit_test_setup_teardown(test_derive_null_and_templates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_cached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mechanisms, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	p11f_free();
	return rc;
}
