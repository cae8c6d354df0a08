/* Host-side encodings around the card's raw private-key operation:
 * PKCS#1 v1.5 block type 1 and EMSA-PSS (RFC 8017 sections 9.1, 9.2),
 * DigestInfo, and ECDSA-Sig-Value DER to the PKCS#11 r||s form. */
#include <string.h>

#include <openssl/rand.h>

#include "kw_secret.h"
#include "kw_tlv.h"
#include "p11_int.h"

kw_rv
kwp11_pad_pkcs1_type1(const uint8_t *in, size_t len, size_t k, kw_buf *out)
{
	kw_rv rv;

	if (k < 11 || len > k - 11)
		return KW_ERR_RANGE;
	if ((rv = kw_buf_put_u8(out, 0x00)) != KW_OK || (rv = kw_buf_put_u8(out, 0x01)) != KW_OK)
		return rv;
	if ((rv = kw_buf_reserve(out, k - 2)) != KW_OK)
		return rv;
	memset(out->data + out->len, 0xff, k - 3 - len);
	out->len += k - 3 - len;
	if ((rv = kw_buf_put_u8(out, 0x00)) != KW_OK)
		return rv;
	return kw_buf_put(out, in, len);
}

static kw_rv
mgf1_xor(uint8_t *dst, size_t dlen, const uint8_t *seed, size_t slen, const EVP_MD *md)
{
	uint8_t h[EVP_MAX_MD_SIZE], c[4];
	unsigned int hl;
	size_t done = 0, i;
	uint32_t ctr = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	kw_rv rv = KW_ERR_CRYPTO;

	if (ctx == NULL)
		return KW_ERR_NOMEM;
	while (done < dlen) {
		c[0] = (uint8_t)(ctr >> 24); c[1] = (uint8_t)(ctr >> 16);
		c[2] = (uint8_t)(ctr >> 8); c[3] = (uint8_t)ctr;
		if (!EVP_DigestInit_ex(ctx, md, NULL) || !EVP_DigestUpdate(ctx, seed, slen) ||
		    !EVP_DigestUpdate(ctx, c, 4) || !EVP_DigestFinal_ex(ctx, h, &hl))
			goto out;
		for (i = 0; i < hl && done < dlen; i++)
			dst[done++] ^= h[i];
		ctr++;
	}
	rv = KW_OK;
out:
	EVP_MD_CTX_free(ctx);
	return rv;
}

kw_rv
kwp11_pad_pss(const uint8_t *mhash, size_t hlen, const EVP_MD *md, const EVP_MD *mgf,
    size_t salt_len, size_t mod_bits, kw_buf *out)
{
	static const uint8_t zero8[8];
	size_t em_bits = mod_bits - 1, em_len = (em_bits + 7) / 8, k = (mod_bits + 7) / 8;
	size_t db_len;
	uint8_t salt[512], h[EVP_MAX_MD_SIZE], *em;
	unsigned int hl;
	EVP_MD_CTX *ctx = NULL;
	kw_rv rv;

	if ((size_t)EVP_MD_get_size(md) != hlen || salt_len > sizeof(salt) ||
	    em_len < hlen + salt_len + 2)
		return KW_ERR_RANGE;
	if (salt_len > 0 && RAND_bytes(salt, (int)salt_len) != 1)
		return KW_ERR_CRYPTO;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return KW_ERR_NOMEM;
	rv = KW_ERR_CRYPTO;
	if (!EVP_DigestInit_ex(ctx, md, NULL) || !EVP_DigestUpdate(ctx, zero8, 8) ||
	    !EVP_DigestUpdate(ctx, mhash, hlen) || !EVP_DigestUpdate(ctx, salt, salt_len) ||
	    !EVP_DigestFinal_ex(ctx, h, &hl))
		goto out;
	if ((rv = kw_buf_reserve(out, k)) != KW_OK)
		goto out;
	em = out->data + out->len;
	memset(em, 0, k);
	if (k > em_len)
		em++;   /* one leading zero byte when modBits - 1 is a multiple of 8 */
	db_len = em_len - hlen - 1;
	em[db_len - salt_len - 1] = 0x01;
	memcpy(em + db_len - salt_len, salt, salt_len);
	if ((rv = mgf1_xor(em, db_len, h, hlen, mgf)) != KW_OK)
		goto out;
	em[0] &= (uint8_t)(0xff >> (8 * em_len - em_bits));
	memcpy(em + db_len, h, hlen);
	em[em_len - 1] = 0xbc;
	out->len += k;
	kw_memzero(salt, sizeof(salt));
out:
	EVP_MD_CTX_free(ctx);
	return rv;
}

