/* GENERAL AUTHENTICATE (INS 87) with a private key:
 *   RSA sign/decrypt: 7C { 82 (empty), 81 block }   -> 7C { 82 result }
 *   ECDSA:            7C { 82 (empty), 81 hash }    -> 7C { 82 DER sig }
 *   Ed25519:          7C { 82 (empty), 81 message } -> 7C { 82 signature }
 *   ECDH / X25519:    7C { 82 (empty), 85 point }   -> 7C { 82 secret } */
#include <string.h>

#include "kw_piv_int.h"
#include "kw_secret.h"
#include "kw_tlv.h"

#define KW_PIV_IN_MAX 512   /* RSA-4096 */

/* Send 7C { 82 00, <tag> in } and return the value of 82 in the answer. */
static kw_rv
piv_gen_auth(kw_piv *p, uint8_t slot, uint8_t alg, uint32_t tag,
    const uint8_t *in, size_t in_len, kw_buf *resp, kw_view *result)
{
	kw_buf cmd;
	kw_view v, dyn;
	kw_rv rv;

	result->ptr = NULL;
	result->len = 0;
	kw_buf_init(&cmd, 2 * KW_PIV_IN_MAX);
	if ((rv = kw_tlv_put_header(&cmd, 0x7c, 2 + kw_tlv_header_size(tag, in_len) +
	    in_len)) != KW_OK ||
	    (rv = kw_tlv_put(&cmd, 0x82, NULL, 0)) != KW_OK ||
	    (rv = kw_tlv_put(&cmd, tag, in, in_len)) != KW_OK)
		goto fail;
	if ((rv = kw_piv_cmd(p, KW_PIV_INS_GENERAL_AUTH, alg, slot, cmd.data, cmd.len,
	    resp, NULL)) != KW_OK)
		goto fail;
	v = kw_buf_view(resp);
	if ((rv = kw_tlv_expect(&v, 0x7c, &dyn)) != KW_OK ||
	    (rv = kw_view_expect_end(&v)) != KW_OK ||
	    (rv = kw_tlv_expect(&dyn, 0x82, result)) != KW_OK ||
	    (rv = kw_view_expect_end(&dyn)) != KW_OK)
		goto fail;
	if (result->len == 0)
		rv = KW_ERR_FORMAT;
fail:
	kw_buf_free(&cmd);
	return rv;
}

/* DER ECDSA-Sig-Value: SEQUENCE { INTEGER r, INTEGER s }, nothing after. */
static kw_rv
piv_check_ecdsa_sig(kw_view v)
{
	kw_view seq, r, s;
	kw_rv rv;

	if ((rv = kw_tlv_expect(&v, 0x30, &seq)) != KW_OK ||
	    (rv = kw_view_expect_end(&v)) != KW_OK ||
	    (rv = kw_tlv_expect(&seq, 0x02, &r)) != KW_OK ||
	    (rv = kw_tlv_expect(&seq, 0x02, &s)) != KW_OK ||
	    (rv = kw_view_expect_end(&seq)) != KW_OK)
		return rv;
	return r.len == 0 || s.len == 0 ? KW_ERR_FORMAT : KW_OK;
}

static kw_rv
piv_rsa_op(kw_piv *p, uint8_t slot, uint8_t alg, const uint8_t *in, size_t in_len,
    kw_buf *out)
{
	size_t mod = (size_t)kw_piv_alg_bits(alg) / 8;
	kw_buf resp;
	kw_view res;
	kw_rv rv;

	if (in_len != mod)
		return KW_ERR_ARG;
	kw_buf_init(&resp, KW_MAX_RESPONSE);
	if ((rv = piv_gen_auth(p, slot, alg, 0x81, in, in_len, &resp, &res)) != KW_OK)
		goto fail;
	/* Keep the modulus size: restore leading zeros a card may strip. */
	rv = KW_ERR_FORMAT;
	if (res.len > mod)
		goto fail;
	if ((rv = kw_buf_reserve(out, mod)) != KW_OK)
		goto fail;
	while (out->len < mod - res.len)
		(void)kw_buf_put_u8(out, 0);
	rv = kw_buf_put_view(out, res);
fail:
	kw_buf_free(&resp);
	return rv;
}

