/* The fake PIV card (see test_p11_fake.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "kw_mock.h"
#include "kw_tlv.h"
#include "test_p11_fake.h"

p11f_card p11f_cards[2];
kw_rv p11f_handler(void *arg, kw_view cmd, kw_buf *r);
static EVP_PKEY *rsa_cache[3];

EVP_PKEY *
p11f_rsa2048(void)
{
	static size_t next;
	EVP_PKEY *k;

	if (rsa_cache[next % 3] == NULL)
		rsa_cache[next % 3] = EVP_RSA_gen(2048);
	k = rsa_cache[next++ % 3];
	assert_non_null(k);
	EVP_PKEY_up_ref(k);
	return k;
}

static void
card_clear(p11f_card *c)
{
	size_t i;

	for (i = 0; i < c->nkeys; i++) {
		EVP_PKEY_free(c->keys[i].key);
		free(c->keys[i].cert);
	}
	memset(c, 0, sizeof(*c));
}

/* The mock transport plus a cheap presence check, as pcsc has. */
static kw_transport_ops fake_ops;
static void *fake_ctx[2];

static kw_rv
fake_present(void *ctx)
{
	size_t i;

	for (i = 0; i < 2; i++)
		if (fake_ctx[i] == ctx)
			return p11f_cards[i].removed ? KW_ERR_CARD_REMOVED : KW_OK;
	return KW_OK;
}

static kw_rv
hook(const char *uri, kw_transport **t, void *arg)
{
	size_t i;
	kw_rv rv;

	(void)arg;
	fake_ops = kw_mock_ops;
	fake_ops.present = fake_present;
	for (i = 0; i < 2; i++) {
		if (strcmp(uri, p11f_cards[i].uri) != 0)
			continue;
		if (p11f_cards[i].removed)
			return KW_ERR_NO_CARD;
		if ((rv = kw_transport_open_ops(&fake_ops, uri + 5, t)) != KW_OK)
			return rv;
		fake_ctx[i] = kw_transport_ctx(*t);
		p11f_cards[i].pin_ok = p11f_cards[i].pin_fresh = false;  /* power-up */
		kw_mock_set_handler((kw_mock *)kw_transport_ctx(*t), p11f_handler, &p11f_cards[i]);
		return KW_OK;
	}
	return KW_ERR_NO_CARD;
}

void
p11f_reset(void)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		card_clear(&p11f_cards[i]);
		snprintf(p11f_cards[i].uri, sizeof(p11f_cards[i].uri), "mock:%c", (char)('a' + i));
		p11f_cards[i].serial = 11111111u * (unsigned)(i + 1);
		strcpy(p11f_cards[i].pin, "123456");
		strcpy(p11f_cards[i].puk, "12345678");
		p11f_cards[i].pin_tries = 3;
		p11f_cards[i].puk_tries = 3;
	}
	setenv("KEYWARD_TRANSPORTS", "mock:a,mock:b", 1);
	kwp11_test_set_open_hook(hook, NULL);
}

void
p11f_free(void)
{
	size_t i;

	for (i = 0; i < 2; i++)
		card_clear(&p11f_cards[i]);
	for (i = 0; i < 3; i++) {
		EVP_PKEY_free(rsa_cache[i]);
		rsa_cache[i] = NULL;
	}
}

static long cert_serial = 1;

static void
make_cert(p11f_key *k)
{
	X509 *x = X509_new();
	X509_NAME *n;
	unsigned char *der = NULL;
	int len;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), cert_serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"fake", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, k->key);
	assert_true(X509_sign(x, k->key, EVP_sha256()) > 0);
	len = i2d_X509(x, &der);
	assert_true(len > 0);
	k->cert = malloc((size_t)len);
	memcpy(k->cert, der, (size_t)len);
	k->cert_len = (size_t)len;
	OPENSSL_free(der);
	X509_free(x);
}

void
p11f_new_cert(p11f_key *k)
{
	free(k->cert);
	make_cert(k);
}

