/* kw_piv_keys.c, kw_piv_crypt.c, kw_piv_alg.c: GENERATE, GENERAL
 * AUTHENTICATE (RSA, ECDSA, ECDH), IMPORT, ATTEST, METADATA, MOVE/DELETE,
 * against a card side that uses real OpenSSL keys; malformed answers. */
/* ENGINE is deprecated in OpenSSL 3, yet libp11's engine is what puts a
 * legacy key method in front of the module in real applications. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/engine.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "kw_piv.h"
#include "kw_tlv.h"
#include "piv_fake.h"

static EVP_PKEY *rsa2048, *p256, *p384, *peer256, *edk, *xk, *peer_x;

static int
setup(void **state)
{
	(void)state;
	rsa2048 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	peer256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	edk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	xk = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	peer_x = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	return rsa2048 && p256 && p384 && peer256 && edk && xk && peer_x ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(rsa2048);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(peer256);
	EVP_PKEY_free(edk);
	EVP_PKEY_free(xk);
	EVP_PKEY_free(peer_x);
	return 0;
}

static void
put_bn(kw_buf *b, uint32_t tag, const EVP_PKEY *k, const char *name)
{
	BIGNUM *bn = NULL;
	uint8_t tmp[600];
	int n;

	assert_int_equal(EVP_PKEY_get_bn_param(k, name, &bn), 1);
	n = BN_bn2bin(bn, tmp);
	assert_int_equal(kw_tlv_put(b, tag, tmp, (size_t)n), KW_OK);
	BN_free(bn);
}

static void
ec_point(const EVP_PKEY *k, uint8_t *pt, size_t *len)
{
	assert_int_equal(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt, 200, len),
	    1);
}

/* Contents of a 7F49 template for k. */
static void
pub_contents(const EVP_PKEY *k, kw_buf *b)
{
	uint8_t pt[200];
	size_t n;

	kw_buf_init(b, 0);
	if (EVP_PKEY_is_a(k, "RSA")) {
		put_bn(b, 0x81, k, OSSL_PKEY_PARAM_RSA_N);
		put_bn(b, 0x82, k, OSSL_PKEY_PARAM_RSA_E);
	} else if (EVP_PKEY_is_a(k, "ED25519") || EVP_PKEY_is_a(k, "X25519")) {
		n = sizeof(pt);
		assert_int_equal(EVP_PKEY_get_raw_public_key(k, pt, &n), 1);
		assert_int_equal(kw_tlv_put(b, 0x86, pt, n), KW_OK);
	} else {
		ec_point(k, pt, &n);
		assert_int_equal(kw_tlv_put(b, 0x86, pt, n), KW_OK);
	}
}

/* The card side. */
typedef struct kcard {
	EVP_PKEY *key;           /* the key in the slot */
	uint8_t slot, alg;
	kw_buf last;             /* data of the last command */
	uint8_t last_p1, last_p2, last_ins;
	const char *override;    /* hex answer instead of the real one */
	size_t strip;            /* RSA: drop this many leading bytes of the result */
} kcard;

static uint16_t
kcard_override(const char *hex, kw_buf *resp)
{
	kw_buf b;
	uint16_t sw;

	hex_buf(&b, hex);
	assert_true(b.len >= 2);
	sw = (uint16_t)((b.data[b.len - 2] << 8) | b.data[b.len - 1]);
	assert_int_equal(kw_buf_put(resp, b.data, b.len - 2), KW_OK);
	kw_buf_free(&b);
	return sw;
}

static void
put_7c82(kw_buf *resp, const uint8_t *p, size_t n)
{
	assert_int_equal(kw_tlv_put_header(resp, 0x7c, kw_tlv_header_size(0x82, n) + n), KW_OK);
	assert_int_equal(kw_tlv_put(resp, 0x82, p, n), KW_OK);
}

