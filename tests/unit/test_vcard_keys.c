/* keyward-vcard keys: GENERATE, GENERAL AUTHENTICATE (RSA raw, ECDSA,
 * ECDH), PIN policies, IMPORT, METADATA, ATTEST, MOVE/DELETE. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "test_vcard_util.h"
#include "kw_tlv.h"

#define VERIFY_OK "0020008008" PIN_123456

static vcard_card *
authed_card(void)
{
	vcard_card *c = new_selected_card();

	assert_int_equal(mgmt_auth(c, VC_ALG_3DES, DEFAULT_MGMT), 0x9000);
	return c;
}

/* 7C { 82 00, 81 data } for slot with alg. */
static uint16_t
ga_sign(vcard_card *c, uint8_t alg, uint8_t slot, const uint8_t *p, size_t n, kw_buf *sig)
{
	kw_buf d, in;
	kw_view v, inner, val;
	uint16_t sw;

	kw_buf_init(&d, 0);
	kw_buf_init(&in, 0);
	kw_tlv_put_header(&in, 0x7C, 2 + kw_tlv_header_size(0x81, n) + n);
	kw_buf_put(&in, "\x82\x00", 2);
	kw_tlv_put(&in, 0x81, p, n);
	sw = tx_chain(c, 0x87, alg, slot, in.data, in.len, &d);
	if (sw == 0x9000) {
		v = kw_buf_view(&d);
		assert_int_equal(kw_tlv_expect(&v, 0x7C, &inner), KW_OK);
		assert_int_equal(kw_tlv_expect(&inner, 0x82, &val), KW_OK);
		kw_buf_reset(sig);
		kw_buf_put_view(sig, val);
	}
	kw_buf_free(&d);
	kw_buf_free(&in);
	return sw;
}

static void
verify_ecdsa(EVP_PKEY *pkey, const uint8_t *hash, size_t n, const kw_buf *sig)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);

	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
	assert_int_equal(EVP_PKEY_verify(ctx, sig->data, sig->len, hash, n), 1);
	EVP_PKEY_CTX_free(ctx);
}

static void
test_generate_ec_and_sign(void **state)
{
	vcard_card *c = new_selected_card();
	uint8_t hash[32];
	kw_buf d, sig;

	(void)state;
	kw_buf_init(&d, 0);
	kw_buf_init(&sig, 0);
	memset(hash, 0xA5, sizeof(hash));
	assert_int_equal(tx(c, "004700 9A 05 AC03800111", NULL), 0x6982);
	assert_int_equal(mgmt_auth(c, VC_ALG_3DES, DEFAULT_MGMT), 0x9000);
	/* bad template, unsupported algorithm, bad slot */
	assert_int_equal(tx(c, "0047009A05AD03800111", NULL), 0x6A80);
	assert_int_equal(tx(c, "0047009A05AC03800105", NULL), 0x6A80);
	assert_int_equal(tx(c, "0047009A05AC038001E0", NULL), 0x6A80);
	assert_int_equal(tx(c, "004700AA05AC03800111", NULL), 0x6A86);
	assert_int_equal(tx(c, "0047009A05AC03800111", &d), 0x9000);
	assert_int_equal(d.len, 3 + 2 + 65);
	assert_memory_equal(d.data, "\x7F\x49\x43\x86\x41\x04", 6);
	/* PIN policy once: needs the PIN */
	assert_int_equal(ga_sign(c, VC_ALG_P256, 0x9A, hash, 32, &sig), 0x6982);
	assert_int_equal(tx(c, VERIFY_OK, NULL), 0x9000);
	/* wrong algorithm for the slot, empty slot */
	assert_int_equal(ga_sign(c, VC_ALG_P384, 0x9A, hash, 32, &sig), 0x6A80);
	assert_int_equal(ga_sign(c, VC_ALG_P256, 0x9D, hash, 32, &sig), 0x6A80);
	assert_int_equal(ga_sign(c, VC_ALG_P256, 0x9A, hash, 32, &sig), 0x9000);
	verify_ecdsa(vc_key_slot(c, 0x9A)->pkey, hash, 32, &sig);
	assert_int_equal(ga_sign(c, VC_ALG_P256, 0x9A, hash, 32, &sig), 0x9000);
	/* P-384 */
	assert_int_equal(tx(c, "0047009D05AC03800114", &d), 0x9000);
	assert_int_equal(ga_sign(c, VC_ALG_P384, 0x9D, hash, 32, &sig), 0x9000);
	verify_ecdsa(vc_key_slot(c, 0x9D)->pkey, hash, 32, &sig);
	/* malformed GA data */
	assert_int_equal(tx(c, "0087119A067C04820081FF", NULL), 0x6A80);
	assert_int_equal(tx(c, "0087119A047C028200", NULL), 0x6A80);
	kw_buf_free(&d);
	kw_buf_free(&sig);
	vcard_card_free(&c);
}

