/* Secret splitting for escrow storage: n-of-n XOR (2-of-2 by default)
 * and m-of-n Shamir over GF(2^8) (AES polynomial x^8+x^4+x^3+x+1).
 * GF arithmetic is branch-free on secret data (no log/exp tables). */
#include <string.h>

#include "kms_base.h"
#include "kw_secret.h"

static uint8_t
gf_mul(uint8_t a, uint8_t b)
{
	uint8_t r = 0;
	int i;

	for (i = 0; i < 8; i++) {
		r ^= (uint8_t)(-(b & 1) & a);
		a = (uint8_t)((a << 1) ^ (-(a >> 7) & 0x1b));
		b >>= 1;
	}
	return r;
}

/* a^254 = a^-1 (0 for 0). */
static uint8_t
gf_inv(uint8_t a)
{
	uint8_t r = 1;
	int i;

	for (i = 0; i < 7; i++) {
		a = gf_mul(a, a);
		r = gf_mul(r, a);
	}
	return r;
}

static kw_rv
split_xor(kw_view secret, unsigned n, kw_buf *shares)
{
	kw_buf acc;
	unsigned i;
	size_t j;
	kw_rv rv;

	kw_buf_init(&acc, 0);
	if ((rv = kw_buf_put_view(&acc, secret)) != KW_OK)
		goto fail;
	for (i = 0; i + 1 < n; i++) {
		if ((rv = kw_buf_reserve(&shares[i], secret.len)) != KW_OK ||
		    (rv = kms_random(shares[i].data, secret.len)) != KW_OK)
			goto fail;
		shares[i].len = secret.len;
		for (j = 0; j < secret.len; j++)
			acc.data[j] ^= shares[i].data[j];
	}
	rv = kw_buf_put_view(&shares[n - 1], kw_buf_view(&acc));
fail:
	kw_buf_free(&acc);
	return rv;
}

static kw_rv
split_shamir(kw_view secret, unsigned m, unsigned n, kw_buf *shares)
{
	uint8_t coef[255], y, xp;
	unsigned i, k;
	size_t j;
	kw_rv rv = KW_OK;

	for (i = 0; i < n && rv == KW_OK; i++) {
		if ((rv = kw_buf_reserve(&shares[i], secret.len + 1)) == KW_OK)
			rv = kw_buf_put_u8(&shares[i], (uint8_t)(i + 1));
	}
	for (j = 0; j < secret.len && rv == KW_OK; j++) {
		coef[0] = secret.ptr[j];
		if ((rv = kms_random(coef + 1, m - 1)) != KW_OK)
			break;
		for (i = 0; i < n; i++) {
			/* Horner: y = sum coef[k] x^k at x = i + 1 */
			xp = (uint8_t)(i + 1);
			y = 0;
			for (k = m; k-- > 0;)
				y = (uint8_t)(gf_mul(y, xp) ^ coef[k]);
			shares[i].data[shares[i].len++] = y;
		}
	}
	kw_memzero(coef, sizeof(coef));
	return rv;
}

kw_rv
kms_split(kw_view secret, unsigned m, unsigned n, bool xor_split, kw_buf *shares)
{
	unsigned i;
	kw_rv rv;

	if (secret.len == 0 || n < 2 || n > 255 || m < 2 || m > n ||
	    (xor_split && m != n))
		return KW_ERR_ARG;
	for (i = 0; i < n; i++)
		kw_buf_reset(&shares[i]);
	rv = xor_split ? split_xor(secret, n, shares) :
	    split_shamir(secret, m, n, shares);
	if (rv != KW_OK)
		for (i = 0; i < n; i++)
			kw_buf_reset(&shares[i]);
	return rv;
}

static kw_rv
combine_shamir(const kw_view *sh, unsigned count, kw_buf *secret)
{
	size_t len = sh[0].len - 1, j;
	unsigned i, k;
	uint8_t li, num, den, acc;
	kw_rv rv;

	for (i = 0; i < count; i++) {
		if (sh[i].len != len + 1 || sh[i].ptr[0] == 0)
			return KW_ERR_FORMAT;
		for (k = 0; k < i; k++)
			if (sh[k].ptr[0] == sh[i].ptr[0])
				return KW_ERR_FORMAT;
	}
	if ((rv = kw_buf_reserve(secret, len)) != KW_OK)
		return rv;
	for (j = 0; j < len; j++) {
		acc = 0;
		for (i = 0; i < count; i++) {
			/* Lagrange basis at 0: prod x_k / (x_k - x_i) */
			num = 1;
			den = 1;
			for (k = 0; k < count; k++) {
				if (k == i)
					continue;
				num = gf_mul(num, sh[k].ptr[0]);
				den = gf_mul(den, (uint8_t)(sh[k].ptr[0] ^ sh[i].ptr[0]));
			}
			li = gf_mul(num, gf_inv(den));
			acc ^= gf_mul(sh[i].ptr[1 + j], li);
		}
		secret->data[secret->len++] = acc;
	}
	return KW_OK;
}

kw_rv
kms_combine(const kw_view *shares, unsigned count, bool xor_split, kw_buf *secret)
{
	unsigned i;
	size_t j;
	kw_rv rv;

	kw_buf_reset(secret);
	if (count < 2 || shares[0].len == 0)
		return KW_ERR_ARG;
	if (!xor_split)
		return combine_shamir(shares, count, secret);
	for (i = 1; i < count; i++)
		if (shares[i].len != shares[0].len)
			return KW_ERR_FORMAT;
	if ((rv = kw_buf_put_view(secret, shares[0])) != KW_OK)
		return rv;
	for (i = 1; i < count; i++)
		for (j = 0; j < secret->len; j++)
			secret->data[j] ^= shares[i].ptr[j];
	return KW_OK;
}