static uint16_t
kcard_sign(kcard *c, kw_view in, kw_buf *resp)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(c->key, NULL);
	uint8_t out[600];
	size_t n = sizeof(out);

	assert_non_null(ctx);
	if (EVP_PKEY_is_a(c->key, "ED25519")) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();

		assert_int_equal(EVP_DigestSignInit(md, NULL, NULL, NULL, c->key), 1);
		assert_int_equal(EVP_DigestSign(md, out, &n, in.ptr, in.len), 1);
		EVP_MD_CTX_free(md);
	} else if (EVP_PKEY_is_a(c->key, "RSA")) {
		assert_int_equal(EVP_PKEY_decrypt_init(ctx), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING), 1);
		assert_int_equal(EVP_PKEY_decrypt(ctx, out, &n, in.ptr, in.len), 1);
	} else {
		assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
		assert_int_equal(EVP_PKEY_sign(ctx, out, &n, in.ptr, in.len), 1);
	}
	EVP_PKEY_CTX_free(ctx);
	put_7c82(resp, out + c->strip, n - c->strip);
	return 0x9000;
}

static uint16_t
kcard_ecdh(kcard *c, kw_view pt, kw_buf *resp)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(c->key, NULL);
	uint8_t want[200], z[100];
	size_t wn, zn = sizeof(z);

	EVP_PKEY *peer = EVP_PKEY_is_a(c->key, "X25519") ? peer_x : peer256;

	if (peer == peer_x) {
		wn = sizeof(want);
		assert_int_equal(EVP_PKEY_get_raw_public_key(peer, want, &wn), 1);
	} else {
		ec_point(peer, want, &wn);
	}
	if (pt.len != wn || memcmp(pt.ptr, want, wn) != 0)
		return 0x6a80;
	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
	assert_int_equal(EVP_PKEY_derive_set_peer(ctx, peer), 1);
	assert_int_equal(EVP_PKEY_derive(ctx, z, &zn), 1);
	EVP_PKEY_CTX_free(ctx);
	put_7c82(resp, z, zn);
	return 0x9000;
}

static uint16_t
kcard_gen_auth(kcard *c, const fake_cmd *cmd, kw_buf *resp)
{
	kw_view v = cmd->data, dyn, e82, x;
	uint32_t tag;

	if (cmd->p2 != c->slot)
		return 0x6a82;
	if (cmd->p1 != c->alg)
		return 0x6a80;
	if (kw_tlv_expect(&v, 0x7c, &dyn) != KW_OK || v.len != 0 ||
	    kw_tlv_expect(&dyn, 0x82, &e82) != KW_OK || e82.len != 0 ||
	    kw_tlv_get(&dyn, &tag, &x) != KW_OK || dyn.len != 0)
		return 0x6a80;
	if (tag == 0x81)
		return kcard_sign(c, x, resp);
	if (tag == 0x85)
		return kcard_ecdh(c, x, resp);
	return 0x6a80;
}

static uint16_t
kcard_metadata(kcard *c, kw_buf *resp)
{
	kw_buf pub;
	uint8_t pol[2] = { 2, 1 };

	pub_contents(c->key, &pub);
	assert_int_equal(kw_tlv_put(resp, 0x01, &c->alg, 1), KW_OK);
	assert_int_equal(kw_tlv_put(resp, 0x02, pol, 2), KW_OK);
	assert_int_equal(kw_tlv_put(resp, 0x03, "\x01", 1), KW_OK);
	assert_int_equal(kw_tlv_put(resp, 0x04, pub.data, pub.len), KW_OK);
	kw_buf_free(&pub);
	return 0x9000;
}

static uint16_t
kcard_answer(void *arg, const fake_cmd *cmd, kw_buf *resp)
{
	kcard *c = arg;
	kw_buf pub;

	kw_buf_reset(&c->last);
	assert_int_equal(kw_buf_put_view(&c->last, cmd->data), KW_OK);
	c->last_ins = cmd->ins;
	c->last_p1 = cmd->p1;
	c->last_p2 = cmd->p2;
	if (c->override != NULL)
		return kcard_override(c->override, resp);
	switch (cmd->ins) {
	case 0x47:
		pub_contents(c->key, &pub);
		assert_int_equal(kw_tlv_put(resp, 0x7f49, pub.data, pub.len), KW_OK);
		kw_buf_free(&pub);
		return 0x9000;
	case 0x87:
		return kcard_gen_auth(c, cmd, resp);
	case 0xf7:
		return kcard_metadata(c, resp);
	case 0xfe: case 0xf6:
		return 0x9000;
	default:
		return 0x6d00;
	}
}

typedef struct env {
	kcard c;
	fake_card card;
	kw_transport *t;
	kw_piv *p;
} env;