static void
test_pin_policies(void **state)
{
	vcard_card *c = authed_card();
	uint8_t hash[32] = { 1 };
	kw_buf sig;

	(void)state;
	kw_buf_init(&sig, 0);
	assert_int_equal(tx(c, "0047009C05AC03800111", NULL), 0x9000);
	assert_int_equal(tx(c, "0047009E05AC03800111", NULL), 0x9000);
	assert_int_equal(tx(c, "0047008208AC06800111AA0101", NULL), 0x9000);
	/* 9E: never; 82 with AA=01: never */
	assert_int_equal(ga_sign(c, VC_ALG_P256, 0x9E, hash, 32, &sig), 0x9000);
	assert_int_equal(ga_sign(c, VC_ALG_P256, 0x82, hash, 32, &sig), 0x9000);
	/* 9C: always, a VERIFY right before each use */
	assert_int_equal(ga_sign(c, VC_ALG_P256, 0x9C, hash, 32, &sig), 0x6982);
	assert_int_equal(tx(c, VERIFY_OK, NULL), 0x9000);
	assert_int_equal(ga_sign(c, VC_ALG_P256, 0x9C, hash, 32, &sig), 0x9000);
	assert_int_equal(ga_sign(c, VC_ALG_P256, 0x9C, hash, 32, &sig), 0x6982);
	assert_int_equal(tx(c, VERIFY_OK, NULL), 0x9000);
	assert_int_equal(ga_sign(c, VC_ALG_P256, 0x9C, hash, 32, &sig), 0x9000);
	/* bad policy values */
	assert_int_equal(tx(c, "0047008308AC06800111AA0104", NULL), 0x6A80);
	kw_buf_free(&sig);
	vcard_card_free(&c);
}

static EVP_PKEY *
pubkey_from_7f49(const kw_buf *d)
{
	kw_view v = kw_buf_view(d), inner, n, e;
	BIGNUM *bn_n, *bn_e;
	OSSL_PARAM params[3];
	uint8_t nle[512], ele[8];
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;

	assert_int_equal(kw_tlv_expect(&v, 0x7F49, &inner), KW_OK);
	assert_int_equal(kw_tlv_expect(&inner, 0x81, &n), KW_OK);
	assert_int_equal(kw_tlv_expect(&inner, 0x82, &e), KW_OK);
	bn_n = BN_bin2bn(n.ptr, (int)n.len, NULL);
	bn_e = BN_bin2bn(e.ptr, (int)e.len, NULL);
	BN_bn2nativepad(bn_n, nle, (int)n.len);
	BN_bn2nativepad(bn_e, ele, sizeof(ele));
	params[0] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_RSA_N, nle, n.len);
	params[1] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_RSA_E, ele, sizeof(ele));
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
	EVP_PKEY_CTX_free(ctx);
	BN_free(bn_n);
	BN_free(bn_e);
	return pkey;
}