p11f_key *
p11f_add_key(p11f_card *c, uint8_t slot, int rsa_bits, uint8_t pin_policy, bool with_cert)
{
	p11f_key *k = &c->keys[c->nkeys++];

	memset(k, 0, sizeof(*k));
	k->slot = slot;
	k->pin_policy = pin_policy;
	k->origin = KW_PIV_ORIGIN_GENERATED;
	if (rsa_bits == 2048) {
		k->key = p11f_rsa2048();
		k->alg = KW_PIV_ALG_RSA2048;
	} else if (rsa_bits == 384) {
		k->key = EVP_EC_gen("P-384");
		k->alg = KW_PIV_ALG_ECCP384;
	} else {
		k->key = EVP_EC_gen("P-256");
		k->alg = KW_PIV_ALG_ECCP256;
	}
	assert_non_null(k->key);
	if (with_cert)
		make_cert(k);
	return k;
}

void
p11f_standard(p11f_card *c)
{
	p11f_add_key(c, 0x9A, 2048, KW_PIV_PIN_POLICY_ONCE, true);
	p11f_add_key(c, 0x9C, 0, KW_PIV_PIN_POLICY_ALWAYS, true);
	p11f_add_key(c, 0x9D, 2048, KW_PIV_PIN_POLICY_ONCE, false);
	p11f_add_key(c, 0x82, 0, KW_PIV_PIN_POLICY_ONCE, true);
}

static p11f_key *
key_of(p11f_card *c, uint8_t slot)
{
	size_t i;

	for (i = 0; i < c->nkeys; i++)
		if (c->keys[i].slot == slot)
			return &c->keys[i];
	return NULL;
}

static void
sw(kw_buf *r, uint16_t s)
{
	kw_buf_put_u16be(r, s);
}

/* ---- command handlers ---- */

static void
put_pubkey(kw_buf *r, const p11f_key *k)
{
	uint8_t buf[600];
	size_t n = 0;
	kw_buf in;
	BIGNUM *bn = NULL;

	kw_buf_init(&in, 2048);
	if (k->alg == KW_PIV_ALG_RSA2048) {
		EVP_PKEY_get_bn_param(k->key, "n", &bn);
		n = (size_t)BN_bn2bin(bn, buf);
		kw_tlv_put(&in, 0x81, buf, n);
		BN_free(bn);
		bn = NULL;
		EVP_PKEY_get_bn_param(k->key, "e", &bn);
		n = (size_t)BN_bn2bin(bn, buf);
		kw_tlv_put(&in, 0x82, buf, n);
		BN_free(bn);
	} else {
		EVP_PKEY_get_octet_string_param(k->key, "pub", buf, sizeof(buf), &n);
		kw_tlv_put(&in, 0x86, buf, n);
	}
	kw_tlv_put(r, 0x04, in.data, in.len);
	kw_buf_free(&in);
}

static void
do_metadata(p11f_card *c, uint8_t slot, kw_buf *r)
{
	p11f_key *k = key_of(c, slot);
	uint8_t pol[2], a;

	c->metadata++;
	if (c->no_metadata) {
		sw(r, 0x6D00);
		return;
	}
	if (k == NULL) {
		sw(r, 0x6A82);
		return;
	}
	a = k->alg;
	kw_tlv_put(r, 0x01, &a, 1);
	pol[0] = k->pin_policy;
	pol[1] = KW_PIV_TOUCH_POLICY_NEVER;
	kw_tlv_put(r, 0x02, pol, 2);
	kw_tlv_put(r, 0x03, &k->origin, 1);
	put_pubkey(r, k);
	sw(r, 0x9000);
}

