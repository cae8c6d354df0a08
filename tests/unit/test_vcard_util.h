/* Helpers for the keyward-vcard unit tests: drive the applet core with
 * APDUs written as hex strings. */
#ifndef TEST_VCARD_UTIL_H
#define TEST_VCARD_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vcard.h"

/* Send hex APDU; returns SW, response data (without SW) in *data if set. */
static inline uint16_t
tx_bytes(vcard_card *c, const uint8_t *p, size_t n, kw_buf *data)
{
	kw_buf resp;
	uint16_t sw;

	kw_buf_init(&resp, 0);
	assert_int_equal(vcard_card_process(c, p, n, &resp), KW_OK);
	assert_true(resp.len >= 2);
	sw = (uint16_t)(resp.data[resp.len - 2] << 8 | resp.data[resp.len - 1]);
	if (data != NULL) {
		kw_buf_reset(data);
		assert_int_equal(kw_buf_put(data, resp.data, resp.len - 2), KW_OK);
	}
	kw_buf_free(&resp);
	return sw;
}

static inline uint16_t
tx(vcard_card *c, const char *hex, kw_buf *data)
{
	kw_buf cmd;
	uint16_t sw;

	kw_buf_init(&cmd, 0);
	assert_int_equal(kw_hex_decode(hex, &cmd), KW_OK);
	sw = tx_bytes(c, cmd.data, cmd.len, data);
	kw_buf_free(&cmd);
	return sw;
}

/* Send and collect the whole response through GET RESPONSE. */
static inline uint16_t
tx_all(vcard_card *c, const char *hex, kw_buf *data)
{
	kw_buf part;
	uint16_t sw;

	kw_buf_init(&part, 0);
	kw_buf_reset(data);
	sw = tx(c, hex, &part);
	assert_int_equal(kw_buf_put_view(data, kw_buf_view(&part)), KW_OK);
	while ((sw & 0xFF00) == 0x6100) {
		sw = tx(c, "00C0000000", &part);
		assert_int_equal(kw_buf_put_view(data, kw_buf_view(&part)), KW_OK);
	}
	kw_buf_free(&part);
	return sw;
}

static inline vcard_card *
new_selected_card(void)
{
	vcard_card *c = NULL;

	assert_int_equal(vcard_card_new(&c), KW_OK);
	c->serial = 12345678;
	assert_int_equal(tx(c, "00A4040005A000000308", NULL), 0x9000);
	return c;
}

#define DEFAULT_MGMT "010203040506070801020304050607080102030405060708"

#endif

#include <openssl/evp.h>

static inline void
ecb(uint8_t alg, const uint8_t *key, const uint8_t *in, uint8_t *out, size_t n, int enc)
{
	const EVP_CIPHER *ciph = alg == VC_ALG_3DES ? EVP_des_ede3_ecb() :
	    alg == VC_ALG_AES128 ? EVP_aes_128_ecb() :
	    alg == VC_ALG_AES192 ? EVP_aes_192_ecb() : EVP_aes_256_ecb();
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int outl = 0;

	assert_non_null(ctx);
	assert_int_equal(EVP_CipherInit_ex(ctx, ciph, NULL, key, NULL, enc), 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	assert_int_equal(EVP_CipherUpdate(ctx, out, &outl, in, (int)n), 1);
	assert_int_equal((size_t)outl, n);
	EVP_CIPHER_CTX_free(ctx);
}

/* Mutual authentication with the management key; returns the SW of the
 * second step. */
static inline uint16_t
mgmt_auth(vcard_card *c, uint8_t alg, const char *keyhex)
{
	kw_buf key, d, cmd;
	uint8_t w[16], chal[16], expect[16];
	size_t bl = alg == VC_ALG_3DES ? 8 : 16;
	uint16_t sw;

	kw_buf_init(&key, 0);
	kw_buf_init(&d, 0);
	kw_buf_init(&cmd, 0);
	assert_int_equal(kw_hex_decode(keyhex, &key), KW_OK);
	kw_buf_put_u32be(&cmd, 0x00870000u | ((uint32_t)alg << 8) | 0x9B);
	kw_buf_put(&cmd, "\x04\x7C\x02\x80\x00", 5);
	assert_int_equal(tx_bytes(c, cmd.data, cmd.len, &d), 0x9000);
	assert_int_equal(d.len, 4 + bl);
	assert_int_equal(d.data[0], 0x7C);
	assert_int_equal(d.data[2], 0x80);
	ecb(alg, key.data, d.data + 4, w, bl, 0);
	memset(chal, 0x5A, sizeof(chal));
	kw_buf_reset(&cmd);
	kw_buf_put_u32be(&cmd, 0x00870000u | ((uint32_t)alg << 8) | 0x9B);
	kw_buf_put_u8(&cmd, (uint8_t)(2 + 2 * (2 + bl) + 2));
	kw_buf_put_u8(&cmd, 0x7C);
	kw_buf_put_u8(&cmd, (uint8_t)(2 * (2 + bl) + 2));
	kw_buf_put_u8(&cmd, 0x80);
	kw_buf_put_u8(&cmd, (uint8_t)bl);
	kw_buf_put(&cmd, w, bl);
	kw_buf_put_u8(&cmd, 0x81);
	kw_buf_put_u8(&cmd, (uint8_t)bl);
	kw_buf_put(&cmd, chal, bl);
	kw_buf_put(&cmd, "\x82\x00", 2);
	sw = tx_bytes(c, cmd.data, cmd.len, &d);
	if (sw == 0x9000) {
		ecb(alg, key.data, chal, expect, bl, 1);
		assert_int_equal(d.len, 4 + bl);
		assert_memory_equal(d.data + 4, expect, bl);
	}
	kw_buf_free(&key);
	kw_buf_free(&d);
	kw_buf_free(&cmd);
	return sw;
}

#define PIN_123456 "313233343536FFFF"
#define PUK_DEFAULT "3132333435363738"

/* Send data with command chaining (255-byte links), then collect the
 * response through GET RESPONSE. Returns the final SW. */
static inline uint16_t
tx_chain(vcard_card *c, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *p,
    size_t n, kw_buf *out)
{
	kw_buf cmd, part;
	size_t off = 0, take;
	uint16_t sw = 0;

	kw_buf_init(&cmd, 0);
	kw_buf_init(&part, 0);
	if (out != NULL)
		kw_buf_reset(out);
	do {
		take = n - off > 255 ? 255 : n - off;
		kw_buf_reset(&cmd);
		kw_buf_put_u8(&cmd, off + take < n ? 0x10 : 0x00);
		kw_buf_put_u8(&cmd, ins);
		kw_buf_put_u8(&cmd, p1);
		kw_buf_put_u8(&cmd, p2);
		if (take > 0) {
			kw_buf_put_u8(&cmd, (uint8_t)take);
			kw_buf_put(&cmd, p + off, take);
		}
		off += take;
		sw = tx_bytes(c, cmd.data, cmd.len, &part);
		if (off < n)
			assert_int_equal(sw, 0x9000);
	} while (off < n);
	if (out != NULL)
		kw_buf_put_view(out, kw_buf_view(&part));
	while ((sw & 0xFF00) == 0x6100) {
		sw = tx(c, "00C0000000", &part);
		if (out != NULL)
			kw_buf_put_view(out, kw_buf_view(&part));
	}
	kw_buf_free(&cmd);
	kw_buf_free(&part);
	return sw;
}