static void
test_generate_rsa_get_response(void **state)
{
	vcard_card *c = authed_card();
	kw_buf d, res;
	EVP_PKEY *pub;
	uint8_t m[256], ct[256];
	size_t ctlen = sizeof(ct);
	EVP_PKEY_CTX *ctx;

	(void)state;
	kw_buf_init(&d, 0);
	kw_buf_init(&res, 0);
	/* 7F49 (265 bytes) does not fit a short response: 61xx */
	assert_int_equal(tx(c, "0047009D05AC03800107", &d), 0x610E);
	assert_int_equal(d.len, 256);
	assert_int_equal(tx(c, "00C0000004", &res), 0x610A);
	assert_int_equal(res.len, 4);
	assert_int_equal(tx(c, "00C0000000", &res), 0x9000);
	assert_int_equal(res.len, 10);
	assert_int_equal(tx(c, "00C0000000", &res), 0x6985);
	/* the same through the helper, and an extended Le gets it all */
	assert_int_equal(tx_all(c, "0047009A05AC03800107", &d), 0x9000);
	assert_int_equal(d.len, 5 + 4 + 256 + 5);
	assert_int_equal(tx(c, "0047009A000005AC03800107 0000", &d), 0x9000);
	assert_int_equal(d.len, 5 + 4 + 256 + 5);
	pub = pubkey_from_7f49(&d);
	/* raw private operation, chained command, 9A needs the PIN */
	memset(m, 0x11, sizeof(m));
	m[0] = 0x00;
	ctx = EVP_PKEY_CTX_new(pub, NULL);
	assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING), 1);
	assert_int_equal(EVP_PKEY_encrypt(ctx, ct, &ctlen, m, sizeof(m)), 1);
	assert_int_equal(ga_sign(c, VC_ALG_RSA2048, 0x9A, ct, ctlen, &res), 0x6982);
	assert_int_equal(tx(c, VERIFY_OK, NULL), 0x9000);
	assert_int_equal(ga_sign(c, VC_ALG_RSA2048, 0x9A, ct, ctlen, &res), 0x9000);
	assert_int_equal(res.len, 256);
	assert_memory_equal(res.data, m, 256);
	/* wrong input length */
	assert_int_equal(ga_sign(c, VC_ALG_RSA2048, 0x9A, ct, 255, &res), 0x6A80);
	/* input >= modulus */
	memset(ct, 0xFF, sizeof(ct));
	assert_int_equal(ga_sign(c, VC_ALG_RSA2048, 0x9A, ct, 256, &res), 0x6A80);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pub);
	kw_buf_free(&d);
	kw_buf_free(&res);
	vcard_card_free(&c);
}

static void
put_bn(kw_buf *b, uint32_t tag, EVP_PKEY *pkey, const char *name, size_t len)
{
	BIGNUM *bn = NULL;
	uint8_t tmp[512];

	assert_int_equal(EVP_PKEY_get_bn_param(pkey, name, &bn), 1);
	assert_int_equal(BN_bn2binpad(bn, tmp, (int)len), (int)len);
	assert_int_equal(kw_tlv_put(b, tag, tmp, len), KW_OK);
	BN_free(bn);
}

static void
test_import_rsa(void **state)
{
	vcard_card *c = authed_card();
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	kw_buf imp, d, res;
	uint8_t m[256], ct[256];
	size_t ctlen = sizeof(ct);
	EVP_PKEY_CTX *ctx;

	(void)state;
	kw_buf_init(&imp, 0);
	kw_buf_init(&d, 0);
	kw_buf_init(&res, 0);
	put_bn(&imp, 0x01, pkey, OSSL_PKEY_PARAM_RSA_FACTOR1, 128);
	put_bn(&imp, 0x02, pkey, OSSL_PKEY_PARAM_RSA_FACTOR2, 128);
	put_bn(&imp, 0x03, pkey, OSSL_PKEY_PARAM_RSA_EXPONENT1, 128);
	put_bn(&imp, 0x04, pkey, OSSL_PKEY_PARAM_RSA_EXPONENT2, 128);
	put_bn(&imp, 0x05, pkey, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, 128);
	kw_buf_put(&imp, "\xAA\x01\x01\xAB\x01\x01", 6);
	/* truncated: p only */
	assert_int_equal(tx_chain(c, 0xFE, VC_ALG_RSA2048, 0x9D, imp.data, 131, NULL), 0x6A80);
	/* garbage TLV */
	assert_int_equal(tx(c, "00FE079D0301FF00", NULL), 0x6A80);
	/* wrong algorithm size for the key */
	assert_int_equal(tx_chain(c, 0xFE, VC_ALG_RSA1024, 0x9D, imp.data, imp.len, NULL), 0x6A80);
	assert_int_equal(tx_chain(c, 0xFE, VC_ALG_RSA2048, 0x9D, imp.data, imp.len, NULL), 0x9000);
	/* metadata: RSA2048, policies never/never, imported, public key */
	assert_int_equal(tx_all(c, "00F7009D00", &d), 0x9000);
	assert_memory_equal(d.data, "\x01\x01\x07\x02\x02\x01\x01\x03\x01\x02\x04\x82\x01\x09\x81\x82\x01\x00", 18);
	/* imported keys cannot be attested */
	assert_int_equal(tx(c, "00F99D0000", NULL), 0x6A80);
	memset(m, 0x22, sizeof(m));
	m[0] = 0;
	ctx = EVP_PKEY_CTX_new(pkey, NULL);
	assert_int_equal(EVP_PKEY_encrypt_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING), 1);
	assert_int_equal(EVP_PKEY_encrypt(ctx, ct, &ctlen, m, sizeof(m)), 1);
	assert_int_equal(ga_sign(c, VC_ALG_RSA2048, 0x9D, ct, ctlen, &res), 0x9000);
	assert_memory_equal(res.data, m, 256);
	/* without management key */
	vcard_card_reset(c);
	assert_int_equal(tx(c, "00A4040005A000000308", NULL), 0x9000);
	assert_int_equal(tx_chain(c, 0xFE, VC_ALG_RSA2048, 0x9D, imp.data, imp.len, NULL), 0x6982);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	kw_buf_free(&imp);
	kw_buf_free(&d);
	kw_buf_free(&res);
	vcard_card_free(&c);
}