static void
do_get_data(p11f_card *c, kw_view data, kw_buf *r)
{
	kw_view tagv;
	kw_buf obj;
	size_t i;
	uint32_t tag = 0;
	p11f_key *k = NULL;

	c->get_data++;
	if (kw_tlv_expect(&data, 0x5c, &tagv) != KW_OK || tagv.len != 3) {
		sw(r, 0x6A80);
		return;
	}
	tag = ((uint32_t)tagv.ptr[0] << 16) | ((uint32_t)tagv.ptr[1] << 8) | tagv.ptr[2];
	if (tag == KW_PIV_OBJ_CHUID && c->no_serial) {
		kw_buf_put(r, "\x53\x14\x34\x10", 4);
		kw_buf_put(r, c->guid, 16);
		kw_buf_put(r, "\xFE\x00", 2);
		sw(r, 0x9000);
		return;
	}
	if (tag == KW_PIV_OBJ_KEY_HISTORY && c->key_history > 0) {
		uint8_t kh[] = { 0x53, 0x08, 0xC1, 0x01, (uint8_t)c->key_history, 0xC2, 0x01, 0x00,
		    0xFE, 0x00 };
		kw_buf_put(r, kh, sizeof(kh));
		sw(r, 0x9000);
		return;
	}
	for (i = 0; i < c->nkeys; i++)
		if (kw_piv_slot_cert_tag(c->keys[i].slot) == tag && c->keys[i].cert != NULL)
			k = &c->keys[i];
	if (k == NULL) {
		sw(r, 0x6A82);
		return;
	}
	kw_buf_init(&obj, 8192);
	kw_tlv_put(&obj, 0x70, k->cert, k->cert_len);
	kw_tlv_put(&obj, 0x71, "\x00", 1);
	kw_tlv_put(&obj, 0xFE, NULL, 0);
	kw_tlv_put(r, 0x53, obj.data, obj.len);
	kw_buf_free(&obj);
	sw(r, 0x9000);
}

static bool
ref_eq(const char *want, const uint8_t *got)
{
	uint8_t pad[8];
	size_t l = strlen(want);

	memset(pad, 0xff, 8);
	memcpy(pad, want, l);
	return memcmp(pad, got, 8) == 0;
}

static void
set_ref(char *dst, const uint8_t *src)
{
	size_t i;

	for (i = 0; i < 8 && src[i] != 0xff; i++)
		dst[i] = (char)src[i];
	dst[i] = '\0';
}

static void
do_verify(p11f_card *c, uint8_t p1, kw_view data, kw_buf *r)
{
	if (p1 == 0xFF && data.len == 0) {   /* reset the security status */
		c->pin_ok = c->pin_fresh = false;
		c->logouts++;
		sw(r, 0x9000);
		return;
	}
	if (data.len == 0) {
		sw(r, c->pin_ok ? 0x9000 : (uint16_t)(0x63C0 | c->pin_tries));
		return;
	}
	c->verifies++;
	if (c->pin_tries == 0) {
		sw(r, 0x6983);
		return;
	}
	if (data.len != 8 || !ref_eq(c->pin, data.ptr)) {
		c->pin_tries--;
		c->pin_ok = false;
		sw(r, (uint16_t)(0x63C0 | c->pin_tries));   /* 63C0 on the last try */
		return;
	}
	c->pin_tries = 3;
	c->pin_ok = c->pin_fresh = true;
	sw(r, 0x9000);
}

static void
do_change(p11f_card *c, uint8_t ref, kw_view data, kw_buf *r)
{
	char *cur = ref == 0x80 ? c->pin : c->puk;
	int *tries = ref == 0x80 ? &c->pin_tries : &c->puk_tries;

	if (data.len != 16) {
		sw(r, 0x6A80);
		return;
	}
	if (*tries == 0) {
		sw(r, 0x6983);
		return;
	}
	if (!ref_eq(cur, data.ptr)) {
		(*tries)--;
		sw(r, (uint16_t)(0x63C0 | *tries));
		return;
	}
	*tries = 3;
	set_ref(cur, data.ptr + 8);
	sw(r, 0x9000);
}