static void
env_open(env *e, EVP_PKEY *key, uint8_t slot, uint8_t alg)
{
	memset(e, 0, sizeof(*e));
	e->c.key = key;
	e->c.slot = slot;
	e->c.alg = alg;
	kw_buf_init(&e->c.last, 0);
	e->card.answer = kcard_answer;
	e->card.arg = &e->c;
	fake_open(&e->card, &e->t, &e->p);
}

static void
env_close(env *e)
{
	fake_close(&e->card, &e->t, &e->p);
	kw_buf_free(&e->c.last);
}

static void
test_alg_helpers(void **state)
{
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	(void)state;
	assert_int_equal(kw_piv_alg_of_pkey(rsa2048), KW_PIV_ALG_RSA2048);
	assert_int_equal(kw_piv_alg_of_pkey(p256), KW_PIV_ALG_ECCP256);
	assert_int_equal(kw_piv_alg_of_pkey(p384), KW_PIV_ALG_ECCP384);
	assert_int_equal(kw_piv_alg_of_pkey(ed), 0);
	assert_int_equal(kw_piv_alg_of_pkey(NULL), 0);
	EVP_PKEY_free(ed);
	assert_true(kw_piv_alg_is_rsa(KW_PIV_ALG_RSA1024) && kw_piv_alg_is_rsa(KW_PIV_ALG_RSA4096));
	assert_false(kw_piv_alg_is_rsa(KW_PIV_ALG_ECCP256));
	assert_true(kw_piv_alg_is_ec(KW_PIV_ALG_ECCP384));
	assert_false(kw_piv_alg_is_ec(KW_PIV_ALG_AES128));
	assert_int_equal(kw_piv_alg_bits(KW_PIV_ALG_RSA3072), 3072);
	assert_int_equal(kw_piv_alg_bits(KW_PIV_ALG_ECCP384), 384);
	assert_int_equal(kw_piv_alg_bits(0x42), 0);
	assert_int_equal(kw_piv_mgmt_key_len(KW_PIV_ALG_3DES), 24);
	assert_int_equal(kw_piv_mgmt_key_len(KW_PIV_ALG_AES128), 16);
	assert_int_equal(kw_piv_mgmt_key_len(KW_PIV_ALG_AES192), 24);
	assert_int_equal(kw_piv_mgmt_key_len(KW_PIV_ALG_AES256), 32);
	assert_int_equal(kw_piv_mgmt_key_len(KW_PIV_ALG_RSA2048), 0);
}

static void
test_generate(void **state)
{
	static const struct { EVP_PKEY **key; uint8_t alg, pin, touch; const char *ctl; } v[] = {
		{ &rsa2048, KW_PIV_ALG_RSA2048, 0, 0, "AC03800107" },
		{ &p256, KW_PIV_ALG_ECCP256, KW_PIV_PIN_POLICY_ALWAYS, KW_PIV_TOUCH_POLICY_CACHED,
		  "AC09800111AA0103AB0103" },
		{ &p384, KW_PIV_ALG_ECCP384, KW_PIV_PIN_POLICY_NEVER, 0, "AC06800114AA0101" },
	};
	EVP_PKEY *pub;
	env e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		env_open(&e, *v[i].key, 0x9c, v[i].alg);
		pub = (EVP_PKEY *)1;
		assert_int_equal(kw_piv_generate(e.p, 0x9c, v[i].alg, v[i].pin, v[i].touch, &pub),
		    KW_OK);
		assert_int_equal(e.c.last_ins, 0x47);
		assert_int_equal(e.c.last_p1, 0x00);
		assert_int_equal(e.c.last_p2, 0x9c);
		assert_view_hex(kw_buf_view(&e.c.last), v[i].ctl);
		assert_int_equal(EVP_PKEY_eq(pub, *v[i].key), 1);
		EVP_PKEY_free(pub);
		env_close(&e);
	}
	env_open(&e, p256, 0x9c, KW_PIV_ALG_ECCP256);
	assert_int_equal(kw_piv_generate(e.p, 0x9b, KW_PIV_ALG_ECCP256, 0, 0, &pub), KW_ERR_ARG);
	assert_null(pub);
	assert_int_equal(kw_piv_generate(e.p, 0x9a, KW_PIV_ALG_3DES, 0, 0, &pub), KW_ERR_ARG);
	assert_int_equal(kw_piv_generate(e.p, 0x9a, KW_PIV_ALG_ECCP256, 4, 0, &pub), KW_ERR_ARG);
	assert_int_equal(kw_piv_generate(e.p, 0x9a, KW_PIV_ALG_ECCP256, 0, 4, &pub), KW_ERR_ARG);
	assert_int_equal(kw_piv_generate(e.p, 0x9a, KW_PIV_ALG_ECCP256, 0, 0, NULL), KW_ERR_ARG);
	env_close(&e);
}