static void
test_import_ec_and_ecdh(void **state)
{
	vcard_card *c = authed_card();
	EVP_PKEY *mine = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *peer = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY_CTX *dctx;
	kw_buf imp, d, cmd;
	uint8_t pt[65], secret[32];
	size_t ptlen = 0, slen = sizeof(secret);
	kw_view v, inner, val;

	(void)state;
	kw_buf_init(&imp, 0);
	kw_buf_init(&d, 0);
	kw_buf_init(&cmd, 0);
	put_bn(&imp, 0x06, mine, OSSL_PKEY_PARAM_PRIV_KEY, 32);
	assert_int_equal(tx_chain(c, 0xFE, VC_ALG_P256, 0x82, imp.data, 33, NULL), 0x6A80);
	assert_int_equal(tx_chain(c, 0xFE, VC_ALG_P384, 0x82, imp.data, imp.len, NULL), 0x6A80);
	assert_int_equal(tx_chain(c, 0xFE, VC_ALG_P256, 0x82, imp.data, imp.len, NULL), 0x9000);
	/* public key in metadata equals ours */
	assert_int_equal(EVP_PKEY_get_octet_string_param(mine, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    sizeof(pt), &ptlen), 1);
	assert_int_equal(tx(c, "00F7008200", &d), 0x9000);
	assert_memory_equal(d.data + d.len - 65, pt, 65);
	/* ECDH: 7C { 82 00, 85 peer point } */
	assert_int_equal(EVP_PKEY_get_octet_string_param(peer, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    sizeof(pt), &ptlen), 1);
	kw_buf_put(&cmd, "\x00\x87\x11\x82\x47\x7C\x45\x82\x00\x85\x41", 11);
	kw_buf_put(&cmd, pt, 65);
	assert_int_equal(tx_bytes(c, cmd.data, cmd.len, &d), 0x6982);
	assert_int_equal(tx(c, VERIFY_OK, NULL), 0x9000);
	assert_int_equal(tx_bytes(c, cmd.data, cmd.len, &d), 0x9000);
	dctx = EVP_PKEY_CTX_new(peer, NULL);
	assert_int_equal(EVP_PKEY_derive_init(dctx), 1);
	assert_int_equal(EVP_PKEY_derive_set_peer(dctx, mine), 1);
	assert_int_equal(EVP_PKEY_derive(dctx, secret, &slen), 1);
	v = kw_buf_view(&d);
	assert_int_equal(kw_tlv_expect(&v, 0x7C, &inner), KW_OK);
	assert_int_equal(kw_tlv_expect(&inner, 0x82, &val), KW_OK);
	assert_int_equal(val.len, 32);
	assert_memory_equal(val.ptr, secret, 32);
	/* a point not on the curve / wrong length */
	cmd.data[cmd.len - 1] ^= 1;
	assert_int_equal(tx_bytes(c, cmd.data, cmd.len, &d), 0x6A80);
	assert_int_equal(tx(c, "0087118206 7C04820085 00", &d), 0x6A80);
	EVP_PKEY_CTX_free(dctx);
	EVP_PKEY_free(mine);
	EVP_PKEY_free(peer);
	kw_buf_free(&imp);
	kw_buf_free(&d);
	kw_buf_free(&cmd);
	vcard_card_free(&c);
}