static void
do_reset_retry(p11f_card *c, kw_view data, kw_buf *r)
{
	if (data.len != 16) {
		sw(r, 0x6A80);
		return;
	}
	if (!ref_eq(c->puk, data.ptr)) {
		c->puk_tries--;
		sw(r, (uint16_t)(0x63C0 | c->puk_tries));
		return;
	}
	set_ref(c->pin, data.ptr + 8);
	c->pin_tries = 3;
	sw(r, 0x9000);
}

static bool
priv_op(p11f_key *k, uint32_t tag, kw_view in, uint8_t *out, size_t *outlen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->key, NULL);
	EVP_PKEY *peer = NULL;
	OSSL_PARAM p[3];
	bool ok = false;

	if (k->alg == KW_PIV_ALG_RSA2048 && tag == 0x81) {
		ok = EVP_PKEY_decrypt_init(ctx) > 0 &&
		    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) > 0 &&
		    EVP_PKEY_decrypt(ctx, out, outlen, in.ptr, in.len) > 0;
	} else if (tag == 0x81) {
		ok = in.len == (k->alg == KW_PIV_ALG_ECCP384 ? 48u : 32u) &&
		    EVP_PKEY_sign_init(ctx) > 0 &&
		    EVP_PKEY_sign(ctx, out, outlen, in.ptr, in.len) > 0;
	} else if (tag == 0x85) {
		EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
		p[0] = OSSL_PARAM_construct_utf8_string("group",
		    (char *)(k->alg == KW_PIV_ALG_ECCP384 ? "P-384" : "P-256"), 0);
		p[1] = OSSL_PARAM_construct_octet_string("pub", (void *)in.ptr, in.len);
		p[2] = OSSL_PARAM_construct_end();
		ok = EVP_PKEY_fromdata_init(pc) > 0 &&
		    EVP_PKEY_fromdata(pc, &peer, EVP_PKEY_PUBLIC_KEY, p) > 0 &&
		    EVP_PKEY_derive_init(ctx) > 0 && EVP_PKEY_derive_set_peer(ctx, peer) > 0 &&
		    EVP_PKEY_derive(ctx, out, outlen) > 0;
		EVP_PKEY_CTX_free(pc);
		EVP_PKEY_free(peer);
	}
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static void
do_gen_auth(p11f_card *c, uint8_t alg, uint8_t slot, kw_view data, kw_buf *r)
{
	p11f_key *k = key_of(c, slot);
	kw_view dyn, v;
	uint32_t tag = 0;
	uint8_t out[600];
	size_t outlen = sizeof(out);
	kw_buf inner;

	c->gen_auth++;
	if (c->gen_auth_delay_ms > 0) {
		struct timespec ts = { (time_t)(c->gen_auth_delay_ms / 1000),
			(long)(c->gen_auth_delay_ms % 1000) * 1000000L };

		__atomic_store_n(&c->in_gen_auth, 1, __ATOMIC_SEQ_CST);
		nanosleep(&ts, NULL);
		__atomic_store_n(&c->in_gen_auth, 0, __ATOMIC_SEQ_CST);
	}
	if (k == NULL || k->alg != alg) {
		sw(r, 0x6A80);
		return;
	}
	if (k->pin_policy != KW_PIV_PIN_POLICY_NEVER && !c->pin_ok) {
		sw(r, 0x6982);
		return;
	}
	if (k->pin_policy == KW_PIV_PIN_POLICY_ALWAYS && !c->pin_fresh) {
		sw(r, 0x6982);
		return;
	}
	c->pin_fresh = false;
	if (kw_tlv_expect(&data, 0x7c, &dyn) != KW_OK || kw_tlv_expect(&dyn, 0x82, &v) != KW_OK ||
	    kw_tlv_get(&dyn, &tag, &v) != KW_OK || !priv_op(k, tag, v, out, &outlen)) {
		sw(r, 0x6A80);
		return;
	}
	kw_buf_init(&inner, 1024);
	kw_tlv_put(&inner, 0x82, out, outlen);
	kw_tlv_put(r, 0x7c, inner.data, inner.len);
	kw_buf_free(&inner);
	sw(r, 0x9000);
}