/* An ENGINE that offers legacy RSA and EC key methods, registered as the
 * default, as libp11's engine does inside openssl(1), NSS-less apps etc. */
static EVP_PKEY_METHOD *eng_meths[2];

static int
eng_pkey_meths(ENGINE *en, EVP_PKEY_METHOD **pmeth, const int **nids, int nid)
{
	static const int ids[] = { EVP_PKEY_RSA, EVP_PKEY_EC };

	(void)en;
	if (pmeth == NULL) {
		*nids = ids;
		return 2;
	}
	*pmeth = nid == EVP_PKEY_RSA ? eng_meths[0] : nid == EVP_PKEY_EC ? eng_meths[1] : NULL;
	return *pmeth != NULL;
}

static ENGINE *
engine_start(void)
{
	ENGINE *en = ENGINE_new();
	int i, ids[] = { EVP_PKEY_RSA, EVP_PKEY_EC };

	assert_non_null(en);
	for (i = 0; i < 2; i++) {
		assert_non_null(eng_meths[i] = EVP_PKEY_meth_new(ids[i], 0));
		EVP_PKEY_meth_copy(eng_meths[i], EVP_PKEY_meth_find(ids[i]));
	}
	assert_int_equal(ENGINE_set_id(en, "kwtest"), 1);
	assert_int_equal(ENGINE_set_name(en, "keyward test engine"), 1);
	assert_int_equal(ENGINE_set_pkey_meths(en, eng_pkey_meths), 1);
	assert_int_equal(ENGINE_add(en), 1);
	assert_int_equal(ENGINE_init(en), 1);
	assert_int_equal(ENGINE_set_default_pkey_meths(en), 1);
	return en;
}

static void
engine_stop(ENGINE *en)
{
	ENGINE_unregister_pkey_meths(en);
	ENGINE_finish(en);
	ENGINE_remove(en);
	/* The last reference to the engine frees its pkey methods too. */
	ENGINE_free(en);
	eng_meths[0] = eng_meths[1] = NULL;
}

/* Public keys from the card (GENERATE here, metadata alike) still decode
 * with an application's ENGINE in front of RSA and EC. */
static void
test_pubkey_under_engine(void **state)
{
	EVP_PKEY *keys[] = { rsa2048, p256, p384 };
	uint8_t algs[] = { KW_PIV_ALG_RSA2048, KW_PIV_ALG_ECCP256, KW_PIV_ALG_ECCP384 };
	ENGINE *en = engine_start();
	EVP_PKEY *pub;
	env e;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		env_open(&e, keys[i], 0x9d, algs[i]);
		pub = NULL;
		assert_int_equal(kw_piv_generate(e.p, 0x9d, algs[i], 0, 0, &pub), KW_OK);
		assert_int_equal(EVP_PKEY_eq(pub, keys[i]), 1);
		EVP_PKEY_free(pub);
		env_close(&e);
	}
	engine_stop(en);
}

/* GENERATE answers built from a real key and then damaged. */
static void
gen_bad(EVP_PKEY *k, uint8_t alg, const char *resp_hex, kw_rv want)
{
	EVP_PKEY *pub = NULL;
	env e;

	env_open(&e, k, 0x9a, alg);
	e.c.override = resp_hex;
	if (kw_piv_generate(e.p, 0x9a, alg, 0, 0, &pub) != want)
		fail_msg("%.80s", resp_hex);
	assert_null(pub);
	env_close(&e);
}