static void
test_attest(void **state)
{
	vcard_card *c = authed_card();
	kw_buf d;
	const unsigned char *p;
	X509 *x, *f9;
	vc_object *o;
	kw_view v, der;
	ASN1_OBJECT *oid;

	(void)state;
	kw_buf_init(&d, 0);
	assert_int_equal(tx(c, "0047009C05AC03800111", NULL), 0x9000);
	/* no attestation key yet */
	assert_int_equal(tx(c, "00F99C0000", NULL), 0x6A88);
	assert_int_equal(vc_attest_init(c), KW_OK);
	assert_int_equal(tx(c, "00F99A0000", NULL), 0x6A80);   /* empty */
	assert_int_equal(tx(c, "00F9F90000", NULL), 0x6A86);
	assert_int_equal(tx_all(c, "00F99C0000", &d), 0x9000);
	p = d.data;
	x = d2i_X509(NULL, &p, (long)d.len);
	assert_non_null(x);
	o = vc_obj_find(c, 0x5FFF01);
	assert_non_null(o);
	v = kw_buf_view(&o->data);
	assert_int_equal(kw_tlv_find(v, 0x70, &der), KW_OK);
	p = der.ptr;
	f9 = d2i_X509(NULL, &p, (long)der.len);
	assert_non_null(f9);
	assert_int_equal(X509_verify(x, X509_get0_pubkey(f9)), 1);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), vc_key_slot(c, 0x9C)->pkey), 1);
	oid = OBJ_txt2obj("1.3.6.1.4.1.41482.3.7", 1);
	assert_true(X509_get_ext_by_OBJ(x, oid, -1) >= 0);
	ASN1_OBJECT_free(oid);
	/* the F9 certificate is readable as a data object */
	assert_int_equal(tx_all(c, "00CB3FFF055C035FFF01", &d), 0x9000);
	X509_free(x);
	X509_free(f9);
	kw_buf_free(&d);
	vcard_card_free(&c);
}

static void
test_metadata(void **state)
{
	vcard_card *c = authed_card();
	kw_buf d;

	(void)state;
	kw_buf_init(&d, 0);
	assert_int_equal(tx(c, "00F7008000", &d), 0x9000);
	assert_int_equal(d.len, 10);
	assert_memory_equal(d.data, "\x01\x01\xFF\x05\x01\x01\x06\x02\x03\x03", 10);
	assert_int_equal(tx(c, "0020008008393939393939FFFF", NULL), 0x63C2);
	assert_int_equal(tx(c, "00F7008000", &d), 0x9000);
	assert_memory_equal(d.data, "\x01\x01\xFF\x05\x01\x01\x06\x02\x03\x02", 10);
	assert_int_equal(tx(c, "00F7008100", &d), 0x9000);
	assert_int_equal(tx(c, "00F7009A00", &d), 0x6A82);
	assert_int_equal(tx(c, "00F700AA00", &d), 0x6A86);
	assert_int_equal(tx(c, "00F7019A00", &d), 0x6A86);
	assert_int_equal(tx(c, "0047009C05AC03800111", NULL), 0x9000);
	assert_int_equal(tx(c, "00F7009C00", &d), 0x9000);
	assert_memory_equal(d.data, "\x01\x01\x11\x02\x02\x03\x01\x03\x01\x01\x04\x43\x86\x41\x04", 15);
	kw_buf_free(&d);
	vcard_card_free(&c);
}

static void
test_move_delete_and_big_rsa(void **state)
{
	vcard_card *c = authed_card();
	kw_buf d;

	(void)state;
	kw_buf_init(&d, 0);
	assert_int_equal(tx(c, "0047009A05AC03800111", NULL), 0x9000);
	/* 5.4.3: no MOVE, no RSA-3072/4096 */
	assert_int_equal(tx(c, "00F69C9A", NULL), 0x6D00);
	assert_int_equal(tx(c, "0047008205AC03800105", NULL), 0x6A80);
	c->version[1] = 7;
	assert_int_equal(tx(c, "00F69C9A", NULL), 0x9000);
	assert_int_equal(tx(c, "00F7009A00", NULL), 0x6A82);
	assert_int_equal(tx(c, "00F7009C00", &d), 0x9000);
	assert_int_equal(d.data[2], VC_ALG_P256);
	assert_int_equal(tx(c, "00F69D9A", NULL), 0x6A82);
	assert_int_equal(tx(c, "00F6F99C", NULL), 0x6A86);
	assert_int_equal(tx(c, "00F6FF9C", NULL), 0x9000);
	assert_int_equal(tx(c, "00F7009C00", NULL), 0x6A82);
	assert_int_equal(tx_all(c, "0047008205AC03800105", &d), 0x9000);
	assert_int_equal(d.len, 5 + 4 + 384 + 5);
	kw_buf_free(&d);
	vcard_card_free(&c);
}