static kw_rv
piv_ecdsa_op(kw_piv *p, uint8_t slot, uint8_t alg, const uint8_t *in, size_t in_len,
    kw_buf *out)
{
	uint8_t h[48];
	size_t fs = kw_piv_ec_size(alg);
	kw_buf resp;
	kw_view sig;
	kw_rv rv;

	/* The leftmost field-size bytes of the hash, zero-padded on the left. */
	memset(h, 0, sizeof(h));
	if (in_len >= fs)
		memcpy(h, in, fs);
	else
		memcpy(h + (fs - in_len), in, in_len);
	kw_buf_init(&resp, KW_MAX_RESPONSE);
	if ((rv = piv_gen_auth(p, slot, alg, 0x81, h, fs, &resp, &sig)) != KW_OK ||
	    (rv = piv_check_ecdsa_sig(sig)) != KW_OK)
		goto fail;
	rv = kw_buf_put_view(out, sig);
fail:
	kw_buf_free(&resp);
	kw_memzero(h, sizeof(h));
	return rv;
}

static kw_rv
piv_ed25519_op(kw_piv *p, uint8_t slot, const uint8_t *in, size_t in_len, kw_buf *out)
{
	kw_buf resp;
	kw_view sig;
	kw_rv rv;

	kw_buf_init(&resp, KW_MAX_RESPONSE);
	if ((rv = piv_gen_auth(p, slot, KW_PIV_ALG_ED25519, 0x81, in, in_len, &resp, &sig)) ==
	    KW_OK)
		rv = sig.len == 64 ? kw_buf_put_view(out, sig) : KW_ERR_FORMAT;
	kw_buf_free(&resp);
	return rv;
}

kw_rv
kw_piv_private_op(kw_piv *p, uint8_t slot, uint8_t alg, const uint8_t *in, size_t in_len,
    kw_buf *out)
{
	kw_rv rv;

	if (out != NULL)
		kw_buf_reset(out);   /* on every error too: out may hold a secret */
	if (p == NULL || out == NULL || in == NULL || in_len == 0 || in_len > KW_PIV_IN_MAX ||
	    !kw_piv_slot_is_key(slot))
		return KW_ERR_ARG;
	if (kw_piv_alg_is_rsa(alg))
		rv = piv_rsa_op(p, slot, alg, in, in_len, out);
	else if (kw_piv_alg_is_ec(alg))
		rv = piv_ecdsa_op(p, slot, alg, in, in_len, out);
	else if (alg == KW_PIV_ALG_ED25519)
		rv = piv_ed25519_op(p, slot, in, in_len, out);
	else
		rv = KW_ERR_ARG;
	if (rv != KW_OK)
		kw_buf_reset(out);
	return rv;
}

kw_rv
kw_piv_ecdh(kw_piv *p, uint8_t slot, uint8_t alg, const uint8_t *point, size_t point_len,
    kw_buf *out)
{
	bool x25519 = alg == KW_PIV_ALG_X25519;
	size_t fs = x25519 ? 32 : kw_piv_ec_size(alg);
	kw_buf resp;
	kw_view z;
	kw_rv rv;

	if (out != NULL)
		kw_buf_reset(out);   /* on every error too: out may hold a secret */
	/* P-curves: an uncompressed point; X25519: the 32-byte u-coordinate. */
	if (p == NULL || out == NULL || point == NULL || fs == 0 || !kw_piv_slot_is_key(slot) ||
	    (x25519 ? point_len != 32 : (point_len != 1 + 2 * fs || point[0] != 0x04)))
		return KW_ERR_ARG;
	kw_buf_init(&resp, KW_MAX_RESPONSE);
	if ((rv = piv_gen_auth(p, slot, alg, 0x85, point, point_len, &resp, &z)) != KW_OK)
		goto fail;
	rv = z.len == fs ? kw_buf_put_view(out, z) : KW_ERR_FORMAT;
fail:
	kw_buf_free(&resp);
	return rv;
}