static char *
gen_resp(EVP_PKEY *k, int damage)
{
	kw_buf pub, r;
	char *hex;

	pub_contents(k, &pub);
	if (damage == 1)
		pub.data[pub.len - 1] ^= 0x01;      /* EC: point off the curve */
	kw_buf_init(&r, 0);
	assert_int_equal(kw_tlv_put(&r, 0x7f49, pub.data, pub.len), KW_OK);
	if (damage == 2)
		assert_int_equal(kw_buf_put_u8(&r, 0), KW_OK);   /* trailing */
	if (damage == 3)
		r.len -= 1;                                      /* truncated */
	assert_int_equal(kw_buf_put(&r, "\x90\x00", 2), KW_OK);
	hex = hex_of(r.data, r.len);
	kw_buf_free(&pub);
	kw_buf_free(&r);
	return hex;
}

static void
test_generate_malformed(void **state)
{
	char *h;

	(void)state;
	h = gen_resp(p256, 1);
	gen_bad(p256, KW_PIV_ALG_ECCP256, h, KW_ERR_FORMAT);
	free(h);
	h = gen_resp(p256, 2);
	gen_bad(p256, KW_PIV_ALG_ECCP256, h, KW_ERR_TRAILING);
	free(h);
	h = gen_resp(p256, 3);
	gen_bad(p256, KW_PIV_ALG_ECCP256, h, KW_ERR_TRUNCATED);
	free(h);
	/* A P-256 point where P-384 was asked for. */
	h = gen_resp(p256, 0);
	gen_bad(p384, KW_PIV_ALG_ECCP384, h, KW_ERR_FORMAT);
	free(h);
	/* A 2048-bit modulus where RSA-1024 was asked for. */
	h = gen_resp(rsa2048, 0);
	gen_bad(rsa2048, KW_PIV_ALG_RSA1024, h, KW_ERR_FORMAT);
	free(h);
	h = gen_resp(rsa2048, 3);
	gen_bad(rsa2048, KW_PIV_ALG_RSA2048, h, KW_ERR_TRUNCATED);
	free(h);
	gen_bad(p256, KW_PIV_ALG_ECCP256, "7F4943864104" "9000", KW_ERR_TRUNCATED);
	gen_bad(p256, KW_PIV_ALG_ECCP256, "7F4903860100" "9000", KW_ERR_FORMAT);
	gen_bad(p256, KW_PIV_ALG_ECCP256, "7F4900" "9000", KW_ERR_TRUNCATED);
	gen_bad(p256, KW_PIV_ALG_ECCP256, "7F48038601009000", KW_ERR_FORMAT);
	gen_bad(p256, KW_PIV_ALG_ECCP256, "9000", KW_ERR_TRUNCATED);
	gen_bad(p256, KW_PIV_ALG_ECCP256, "6A80", KW_ERR_WRONG_DATA);
	gen_bad(p256, KW_PIV_ALG_ECCP256, "6982", KW_ERR_SECURITY);
	/* RSA: 82 before 81, even or unit exponent, empty modulus. */
	gen_bad(rsa2048, KW_PIV_ALG_RSA2048, "7F490A82030100018103010001" "9000", KW_ERR_FORMAT);
	gen_bad(rsa2048, KW_PIV_ALG_RSA2048, "7F49058100820101" "9000", KW_ERR_FORMAT);
	gen_bad(rsa2048, KW_PIV_ALG_RSA2048, "7F4906810101820102" "9000", KW_ERR_FORMAT);
}

