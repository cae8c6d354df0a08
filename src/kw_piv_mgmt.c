/* Management-key mutual authentication (SP 800-73-4 part 2, GENERAL
 * AUTHENTICATE, mutual authentication; as YubiKeys do it): INS 87 alg 9B.
 *   1. client: 7C { 80 (empty) }          card: 7C { 80 witness }
 *      (the witness is a random block encrypted under the key)
 *   2. client: 7C { 80 decrypted witness, 81 challenge }
 *      card:   7C { 82 challenge encrypted under the key }
 * The client checks the card's answer in constant time: both sides prove
 * knowledge of the key. Blocks are single ECB blocks (3DES: 8, AES: 16). */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "kw_log.h"
#include "kw_piv_int.h"
#include "kw_secret.h"
#include "kw_tlv.h"

#define KW_PIV_BLOCK_MAX 16

static const EVP_CIPHER *
piv_mgmt_cipher(uint8_t alg)
{
	switch (alg) {
	case KW_PIV_ALG_3DES: return EVP_des_ede3_ecb();
	case KW_PIV_ALG_AES128: return EVP_aes_128_ecb();
	case KW_PIV_ALG_AES192: return EVP_aes_192_ecb();
	case KW_PIV_ALG_AES256: return EVP_aes_256_ecb();
	default: return NULL;
	}
}

static size_t
piv_mgmt_block(uint8_t alg)
{
	return alg == KW_PIV_ALG_3DES ? 8 : 16;
}

/* One ECB block through the cipher, encrypting or decrypting. */
static kw_rv
piv_block(uint8_t alg, const uint8_t *key, const uint8_t *in, uint8_t *out, int enc)
{
	EVP_CIPHER_CTX *ctx;
	int n = 0, bs = (int)piv_mgmt_block(alg);
	kw_rv rv = KW_ERR_CRYPTO;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return KW_ERR_NOMEM;
	if (EVP_CipherInit_ex(ctx, piv_mgmt_cipher(alg), NULL, key, NULL, enc) == 1 &&
	    EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	    EVP_CipherUpdate(ctx, out, &n, in, bs) == 1 && n == bs)
		rv = KW_OK;
	EVP_CIPHER_CTX_free(ctx);
	return rv;
}

/* Response 7C { <tag> block } exactly. */
static kw_rv
piv_mgmt_parse(kw_view v, uint32_t tag, size_t bs, uint8_t *out)
{
	kw_view dyn, val;
	kw_rv rv;

	if ((rv = kw_tlv_expect(&v, 0x7c, &dyn)) != KW_OK ||
	    (rv = kw_view_expect_end(&v)) != KW_OK ||
	    (rv = kw_tlv_expect(&dyn, tag, &val)) != KW_OK ||
	    (rv = kw_view_expect_end(&dyn)) != KW_OK)
		return rv;
	if (val.len != bs)
		return KW_ERR_FORMAT;
	memcpy(out, val.ptr, bs);
	return KW_OK;
}

static kw_rv
piv_mgmt_step1(kw_piv *p, uint8_t alg, uint8_t *witness, kw_buf *r)
{
	static const uint8_t req[] = { 0x7c, 0x02, 0x80, 0x00 };
	kw_rv rv;

	if ((rv = kw_piv_cmd(p, KW_PIV_INS_GENERAL_AUTH, alg, KW_PIV_SLOT_MGMT, req,
	    sizeof(req), r, NULL)) != KW_OK)
		return rv;
	return piv_mgmt_parse(kw_buf_view(r), 0x80, piv_mgmt_block(alg), witness);
}

static kw_rv
piv_mgmt_step2(kw_piv *p, uint8_t alg, const uint8_t *plain, const uint8_t *chal,
    uint8_t *answer, kw_buf *r)
{
	size_t bs = piv_mgmt_block(alg);
	kw_buf cmd;
	kw_rv rv;

	kw_buf_init(&cmd, 64);
	if ((rv = kw_tlv_put_header(&cmd, 0x7c, 2 * (2 + bs))) != KW_OK ||
	    (rv = kw_tlv_put(&cmd, 0x80, plain, bs)) != KW_OK ||
	    (rv = kw_tlv_put(&cmd, 0x81, chal, bs)) != KW_OK)
		goto fail;
	if ((rv = kw_piv_cmd(p, KW_PIV_INS_GENERAL_AUTH, alg, KW_PIV_SLOT_MGMT, cmd.data,
	    cmd.len, r, NULL)) != KW_OK)
		goto fail;
	rv = piv_mgmt_parse(kw_buf_view(r), 0x82, bs, answer);
fail:
	kw_buf_free(&cmd);
	return rv;
}

kw_rv
kw_piv_authenticate(kw_piv *p, uint8_t alg, const uint8_t *key, size_t key_len)
{
	uint8_t witness[KW_PIV_BLOCK_MAX], plain[KW_PIV_BLOCK_MAX];
	uint8_t chal[KW_PIV_BLOCK_MAX], answer[KW_PIV_BLOCK_MAX], expect[KW_PIV_BLOCK_MAX];
	size_t bs = piv_mgmt_block(alg);
	kw_buf r;
	kw_rv rv;

	if (p == NULL || key == NULL || kw_piv_mgmt_key_len(alg) == 0 ||
	    key_len != kw_piv_mgmt_key_len(alg))
		return KW_ERR_ARG;
	kw_buf_init(&r, KW_MAX_RESPONSE);
	/* Both steps inside one transaction: the card forgets the witness
	 * when another process talks to it in between. */
	if ((rv = kw_transport_begin(p->t)) != KW_OK)
		goto out;
	if ((rv = piv_mgmt_step1(p, alg, witness, &r)) != KW_OK ||
	    (rv = piv_block(alg, key, witness, plain, 0)) != KW_OK)
		goto fail;
	rv = KW_ERR_CRYPTO;
	if (RAND_bytes(chal, (int)bs) != 1)
		goto fail;
	if ((rv = piv_block(alg, key, chal, expect, 1)) != KW_OK ||
	    (rv = piv_mgmt_step2(p, alg, plain, chal, answer, &r)) != KW_OK)
		goto fail;
	if (!kw_timingsafe_eq(answer, expect, bs)) {
		kw_warn("piv: the card's answer to the management-key challenge is wrong");
		rv = KW_ERR_SECURITY;
	}
fail:
	(void)kw_transport_end(p->t);
out:
	kw_buf_free(&r);
	kw_memzero(witness, sizeof(witness));
	kw_memzero(plain, sizeof(plain));
	kw_memzero(chal, sizeof(chal));
	kw_memzero(answer, sizeof(answer));
	kw_memzero(expect, sizeof(expect));
	return rv;
}