kw_rv
kwp11_digest_info(const EVP_MD *md, const uint8_t *hash, size_t hlen, kw_buf *out)
{
	static const uint8_t sha1[] = { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e,
	    0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14 };
	static const uint8_t sha2[] = { 0x30, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86,
	    0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x00, 0x05, 0x00, 0x04, 0x00 };
	uint8_t pre[sizeof(sha2)];
	int type = EVP_MD_get_type(md);
	kw_rv rv;

	if (type == NID_sha1) {
		if (hlen != 20)
			return KW_ERR_RANGE;
		if ((rv = kw_buf_put(out, sha1, sizeof(sha1))) != KW_OK)
			return rv;
		return kw_buf_put(out, hash, hlen);
	}
	memcpy(pre, sha2, sizeof(pre));
	switch (type) {
	case NID_sha256: pre[14] = 0x01; break;
	case NID_sha384: pre[14] = 0x02; break;
	case NID_sha512: pre[14] = 0x03; break;
	case NID_sha224: pre[14] = 0x04; break;
	default: return KW_ERR_NOT_SUPPORTED;
	}
	if ((size_t)EVP_MD_get_size(md) != hlen)
		return KW_ERR_RANGE;
	pre[1] = (uint8_t)(sizeof(pre) - 2 + hlen);
	pre[18] = (uint8_t)hlen;
	if ((rv = kw_buf_put(out, pre, sizeof(pre))) != KW_OK)
		return rv;
	return kw_buf_put(out, hash, hlen);
}

static kw_rv
int_to_field(kw_view v, size_t field_len, uint8_t *out)
{
	while (v.len > 0 && v.ptr[0] == 0) {
		v.ptr++;
		v.len--;
	}
	if (v.len > field_len)
		return KW_ERR_FORMAT;
	memset(out, 0, field_len - v.len);
	memcpy(out + field_len - v.len, v.ptr, v.len);
	return KW_OK;
}

kw_rv
kwp11_ecdsa_der_to_raw(kw_view der, size_t field_len, uint8_t *out)
{
	kw_view seq, r, s;
	kw_rv rv;

	if ((rv = kw_tlv_expect(&der, 0x30, &seq)) != KW_OK ||
	    (rv = kw_view_expect_end(&der)) != KW_OK ||
	    (rv = kw_tlv_expect(&seq, 0x02, &r)) != KW_OK ||
	    (rv = kw_tlv_expect(&seq, 0x02, &s)) != KW_OK ||
	    (rv = kw_view_expect_end(&seq)) != KW_OK)
		return rv;
	if ((rv = int_to_field(r, field_len, out)) != KW_OK)
		return rv;
	return int_to_field(s, field_len, out + field_len);
}

size_t
kwp11_pkey_size(const EVP_PKEY *pub)
{
	int bits = EVP_PKEY_get_bits(pub);

	return bits > 0 ? ((size_t)bits + 7) / 8 : 0;
}

CK_RV
kwp11_random(uint8_t *out, CK_ULONG len)
{
	if (out == NULL && len > 0)
		return CKR_ARGUMENTS_BAD;
	if (len > 0x7fffffff)
		return CKR_ARGUMENTS_BAD;
	return len == 0 || RAND_bytes(out, (int)len) == 1 ? CKR_OK : CKR_FUNCTION_FAILED;
}