static void
test_rsa_private_op(void **state)
{
	uint8_t in[256], back[256];
	EVP_PKEY_CTX *ctx;
	size_t n = sizeof(back);
	kw_buf out;
	env e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i + 1);
	in[0] = 0x00;
	in[1] = 0x01;
	kw_buf_init(&out, 0);
	env_open(&e, rsa2048, 0x9d, KW_PIV_ALG_RSA2048);
	assert_int_equal(kw_piv_private_op(e.p, 0x9d, KW_PIV_ALG_RSA2048, in, sizeof(in), &out),
	    KW_OK);
	assert_int_equal(out.len, 256);
	assert_true(e.card.links >= 1);  /* 266 bytes: chained */
	ctx = EVP_PKEY_CTX_new(rsa2048, NULL);
	assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING), 1);
	assert_int_equal(EVP_PKEY_encrypt(ctx, back, &n, out.data, out.len), 1);
	EVP_PKEY_CTX_free(ctx);
	assert_memory_equal(back, in, sizeof(in));
	/* A card that drops leading bytes: the client restores the size. */
	e.c.strip = 1;
	assert_int_equal(kw_piv_private_op(e.p, 0x9d, KW_PIV_ALG_RSA2048, in, sizeof(in), &out),
	    KW_OK);
	assert_int_equal(out.len, 256);
	assert_int_equal(out.data[0], 0);
	/* Wrong sizes and arguments. */
	assert_int_equal(kw_piv_private_op(e.p, 0x9d, KW_PIV_ALG_RSA2048, in, 255, &out),
	    KW_ERR_ARG);
	assert_int_equal(kw_piv_private_op(e.p, 0x9b, KW_PIV_ALG_RSA2048, in, 256, &out),
	    KW_ERR_ARG);
	assert_int_equal(out.len, 0);   /* an earlier result never survives an error */
	assert_int_equal(kw_piv_private_op(e.p, 0x9d, KW_PIV_ALG_AES128, in, 256, &out),
	    KW_ERR_ARG);
	assert_int_equal(kw_piv_private_op(e.p, 0x9d, KW_PIV_ALG_RSA2048, NULL, 256, &out),
	    KW_ERR_ARG);
	env_close(&e);
	kw_buf_free(&out);
}

static void
priv_bad(EVP_PKEY *k, uint8_t alg, size_t in_len, const char *resp_hex, kw_rv want)
{
	uint8_t in[256] = { 0 };
	kw_buf out;
	env e;

	kw_buf_init(&out, 0);
	env_open(&e, k, 0x9a, alg);
	e.c.override = resp_hex;
	if (kw_piv_private_op(e.p, 0x9a, alg, in, in_len, &out) != want)
		fail_msg("%.80s", resp_hex);
	assert_int_equal(out.len, 0);
	env_close(&e);
	kw_buf_free(&out);
}

static void
test_private_op_malformed(void **state)
{
	char big[2 * 270 + 32];
	size_t i;

	(void)state;
	priv_bad(p256, KW_PIV_ALG_ECCP256, 32, "6982", KW_ERR_SECURITY);
	priv_bad(p256, KW_PIV_ALG_ECCP256, 32, "9000", KW_ERR_TRUNCATED);
	priv_bad(p256, KW_PIV_ALG_ECCP256, 32, "7C00" "9000", KW_ERR_TRUNCATED);
	priv_bad(p256, KW_PIV_ALG_ECCP256, 32, "7C028200" "9000", KW_ERR_FORMAT);
	priv_bad(p256, KW_PIV_ALG_ECCP256, 32, "7C03810100" "9000", KW_ERR_FORMAT);
	priv_bad(p256, KW_PIV_ALG_ECCP256, 32, "7C0382010000" "9000", KW_ERR_TRAILING);
	priv_bad(p256, KW_PIV_ALG_ECCP256, 32, "7C03820100" "00" "9000", KW_ERR_TRAILING);
	priv_bad(p256, KW_PIV_ALG_ECCP256, 32, "7C058203300100" "9000", KW_ERR_TRUNCATED);
	/* 82 holds no DER signature */
	priv_bad(p256, KW_PIV_ALG_ECCP256, 32, "7C0382010F" "9000", KW_ERR_TRUNCATED);
	priv_bad(p256, KW_PIV_ALG_ECCP256, 32, "7C0882063004020101FF" "9000", KW_ERR_TRUNCATED);
	priv_bad(p256, KW_PIV_ALG_ECCP256, 32, "7C08820631040201010201" "9000", KW_ERR_TRAILING);
	priv_bad(p256, KW_PIV_ALG_ECCP256, 32, "7C0882063006020101020101" "9000", KW_ERR_TRAILING);
	priv_bad(p256, KW_PIV_ALG_ECCP256, 32, "7C088206300402000200" "9000", KW_ERR_FORMAT);
	priv_bad(p256, KW_PIV_ALG_ECCP256, 32, "7C09820730050201010201" "9000", KW_ERR_TRUNCATED);
	priv_bad(p256, KW_PIV_ALG_ECCP256, 32, "7C0A82083006020101020101" "00" "9000",
	    KW_ERR_TRAILING);
	/* RSA result longer than the modulus. */
	strcpy(big, "7C82010682820102");
	for (i = 0; i < 258; i++)
		strcat(big, "11");
	strcat(big, "9000");
	priv_bad(rsa2048, KW_PIV_ALG_RSA2048, 256, big, KW_ERR_FORMAT);
}