/* Split a command APDU (short or extended) into header and data. */
static bool
parse_apdu(kw_view cmd, uint8_t hdr[4], kw_view *data)
{
	size_t lc;

	*data = kw_view_make(NULL, 0);
	if (cmd.len < 4)
		return false;
	memcpy(hdr, cmd.ptr, 4);
	if (cmd.len <= 5)
		return true;
	if (cmd.ptr[4] != 0) {
		lc = cmd.ptr[4];
		if (cmd.len < 5 + lc)
			return false;
		*data = kw_view_make(cmd.ptr + 5, lc);
		return true;
	}
	if (cmd.len == 7)
		return true;   /* extended Le only */
	lc = ((size_t)cmd.ptr[5] << 8) | cmd.ptr[6];
	if (cmd.len < 7 + lc)
		return false;
	*data = kw_view_make(cmd.ptr + 7, lc);
	return true;
}

static kw_rv dispatch(p11f_card *c, kw_view cmd, kw_buf *r);

/* Give at most 256 bytes per answer to a short command, the rest through
 * GET RESPONSE (61xx), like a card without extended length. */
static void
send_chunk(p11f_card *c, kw_buf *r)
{
	size_t n = c->pending_len > 256 ? 256 : c->pending_len;

	kw_buf_put(r, c->pending, n);
	memmove(c->pending, c->pending + n, c->pending_len - n);
	c->pending_len -= n;
	if (c->pending_len > 0)
		sw(r, (uint16_t)(0x6100 | (c->pending_len > 255 ? 0 : c->pending_len)));
	else
		sw(r, 0x9000);
}

kw_rv
p11f_handler(void *arg, kw_view cmd, kw_buf *r)
{
	p11f_card *c = arg;
	kw_buf full;
	kw_rv rv;

	if (c->removed)
		return KW_ERR_CARD_REMOVED;
	if (c->drop_once) {
		c->drop_once = false;
		c->pin_ok = c->pin_fresh = false;
		return KW_ERR_CARD_REMOVED;
	}
	if (c->reset_once) {
		c->reset_once = false;
		c->pin_ok = c->pin_fresh = false;
		return KW_ERR_CARD_RESET;
	}
	if (cmd.len >= 2 && cmd.ptr[1] == 0xC0) {
		c->apdus++;
		send_chunk(c, r);
		return KW_OK;
	}
	c->pending_len = 0;
	kw_buf_init(&full, 16384);
	rv = dispatch(c, cmd, &full);
	if (rv == KW_OK && full.len > 258 && cmd.len != 7 && !(cmd.len > 7 && cmd.ptr[4] == 0)) {
		/* short command: chunk the answer */
		memcpy(c->pending, full.data, full.len - 2);
		c->pending_len = full.len - 2;
		send_chunk(c, r);
	} else if (rv == KW_OK) {
		kw_buf_put(r, full.data, full.len);
	}
	kw_buf_free(&full);
	return rv;
}