static void
test_25519(void **state)
{
	vcard_card *c = authed_card();
	EVP_PKEY *peer = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	EVP_PKEY *mine = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *pub;
	EVP_MD_CTX *md;
	uint8_t msg[300], raw[32], secret[32];
	size_t rawlen = sizeof(raw), slen = sizeof(secret);
	kw_buf d, sig, cmd;
	kw_view v, inner, val;

	(void)state;
	kw_buf_init(&d, 0);
	kw_buf_init(&sig, 0);
	kw_buf_init(&cmd, 0);
	memset(msg, 0x3C, sizeof(msg));
	/* firmware 5.4: no Curve25519 */
	assert_int_equal(tx(c, "0047009A05AC038001E0", NULL), 0x6A80);
	c->version[1] = 7;
	assert_int_equal(tx(c, "0047009A05AC038001E0", &d), 0x9000);
	assert_int_equal(d.len, 5 + 32);
	assert_memory_equal(d.data, "\x7F\x49\x22\x86\x20", 5);
	pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, d.data + 5, 32);
	assert_non_null(pub);
	assert_int_equal(tx(c, "0020008008" PIN_123456, NULL), 0x9000);
	/* Ed25519 signs the whole message, here chained */
	assert_int_equal(ga_sign(c, VC_ALG_ED25519, 0x9A, msg, sizeof(msg), &sig), 0x9000);
	assert_int_equal(sig.len, 64);
	md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, NULL, NULL, pub), 1);
	assert_int_equal(EVP_DigestVerify(md, sig.data, sig.len, msg, sizeof(msg)), 1);
	EVP_MD_CTX_free(md);
	/* X25519: generate in 9D, derive against a peer */
	assert_int_equal(tx(c, "0047009D05AC038001E1", &d), 0x9000);
	assert_int_equal(EVP_PKEY_get_raw_public_key(peer, raw, &rawlen), 1);
	kw_buf_put(&cmd, "\x00\x87\xE1\x9D\x26\x7C\x24\x82\x00\x85\x20", 11);
	kw_buf_put(&cmd, raw, 32);
	assert_int_equal(tx_bytes(c, cmd.data, cmd.len, &sig), 0x9000);
	{
		EVP_PKEY *cardpub = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, d.data + 5, 32);
		EVP_PKEY_CTX *dctx = EVP_PKEY_CTX_new(peer, NULL);

		assert_int_equal(EVP_PKEY_derive_init(dctx), 1);
		assert_int_equal(EVP_PKEY_derive_set_peer(dctx, cardpub), 1);
		assert_int_equal(EVP_PKEY_derive(dctx, secret, &slen), 1);
		EVP_PKEY_CTX_free(dctx);
		EVP_PKEY_free(cardpub);
	}
	v = kw_buf_view(&sig);
	assert_int_equal(kw_tlv_expect(&v, 0x7C, &inner), KW_OK);
	assert_int_equal(kw_tlv_expect(&inner, 0x82, &val), KW_OK);
	assert_int_equal(val.len, 32);
	assert_memory_equal(val.ptr, secret, 32);
	/* import Ed25519 (tag 07): metadata shows our public key */
	rawlen = sizeof(raw);
	assert_int_equal(EVP_PKEY_get_raw_private_key(mine, raw, &rawlen), 1);
	kw_buf_reset(&cmd);
	kw_buf_put(&cmd, "\x00\xFE\xE0\x82\x22\x07\x20", 7);
	kw_buf_put(&cmd, raw, 32);
	assert_int_equal(tx_bytes(c, cmd.data, cmd.len, NULL), 0x9000);
	cmd.data[5] = 0x08;   /* wrong tag for the algorithm */
	assert_int_equal(tx_bytes(c, cmd.data, cmd.len, NULL), 0x6A80);
	rawlen = sizeof(raw);
	assert_int_equal(EVP_PKEY_get_raw_public_key(mine, raw, &rawlen), 1);
	assert_int_equal(tx(c, "00F7008200", &d), 0x9000);
	assert_memory_equal(d.data + d.len - 32, raw, 32);
	assert_int_equal(d.data[2], VC_ALG_ED25519);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(mine);
	kw_buf_free(&d);
	kw_buf_free(&sig);
	kw_buf_free(&cmd);
	vcard_card_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_ec_and_sign),
		cmocka_unit_test(test_pin_policies),
		cmocka_unit_test(test_generate_rsa_get_response),
		cmocka_unit_test(test_import_rsa),
		cmocka_unit_test(test_import_ec_and_ecdh),
		cmocka_unit_test(test_attest),
		cmocka_unit_test(test_metadata),
		cmocka_unit_test(test_move_delete_and_big_rsa),
		cmocka_unit_test(test_25519),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