static void
test_ecdsa(void **state)
{
	uint8_t h[64], fs[48];
	EVP_PKEY_CTX *ctx;
	kw_buf out;
	env e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(h); i++)
		h[i] = (uint8_t)(0xc0 + i);
	kw_buf_init(&out, 0);
	/* SHA-256-sized hash on P-256: sent as is. */
	env_open(&e, p256, 0x9c, KW_PIV_ALG_ECCP256);
	assert_int_equal(kw_piv_private_op(e.p, 0x9c, KW_PIV_ALG_ECCP256, h, 32, &out), KW_OK);
	ctx = EVP_PKEY_CTX_new(p256, NULL);
	assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
	assert_int_equal(EVP_PKEY_verify(ctx, out.data, out.len, h, 32), 1);
	EVP_PKEY_CTX_free(ctx);
	/* A longer hash is cut to the leftmost 32 bytes. */
	assert_int_equal(kw_piv_private_op(e.p, 0x9c, KW_PIV_ALG_ECCP256, h, 64, &out), KW_OK);
	assert_int_equal(e.c.last.len, 4 + 2 + 32);
	assert_memory_equal(e.c.last.data + 6, h, 32);
	env_close(&e);
	/* A shorter hash on P-384 is padded with zeros on the left. */
	env_open(&e, p384, 0x9a, KW_PIV_ALG_ECCP384);
	assert_int_equal(kw_piv_private_op(e.p, 0x9a, KW_PIV_ALG_ECCP384, h, 32, &out), KW_OK);
	memset(fs, 0, 16);
	memcpy(fs + 16, h, 32);
	assert_memory_equal(e.c.last.data + 6, fs, 48);
	ctx = EVP_PKEY_CTX_new(p384, NULL);
	assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
	assert_int_equal(EVP_PKEY_verify(ctx, out.data, out.len, fs, 48), 1);
	EVP_PKEY_CTX_free(ctx);
	env_close(&e);
	kw_buf_free(&out);
}

static void
test_ecdh(void **state)
{
	uint8_t pt[200], z[64];
	size_t n, zn = sizeof(z);
	EVP_PKEY_CTX *ctx;
	kw_buf out;
	env e;

	(void)state;
	kw_buf_init(&out, 0);
	ec_point(peer256, pt, &n);
	env_open(&e, p256, 0x9d, KW_PIV_ALG_ECCP256);
	assert_int_equal(kw_piv_ecdh(e.p, 0x9d, KW_PIV_ALG_ECCP256, pt, n, &out), KW_OK);
	ctx = EVP_PKEY_CTX_new(peer256, NULL);
	assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
	assert_int_equal(EVP_PKEY_derive_set_peer(ctx, p256), 1);
	assert_int_equal(EVP_PKEY_derive(ctx, z, &zn), 1);
	EVP_PKEY_CTX_free(ctx);
	assert_int_equal(out.len, zn);
	assert_memory_equal(out.data, z, zn);
	assert_int_equal(kw_piv_ecdh(e.p, 0x9d, KW_PIV_ALG_ECCP256, pt, n - 1, &out), KW_ERR_ARG);
	assert_int_equal(kw_piv_ecdh(e.p, 0x9d, KW_PIV_ALG_ECCP384, pt, n, &out), KW_ERR_ARG);
	assert_int_equal(kw_piv_ecdh(e.p, 0x9d, KW_PIV_ALG_RSA2048, pt, n, &out), KW_ERR_ARG);
	pt[0] = 0x02;
	assert_int_equal(kw_piv_ecdh(e.p, 0x9d, KW_PIV_ALG_ECCP256, pt, n, &out), KW_ERR_ARG);
	pt[0] = 0x04;
	e.c.override = "7C0382010A9000";   /* 1-byte secret */
	assert_int_equal(kw_piv_ecdh(e.p, 0x9d, KW_PIV_ALG_ECCP256, pt, n, &out), KW_ERR_FORMAT);
	assert_int_equal(out.len, 0);
	e.c.override = "7C03820100";       /* cut short: "0100" read as the SW */
	assert_int_equal(kw_piv_ecdh(e.p, 0x9d, KW_PIV_ALG_ECCP256, pt, n, &out), KW_ERR_CARD);
	env_close(&e);
	kw_buf_free(&out);
}