static kw_rv
dispatch(p11f_card *c, kw_view cmd, kw_buf *r)
{
	static const uint8_t apt[] = { 0x61, 0x11, 0x4f, 0x06, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00,
	    0x79, 0x07, 0x4f, 0x05, 0xa0, 0x00, 0x00, 0x03, 0x08 };
	uint8_t h[4], b[4];
	kw_view data;

	c->apdus++;
	if (!parse_apdu(cmd, h, &data)) {
		sw(r, 0x6700);
		return KW_OK;
	}
	/* command chaining (CLA bit 0x10): collect, answer 9000 */
	if ((h[0] & 0x10) != 0) {
		if (c->chain_len + data.len > sizeof(c->chain)) {
			sw(r, 0x6700);
			return KW_OK;
		}
		memcpy(c->chain + c->chain_len, data.ptr, data.len);
		c->chain_len += data.len;
		sw(r, 0x9000);
		return KW_OK;
	}
	if (c->chain_len > 0) {
		if (c->chain_len + data.len > sizeof(c->chain)) {
			sw(r, 0x6700);
			return KW_OK;
		}
		memcpy(c->chain + c->chain_len, data.ptr, data.len);
		c->chain_len += data.len;
		data = kw_view_make(c->chain, c->chain_len);
		c->chain_len = 0;
	}
	switch (h[1]) {
	case 0xA4:
		c->selects++;
		if (c->not_piv) {
			sw(r, 0x6A82);
			break;
		}
		kw_buf_put(r, apt, sizeof(apt));
		sw(r, 0x9000);
		break;
	case 0xFD:
		if (c->no_serial) {
			sw(r, 0x6D00);
			break;
		}
		kw_buf_put(r, "\x05\x04\x03", 3);
		sw(r, 0x9000);
		break;
	case 0xF8:
		if (c->no_serial) {
			sw(r, 0x6D00);
			break;
		}
		b[0] = (uint8_t)(c->serial >> 24); b[1] = (uint8_t)(c->serial >> 16);
		b[2] = (uint8_t)(c->serial >> 8); b[3] = (uint8_t)c->serial;
		kw_buf_put(r, b, 4);
		sw(r, 0x9000);
		break;
	case 0xF7: do_metadata(c, h[3], r); break;
	case 0xCB: do_get_data(c, data, r); break;
	case 0x20: do_verify(c, h[2], data, r); break;
	case 0x24: do_change(c, h[3], data, r); break;
	case 0x2C: do_reset_retry(c, data, r); break;
	case 0x87: do_gen_auth(c, h[2], h[3], data, r); break;
	default: sw(r, 0x6D00); break;
	}
	return KW_OK;
}

/* ---- module helpers ---- */

CK_SLOT_ID
p11f_slot_of(int card)
{
	CK_SLOT_ID slots[8];
	CK_ULONG n = 8, i;
	CK_TOKEN_INFO ti;
	char want[32];

	snprintf(want, sizeof(want), "keyward PIV #%u", p11f_cards[card].serial);
	assert_int_equal(C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
	n = 8;
	assert_int_equal(C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	for (i = 0; i < n; i++) {
		assert_int_equal(C_GetTokenInfo(slots[i], &ti), CKR_OK);
		if (memcmp(ti.label, want, strlen(want)) == 0)
			return slots[i];
	}
	fail_msg("no token with serial %u", p11f_cards[card].serial);
	return 0;
}

CK_SESSION_HANDLE
p11f_open(int card, bool rw)
{
	CK_SESSION_HANDLE h = 0;

	assert_int_equal(C_OpenSession(p11f_slot_of(card),
	    CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0), NULL, NULL, &h), CKR_OK);
	return h;
}

CK_OBJECT_HANDLE
p11f_find(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, uint8_t id)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, &id, 1 },
	};
	CK_OBJECT_HANDLE h[4];
	CK_ULONG n = 0;

	assert_int_equal(C_FindObjectsInit(s, t, 2), CKR_OK);
	assert_int_equal(C_FindObjects(s, h, 4, &n), CKR_OK);
	assert_int_equal(C_FindObjectsFinal(s), CKR_OK);
	return n == 1 ? h[0] : CK_INVALID_HANDLE;
}

CK_ULONG
p11f_count(CK_SESSION_HANDLE s, CK_ATTRIBUTE *t, CK_ULONG n)
{
	CK_OBJECT_HANDLE h[64];
	CK_ULONG got = 0;

	assert_int_equal(C_FindObjectsInit(s, t, n), CKR_OK);
	assert_int_equal(C_FindObjects(s, h, 64, &got), CKR_OK);
	assert_int_equal(C_FindObjectsFinal(s), CKR_OK);
	return got;
}