static void
test_25519(void **state)
{
	static const char msg[] = "Ed25519 signs the whole message";
	uint8_t pt[32], z[32];
	size_t n = sizeof(pt), zn = sizeof(z);
	EVP_PKEY *pub = NULL;
	EVP_MD_CTX *md;
	EVP_PKEY_CTX *ctx;
	kw_buf out;
	env e;

	(void)state;
	kw_buf_init(&out, 0);
	env_open(&e, edk, 0x9c, KW_PIV_ALG_ED25519);
	assert_int_equal(kw_piv_generate(e.p, 0x9c, KW_PIV_ALG_ED25519, 0, 0, &pub), KW_OK);
	assert_view_hex(kw_buf_view(&e.c.last), "AC038001E0");
	assert_int_equal(EVP_PKEY_eq(pub, edk), 1);
	EVP_PKEY_free(pub);
	assert_int_equal(kw_piv_private_op(e.p, 0x9c, KW_PIV_ALG_ED25519, (const uint8_t *)msg,
	    sizeof(msg), &out), KW_OK);
	assert_int_equal(out.len, 64);
	md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, NULL, NULL, edk), 1);
	assert_int_equal(EVP_DigestVerify(md, out.data, out.len, (const uint8_t *)msg,
	    sizeof(msg)), 1);
	EVP_MD_CTX_free(md);
	e.c.override = "7C0382010A9000";
	assert_int_equal(kw_piv_private_op(e.p, 0x9c, KW_PIV_ALG_ED25519, (const uint8_t *)msg,
	    sizeof(msg), &out), KW_ERR_FORMAT);
	e.c.override = "7F49038601AA9000";   /* 1-byte public key */
	assert_int_equal(kw_piv_generate(e.p, 0x9c, KW_PIV_ALG_ED25519, 0, 0, &pub), KW_ERR_FORMAT);
	assert_null(pub);
	env_close(&e);
	/* X25519 */
	env_open(&e, xk, 0x9d, KW_PIV_ALG_X25519);
	assert_int_equal(kw_piv_generate(e.p, 0x9d, KW_PIV_ALG_X25519, 0, 0, &pub), KW_OK);
	assert_int_equal(EVP_PKEY_eq(pub, xk), 1);
	EVP_PKEY_free(pub);
	assert_int_equal(EVP_PKEY_get_raw_public_key(peer_x, pt, &n), 1);
	assert_int_equal(kw_piv_ecdh(e.p, 0x9d, KW_PIV_ALG_X25519, pt, n, &out), KW_OK);
	ctx = EVP_PKEY_CTX_new(peer_x, NULL);
	assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
	assert_int_equal(EVP_PKEY_derive_set_peer(ctx, xk), 1);
	assert_int_equal(EVP_PKEY_derive(ctx, z, &zn), 1);
	EVP_PKEY_CTX_free(ctx);
	assert_int_equal(out.len, 32);
	assert_memory_equal(out.data, z, 32);
	assert_int_equal(kw_piv_ecdh(e.p, 0x9d, KW_PIV_ALG_X25519, pt, 31, &out), KW_ERR_ARG);
	assert_int_equal(kw_piv_private_op(e.p, 0x9d, KW_PIV_ALG_X25519, pt, 32, &out), KW_ERR_ARG);
	env_close(&e);
	assert_true(kw_piv_alg_is_25519(KW_PIV_ALG_ED25519) && kw_piv_alg_is_25519(KW_PIV_ALG_X25519));
	assert_false(kw_piv_alg_is_25519(KW_PIV_ALG_ECCP256));
	assert_false(kw_piv_alg_is_ec(KW_PIV_ALG_ED25519));
	/* The public kw_piv_alg_of_pkey stays RSA / P-curves only. */
	assert_int_equal(kw_piv_alg_of_pkey(edk), 0);
	kw_buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alg_helpers),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_generate_malformed),
		cmocka_unit_test(test_rsa_private_op),
		cmocka_unit_test(test_private_op_malformed),
		cmocka_unit_test(test_ecdsa),
		cmocka_unit_test(test_ecdh),
		cmocka_unit_test(test_25519),
		cmocka_unit_test(test_pubkey_under_engine),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
